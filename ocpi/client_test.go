package ocpi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// recorder is a real HTTP server that keeps the headers of every request
// and answers with the handler given.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.bodies = append(rec.bodies, string(b))
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) header(i int) http.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.headers[i]
}

func answerData(data any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { WriteData(w, http.StatusOK, data) }
}

func TestClientSendsBase64TokenByDefault(t *testing.T) {
	rec := newRecorder(t, answerData("ok"))
	c := &Client{Token: "abc-123"}
	if err := c.Get(context.Background(), rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	want := "Token " + base64.StdEncoding.EncodeToString([]byte("abc-123"))
	if got := rec.header(0).Get("Authorization"); got != want {
		t.Fatalf("Authorization = %q, want %q", got, want)
	}
}

func TestClientSendsRawTokenWhenAsked(t *testing.T) {
	rec := newRecorder(t, answerData("ok"))
	c := &Client{Token: "abc-123", RawToken: true}
	if err := c.Get(context.Background(), rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	if got := rec.header(0).Get("Authorization"); got != "Token abc-123" {
		t.Fatalf("Authorization = %q, want %q", got, "Token abc-123")
	}
}

func TestClientGetDecodesData(t *testing.T) {
	rec := newRecorder(t, answerData([]Version{{Version: Version221, URL: "https://x/2.2.1"}}))
	c := &Client{Token: "t"}
	vs, err := c.Versions(context.Background(), rec.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Version != Version221 || vs[0].URL != "https://x/2.2.1" {
		t.Fatalf("versions = %+v", vs)
	}
}

func TestClientMapsOCPIErrorStatus(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, InvalidParams("field last_updated is missing"))
	})
	c := &Client{Token: "t"}
	err := c.Put(context.Background(), rec.URL, map[string]string{"a": "b"}, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.HTTPStatus != http.StatusOK || e.Code != StatusInvalidParameters || e.Message != "field last_updated is missing" {
		t.Fatalf("error = %+v", e)
	}
	if !strings.Contains(err.Error(), "PUT "+rec.URL) {
		t.Fatalf("error %q does not name the request", err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(rec.bodies[0]), &body); err != nil || body["a"] != "b" {
		t.Fatalf("body sent = %q", rec.bodies[0])
	}
	if ct := rec.header(0).Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestClientRequestIDIsFreshUUIDPerRequest(t *testing.T) {
	rec := newRecorder(t, answerData("ok"))
	c := &Client{Token: "t"}
	for i := 0; i < 3; i++ {
		if err := c.Get(context.Background(), rec.URL, nil); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		id := rec.header(i).Get(HeaderRequestID)
		if !uuidV4.MatchString(id) {
			t.Fatalf("X-Request-ID %q is not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("X-Request-ID %q sent twice", id)
		}
		seen[id] = true
	}
}

func TestClientCorrelationIDNewOrFromContext(t *testing.T) {
	rec := newRecorder(t, answerData("ok"))
	c := &Client{Token: "t"}
	ctx := WithCorrelationID(context.Background(), "corr-from-incoming-request")
	if err := c.Get(ctx, rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if got := rec.header(i).Get(HeaderCorrelationID); got != "corr-from-incoming-request" {
			t.Fatalf("request %d: X-Correlation-ID = %q, want the context's", i, got)
		}
	}
	got := rec.header(2).Get(HeaderCorrelationID)
	if !uuidV4.MatchString(got) {
		t.Fatalf("X-Correlation-ID without context = %q, want a new UUID", got)
	}
	if got == rec.header(2).Get(HeaderRequestID) {
		t.Fatalf("correlation id equals the request id %q", got)
	}
	if CorrelationID(ctx) != "corr-from-incoming-request" || CorrelationID(context.Background()) != "" {
		t.Fatal("CorrelationID does not read back what WithCorrelationID set")
	}
}

func TestClientRoutingHeadersOnlyForFunctionalModules(t *testing.T) {
	rec := newRecorder(t, answerData("ok"))
	c := &Client{Token: "t", From: PartyID{"NL", "EMS"}, To: PartyID{"DE", "CPO"}}
	ctx := context.Background()
	calls := []struct {
		name   string
		opts   []RequestOption
		from   PartyID
		to     PartyID
		routed bool
	}{
		{"no module (versions)", nil, PartyID{}, PartyID{}, false},
		{"credentials", []RequestOption{ForModule(ModuleCredentials)}, PartyID{}, PartyID{}, false},
		{"hubclientinfo", []RequestOption{ForModule(ModuleHubClientInfo)}, PartyID{}, PartyID{}, false},
		{"locations", []RequestOption{ForModule(ModuleLocations)}, PartyID{"NL", "EMS"}, PartyID{"DE", "CPO"}, true},
		{"tokens, other parties", []RequestOption{ForModule(ModuleTokens), WithRouting(PartyID{"NL", "EM2"}, PartyID{})},
			PartyID{"NL", "EM2"}, PartyID{}, true},
	}
	for i, call := range calls {
		if err := c.Get(ctx, rec.URL, nil, call.opts...); err != nil {
			t.Fatal(err)
		}
		h := rec.header(i)
		for _, name := range []string{HeaderFromCountryCode, HeaderFromPartyID, HeaderToCountryCode, HeaderToPartyID} {
			if !call.routed && h.Get(name) != "" {
				t.Errorf("%s: %s = %q, want none", call.name, name, h.Get(name))
			}
		}
		if !call.routed {
			continue
		}
		from, to, err := RoutingHeaders(h)
		if err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
		if from != call.from || to != call.to {
			t.Errorf("%s: from %v to %v, want %v %v", call.name, from, to, call.from, call.to)
		}
	}
}

func TestClientContentTypeOnlyWithBody(t *testing.T) {
	rec := newRecorder(t, answerData(nil))
	c := &Client{Token: "t", UserAgent: "test-agent/1"}
	ctx := context.Background()
	if err := c.Get(ctx, rec.URL, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Patch(ctx, rec.URL, json.RawMessage(`{"last_updated":"2016-01-01T00:00:00Z"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, rec.URL); err != nil {
		t.Fatal(err)
	}
	if ct := rec.header(0).Get("Content-Type"); ct != "" {
		t.Errorf("GET has Content-Type %q", ct)
	}
	if ct := rec.header(1).Get("Content-Type"); ct != "application/json" {
		t.Errorf("PATCH has Content-Type %q", ct)
	}
	if rec.bodies[1] != `{"last_updated":"2016-01-01T00:00:00Z"}` {
		t.Errorf("PATCH body = %q, want the raw JSON as given", rec.bodies[1])
	}
	if ct := rec.header(2).Get("Content-Type"); ct != "" {
		t.Errorf("DELETE has Content-Type %q", ct)
	}
	if ua := rec.header(0).Get("User-Agent"); ua != "test-agent/1" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestClientGetWithoutDataIsAnError(t *testing.T) {
	rec := newRecorder(t, answerData(nil))
	var out []Version
	err := (&Client{}).Get(context.Background(), rec.URL, &out)
	if err == nil || !strings.Contains(err.Error(), "no data") {
		t.Fatalf("err = %v, want one saying there is no data", err)
	}
}

func TestClientPostDecodesDataAndDoGivesHeaders(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://peer/cdrs/1")
		WriteData(w, http.StatusCreated, Credentials{Token: "new-token", URL: "https://peer/versions"})
	})
	c := &Client{Token: "t"}
	var got Credentials
	if err := c.Post(context.Background(), rec.URL, Credentials{Token: "mine"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Token != "new-token" || got.URL != "https://peer/versions" {
		t.Fatalf("decoded %+v", got)
	}
	reply, err := c.Do(context.Background(), http.MethodPost, rec.URL, Credentials{Token: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if reply.HTTPStatus != http.StatusCreated || reply.Header.Get("Location") != "https://peer/cdrs/1" || reply.StatusCode != StatusSuccess {
		t.Fatalf("reply = %d %q %d", reply.HTTPStatus, reply.Header.Get("Location"), reply.StatusCode)
	}
	if reply.Timestamp.IsZero() {
		t.Fatal("reply has no timestamp")
	}
}

func TestClientVersionDetailsAcceptsObjectOrOneElementList(t *testing.T) {
	d := VersionDetails{Version: Version221, Endpoints: []Endpoint{{Identifier: ModuleCredentials, Role: Sender, URL: "https://x/credentials"}}}
	for name, data := range map[string]any{"object": d, "list": []VersionDetails{d}} {
		rec := newRecorder(t, answerData(data))
		got, err := (&Client{}).VersionDetails(context.Background(), rec.URL)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Version != Version221 || len(got.Endpoints) != 1 || got.Endpoints[0].URL != "https://x/credentials" {
			t.Fatalf("%s: %+v", name, got)
		}
	}
	rec := newRecorder(t, answerData([]VersionDetails{d, d}))
	if _, err := (&Client{}).VersionDetails(context.Background(), rec.URL); err == nil {
		t.Fatal("a two-element list was accepted as version details")
	}
}

func TestClientErrorsWithoutEnvelopeSayRequestStatusAndBody(t *testing.T) {
	const token = "very-secret-token-42"
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		wantStatus int
		wantText   []string
	}{
		{"401 without body", http.StatusUnauthorized, "", 401, []string{"HTTP 401", "empty body"}},
		{"HTML 502", http.StatusBadGateway, "<html><body><h1>502 Bad Gateway</h1></body></html>", 502, []string{"HTTP 502", "502 Bad Gateway"}},
		{"404 text", http.StatusNotFound, "404 page not found", 404, []string{"HTTP 404", "404 page not found"}},
		{"200 not JSON", http.StatusOK, "hello", 200, []string{"HTTP 200", "not an OCPI envelope", "hello"}},
		{"200 JSON without status_code", http.StatusOK, `{"data":[]}`, 200, []string{"no status_code"}},
		{"401 echoing the token", http.StatusUnauthorized, "bad token: " + token + " / " + base64.StdEncoding.EncodeToString([]byte(token)), 401, []string{"[token]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			c := &Client{Token: token}
			err := c.Get(context.Background(), rec.URL+"/ocpi/2.2.1/locations", nil)
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v (%T), want an *HTTPError", err, err)
			}
			if he.HTTPStatus != tc.wantStatus || he.Method != "GET" || he.URL != rec.URL+"/ocpi/2.2.1/locations" {
				t.Fatalf("HTTPError = %+v", he)
			}
			msg := err.Error()
			for _, want := range append(tc.wantText, "GET "+rec.URL+"/ocpi/2.2.1/locations") {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, token) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte(token))) {
				t.Errorf("error %q contains the token", msg)
			}
		})
	}
}

func TestClientErrorSnippetIsShort(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	})
	err := (&Client{}).Get(context.Background(), rec.URL, nil)
	var he *HTTPError
	if !errors.As(err, &he) || len(he.Body) > 210 || len(err.Error()) > 400 {
		t.Fatalf("err = %d bytes: %.100v", len(err.Error()), err)
	}
}

func TestClientOCPIErrorKeepsHTTPStatus(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "already registered"))
	})
	err := (&Client{}).Post(context.Background(), rec.URL, Credentials{}, nil, ForModule(ModuleCredentials))
	e := AsError(err)
	if e.HTTPStatus != http.StatusMethodNotAllowed || e.Code != StatusClientError || e.Message != "already registered" {
		t.Fatalf("error = %+v", e)
	}
}

func TestClientSuccessCodeWithHTTPErrorIsAnError(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		WriteData(w, http.StatusInternalServerError, "odd")
	})
	err := (&Client{}).Get(context.Background(), rec.URL, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.HTTPStatus != 500 {
		t.Fatalf("err = %v, want an *HTTPError with 500", err)
	}
}

func TestClientTransportErrorNamesRequest(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	err := (&Client{}).Delete(context.Background(), addr+"/x")
	if err == nil || !strings.Contains(err.Error(), "DELETE "+addr+"/x") {
		t.Fatalf("err = %v, want one naming DELETE and the URL", err)
	}
}

func TestClientRejectsOversizedAnswer(t *testing.T) {
	rec := newRecorder(t, answerData(strings.Repeat("x", 2000)))
	err := (&Client{MaxBodyBytes: 1000}).Get(context.Background(), rec.URL, nil)
	if err == nil || !strings.Contains(err.Error(), "MaxBodyBytes") {
		t.Fatalf("err = %v, want one about MaxBodyBytes", err)
	}
}

func TestClientLogsRequestsWithoutToken(t *testing.T) {
	const token = "logged-never-token-77"
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("token " + token + " unknown"))
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := &Client{Token: token, Logger: logger}
	_ = c.Get(context.Background(), rec.URL, nil)
	out := buf.String()
	if !strings.Contains(out, "request_id="+rec.header(0).Get(HeaderRequestID)) || !strings.Contains(out, "status=401") {
		t.Fatalf("log %q lacks the request id or status", out)
	}
	if strings.Contains(out, token) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(token))) {
		t.Fatalf("log %q contains the token", out)
	}
}

func TestClientTakesNoContentAsSuccess(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if err := (&Client{}).Delete(context.Background(), rec.URL); err != nil {
		t.Fatalf("204 on DELETE: %v", err)
	}
}
