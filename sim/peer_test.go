package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/interop/peer"
	"github.com/openev/openev/ocpp"
)

// These tests run the station against ocpp-rpc's strict server, an
// independent implementation that validates every message against the
// official schemas in both directions.

func startPeer(t *testing.T, protocol string) *peer.Server {
	t.Helper()
	peer.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := peer.StartServer(ctx, peer.ServerOptions{Protocols: []string{protocol}})
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// waitCall waits until the peer received a CALL of action whose payload
// contains all of want, and returns the payload.
func waitCall(t *testing.T, srv *peer.Server, action string, want ...string) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := srv.WaitEvent(ctx, func(ev peer.Event) bool {
		if ev.Type == "validation_failure" || ev.Type == "bad_message" {
			return true
		}
		if ev.Type != "call" || ev.Action != action {
			return false
		}
		for _, w := range want {
			if !strings.Contains(string(ev.Payload), w) {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", action, err)
	}
	if ev.Type != "call" {
		t.Fatalf("peer reported %s: %s", ev.Type, ev.Raw)
	}
	return ev.Payload
}

// checkClean fails the test if the peer saw any invalid or malformed message.
func checkClean(t *testing.T, srv *peer.Server) {
	t.Helper()
	st, err := srv.Stats(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.ValidationFailures != 0 || st.BadMessages != 0 {
		t.Errorf("peer saw %d validation failures and %d bad messages", st.ValidationFailures, st.BadMessages)
	}
}

// peerCall makes the peer call the station and expects status in the answer.
func peerCall(t *testing.T, srv *peer.Server, action string, payload any, status string) {
	t.Helper()
	res, rpcErr, err := srv.Call(testCtx(t), "CS1", action, payload)
	if err != nil || rpcErr != nil {
		t.Fatalf("%s: %v %v", action, rpcErr, err)
	}
	var r struct{ Status string }
	if err := json.Unmarshal(res, &r); err != nil || r.Status != status {
		t.Fatalf("%s answered %s, want status %s", action, res, status)
	}
}

// TestPeerSession runs a full charging session, then a remote start and a
// Reset from the server, in each version against the strict peer.
func TestPeerSession(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	for _, tc := range []struct {
		v                        ocpp.Version
		start, meter, stop, rsvp string
		started, ended           string // what the start and stop payloads contain
		remote                   any
	}{
		{ocpp.V16, "StartTransaction", "MeterValues", "StopTransaction", "RemoteStartTransaction",
			`"idTag":"PEERTAG"`, `"reason":"HardReset"`,
			map[string]any{"connectorId": 1, "idTag": "PEERTAG"}},
		{ocpp.V201, "TransactionEvent", "TransactionEvent", "TransactionEvent", "RequestStartTransaction",
			`"triggerReason":"RemoteStart"`, `"stoppedReason":"ImmediateReset"`,
			map[string]any{"idToken": map[string]any{"idToken": "PEERTAG", "type": "Central"}, "remoteStartId": 3}},
	} {
		t.Run(tc.v.Subprotocol(), func(t *testing.T) {
			srv := startPeer(t, tc.v.Subprotocol())
			cfg := fastSession(tc.v)
			cfg.URL, cfg.Identity = srv.URL()+"/ocpp", "CS1"
			cfg.MinBackoff, cfg.RebootDelay = 20*time.Millisecond, 50*time.Millisecond
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := testCtx(t)
			if err := s.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			if res, err := s.Boot(ctx); err != nil || res.Status != "Accepted" || res.Interval != 300*time.Second {
				t.Fatalf("Boot: %+v %v", res, err)
			}
			if err := s.Plug(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if st, err := s.Authorize(ctx, "TAG1"); err != nil || st != "Accepted" {
				t.Fatalf("Authorize: %q %v", st, err)
			}
			if _, err := s.StartTransaction(ctx, 1, "TAG1"); err != nil {
				t.Fatal(err)
			}
			waitCall(t, srv, tc.start)
			waitCall(t, srv, tc.meter)
			waitCall(t, srv, tc.meter)
			if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
				t.Fatal(err)
			}
			if err := s.Unplug(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Heartbeat(ctx); err != nil {
				t.Fatal(err)
			}
			checkClean(t, srv)

			// The server starts a session remotely, then resets the station.
			peerCall(t, srv, tc.rsvp, tc.remote, "Accepted")
			waitCall(t, srv, tc.start, tc.started)
			waitFor(t, "remote transaction", func() bool { return s.Snapshot().EVSEs[0].TransactionID != "" })
			reset := map[string]any{"type": "Hard"}
			if tc.v == ocpp.V201 {
				reset = map[string]any{"type": "Immediate"}
			}
			peerCall(t, srv, "Reset", reset, "Accepted")
			waitCall(t, srv, tc.stop, tc.ended)
			waitCall(t, srv, "BootNotification")
			waitFor(t, "registered after reset", func() bool { return s.Snapshot().Registered })
			if s.Snapshot().EVSEs[0].TransactionID != "" {
				t.Error("transaction survived the reset")
			}
			checkClean(t, srv)
		})
	}
}
