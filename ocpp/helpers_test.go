package ocpp

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// quietLogger keeps expected warnings (bad frames, dropped answers) out of
// the test output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// startServer serves s over a real websocket on a loopback port, at both of
// the seed's paths, and returns the ws:// base URL of /ocpp.
func startServer(t testing.TB, s *Server) (base string, hs *httptest.Server) {
	t.Helper()
	if s.Options.Logger == nil {
		s.Options.Logger = quietLogger
	}
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", s)
	mux.Handle("/cso/ocpp/", s)
	hs = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp", hs
}

// dial connects a station with our own station side.
func dial(t *testing.T, base, id string, d *Dialer, h Handler) *Conn {
	t.Helper()
	if d == nil {
		d = &Dialer{}
	}
	if d.Options.Logger == nil {
		d.Options.Logger = quietLogger
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.Dial(ctx, base, id, h)
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close(closeNormal, "test over") })
	return c
}

// rawClient is a bare websocket client, for sending frames our station side
// would never send.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, url string, protocols ...string) *rawClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protocols}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("raw dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return &rawClient{t: t, ws: ws}
}

func (r *rawClient) send(text string) {
	r.t.Helper()
	if err := r.ws.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		r.t.Fatalf("raw send: %v", err)
	}
}

// next reads the next frame as a JSON array.
func (r *rawClient) next() []any {
	r.t.Helper()
	r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := r.ws.ReadMessage()
	if err != nil {
		r.t.Fatalf("raw read: %v", err)
	}
	var parts []any
	if err := json.Unmarshal(data, &parts); err != nil {
		r.t.Fatalf("server sent a frame that is not a JSON array: %s", data)
	}
	return parts
}

// expectError reads a CALLERROR and checks its id and wire code.
func (r *rawClient) expectError(id, code string) []any {
	r.t.Helper()
	f := r.next()
	if len(f) != 5 || f[0] != float64(4) || f[1] != id || f[2] != code {
		r.t.Fatalf("want CALLERROR id %q code %s, got %v", id, code, f)
	}
	return f
}

// heartbeatRouter answers Heartbeat in every version with raw handlers, so
// the RPC tests do not depend on the typed messages.
func heartbeatRouter() *Router {
	r := NewRouter()
	for _, v := range Versions {
		HandleRaw(r, v, "Heartbeat", func(ctx context.Context, c *Conn, action string, p json.RawMessage) (any, error) {
			return map[string]string{"currentTime": "2026-01-01T00:00:00Z"}, nil
		})
	}
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
