package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/api"
	"github.com/openev/openev/csms"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/store/sqlite"
)

const key = "test-api-key-0123456789"

// env is the CSMS, its OCPP endpoint and its API on one test server.
type env struct {
	t     *testing.T
	base  string // http://127.0.0.1:port
	store *sqlite.Store
}

func newEnv(t *testing.T) *env { return newEnvWith(t, api.Options{Now: skippingClock()}) }

// skippingClock moves two minutes on at every reading, so that the delay
// after a wrong API key has always passed: tests of other things may send
// wrong keys back to back.
func skippingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Now()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(2 * time.Minute)
		return now
	}
}

// newEnvWith is newEnv with the API's options (the key and the command
// timeout are set here).
func newEnvWith(t *testing.T, opts api.Options) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := csms.New(st, csms.Config{AcceptUnknownTokens: true})
	srv := &ocpp.Server{Options: ocpp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	svc.Mount(srv)
	opts.APIKey, opts.CommandTimeout = key, 2*time.Second
	a, err := api.New(st, srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", srv)
	mux.Handle("/api/", a)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(c)
		hs.Close()
	})
	return &env{t: t, base: hs.URL, store: st}
}

// do sends a request with the API key and decodes the JSON answer into out.
func (e *env) do(method, path, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent && !json.Valid(data) {
		e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, data)
	}
	if out != nil {
		json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

// station connects a station that answers the CSMS's calls with handlers.
func (e *env) station(id string, v ocpp.Version, h *ocpp.Router) *ocpp.Conn {
	e.t.Helper()
	ws := "ws" + strings.TrimPrefix(e.base, "http") + "/ocpp"
	c, err := (&ocpp.Dialer{Versions: []ocpp.Version{v}}).Dial(context.Background(), ws, id, h)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close(1000, "") })
	return c
}

func TestEveryRequestNeedsTheAPIKey(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + key, key} {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/stations", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body.Error, "API key") {
			t.Errorf("Authorization %q: got %d %q", auth, resp.StatusCode, body.Error)
		}
	}
	resp, err := http.Get(e.base + "/api/v1/openapi.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the OpenAPI document is public: %v %v", resp.StatusCode, err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["openapi"] != "3.1.0" || doc["paths"].(map[string]any)["/api/v1/stations/{id}/commands/{name}"] == nil {
		t.Fatalf("OpenAPI document incomplete: %v", doc["paths"])
	}
}

func TestStationsCRUDAndBadInput(t *testing.T) {
	e := newEnv(t)
	var st map[string]any
	if code := e.do("POST", "/api/v1/stations", `{"id":"CS-A","security_profile":1,"password":"0123456789abcdef"}`, &st); code != 201 {
		t.Fatalf("create: %d %v", code, st)
	}
	if st["has_password"] != true || st["password"] != nil || st["security_profile"] != float64(1) {
		t.Fatalf("created %v", st)
	}
	var e1 struct{ Error string }
	cases := []struct {
		method, path, body string
		code               int
		says               string
	}{
		{"POST", "/api/v1/stations", `{"id":"CS-A"}`, 409, "already exists"},
		{"POST", "/api/v1/stations", `{"id":"CS-B","security_profile":1}`, 400, "needs a password"},
		{"POST", "/api/v1/stations", `{"id":"CS-B","password":"short"}`, 400, "16 to 40"},
		{"POST", "/api/v1/stations", `{"id":"CS-B","colour":"red"}`, 400, "unknown field"},
		{"POST", "/api/v1/stations", `{"id":`, 400, "request body"},
		{"POST", "/api/v1/stations", `{}`, 400, "id is required"},
		{"PATCH", "/api/v1/stations/CS-A", `{"security_profile":7}`, 400, "security_profile"},
		{"PATCH", "/api/v1/stations/NOPE", `{"registration":"Pending"}`, 404, "not found"},
		{"GET", "/api/v1/stations?limit=-1", ``, 400, "limit"},
		{"GET", "/api/v1/stations?online=maybe", ``, 400, "online"},
		{"GET", "/api/v1/nothing", ``, 404, "no such endpoint"},
	}
	for _, c := range cases {
		e1.Error = ""
		if code := e.do(c.method, c.path, c.body, &e1); code != c.code || !strings.Contains(e1.Error, c.says) {
			t.Errorf("%s %s %s: got %d %q, want %d containing %q", c.method, c.path, c.body, code, e1.Error, c.code, c.says)
		}
	}
	// Nothing was lost or half-written by the bad requests.
	var list []map[string]any
	if e.do("GET", "/api/v1/stations", "", &list); len(list) != 1 || list[0]["security_profile"] != float64(1) {
		t.Fatalf("stations after bad input: %v", list)
	}
	if code := e.do("PATCH", "/api/v1/stations/CS-A", `{"registration":"Pending"}`, &st); code != 200 || st["registration"] != "Pending" {
		t.Fatalf("patch: %d %v", code, st)
	}
	if code := e.do("DELETE", "/api/v1/stations/CS-A", "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := e.do("GET", "/api/v1/stations/CS-A", "", nil); code != 404 {
		t.Fatalf("get after delete: %d", code)
	}
}

