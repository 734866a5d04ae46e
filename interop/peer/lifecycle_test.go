package peer

import (
	"errors"
	"strings"
	"testing"
)

func TestStatsDisconnectAndClose(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp2.0.1", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)
	if _, _, err := c.Call(ctx, "Heartbeat", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Connected != 1 || st.Calls != 1 || st.MemoryRSS == 0 || st.CPUUser <= 0 {
		t.Fatalf("stats %+v %v", st, err)
	}
	if s.PID() <= 0 || c.PID() == s.PID() {
		t.Fatalf("pids %d %d", s.PID(), c.PID())
	}

	if err := s.Disconnect(ctx, "CS1", 4001, "go away"); err != nil {
		t.Fatal(err)
	}
	if ev, err := c.WaitEvent(ctx, isEvent("close", "")); err != nil || ev.CloseCode != 4001 || ev.Reason != "go away" {
		t.Fatalf("client close %s %v", ev.Raw, err)
	}
	if ev, err := s.WaitEvent(ctx, isEvent("disconnect", "")); err != nil || ev.Identity != "CS1" || ev.CloseCode != 4001 {
		t.Fatalf("server disconnect %s %v", ev.Raw, err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Connected != 0 {
		t.Fatalf("stats after disconnect %+v %v", st, err)
	}

	// A clean exit: Close succeeds, is idempotent, and ends the event stream.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range c.Events() {
	}
	if _, err := c.Stats(ctx); !errors.Is(err, ErrExited) {
		t.Fatalf("Stats after Close: %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, ServerOptions{Password: "s3cret:pw"})
	ctx := testCtx(t)
	opts := ClientOptions{URL: s.URL() + "/ocpp", Identity: "CS:1", Password: "s3cret:pw"}
	startClient(t, opts)
	ev, err := s.WaitEvent(ctx, isEvent("connect", ""))
	if err != nil || ev.Identity != "CS:1" || ev.Password != "s3cret:pw" || ev.Endpoint != "/ocpp" {
		t.Fatalf("connect %s %v", ev.Raw, err)
	}

	opts.Password = "wrong"
	_, err = StartClient(ctx, opts)
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Status != 401 {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestSubprotocolNegotiation(t *testing.T) {
	t.Parallel()
	s := startServer(t, ServerOptions{Protocols: []string{"ocpp1.6", "ocpp2.0.1"}})
	ctx := testCtx(t)

	// The server's order of preference wins over the client's.
	c := startClient(t, ClientOptions{URL: s.URL(), Identity: "A", Protocols: []string{"ocpp2.0.1", "ocpp1.6"}})
	if c.Protocol() != "ocpp1.6" {
		t.Fatalf("negotiated %q", c.Protocol())
	}

	// No common subprotocol: the ocpp-rpc server still accepts the upgrade,
	// without a subprotocol, and it is the ocpp-rpc client that refuses.
	_, err := StartClient(ctx, ClientOptions{URL: s.URL(), Identity: "B", Protocols: []string{"ocpp2.1"}})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Message != "Server sent no subprotocol" {
		t.Fatalf("no common protocol: %v", err)
	}
	ev, err := s.WaitEvent(ctx, func(ev Event) bool { return ev.Type == "connect" && ev.Identity == "B" })
	if err != nil || ev.Protocol != "" {
		t.Fatalf("server side %s %v", ev.Raw, err)
	}
}

func TestEarlyDeathIsExplained(t *testing.T) {
	Require(t)
	_, err := StartServer(testCtx(t), ServerOptions{Protocols: []string{"ocpp9"}})
	if err == nil || !strings.Contains(err.Error(), "Missing strictMode validator for subprotocol 'ocpp9'") {
		t.Fatalf("got %v", err)
	}
}

func TestNodeAvailableNamesSetupScript(t *testing.T) {
	t.Setenv(NodeDirEnv, t.TempDir())
	if err := NodeAvailable(); err == nil || !strings.Contains(err.Error(), "scripts/setup-node.sh") {
		t.Fatalf("got %v", err)
	}
}
