// Package peer drives ocpp-rpc peers as child processes, so that Go tests and
// benchmarks can check openev's OCPP-J implementation against an independent
// implementation that validates strictly against the official OCA schemas.
//
// A peer is interop/node/peer.js, run by node, in one of two roles:
//
//   - [StartServer]: an ocpp-rpc RPCServer (the CSMS side) our charging-station
//     code connects to;
//   - [StartClient]: an ocpp-rpc RPCClient (the charging-station side) that
//     connects to our CSMS.
//
// Both roles run in strict mode by default: every incoming and outgoing CALL
// and response is validated against the schemas bundled with ocpp-rpc, so a
// schema-invalid message from our side shows up as an RPC error (see
// [RPCError]) or as a "validation_failure" [Event].
//
// # Wire protocol
//
// The driver talks to peer.js through JSON lines: commands on its stdin,
// replies and events on its stdout. Every command carries an "id" that its
// reply echoes:
//
//	{"id":"1","cmd":"call","identity":"CS1","action":"Reset","payload":{...},"timeout_ms":5000}
//	    -> {"event":"result","id":"1","payload":{...}}
//	    -> {"event":"error","id":"1","code":"NotSupported","message":"...","details":{...},"name":"RPCNotSupportedError"}
//	       (code is absent for failures that are not RPC errors, e.g. "Call timeout")
//	{"id":"2","cmd":"respond","action":"Reset","payload":{...}}
//	{"id":"2","cmd":"respond","action":"Reset","error":{"code":"GenericError","message":"..."}}
//	{"id":"2","cmd":"respond","action":"Reset","delay_ms":500}      (also "noreply":true, "reset":true)
//	    -> {"event":"ok","id":"2"}
//	{"id":"3","cmd":"raw","identity":"CS1","text":"[2,\"abc\",\"Heartbeat\",{}]"} -> ok
//	{"id":"4","cmd":"close","identity":"CS1","code":1000,"reason":"bye"}        -> {"event":"ok","id":"4","code":1000,"reason":"bye"}
//	{"id":"5","cmd":"stats"} -> {"event":"stats","id":"5","connected":N,"calls":N,"bad_messages":N,
//	                             "validation_failures":N,"memory_rss":B,"heap_used":B,"cpu_user_ms":F,"cpu_system_ms":F}
//	{"id":"6","cmd":"exit"}  -> ok, then the process closes its connections and exits
//	a malformed command      -> {"event":"cmd_error","id":...,"message":"..."}
//
// "identity" is used by the server role only. Unsolicited events (no id):
// listening, connect, disconnect, upgrade_aborted (server); open, close,
// connect_error (client); call, bad_message, validation_failure (both);
// server_error; fatal (an uncaught exception, after which the process exits).
// With Quiet, per-connection events (connect, disconnect, call, bad_message,
// validation_failure, upgrade_aborted) are not printed; stats still counts them.
//
// The node side lives in interop/node and needs `bash scripts/setup-node.sh`.
package peer