func TestTokensCRUD(t *testing.T) {
	e := newEnv(t)
	var tok map[string]any
	if code := e.do("POST", "/api/v1/tokens", `{"id":"RFID-1","status":"Blocked","stations":["CS1"]}`, &tok); code != 201 || tok["status"] != "Blocked" {
		t.Fatalf("create: %d %v", code, tok)
	}
	if code := e.do("GET", "/api/v1/tokens/rfid-1", "", &tok); code != 200 || tok["id"] != "RFID-1" {
		t.Fatalf("case-insensitive get: %d %v", code, tok)
	}
	if code := e.do("PUT", "/api/v1/tokens/RFID-1", `{"status":"Sometimes"}`, nil); code != 400 {
		t.Fatalf("bad status: %d", code)
	}
	if code := e.do("PUT", "/api/v1/tokens/RFID-1", `{"status":"Accepted"}`, &tok); code != 200 || tok["status"] != "Accepted" {
		t.Fatalf("put: %d %v", code, tok)
	}
	if code := e.do("DELETE", "/api/v1/tokens/RFID-1", "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := e.do("DELETE", "/api/v1/tokens/RFID-1", "", nil); code != 404 {
		t.Fatalf("second delete: %d", code)
	}
}

// Input that passes the API's own checks but that the store refuses
// (csms.ErrInvalid) is the client's fault: 400 with the store's reason, and
// nothing is saved.
func TestStoreRefusingBadInputAnswers400(t *testing.T) {
	e := newEnv(t)
	var body struct{ Error string }
	code := e.do("PUT", "/api/v1/tokens/RFID-9", `{"status":"Accepted","expires_at":"2999-01-01T00:00:00Z"}`, &body)
	if code != 400 || !strings.Contains(body.Error, "expiry") {
		t.Fatalf("expiry out of the store's range: %d %q, want 400 naming the expiry", code, body.Error)
	}
	if code := e.do("GET", "/api/v1/tokens/RFID-9", "", nil); code != 404 {
		t.Fatalf("the refused token was saved: GET answered %d", code)
	}
}

