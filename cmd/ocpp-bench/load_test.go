package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
)

func TestParseAnswer(t *testing.T) {
	for _, c := range []struct {
		frame string
		typ   byte
		id    string
		ok    bool
	}{
		{`[3,"17",{"currentTime":"2026-01-01T00:00:00Z"}]`, '3', "17", true},
		{` [ 4 , "abc" ,"GenericError","",{}]`, '4', "abc", true},
		{`[3,"",{}]`, '3', "", true},
		{`{"a":1}`, 0, "", false},
		{`[3,17,{}]`, 0, "", false},
		{`[3,"17`, 0, "", false},
		{`[`, 0, "", false},
	} {
		typ, id, ok := parseAnswer([]byte(c.frame))
		if ok != c.ok || typ != c.typ || string(id) != c.id {
			t.Errorf("parseAnswer(%s) = %q, %q, %v; want %q, %q, %v", c.frame, typ, id, ok, c.typ, c.id, c.ok)
		}
	}
	if got := string(appendHeartbeat(nil, 42)); got != `[2,"42","Heartbeat",{}]` {
		t.Errorf("appendHeartbeat = %s", got)
	}
}

// TestLoadAgainstOpenEV runs every load phase briefly against an in-process
// server: the load generator must see every call answered.
func TestLoadAgainstOpenEV(t *testing.T) {
	srv := &ocpp.Server{Handler: benchRouter(), Options: ocpp.Options{Logger: discardLogger()}}
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	base := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp/"

	for _, protocol := range []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"} {
		g := newLoadGen(func(id string) string { return base + id }, protocol)
		ctx := context.Background()
		cr := g.connect(ctx, 20, 0, func(int, int) {})
		if cr.Connected != 20 || cr.FirstErr != nil {
			t.Fatalf("%s: connected %d of 20: %v", protocol, cr.Connected, cr.FirstErr)
		}

		cl := g.closedLoop(5)
		time.Sleep(100 * time.Millisecond)
		g.stopClosedLoop(cl)
		drain(ctx, 2*time.Second, cl)
		if cl.answered.Load() < 10 || !cl.settled() || cl.callErrors.Load() != 0 {
			t.Errorf("%s: closed loop: sent %d, answered %d, errors %d (%v)", protocol, cl.sent.Load(), cl.answered.Load(), cl.callErrors.Load(), cl.errSample.get())
		}

		ph, _ := g.openLoop(ctx, 500, 200*time.Millisecond, func(*phase, time.Duration) {})
		drain(ctx, 2*time.Second, ph)
		if n := ph.sent.Load(); n < 90 || n > 110 || ph.answered.Load() != n {
			t.Errorf("%s: open loop at 500/s for 200 ms: sent %d, answered %d", protocol, n, ph.answered.Load())
		}
		if l := ph.rec.summary(); l.N != int(ph.answered.Load()) || l.P50 <= 0 {
			t.Errorf("%s: latency summary %+v", protocol, l)
		}
		if g.lost.Load() != 0 || g.unmatched.Load() != 0 {
			t.Errorf("%s: lost %d, unmatched %d: %v", protocol, g.lost.Load(), g.unmatched.Load(), g.firstErr.get())
		}
		g.closeAll()
	}
}
