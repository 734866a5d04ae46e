package ocpi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
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
		b := new(strings.Builder)
		_, _ = ioCopy(b, r)
		rec.mu.Lock()
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.bodies = append(rec.bodies, b.String())
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func ioCopy(b *strings.Builder, r *http.Request) (int64, error) {
	if r.Body == nil {
		return 0, nil
	}
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := r.Body.Read(buf)
		b.Write(buf[:k])
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
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
