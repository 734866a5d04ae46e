package ocpp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openev/openev/ocpp/v201"
)

// resetPayload is a valid OCPP 2.0.1 Reset request.
var resetPayload = json.RawMessage(`{"type":"Immediate"}`)

// blockingStation answers Reset after release is closed, and counts how many
// Resets it holds at once.
type blockingStation struct {
	release  chan struct{}
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	answered atomic.Int32
	mu       sync.Mutex
	received []string // payloads in the order they arrived
}

func (b *blockingStation) ServeOCPP(ctx context.Context, c *Conn, action string, p json.RawMessage) (any, error) {
	b.mu.Lock()
	b.received = append(b.received, string(p))
	b.mu.Unlock()
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		m := b.maxSeen.Load()
		if n <= m || b.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	b.answered.Add(1)
	return map[string]string{"status": "Accepted"}, nil
}

func TestAtMostOneOutstandingCallPerStationWithFIFOQueue(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter(), Options: Options{QueueSize: 3}}
	base, _ := startServer(t, srv)
	st := &blockingStation{release: make(chan struct{})}
	dial(t, base, "CS1", nil, st)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	c, _ := srv.Conn("CS1")

	ctx := context.Background()
	var want []string
	var wg sync.WaitGroup
	for i := range 4 { // 1 in flight + 3 queued
		payload := fmt.Sprintf(`{"type":"Immediate","evseId":%d}`, i)
		want = append(want, payload)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CallRaw(ctx, "Reset", json.RawMessage(payload)); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}()
		waitFor(t, "call queued", func() bool { return st.inFlight.Load() == 1 && c.QueueLen() == i })
	}
	if _, err := c.CallRaw(ctx, "Reset", resetPayload); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fifth call: want ErrQueueFull, got %v", err)
	}
	close(st.release)
	wg.Wait()
	if st.maxSeen.Load() != 1 {
		t.Fatalf("station saw %d calls at once; OCPP allows one", st.maxSeen.Load())
	}
	if fmt.Sprint(st.received) != fmt.Sprint(want) {
		t.Fatalf("station received %v; want FIFO order %v", st.received, want)
	}
}

// The station's own CALLs are answered while the server's call to it is
// outstanding: the station answers Reset only after its Heartbeat to the
// server came back, so blocking would deadlock.
func TestStationCallsAreNotBlockedByOutstandingServerCall(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	station := HandlerFunc(func(ctx context.Context, c *Conn, action string, p json.RawMessage) (any, error) {
		if _, err := c.CallRaw(ctx, "Heartbeat", json.RawMessage(`{}`)); err != nil {
			return nil, err
		}
		return map[string]string{"status": "Accepted"}, nil
	})
	dial(t, base, "CS1", nil, station)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, err := srv.CallRaw(ctx, "CS1", "Reset", resetPayload)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"status":"Accepted"}` {
		t.Fatalf("got %s", got)
	}
}

func TestCallTimesOutAndLateAnswerNeverReachesTheNextCall(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	var calls atomic.Int32
	release := make(chan struct{})
	station := HandlerFunc(func(ctx context.Context, c *Conn, action string, p json.RawMessage) (any, error) {
		if calls.Add(1) == 1 {
			<-release // the first Reset is answered late, after its caller gave up
			return map[string]string{"status": "Rejected"}, nil
		}
		return map[string]string{"status": "Accepted"}, nil
	})
	dial(t, base, "CS1", nil, station)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	c, _ := srv.Conn("CS1")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := c.CallRaw(ctx, "Reset", resetPayload)
	cancel()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	// The station handles CALLs in order, so the second Reset is answered
	// only after the late answer to the first has arrived and been dropped.
	done := make(chan struct{})
	var got json.RawMessage
	go func() {
		defer close(done)
		got, err = c.CallRaw(context.Background(), "Reset", resetPayload)
	}()
	close(release)
	<-done
	if err != nil || string(got) != `{"status":"Accepted"}` {
		t.Fatalf("second call got %s, %v; the late Rejected must not reach it", got, err)
	}
}

func TestDefaultCallTimeoutApplies(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter(), Options: Options{CallTimeout: 50 * time.Millisecond}}
	base, _ := startServer(t, srv)
	st := &blockingStation{release: make(chan struct{})}
	defer close(st.release)
	dial(t, base, "CS1", nil, st)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	start := time.Now()
	_, err := srv.CallRaw(context.Background(), "CS1", "Reset", resetPayload)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestHandlerErrorsChooseTheCallError(t *testing.T) {
	r := NewRouter()
	HandleRaw(r, V201, "Heartbeat", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		return nil, &Error{Code: SecurityError, Description: "not you", Details: map[string]any{"why": "test"}}
	})
	HandleRaw(r, V201, "Authorize", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		return nil, errors.New("database is down")
	})
	HandleRaw(r, V201, "StatusNotification", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		panic("boom")
	})
	HandleRaw(r, V201, "DataTransfer", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		return map[string]any{"status": 42}, nil // breaks the response schema
	})
	base, _ := startServer(t, &Server{Handler: r})
	rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
	rc.send(`[2,"1","Heartbeat",{}]`)
	if f := rc.expectError("1", "SecurityError"); f[3] != "not you" || f[4].(map[string]any)["why"] != "test" {
		t.Fatalf("got %v", f)
	}
	rc.send(`[2,"2","Authorize",{"idToken":{"idToken":"A","type":"ISO14443"}}]`)
	rc.expectError("2", "InternalError")
	rc.send(`[2,"3","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]`)
	rc.expectError("3", "InternalError")
	rc.send(`[2,"4","DataTransfer",{"vendorId":"x"}]`)
	rc.expectError("4", "InternalError")
	rc.send(`[2,"5","Heartbeat",{}]`) // the panic did not kill the connection
	rc.expectError("5", "SecurityError")
}

