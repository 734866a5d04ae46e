package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ServerOptions configures StartServer.
type ServerOptions struct {
	// Protocols the server accepts, in its order of preference (ocpp-rpc picks
	// the first of these that the client offers). Default: ocpp1.6, ocpp2.0.1, ocpp2.1.
	Protocols []string
	// Quiet silences per-connection events (connect, call, ...), as benchmarks
	// with thousands of stations need; Stats still counts calls.
	Quiet bool
	// HeartbeatInterval is the interval (seconds) BootNotification answers
	// carry. Default 300.
	HeartbeatInterval int
	// Password, if set, makes the server require HTTP Basic auth (security
	// profile 1) with the identity as username and this password; others get 401.
	Password string
	// NonStrict turns ocpp-rpc's strict schema validation off.
	NonStrict bool
	// PingInterval between WebSocket pings to each client; 0 keeps ocpp-rpc's
	// 30 s, negative disables pings.
	PingInterval time.Duration
	// Stderr, if set, gets a copy of the process's stderr (which is also kept
	// for error messages).
	Stderr io.Writer
}

// Server is an ocpp-rpc RPCServer in a node process, listening on 127.0.0.1.
type Server struct {
	*Peer
	port int
}

// StartServer starts a server peer and waits, at most until ctx ends, until it
// listens. The process outlives ctx: call Close.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	args := []string{"server", "--port", "0", "--host", "127.0.0.1",
		"--protocols", strings.Join(protocolsOrDefault(opts.Protocols), ","),
		"--strict", strconv.FormatBool(!opts.NonStrict)}
	if opts.HeartbeatInterval > 0 {
		args = append(args, "--heartbeat-interval", strconv.Itoa(opts.HeartbeatInterval))
	}
	if opts.Password != "" {
		args = append(args, "--password", opts.Password)
	}
	args = append(args, pingArgs(opts.PingInterval)...)
	if opts.Quiet {
		args = append(args, "--quiet")
	}
	p, err := start(args, opts.Stderr)
	if err != nil {
		return nil, err
	}
	ev, err := p.awaitStart(ctx, func(ev Event) bool { return ev.Type == "listening" })
	if err != nil {
		return nil, err
	}
	var l struct{ Port int }
	if err := json.Unmarshal(ev.Raw, &l); err != nil || l.Port == 0 {
		_ = p.Close()
		return nil, fmt.Errorf("peer: bad listening event %s", ev.Raw)
	}
	return &Server{Peer: p, port: l.Port}, nil
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// URL is the server's base URL, ws://127.0.0.1:PORT. ocpp-rpc takes the last
// path segment of a client's URL as its identity, so connect to
// URL()+"/"+identity (any path before it is reported as Event.Endpoint).
func (s *Server) URL() string { return "ws://127.0.0.1:" + strconv.Itoa(s.port) }

// Call sends a CALL to the connected station identity and returns its result,
// or the RPC error ocpp-rpc reported (a CALLERROR from the station, or a
// strict-mode failure of the request or of the station's response). err is
// for everything else: no such station, timeout, the peer being gone.
func (s *Server) Call(ctx context.Context, identity, action string, payload any) (json.RawMessage, *RPCError, error) {
	return s.call(ctx, identity, action, payload)
}

// Raw sends text as one WebSocket text frame to identity, bypassing ocpp-rpc's
// checks (through its public sendRaw), e.g. to send malformed frames. Answers
// to it arrive as "bad_message" events, since ocpp-rpc knows no such call.
func (s *Server) Raw(ctx context.Context, identity, text string) error {
	_, err := s.request(ctx, command{Cmd: "raw", Identity: identity, Text: &text})
	return err
}

// Disconnect closes identity's connection with a WebSocket close code (0 means
// 1000) and reason, and waits for the close handshake.
func (s *Server) Disconnect(ctx context.Context, identity string, code int, reason string) error {
	_, err := s.request(ctx, command{Cmd: "close", Identity: identity, Code: code, Reason: reason})
	return err
}

func protocolsOrDefault(p []string) []string {
	if len(p) == 0 {
		return []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}
	}
	return p
}

func pingArgs(d time.Duration) []string {
	switch {
	case d < 0:
		return []string{"--ping-interval-ms", "0"}
	case d > 0:
		return []string{"--ping-interval-ms", strconv.FormatInt(d.Milliseconds(), 10)}
	}
	return nil
}

// awaitStart waits until the process reports that it started (an event
// accepted by started), skipping other events. If it reports a fatal error,
// dies or ctx ends first, the process is closed and the error explains why.
func (p *Peer) awaitStart(ctx context.Context, started func(Event) bool) (Event, error) {
	ev, err := p.WaitEvent(ctx, func(ev Event) bool { return ev.Type == "fatal" || started(ev) })
	if err == nil && ev.Type != "fatal" {
		return ev, nil
	}
	closeErr := p.Close()
	if err == nil {
		err = fmt.Errorf("peer: failed to start: %s", ev.Raw)
	}
	if closeErr != nil && !errors.Is(err, ErrExited) {
		err = fmt.Errorf("%w\n%v", err, closeErr)
	}
	return Event{}, err
}
