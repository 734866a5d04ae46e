package ocpp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSubprotocolNegotiationFollowsTheStationsOrder(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	cases := []struct {
		offered []string
		echoed  string
		want    Version
	}{
		{[]string{"ocpp1.6", "ocpp2.0.1"}, "ocpp1.6", V16},
		{[]string{"ocpp2.0.1", "ocpp1.6"}, "ocpp2.0.1", V201},
		{[]string{"ocpp2.0"}, "ocpp2.0", V201},
		{[]string{"ocpp9.9", "ocpp2.1", "ocpp1.6"}, "ocpp2.1", V21},
		{nil, "", V201}, // the seed's station offers none: the default applies
	}
	for i, c := range cases {
		id := "CS" + string(rune('A'+i))
		ws, resp, err := (&websocket.Dialer{Subprotocols: c.offered}).Dial(base+"/"+id, nil)
		if err != nil {
			t.Fatalf("%v: %v", c.offered, err)
		}
		if got := resp.Header.Get("Sec-Websocket-Protocol"); got != c.echoed {
			t.Errorf("%v: server chose %q, want %q", c.offered, got, c.echoed)
		}
		waitFor(t, "registered", func() bool { _, ok := srv.Conn(id); return ok })
		if conn, _ := srv.Conn(id); conn.Version() != c.want {
			t.Errorf("%v: version %s, want %s", c.offered, conn.Version(), c.want)
		}
		ws.Close()
	}
	_, resp, err := (&websocket.Dialer{Subprotocols: []string{"wamp", "ocpp1.5"}}).Dial(base+"/CSX", nil)
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsupported subprotocols: want HTTP 400, got %v %v", resp, err)
	}
}

func TestDefaultVersionIsConfigurable(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter(), DefaultVersion: V16}
	base, _ := startServer(t, srv)
	rc := dialRaw(t, base+"/CS1")
	rc.send(`[2,"1","Authorize",{}]`)
	rc.expectError("1", "OccurenceConstraintViolation") // 1.6 spelling
}

func TestIdentityComesFromTheLastPathSegmentOnBothPaths(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	_, hs := startServer(t, srv)
	wsURL := "ws" + strings.TrimPrefix(hs.URL, "http")
	for path, id := range map[string]string{
		"/ocpp/CS1":            "CS1",
		"/cso/ocpp/CS2":        "CS2",
		"/ocpp/CS%203":         "CS 3",
		"/ocpp/plant/hall/CS4": "CS4",
	} {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL+path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		waitFor(t, "registered "+id, func() bool { _, ok := srv.Conn(id); return ok })
		ws.Close()
	}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL+"/ocpp/"+strings.Repeat("x", 49), nil)
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("over-long identity: want 404, got %v", err)
	}
}

func TestAuthenticateRefusesByIdentityAndBasicCredentials(t *testing.T) {
	srv := &Server{
		Handler: heartbeatRouter(),
		Authenticate: func(ctx context.Context, h *Handshake) error {
			if h.Identity == "STRANGER" {
				return &RefuseError{Status: http.StatusNotFound, Reason: "unknown station"}
			}
			if !h.HasBasicAuth || h.Username != h.Identity || h.Password != "s3cret-passw0rd" {
				return errors.New("bad credentials")
			}
			return nil
		},
	}
	base, _ := startServer(t, srv)
	ctx := context.Background()
	_, err := (&Dialer{Password: "wrong", Options: Options{Logger: quietLogger}}).Dial(ctx, base, "CS1", nil)
	var de *DialError
	if !errors.As(err, &de) || de.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: want 401, got %v", err)
	}
	_, err = (&Dialer{Password: "s3cret-passw0rd"}).Dial(ctx, base, "STRANGER", nil)
	if !errors.As(err, &de) || de.Status != http.StatusNotFound {
		t.Fatalf("unknown station: want 404, got %v", err)
	}
	c := dial(t, base, "CS1", &Dialer{Password: "s3cret-passw0rd"}, nil)
	if _, err := c.CallRaw(ctx, "Heartbeat", json.RawMessage(`{}`)); err != nil {
		t.Fatalf("authenticated station: %v", err)
	}
	if conn, _ := srv.Conn("CS1"); conn.Handshake().Password != "s3cret-passw0rd" {
		t.Fatal("handshake does not carry the credentials")
	}
}