func TestCallErrorFromPeerReachesTheCaller(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	dial(t, base, "CS1", &Dialer{Versions: []Version{V16}}, NewRouter())
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	_, err := srv.CallRaw(context.Background(), "CS1", "ClearCache", json.RawMessage(`{}`))
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != NotSupported {
		t.Fatalf("want NotSupported from the station, got %v", err)
	}
	if !errors.Is(err, &Error{Code: NotSupported}) {
		t.Fatal("errors.Is does not match by code")
	}
}

func TestCallsFailWithErrClosedWhenTheConnectionDrops(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	st := &blockingStation{release: make(chan struct{})}
	defer close(st.release)
	station := dial(t, base, "CS1", nil, st)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	c, _ := srv.Conn("CS1")
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := c.CallRaw(context.Background(), "Reset", resetPayload); errs <- err }()
	}
	waitFor(t, "one in flight, one queued", func() bool { return c.QueueLen() == 1 })
	station.Close(closeNormal, "bye")
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("want ErrClosed, got %v", err)
		}
	}
	if _, err := c.CallRaw(context.Background(), "Reset", resetPayload); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on closed conn: %v", err)
	}
}

func TestValidationModes(t *testing.T) {
	var mode atomic.Uint32
	srv := &Server{
		Handler: heartbeatRouter(),
		Connect: func(c *Conn) (Handler, error) { c.SetValidation(Validation(mode.Load())); return nil, nil },
	}
	r := srv.Handler.(*Router)
	HandleRaw(r, V16, "Authorize", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		return json.RawMessage(`{"idTagInfo":{"status":"Accepted"}}`), nil
	})
	base, _ := startServer(t, srv)
	long := `"` + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + `"` // 26 > maxLength 20
	cases := []struct {
		mode    Validation
		payload string
		code    string // "" means answered with a CALLRESULT
	}{
		{Strict, `{}`, "OccurenceConstraintViolation"},
		{Strict, `{"idTag":5}`, "TypeConstraintViolation"},
		{Strict, `{"idTag":` + long + `}`, "PropertyConstraintViolation"},
		{Strict, `{"idTag":"A","extra":1}`, "PropertyConstraintViolation"},
		{Lenient, `{"idTag":` + long + `}`, ""},
		{Lenient, `{"idTag":"A","extra":1}`, ""},
		{Lenient, `{}`, "OccurenceConstraintViolation"},
		{Lenient, `{"idTag":5}`, "TypeConstraintViolation"},
		{Off, `{}`, ""},
		{Off, `{"idTag":` + long + `}`, ""},
	}
	for i, c := range cases {
		mode.Store(uint32(c.mode))
		rc := dialRaw(t, base+"/CS1", "ocpp1.6")
		rc.send(`[2,"a","Authorize",` + c.payload + `]`)
		f := rc.next()
		if c.code == "" && f[0] != float64(3) || c.code != "" && (f[0] != float64(4) || f[2] != c.code) {
			t.Errorf("case %d (%s, %s): got %v", i, c.mode, c.payload, f)
		}
		rc.ws.Close()
	}
}

