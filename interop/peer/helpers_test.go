package peer

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// testCtx bounds one test; a hung peer fails the test instead of the run.
// Generous, because every peer start costs node ~0.5 s of CPU.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startServer(t *testing.T, opts ServerOptions) *Server {
	t.Helper()
	Require(t)
	s, err := StartServer(testCtx(t), opts)
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("server Close: %v", err)
		}
	})
	return s
}

func startClient(t *testing.T, opts ClientOptions) *Client {
	t.Helper()
	c, err := StartClient(testCtx(t), opts)
	if err != nil {
		t.Fatalf("StartClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("client Close: %v", err)
		}
	})
	return c
}

// pair connects a node client with identity CS1 to a node server over protocol.
func pair(t *testing.T, protocol string, sopts ServerOptions, copts ClientOptions) (*Server, *Client) {
	t.Helper()
	s := startServer(t, sopts)
	copts.URL, copts.Identity, copts.Protocols = s.URL()+"/ocpp", "CS1", []string{protocol}
	c := startClient(t, copts)
	if c.Protocol() != protocol {
		t.Fatalf("negotiated %q, want %q", c.Protocol(), protocol)
	}
	if _, err := s.WaitEvent(testCtx(t), isEvent("connect", "")); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// isEvent matches events of type typ and, if action is not empty, that action.
func isEvent(typ, action string) func(Event) bool {
	return func(ev Event) bool { return ev.Type == typ && (action == "" || ev.Action == action) }
}

// field decodes one top-level string field of a JSON object.
func field(t *testing.T, raw json.RawMessage, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	s, _ := m[name].(string)
	return s
}

var (
	boot16  = map[string]any{"chargePointVendor": "openev", "chargePointModel": "test"}
	boot201 = map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "openev", "model": "test"}}
)