// Commands reach connected stations in their own version and return their
// answers; what a version cannot do is said plainly.
func TestCommandsInBothVersions(t *testing.T) {
	e := newEnv(t)
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.ResetRequest) (*v16.ResetResponse, error) {
		if req.Type != "Hard" {
			return &v16.ResetResponse{Status: "Rejected"}, nil
		}
		return &v16.ResetResponse{Status: "Accepted"}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.ResetRequest) (*v201.ResetResponse, error) {
		if req.Type != v201.ResetEnumImmediate {
			return &v201.ResetResponse{Status: v201.ResetStatusEnumRejected}, nil
		}
		return &v201.ResetResponse{Status: v201.ResetStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.RequestStartTransactionRequest) (*v201.RequestStartTransactionResponse, error) {
		return &v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusEnumAccepted}, nil
	})
	e.station("OLD", ocpp.V16, r)
	e.station("NEW", ocpp.V201, r)
	waitConnected(t, e, "OLD", "NEW")

	var res struct {
		Action   string
		Protocol string
		Response map[string]any
	}
	for _, id := range []string{"OLD", "NEW"} {
		if code := e.do("POST", "/api/v1/stations/"+id+"/commands/reset", `{"type":"hard"}`, &res); code != 200 || res.Response["status"] != "Accepted" || res.Action != "Reset" {
			t.Fatalf("%s reset: %d %+v", id, code, res)
		}
	}
	if code := e.do("POST", "/api/v1/stations/NEW/commands/remote-start", `{"id_token":"APP-7","evse":1}`, &res); code != 200 || res.Action != "RequestStartTransaction" {
		t.Fatalf("remote-start 2.0.1: %d %+v", code, res)
	}
	var bad struct {
		Error     string
		OCPPError *struct{ Code string } `json:"ocpp_error"`
	}
	if code := e.do("POST", "/api/v1/stations/OLD/commands/get-variables", `{"variables":[{"component":"C","variable":"V"}]}`, &bad); code != 422 || !strings.Contains(bad.Error, "get-configuration") {
		t.Fatalf("get-variables on 1.6: %d %q", code, bad.Error)
	}
	if code := e.do("POST", "/api/v1/stations/OLD/commands/clear-cache", ``, &bad); code != 502 || bad.OCPPError == nil || bad.OCPPError.Code != "NotSupported" {
		t.Fatalf("clear-cache without handler: %d %+v", code, bad)
	}
	if code := e.do("POST", "/api/v1/stations/GHOST/commands/reset", `{}`, &bad); code != 409 || !strings.Contains(bad.Error, "not connected") {
		t.Fatalf("offline station: %d %q", code, bad.Error)
	}
	if code := e.do("POST", "/api/v1/stations/NEW/commands/fly", `{}`, &bad); code != 404 || !strings.Contains(bad.Error, "remote-start") {
		t.Fatalf("unknown command: %d %q", code, bad.Error)
	}
	// The raw endpoint sends any action as given, validated against the station's version.
	if code := e.do("POST", "/api/v1/stations/NEW/ocpp/Reset", `{"type":"Immediate"}`, &res); code != 200 || res.Response["status"] != "Accepted" {
		t.Fatalf("raw Reset: %d %+v", code, res)
	}
	if code := e.do("POST", "/api/v1/stations/NEW/ocpp/Reset", `{"type":"Whenever"}`, &bad); code != 400 || !strings.Contains(bad.Error, "/type") {
		t.Fatalf("raw Reset with a bad enum: %d %+v", code, bad)
	}
	if code := e.do("POST", "/api/v1/stations/NEW/ocpp/RemoteStartTransaction", `{}`, &bad); code != 400 || !strings.Contains(bad.Error, "not an OCPP 2.0.1 action") {
		t.Fatalf("1.6 action on 2.0.1: %d %q", code, bad.Error)
	}
}