func TestStrictModeRefusesToSendAnInvalidCall(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	dial(t, base, "CS1", nil, NewRouter())
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	_, err := srv.CallRaw(context.Background(), "CS1", "Reset", json.RawMessage(`{"type":"Sometime"}`))
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != PropertyConstraintViolation {
		t.Fatalf("want local PropertyConstraintViolation, got %v", err)
	}
}

// Lenient mode repairs the timestamps real chargers send without a zone, so
// that the typed handler can decode them; Strict mode rejects them.
func TestLenientModeRepairsTimestampsWithoutZone(t *testing.T) {
	var mode atomic.Uint32
	got := make(chan string, 1)
	r := NewRouter()
	HandleRaw(r, V201, "StatusNotification", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
		got <- string(p)
		return struct{}{}, nil
	})
	srv := &Server{Handler: r, Connect: func(c *Conn) (Handler, error) { c.SetValidation(Validation(mode.Load())); return nil, nil }}
	base, _ := startServer(t, srv)
	frame := `[2,"1","StatusNotification",{"timestamp":"2026-03-04 05:06:07","connectorStatus":"Available","evseId":1,"connectorId":1}]`

	mode.Store(uint32(Strict))
	rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
	rc.send(frame)
	rc.expectError("1", "PropertyConstraintViolation")
	rc.ws.Close()

	mode.Store(uint32(Lenient))
	rc = dialRaw(t, base+"/CS1", "ocpp2.0.1")
	rc.send(frame)
	if f := rc.next(); f[0] != float64(3) {
		t.Fatalf("lenient: got %v", f)
	}
	if p := <-got; !strings.Contains(p, `"timestamp":"2026-03-04T05:06:07Z"`) {
		t.Fatalf("handler got %s", p)
	}

	// Valid by the schema's date-time rule, but not for time.Time: a
	// lower-case t and z must be repaired too, not waved through by the
	// fast path.
	rc.send(`[2,"2","StatusNotification",{"timestamp":"2026-03-04t05:06:07z","connectorStatus":"Available","evseId":1,"connectorId":1}]`)
	if f := rc.next(); f[0] != float64(3) {
		t.Fatalf("lenient, lower case: got %v", f)
	}
	if p := <-got; !strings.Contains(p, `"timestamp":"2026-03-04T05:06:07Z"`) {
		t.Fatalf("lenient, lower case: handler got %s", p)
	}
}

// TestTypedHandlerSeesThePayloadAsSent checks ocpp.Payload: the bytes the
// station sent, spacing and field order included, not a re-encoding.
func TestTypedHandlerSeesThePayloadAsSent(t *testing.T) {
	got := make(chan string, 1)
	r := NewRouter()
	Handle(r, func(ctx context.Context, c *Conn, req *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
		got <- string(Payload(ctx))
		return &v201.HeartbeatResponse{CurrentTime: time.Now().UTC()}, nil
	})
	base, _ := startServer(t, &Server{Handler: r})
	rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
	sent := `{ "customData" : {"vendorId":"acme", "x": 1} }`
	rc.send(`[2,"1","Heartbeat",` + sent + `]`)
	if f := rc.next(); f[0] != float64(3) {
		t.Fatalf("got %v", f)
	}
	if p := <-got; p != sent {
		t.Fatalf("Payload = %s, want the bytes sent: %s", p, sent)
	}
	if Payload(context.Background()) != nil {
		t.Fatal("Payload outside a handler is not nil")
	}
}
