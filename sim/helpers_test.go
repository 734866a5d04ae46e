package sim

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// record is one CALL that reached the recording CSMS.
type record struct {
	Action string
	Msg    any // the typed request, e.g. *v16.StartTransactionRequest
	At     time.Time
}

// csms is a small recording CSMS on our own ocpp.Server: typed handlers for
// what a station sends, in both versions, that store every request.
type csms struct {
	t        *testing.T
	srv      *ocpp.Server
	url      string
	interval int // heartbeat interval in BootNotification answers (s)

	mu       sync.Mutex
	calls    []record
	nextTx   int
	boot     string // BootNotification status to answer (default Accepted)
	connects int
}

func newCSMS(t *testing.T) *csms {
	t.Helper()
	c := &csms{t: t, interval: 300, nextTx: 100, boot: "Accepted"}
	r := ocpp.NewRouter()
	c.routes16(r)
	c.routes201(r)
	c.srv = &ocpp.Server{Handler: r, Options: ocpp.Options{Logger: testLogger()}}
	c.srv.Connect = func(conn *ocpp.Conn) (ocpp.Handler, error) {
		c.mu.Lock()
		c.connects++
		c.mu.Unlock()
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", c.srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.srv.Shutdown(ctx)
		hs.Close()
	})
	c.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"
	return c
}

func (c *csms) add(action string, msg any) {
	c.mu.Lock()
	c.calls = append(c.calls, record{Action: action, Msg: msg, At: time.Now()})
	c.mu.Unlock()
}

// handle registers a typed handler that records the request and answers with answer.
func handle[Req ocpp.Message, Resp any](c *csms, r *ocpp.Router, answer func(*Req) *Resp) {
	ocpp.Handle(r, func(ctx context.Context, conn *ocpp.Conn, req *Req) (*Resp, error) {
		c.add((*req).Action(), req)
		return answer(req), nil
	})
}

func (c *csms) bootAnswer() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.boot, c.interval
}

func (c *csms) txID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextTx++
	return c.nextTx
}

func (c *csms) routes16(r *ocpp.Router) {
	handle(c, r, func(*v16.BootNotificationRequest) *v16.BootNotificationResponse {
		st, iv := c.bootAnswer()
		return &v16.BootNotificationResponse{Status: v16.RegistrationStatus(st), CurrentTime: time.Now().UTC(), Interval: iv}
	})
	handle(c, r, func(*v16.HeartbeatRequest) *v16.HeartbeatResponse {
		return &v16.HeartbeatResponse{CurrentTime: time.Now().UTC()}
	})
	handle(c, r, func(*v16.StatusNotificationRequest) *v16.StatusNotificationResponse {
		return &v16.StatusNotificationResponse{}
	})
	handle(c, r, func(req *v16.AuthorizeRequest) *v16.AuthorizeResponse {
		return &v16.AuthorizeResponse{IDTagInfo: v16.IDTagInfo{Status: authStatus16(req.IDTag)}}
	})
	handle(c, r, func(req *v16.StartTransactionRequest) *v16.StartTransactionResponse {
		return &v16.StartTransactionResponse{TransactionID: c.txID(), IDTagInfo: v16.IDTagInfo{Status: authStatus16(req.IDTag)}}
	})
	handle(c, r, func(*v16.MeterValuesRequest) *v16.MeterValuesResponse { return &v16.MeterValuesResponse{} })
	handle(c, r, func(*v16.StopTransactionRequest) *v16.StopTransactionResponse {
		return &v16.StopTransactionResponse{}
	})
}

func authStatus16(tag string) v16.AuthorizationStatus {
	if tag == "BLOCKED" {
		return v16.AuthorizationStatusBlocked
	}
	return v16.AuthorizationStatusAccepted
}

func (c *csms) routes201(r *ocpp.Router) {
	handle(c, r, func(*v201.BootNotificationRequest) *v201.BootNotificationResponse {
		st, iv := c.bootAnswer()
		return &v201.BootNotificationResponse{Status: v201.RegistrationStatusEnum(st), CurrentTime: time.Now().UTC(), Interval: iv}
	})
	handle(c, r, func(*v201.HeartbeatRequest) *v201.HeartbeatResponse {
		return &v201.HeartbeatResponse{CurrentTime: time.Now().UTC()}
	})
	handle(c, r, func(*v201.StatusNotificationRequest) *v201.StatusNotificationResponse {
		return &v201.StatusNotificationResponse{}
	})
	handle(c, r, func(req *v201.AuthorizeRequest) *v201.AuthorizeResponse {
		return &v201.AuthorizeResponse{IDTokenInfo: v201.IDTokenInfo{Status: authStatus201(req.IDToken.IDToken)}}
	})
	handle(c, r, func(req *v201.TransactionEventRequest) *v201.TransactionEventResponse {
		if req.IDToken == nil {
			return &v201.TransactionEventResponse{}
		}
		return &v201.TransactionEventResponse{IDTokenInfo: &v201.IDTokenInfo{Status: authStatus201(req.IDToken.IDToken)}}
	})
	handle(c, r, func(*v201.MeterValuesRequest) *v201.MeterValuesResponse { return &v201.MeterValuesResponse{} })
}

func authStatus201(tok string) v201.AuthorizationStatusEnum {
	if tok == "BLOCKED" {
		return v201.AuthorizationStatusEnumBlocked
	}
	return v201.AuthorizationStatusEnumAccepted
}

// all returns the recorded calls of action ("" = every call), oldest first.
func (c *csms) all(action string) []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record
	for _, r := range c.calls {
		if action == "" || r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func (c *csms) count(action string) int { return len(c.all(action)) }

// reset forgets the recorded calls.
func (c *csms) reset() {
	c.mu.Lock()
	c.calls = nil
	c.mu.Unlock()
}

// conn returns the server side of a station's connection.
func (c *csms) conn(t *testing.T, id string) *ocpp.Conn {
	t.Helper()
	var conn *ocpp.Conn
	waitFor(t, "station "+id+" on the server", func() bool {
		var ok bool
		conn, ok = c.srv.Conn(id)
		return ok
	})
	return conn
}

// station creates, connects and (if boot) boots a station on the CSMS with
// fast reconnection settings.
func (c *csms) station(t *testing.T, cfg Config, boot bool) *Station {
	t.Helper()
	cfg.URL = c.url
	if cfg.Identity == "" {
		cfg.Identity = "CS1"
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 20 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 200 * time.Millisecond
	}
	if cfg.RebootDelay == 0 {
		cfg.RebootDelay = 50 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := testCtx(t)
	if err := s.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if boot {
		res, err := s.Boot(ctx)
		if err != nil || res.Status != "Accepted" {
			t.Fatalf("Boot: %+v, %v", res, err)
		}
	}
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after 5 s.
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

// bothVersions runs f as a subtest per simulated version.
func bothVersions(t *testing.T, f func(t *testing.T, v ocpp.Version)) {
	for _, v := range []ocpp.Version{ocpp.V16, ocpp.V201} {
		t.Run("ocpp"+v.String(), func(t *testing.T) { f(t, v) })
	}
}

// testLogger is the recording CSMS's logger: silent, or debug logs on
// stderr with SIM_TEST_LOG=1 (for chasing a failure).
func testLogger() *slog.Logger {
	if os.Getenv("SIM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return discard
}