func TestTransactionsListAndDetail(t *testing.T) {
	e := newEnv(t)
	c := e.station("CS1", ocpp.V16, nil)
	ctx := context.Background()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	resp, err := ocpp.Call(ctx, c, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T1", MeterStart: 0, Timestamp: start})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocpp.Call(ctx, c, &v16.StopTransactionRequest{TransactionID: resp.TransactionID, MeterStop: 1234, Timestamp: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if code := e.do("GET", "/api/v1/transactions?station=CS1&status=Finished&from=2026-11-26T00:00:00Z", "", &list); code != 200 || len(list) != 1 ||
		list[0]["energy_wh"] != float64(1234) || list[0]["duration_s"] != float64(3600) {
		t.Fatalf("list: %d %v", code, list)
	}
	if _, err := ocpp.Call(ctx, c, &v16.StartTransactionRequest{ConnectorID: 2, IDTag: "T1", MeterStart: 0, Timestamp: start.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var active []map[string]any // a fresh slice: decoding into list would merge into its maps
	if code := e.do("GET", "/api/v1/transactions?station=CS1&status=Active", "", &active); code != 200 || len(active) != 1 {
		t.Fatalf("active: %d %v", code, active)
	} else if _, has := active[0]["duration_s"]; has {
		t.Errorf("an active transaction has a duration: %v", active[0])
	}
	if e.do("GET", "/api/v1/transactions?station=CS1&to=2026-11-26T09:00:00Z", "", &list); len(list) != 0 {
		t.Fatalf("to is exclusive: %v", list)
	}
	if code := e.do("GET", "/api/v1/transactions?from=yesterday", "", nil); code != 400 {
		t.Fatalf("bad from: %d", code)
	}
	var one map[string]any
	if code := e.do("GET", "/api/v1/transactions/"+jsonNum(resp.TransactionID), "", &one); code != 200 || one["stop_reason"] != "Local" ||
		one["duration_s"] != float64(3600) {
		t.Fatalf("detail: %d %v", code, one)
	}
	if code := e.do("GET", "/api/v1/transactions/abc", "", nil); code != 400 {
		t.Fatalf("bad id: %d", code)
	}
}

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(bytes.TrimSpace(b)) }

func waitConnected(t *testing.T, e *env, ids ...string) {
	t.Helper()
	for _, id := range ids {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var st map[string]any
			if e.do("GET", "/api/v1/stations/"+id, "", &st) == 200 && st["connected"] == true {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never connected", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Every command builds a schema-valid message in both versions: a station
// with no handlers answers each NotSupported (502), never our own 400.
func TestEveryCommandBuildsAValidMessageInBothVersions(t *testing.T) {
	e := newEnv(t)
	if code := e.do("POST", "/api/v1/tokens", `{"id":"LIST-1","stations":["V16","V201"]}`, nil); code != 201 {
		t.Fatal("token")
	}
	e.station("V16", ocpp.V16, ocpp.NewRouter())
	e.station("V201", ocpp.V201, ocpp.NewRouter())
	waitConnected(t, e, "V16", "V201")
	profile := `{"evse":1,"profile":{"id":5,"stack_level":1,"purpose":"tx-default","schedule":{"unit":"W","periods":[{"start":0,"limit":7400},{"start":3600,"limit":3700,"phases":1}]}}}`
	bodies := map[string]string{
		"remote-start":           `{"id_token":"LIST-1","evse":1}`,
		"reset":                  `{"type":"hard"}`,
		"change-availability":    `{"evse":1,"available":false}`,
		"unlock-connector":       `{"evse":1,"connector":1}`,
		"trigger-message":        `{"message":"Heartbeat"}`,
		"clear-cache":            ``,
		"data-transfer":          `{"vendor_id":"org.openev","message_id":"ping","data":"hello"}`,
		"get-configuration":      `{"keys":["HeartbeatInterval"]}`,
		"change-configuration":   `{"key":"HeartbeatInterval","value":"60"}`,
		"get-variables":          `{"variables":[{"component":"OCPPCommCtrlr","variable":"HeartbeatInterval"}]}`,
		"set-variables":          `{"variables":[{"component":"OCPPCommCtrlr","variable":"HeartbeatInterval","value":"60"}]}`,
		"set-charging-profile":   profile,
		"clear-charging-profile": `{"id":5}`,
		"get-composite-schedule": `{"evse":1,"duration":3600,"unit":"W"}`,
		"reserve-now":            `{"reservation_id":3,"evse":1,"id_token":"LIST-1","expires_at":"2030-01-01T00:00:00Z"}`,
		"cancel-reservation":     `{"reservation_id":3}`,
		"update-firmware":        `{"location":"https://firmware.example/fw-2.bin"}`,
		"get-log":                `{"location":"https://logs.example/upload"}`,
		"send-local-list":        `{"version":2,"all":true}`,
		"get-local-list-version": ``,
	}
	for name, body := range bodies {
		if name == "remote-stop" {
			continue
		}
		for _, id := range []string{"V16", "V201"} {
			var out struct {
				Error     string
				OCPPError *struct{ Code string } `json:"ocpp_error"`
			}
			code := e.do("POST", "/api/v1/stations/"+id+"/commands/"+name, body, &out)
			versionOnly := code == 422 && (strings.Contains(name, "variables") && id == "V16" || strings.Contains(name, "configuration") && id == "V201")
			if versionOnly {
				continue
			}
			if code != 502 || out.OCPPError == nil || out.OCPPError.Code != "NotSupported" {
				t.Errorf("%s on %s: got %d %q %+v; want the station's NotSupported", name, id, code, out.Error, out.OCPPError)
			}
		}
	}
	// remote-stop names a transaction of the station it is sent to.
	for i, id := range []string{"V16", "V201"} {
		tx, _, err := e.store.RecordTransactionEvent(context.Background(), csms.TxEvent{StationID: id, StationTxID: []string{"", "tx-77"}[i],
			EVSE: 1, IDToken: "LIST-1", Event: csms.TransactionEvent{EventType: "Started", Timestamp: time.Now().UTC()}})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			OCPPError *struct{ Code string } `json:"ocpp_error"`
		}
		if code := e.do("POST", "/api/v1/stations/"+id+"/commands/remote-stop", `{"transaction_id":`+jsonNum(int(tx.ID))+`}`, &out); code != 502 || out.OCPPError.Code != "NotSupported" {
			t.Errorf("remote-stop on %s: %d %+v", id, code, out)
		}
		if code := e.do("POST", "/api/v1/stations/"+[]string{"V201", "V16"}[i]+"/commands/remote-stop", `{"transaction_id":`+jsonNum(int(tx.ID))+`}`, nil); code != 400 {
			t.Errorf("remote-stop of %s's transaction sent to another station: %d, want 400", id, code)
		}
	}
	bodies["remote-stop"] = "tested above"
	if len(bodies) != len(api.CommandNames()) {
		t.Errorf("test covers %d commands, the API has %d: %v", len(bodies), len(api.CommandNames()), api.CommandNames())
	}
}

// Wrong API keys are slowed down per address: after one, the address waits
// (429 with Retry-After) even with the right key; the wait doubles; once it
// has passed, the right key works and clears the record.
func TestWrongAPIKeysAreSlowedDown(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newEnvWith(t, api.Options{KeyBackoff: time.Second, Now: clock})
	get := func(k string) (int, string) {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/stations", nil)
		req.Header.Set("Authorization", "Bearer "+k)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code, _ := get("guess-1"); code != 401 {
		t.Fatalf("first wrong key: %d, want 401", code)
	}
	if code, retry := get(key); code != 429 || retry != "2" {
		t.Fatalf("right key during the delay: %d (Retry-After %q), want 429 and 2", code, retry)
	}
	advance(1100 * time.Millisecond)
	if code, _ := get("guess-2"); code != 401 {
		t.Fatalf("second wrong key after the delay: %d, want 401", code)
	}
	advance(1100 * time.Millisecond) // the second delay is 2 s
	if code, _ := get(key); code != 429 {
		t.Fatalf("right key 1.1 s into a 2 s delay: %d, want 429", code)
	}
	advance(time.Second)
	if code, _ := get(key); code != 200 {
		t.Fatalf("right key after the delay: %d, want 200", code)
	}
	if code, _ := get("guess-3"); code != 401 { // the record was cleared: a 1 s delay again
		t.Fatalf("wrong key after a success: %d, want 401", code)
	}
	advance(1100 * time.Millisecond)
	if code, _ := get(key); code != 200 {
		t.Fatalf("right key 1.1 s after a first failure: %d, want 200", code)
	}
}

// What a station reported is readable: its status history, its notices,
// and each transaction's events with the payload as sent.
func TestStationHistoryEventsAndTransactionEvents(t *testing.T) {
	e := newEnv(t)
	c := e.station("CS1", ocpp.V16, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i, status := range []v16.ChargePointStatus{"Preparing", "Charging"} {
		ts := t0.Add(time.Duration(i) * time.Minute)
		if _, err := ocpp.Call(ctx, c, &v16.StatusNotificationRequest{ConnectorID: 1, ErrorCode: "NoError", Status: status, Timestamp: &ts}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ocpp.Call(ctx, c, &v16.DataTransferRequest{VendorID: "ACME", MessageID: "hello", Data: "42"}); err != nil {
		t.Fatal(err)
	}
	start, err := ocpp.Call(ctx, c, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T1", MeterStart: 0, Timestamp: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocpp.Call(ctx, c, &v16.StopTransactionRequest{TransactionID: start.TransactionID, MeterStop: 100, Timestamp: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	var history []map[string]any
	if code := e.do("GET", "/api/v1/stations/CS1/status/history", "", &history); code != 200 || len(history) != 2 ||
		history[0]["raw"] != "Charging" || history[1]["raw"] != "Preparing" {
		t.Fatalf("status history: %d %v", code, history)
	}
	if code := e.do("GET", "/api/v1/stations/CS1/status/history?limit=1&offset=1", "", &history); code != 200 || len(history) != 1 || history[0]["raw"] != "Preparing" {
		t.Fatalf("status history, second page: %d %v", code, history)
	}
	var events []map[string]any
	if code := e.do("GET", "/api/v1/stations/CS1/events?kind=DataTransfer", "", &events); code != 200 || len(events) != 1 {
		t.Fatalf("station events: %d %v", code, events)
	}
	if p, _ := events[0]["payload"].(map[string]any); p["vendorId"] != "ACME" || p["data"] != "42" {
		t.Errorf("DataTransfer payload: %v", events[0])
	}
	var txEvents []map[string]any
	if code := e.do("GET", "/api/v1/transactions/"+jsonNum(start.TransactionID)+"/events", "", &txEvents); code != 200 || len(txEvents) != 2 ||
		txEvents[0]["event_type"] != "Started" || txEvents[1]["event_type"] != "Ended" {
		t.Fatalf("transaction events: %d %v", code, txEvents)
	}
	if raw, _ := txEvents[1]["raw"].(map[string]any); raw["meterStop"] != float64(100) {
		t.Errorf("the stop's payload as sent: %v", txEvents[1]["raw"])
	}
	for _, path := range []string{"/api/v1/stations/NOBODY/status", "/api/v1/stations/NOBODY/status/history",
		"/api/v1/stations/NOBODY/events", "/api/v1/transactions/424242/events"} {
		if code := e.do("GET", path, "", nil); code != 404 {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}
	if code := e.do("GET", "/api/v1/stations/CS1/events?limit=-1", "", nil); code != 400 {
		t.Errorf("a negative limit: %d, want 400", code)
	}
}

// Every command's body is documented, in the OpenAPI document and in
// docs/csms.md, and nothing documented is not a command.
func TestEveryCommandBodyIsDocumented(t *testing.T) {
	docs, err := os.ReadFile("../docs/csms.md")
	if err != nil {
		t.Fatal(err)
	}
	table := api.CommandBodiesMarkdown()
	if !strings.Contains(string(docs), table) {
		t.Errorf("docs/csms.md lacks the commands' table as the API has it:\n%s", table)
	}
	for _, name := range api.CommandNames() {
		if !strings.Contains(table, "| `"+name+"` | ") || strings.Contains(table, "| `"+name+"` |  |") {
			t.Errorf("command %s has no documented body", name)
		}
	}
	if rows := strings.Count(table, "\n") - 2; rows != len(api.CommandNames()) {
		t.Errorf("%d documented commands, %d commands", rows, len(api.CommandNames()))
	}
}

// A 1.6 station has no connectors within an EVSE: a command naming one is
// refused (422) rather than sent without it.
func TestOCPP16CommandsRefuseAConnectorWithinAnEVSE(t *testing.T) {
	e := newEnv(t)
	c := e.station("CS16", ocpp.V16, nil)
	if _, err := ocpp.Call(context.Background(), c, &v16.HeartbeatRequest{}); err != nil { // the server has it now
		t.Fatal(err)
	}
	var bad struct{ Error string }
	for name, body := range map[string]string{
		"change-availability": `{"evse":1,"connector":1,"available":false}`,
		"unlock-connector":    `{"evse":1,"connector":2}`,
	} {
		if code := e.do("POST", "/api/v1/stations/CS16/commands/"+name, body, &bad); code != 422 || !strings.Contains(bad.Error, "as evse") {
			t.Errorf("%s %s on 1.6: %d %q, want 422 saying what to do", name, body, code, bad.Error)
		}
	}
}

// A charging profile for a transaction goes only to the station it runs on.
func TestSetChargingProfileRefusesAnotherStationsTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.station("CSA", ocpp.V16, nil), e.station("CSB", ocpp.V16, nil)
	if _, err := ocpp.Call(ctx, b, &v16.HeartbeatRequest{}); err != nil {
		t.Fatal(err)
	}
	start, err := ocpp.Call(ctx, a, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T1", Timestamp: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"evse":1,"profile":{"id":1,"stack_level":0,"purpose":"tx","transaction_id":` + jsonNum(start.TransactionID) +
		`,"schedule":{"unit":"A","periods":[{"start":0,"limit":16}]}}}`
	var bad struct{ Error string }
	if code := e.do("POST", "/api/v1/stations/CSB/commands/set-charging-profile", body, &bad); code != 400 || !strings.Contains(bad.Error, "runs on CSA") {
		t.Errorf("CSA's transaction in a profile for CSB: %d %q, want 400 naming CSA", code, bad.Error)
	}
}

// send-local-list carries each token's status, expiry and group in both
// versions, removes entries in a Differential update, and refuses a token
// the station may not use; trigger-message takes either version's name.
func TestLocalListAndTriggerMessageAsTheStationReceivesThem(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{`{"id":"TAG-A","group_id":"FLEET","stations":["V16","V201"]}`, `{"id":"TAG-ELSEWHERE","stations":["OTHER"]}`} {
		if code := e.do("POST", "/api/v1/tokens", body, nil); code != 201 {
			t.Fatalf("token %s: %d", body, code)
		}
	}
	var mu sync.Mutex
	got := map[string]any{} // the last request of each action, by station
	keep := func(key string, req any) { mu.Lock(); got[key] = req; mu.Unlock() }
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.SendLocalListRequest) (*v16.SendLocalListResponse, error) {
		keep("V16 SendLocalList", req)
		return &v16.SendLocalListResponse{Status: "Accepted"}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.SendLocalListRequest) (*v201.SendLocalListResponse, error) {
		keep("V201 SendLocalList", req)
		return &v201.SendLocalListResponse{Status: v201.SendLocalListStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.TriggerMessageRequest) (*v16.TriggerMessageResponse, error) {
		keep("V16 TriggerMessage", req)
		return &v16.TriggerMessageResponse{Status: "Accepted"}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.TriggerMessageRequest) (*v201.TriggerMessageResponse, error) {
		keep("V201 TriggerMessage", req)
		return &v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusEnumAccepted}, nil
	})
	e.station("V16", ocpp.V16, r)
	e.station("V201", ocpp.V201, r)
	waitConnected(t, e, "V16", "V201")

	for _, id := range []string{"V16", "V201"} {
		if code := e.do("POST", "/api/v1/stations/"+id+"/commands/send-local-list", `{"version":3,"update":"Differential","tokens":["TAG-A"],"remove":["TAG-GONE"]}`, nil); code != 200 {
			t.Fatalf("send-local-list on %s: %d", id, code)
		}
	}
	l16 := got["V16 SendLocalList"].(*v16.SendLocalListRequest)
	if len(l16.LocalAuthorizationList) != 2 || l16.LocalAuthorizationList[0].IDTagInfo == nil || l16.LocalAuthorizationList[0].IDTagInfo.ParentIDTag != "FLEET" ||
		l16.LocalAuthorizationList[1].IDTag != "TAG-GONE" || l16.LocalAuthorizationList[1].IDTagInfo != nil {
		t.Errorf("1.6 list: %+v", l16.LocalAuthorizationList)
	}
	l201 := got["V201 SendLocalList"].(*v201.SendLocalListRequest)
	if len(l201.LocalAuthorizationList) != 2 || l201.LocalAuthorizationList[0].IDTokenInfo == nil ||
		l201.LocalAuthorizationList[0].IDTokenInfo.GroupIDToken == nil || l201.LocalAuthorizationList[0].IDTokenInfo.GroupIDToken.IDToken != "FLEET" ||
		l201.LocalAuthorizationList[1].IDToken.IDToken != "TAG-GONE" || l201.LocalAuthorizationList[1].IDTokenInfo != nil {
		t.Errorf("2.0.1 list: %+v", l201.LocalAuthorizationList)
	}
	var bad struct{ Error string }
	if code := e.do("POST", "/api/v1/stations/V16/commands/send-local-list", `{"version":4,"remove":["TAG-A"]}`, &bad); code != 400 || !strings.Contains(bad.Error, "Differential") {
		t.Errorf("remove in a Full update: %d %q", code, bad.Error)
	}
	if code := e.do("POST", "/api/v1/stations/V16/commands/send-local-list", `{"version":4,"tokens":["TAG-ELSEWHERE"]}`, &bad); code != 400 || !strings.Contains(bad.Error, "may not be used at V16") {
		t.Errorf("a token of other stations: %d %q", code, bad.Error)
	}

	for _, id := range []string{"V16", "V201"} {
		if code := e.do("POST", "/api/v1/stations/"+id+"/commands/trigger-message", `{"message":"DiagnosticsStatusNotification"}`, nil); code != 200 {
			t.Fatalf("trigger-message on %s: %d", id, code)
		}
	}
	if m := got["V16 TriggerMessage"].(*v16.TriggerMessageRequest).RequestedMessage; m != "DiagnosticsStatusNotification" {
		t.Errorf("1.6 trigger: %s", m)
	}
	if m := got["V201 TriggerMessage"].(*v201.TriggerMessageRequest).RequestedMessage; m != "LogStatusNotification" {
		t.Errorf("2.0.1 trigger of DiagnosticsStatusNotification: %s, want LogStatusNotification", m)
	}
	if code := e.do("POST", "/api/v1/stations/V201/commands/trigger-message", `{"message":"StatusNotification","evse":2}`, nil); code != 200 {
		t.Fatalf("StatusNotification trigger: %d", code)
	}
	if ev := got["V201 TriggerMessage"].(*v201.TriggerMessageRequest).Evse; ev == nil || ev.ID != 2 || ev.ConnectorID == nil || *ev.ConnectorID != 1 {
		t.Errorf("2.0.1 StatusNotification trigger names no connector: %+v", ev)
	}
}

// A full page names the next one in a Link header, keeping the filters;
// the last page names none.
func TestListsLinkTheirNextPage(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"T1", "T2", "T3"} {
		if code := e.do("POST", "/api/v1/tokens", `{"id":"`+id+`"}`, nil); code != 201 {
			t.Fatal(id)
		}
	}
	total := ""
	get := func(path string) ([]map[string]any, string) {
		req, _ := http.NewRequest("GET", e.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []map[string]any
		json.NewDecoder(resp.Body).Decode(&list)
		total = resp.Header.Get("X-Total-Count")
		return list, resp.Header.Get("Link")
	}
	var ids []string
	link := `</api/v1/tokens?limit=2>; rel="next"` // a first request as a client makes it
	for pages := 0; link != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pages never end")
		}
		path := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		var list []map[string]any
		list, link = get(path)
		if total != "3" {
			t.Errorf("%s: X-Total-Count %q, want 3 on every page", path, total)
		}
		for _, tok := range list {
			ids = append(ids, tok["id"].(string))
		}
	}
	if strings.Join(ids, ",") != "T1,T2,T3" {
		t.Errorf("tokens over the pages: %v", ids)
	}
	if _, link := get("/api/v1/transactions?station=CS1&status=Active&limit=0"); link != "" || total != "0" {
		t.Errorf("an empty list links on (%q) or counts %q", link, total)
	}
	e.station("CS1", ocpp.V16, nil)
	waitConnected(t, e, "CS1")
	if _, link := get("/api/v1/stations?online=true&limit=1"); !strings.Contains(link, "online=true") || !strings.Contains(link, "offset=1") {
		t.Errorf("the next page of a filtered list: %q, want the filter kept and offset=1", link)
	}
	if get("/api/v1/stations?online=false"); total != "0" {
		t.Errorf("stations offline: X-Total-Count %q, want 0", total)
	}
}
