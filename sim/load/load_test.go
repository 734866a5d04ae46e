package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
	"github.com/openev/openev/sim/load"
	"github.com/openev/openev/sim/load/target"
	"github.com/openev/openev/sim/scenario"
)

func startTarget(t *testing.T) (string, *ocpp.Server) {
	t.Helper()
	srv := target.NewServer(300*time.Second, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp", srv
}

func TestRunSmallFleet(t *testing.T) {
	url, srv := startTarget(t)
	sc, err := scenario.Parse("hb.yaml", []byte(`
name: hb
steps:
  - connect
  - boot: {expect: {status: Accepted}}
  - repeat: {steps: [heartbeat]}
`))
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	maxConns := 0
	done := make(chan struct{})
	go func() { // the server's view: all stations connected at some point
		defer close(done)
		for range 30 {
			time.Sleep(100 * time.Millisecond)
			maxConns = max(maxConns, srv.Len())
		}
	}()
	rep, err := load.Run(context.Background(), load.Options{
		Station:  sim.Config{URL: url, Version: ocpp.V16},
		Scenario: sc, Stations: 40, Ramp: 200, Duration: time.Second, Rate: 300,
		IDPattern: "LT-%03d", Progress: &progress, ProgressEvery: 1, SourceAddrs: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	<-done
	var js bytes.Buffer
	rep.WriteJSON(&js)
	if !rep.OK || rep.Started != 40 || rep.PeakConnected != 40 || rep.ErrorsTotal != 0 || maxConns != 40 {
		t.Fatalf("report (server saw %d):\n%s", maxConns, js.String())
	}
	// Duration 1s after a 0.2s ramp at 300 calls/s: about 360 heartbeats.
	var hb load.ActionReport
	for _, a := range rep.Actions {
		if a.Action == "Heartbeat" {
			hb = a
		}
	}
	if hb.Calls < 200 || hb.Calls > 600 || hb.P99MS <= 0 || hb.P50MS > hb.P99MS || hb.P99MS > hb.MaxMS {
		t.Errorf("heartbeats at --rate 300: %+v", hb)
	}
	if st := rep.Steady; st == nil || st.Calls == 0 || st.All.P99MS <= 0 || !slices.ContainsFunc(st.Actions,
		func(a load.ActionReport) bool { return a.Action == "Heartbeat" && a.Calls > 0 }) {
		t.Errorf("steady phase %+v", rep.Steady)
	}
	if rep.Sim.RSSBytes == 0 || rep.Sim.CPUS <= 0 {
		t.Errorf("sim cost %+v", rep.Sim)
	}
	if !strings.Contains(progress.String(), "connected ") || !strings.Contains(progress.String(), "calls/s") {
		t.Errorf("progress: %q", progress.String())
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{"Heartbeat", "BootNotification", "p99", "result: PASS", "simulator: RSS"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var back load.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Calls != rep.Calls {
		t.Errorf("JSON round trip: %v", err)
	}
}

func TestRunCountsFailures(t *testing.T) {
	url, _ := startTarget(t)
	sc, err := scenario.Parse("bad.yaml", []byte(`
steps:
  - connect
  - boot: {expect: {status: Pending}}
  - call: {action: Get15118EVCertificate, payload: {iso15118SchemaVersion: x, action: Install, exiRequest: "AAAA"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := load.Run(context.Background(), load.Options{
		Station: sim.Config{URL: url, Version: ocpp.V201}, Scenario: sc, Stations: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Errors["assertion"] != 5 || rep.Errors["CALLERROR NotSupported"] != 5 || len(rep.Failures) != 10 {
		t.Fatalf("%+v", rep)
	}
	if !strings.Contains(rep.Failures[0], "step 2 (boot)") && !strings.Contains(rep.Failures[0], "step 3 (call)") {
		t.Errorf("failure %q", rep.Failures[0])
	}
}

func TestRunConnectFailures(t *testing.T) {
	sc, _ := scenario.Builtin("boot")
	rep, err := load.Run(context.Background(), load.Options{
		Station: sim.Config{URL: "ws://127.0.0.1:1/ocpp"}, Scenario: sc, Stations: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.ConnectFailures != 3 || rep.Connected != 0 {
		t.Fatalf("%+v", rep)
	}
}

func TestErrorKind(t *testing.T) {
	for err, want := range map[error]string{
		&ocpp.Error{Code: ocpp.NotSupported}: "CALLERROR NotSupported",
		ocpp.ErrTimeout:                      "timeout",
		context.DeadlineExceeded:             "timeout",
		ocpp.ErrClosed:                       "closed",
		sim.ErrOffline:                       "not connected",
		&ocpp.DialError{URL: "x"}:            "connect",
		context.Canceled:                     "canceled",
	} {
		if got := load.ErrorKind(err); got != want {
			t.Errorf("ErrorKind(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestRunCountsReconnections(t *testing.T) {
	url, _ := startTarget(t)
	sc, err := scenario.Parse("drop.yaml", []byte(`
steps:
  - connect
  - boot
  - drop: {offline_for: 200ms}
  - heartbeat: {timeout: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := load.Run(context.Background(), load.Options{
		Station: sim.Config{URL: url, MinBackoff: 50 * time.Millisecond}, Scenario: sc, Stations: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Reconnections != 10 || rep.Calls < 30 {
		t.Fatalf("%+v", rep)
	}
}
