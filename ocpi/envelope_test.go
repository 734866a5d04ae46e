package ocpi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// envelopeOf decodes a recorded answer into a generic map, so the test sees
// exactly which fields were written.
func envelopeOf(t *testing.T, w *httptest.ResponseRecorder) map[string]json.RawMessage {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %s", w.Body)
	}
	return m
}

func TestWriteDataWrapsInEnvelope(t *testing.T) {
	w := httptest.NewRecorder()
	WriteData(w, http.StatusCreated, map[string]string{"id": "LOC1"})
	if w.Code != http.StatusCreated {
		t.Fatalf("HTTP %d", w.Code)
	}
	m := envelopeOf(t, w)
	if string(m["status_code"]) != "1000" || string(m["data"]) != `{"id":"LOC1"}` {
		t.Fatalf("envelope %s", w.Body)
	}
	var ts string
	_ = json.Unmarshal(m["timestamp"], &ts)
	d, err := ParseDateTime(ts)
	if err != nil || !strings.HasSuffix(ts, "Z") || time.Since(d.Time) > time.Minute {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
}

func TestWriteDataNilWritesNoData(t *testing.T) {
	w := httptest.NewRecorder()
	WriteData(w, http.StatusOK, nil)
	if _, ok := envelopeOf(t, w)["data"]; ok {
		t.Fatalf("data written for nil: %s", w.Body)
	}
}

func TestWriteDataUnencodableIsServerError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteData(w, http.StatusOK, map[string]any{"f": func() {}})
	m := envelopeOf(t, w)
	if w.Code != http.StatusInternalServerError || string(m["status_code"]) != "3000" {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
}

func TestWriteErrorUsesErrorsStatusAndCode(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, InvalidParams("field %s is missing", "last_updated"))
	m := envelopeOf(t, w)
	if w.Code != http.StatusOK || string(m["status_code"]) != "2001" || string(m["status_message"]) != `"field last_updated is missing"` {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
	if _, ok := m["data"]; ok {
		t.Fatalf("error has data: %s", w.Body)
	}
	if _, ok := m["timestamp"]; !ok {
		t.Fatalf("error has no timestamp: %s", w.Body)
	}

	w = httptest.NewRecorder()
	WriteError(w, errors.New("disk full"))
	m = envelopeOf(t, w)
	if w.Code != http.StatusInternalServerError || string(m["status_code"]) != "3000" {
		t.Fatalf("plain error: HTTP %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "disk full") {
		t.Fatalf("a plain error's text reached the peer: %s", w.Body)
	}
}

func TestAsErrorFindsWrappedError(t *testing.T) {
	inner := Errorf(http.StatusOK, StatusUnknownLocation, "location %s unknown", "LOC9")
	e := AsError(errors.Join(errors.New("context"), inner))
	if e != inner {
		t.Fatalf("AsError = %+v, want the wrapped *Error", e)
	}
	if !strings.Contains(inner.Error(), "2003") || !strings.Contains(inner.Error(), "LOC9") {
		t.Fatalf("Error() = %q", inner.Error())
	}
}

func TestResponseUnmarshalsPeerEnvelope(t *testing.T) {
	var r Response
	body := `{"data":[{"version":"2.2.1","url":"https://x/2.2.1"}],"status_code":1000,"status_message":"Success","timestamp":"2015-06-30T21:59:59"}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	var vs []Version
	if err := json.Unmarshal(r.Data, &vs); err != nil || len(vs) != 1 || vs[0].Version != Version221 {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	if r.StatusCode != 1000 || r.Timestamp.String() != "2015-06-30T21:59:59Z" {
		t.Fatalf("envelope %+v", r)
	}
}