func TestNewConnectionReplacesTheOldOne(t *testing.T) {
	var disconnects atomic.Int32
	srv := &Server{Handler: heartbeatRouter(), Disconnect: func(c *Conn, err error) { disconnects.Add(1) }}
	base, _ := startServer(t, srv)
	first := dial(t, base, "CS1", nil, nil)
	waitFor(t, "first registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	old, _ := srv.Conn("CS1")
	second := dial(t, base, "CS1", nil, nil)
	<-first.Done()
	waitFor(t, "old disconnect reported", func() bool { return disconnects.Load() == 1 })
	now, ok := srv.Conn("CS1")
	if !ok || now == old {
		t.Fatal("the new connection is not the registered one")
	}
	if _, err := second.CallRaw(context.Background(), "Heartbeat", json.RawMessage(`{}`)); err != nil {
		t.Fatalf("new connection: %v", err)
	}
	if srv.Len() != 1 {
		t.Fatalf("%d connections registered, want 1", srv.Len())
	}
}

func TestServerPingsAndDropsASilentStation(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter(), Options: Options{PingInterval: 50 * time.Millisecond, PongTimeout: 50 * time.Millisecond}}
	base, _ := startServer(t, srv)

	// A live station answers pings (gorilla answers them while reading).
	live := dialRaw(t, base+"/LIVE", "ocpp2.0.1")
	var pings atomic.Int32
	live.ws.SetPingHandler(func(s string) error {
		pings.Add(1)
		return live.ws.WriteControl(websocket.PongMessage, []byte(s), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := live.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	// A silent one never reads, so never answers the ping.
	dialRaw(t, base+"/SILENT", "ocpp2.0.1")
	waitFor(t, "both registered", func() bool { return srv.Len() == 2 })
	waitFor(t, "silent station dropped", func() bool { _, ok := srv.Conn("SILENT"); return !ok })
	if _, ok := srv.Conn("LIVE"); !ok {
		t.Fatal("the station that answers pings was dropped")
	}
	if pings.Load() == 0 {
		t.Fatal("the live station was never pinged")
	}
}

func TestShutdownLetsCallsInFlightFinish(t *testing.T) {
	release := make(chan struct{})
	r := NewRouter()
	HandleRaw(r, V201, "Heartbeat", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		<-release
		return map[string]string{"currentTime": "2026-01-01T00:00:00Z"}, nil
	})
	srv := &Server{Handler: r}
	base, _ := startServer(t, srv)
	c := dial(t, base, "CS1", nil, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	var callErr error
	go func() {
		defer wg.Done()
		_, callErr = c.CallRaw(context.Background(), "Heartbeat", json.RawMessage(`{}`))
	}()
	waitFor(t, "handler running", func() bool { sc, ok := srv.Conn("CS1"); return ok && sc.busy.Load() > 0 })
	shut := make(chan error)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned before the handler finished: %v", err)
	default:
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if callErr != nil {
		t.Fatalf("the call in flight failed: %v", callErr)
	}
	<-c.Done()
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("want close 1001, got %v", c.Err())
	}
}

func TestStationReconnectsAfterTheServerDropsIt(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	var connects atomic.Int32
	st := &Station{
		URL: base, Identity: "CS1", MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Dialer:    &Dialer{Options: Options{Logger: quietLogger}},
		OnConnect: func(c *Conn) { connects.Add(1) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- st.Run(ctx) }()
	waitFor(t, "first connection", func() bool { _, ok := srv.Conn("CS1"); return ok && connects.Load() == 1 })
	c, _ := srv.Conn("CS1")
	c.Close(closeGoingAway, "kicked")
	waitFor(t, "reconnection", func() bool { return connects.Load() == 2 && st.Conn() != nil })
	if _, err := st.CallRaw(context.Background(), "Heartbeat", []byte(`{}`)); err != nil {
		t.Fatalf("call after reconnect: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestSend21ReachesTheHandlerWithoutAnAnswer(t *testing.T) {
	got := make(chan string, 1)
	r := NewRouter()
	HandleRaw(r, V21, "NotifyPeriodicEventStream", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		got <- string(p)
		return nil, nil
	})
	base, _ := startServer(t, &Server{Handler: r})
	rc := dialRaw(t, base+"/CS1", "ocpp2.1")
	payload := `{"id":1,"pending":0,"basetime":"2026-01-01T00:00:00Z","data":[{"t":1.5,"v":"230"}]}`
	rc.send(`[6,"s1","NotifyPeriodicEventStream",` + payload + `]`)
	select {
	case p := <-got:
		if p != payload {
			t.Fatalf("handler got %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SEND never reached the handler")
	}
	rc.send(`[2,"after","Heartbeat",{}]`)
	if f := rc.next(); f[1] != "after" {
		t.Fatalf("a SEND must not be answered; first frame back was %v", f)
	}
}
