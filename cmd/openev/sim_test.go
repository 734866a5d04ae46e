package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/interop/peer"
	"github.com/openev/openev/sim"
	"github.com/openev/openev/sim/load"
	"github.com/openev/openev/sim/load/target"
	"github.com/openev/openev/sim/scenario"
)

// ourServer serves the accept-all CSMS built on ocpp.Server and returns its
// endpoint URL.
func ourServer(t *testing.T) string {
	t.Helper()
	srv := target.NewServer(300*time.Second, nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"
}

// peerServer starts the independent ocpp-rpc server (strict schema
// validation) speaking only protocol.
func peerServer(t *testing.T, protocol string) (*peer.Server, string) {
	t.Helper()
	peer.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := peer.StartServer(ctx, peer.ServerOptions{Protocols: []string{protocol}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, srv.URL() + "/ocpp"
}

// openev runs the command line in-process and returns its exit status,
// stdout and stderr.
func openev(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeScenario(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const quickCharge = `
name: quick-charge
station: {id_tokens: [TAG-1]}
steps:
  - connect
  - boot: {expect: {status: Accepted}}
  - plug: 1
  - authorize: {expect: {status: Accepted}}
  - start: {evse: 1}
  - charge: {for: 1500ms}
  - stop: {reason: Local}
  - unplug
  - call: {action: DataTransfer, payload: {vendorId: openev}, expect: {status: Accepted}}
`

const failingBoot = `
steps:
  - connect
  - heartbeat
  - boot:
      expect: {status: Rejected}
`

var protocols = []string{"ocpp1.6", "ocpp2.0.1"}

// servers runs fn against our server and the independent one, in both versions.
func servers(t *testing.T, fn func(t *testing.T, url, protocol string)) {
	for _, p := range protocols {
		t.Run("openev/"+p, func(t *testing.T) {
			t.Parallel()
			fn(t, ourServer(t), p)
		})
		t.Run("ocpp-rpc/"+p, func(t *testing.T) {
			t.Parallel()
			_, url := peerServer(t, p)
			fn(t, url, p)
		})
	}
}

func TestSimBoot(t *testing.T) {
	servers(t, func(t *testing.T, url, p string) {
		code, out, errOut := openev(t, "sim", "--url", url, "--id", "CS1", "--protocol", p, "--scenario", "boot")
		if code != 0 || !strings.Contains(out, "step 2 (boot): BootNotification: Accepted (interval 5m0s") ||
			!strings.Contains(out, "scenario boot: passed") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "BootNotification: ok in") {
			t.Errorf("stderr lacks the call trace:\n%s", errOut)
		}
	})
}

func TestSimDefaultKeepsHeartbeating(t *testing.T) {
	url := ourServer(t)
	code, out, errOut := openev(t, "sim", "--url", url, "--id", "CS1", "--duration", "700ms")
	if code != 0 || !strings.Contains(out, "step 3 (heartbeat): Heartbeat: ok") || !strings.Contains(out, "step 4 (idle): staying connected until stopped") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestSimChargeScenario(t *testing.T) {
	file := writeScenario(t, "charge.yaml", quickCharge)
	servers(t, func(t *testing.T, url, p string) {
		code, out, errOut := openev(t, "sim", "--url", url, "--id", "CHG1", "--protocol", p, "--scenario", file, "--meter-interval", "500ms")
		if code != 0 || !strings.Contains(out, "scenario quick-charge: passed (9 steps)") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "MeterValues: ok") && !strings.Contains(errOut, "TransactionEvent: ok") {
			t.Errorf("no meter values sent:\n%s", errOut)
		}
	})
}

func TestSimFailingExpectation(t *testing.T) {
	file := writeScenario(t, "fail.yaml", failingBoot)
	servers(t, func(t *testing.T, url, p string) {
		code, out, errOut := openev(t, "sim", "--url", url, "--id", "CS9", "--protocol", p, "--scenario", file)
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, out, errOut)
		}
		// ocpp-rpc answers a Heartbeat before boot; both must fail step 3.
		want := `step 3 (boot), line 5: unexpected answer: $.status: want "Rejected", got "Accepted"`
		if !strings.Contains(errOut, want) || !strings.Contains(errOut, "scenario fail: 1 failure(s)") {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	})
}

func TestSimLoad(t *testing.T) {
	servers(t, func(t *testing.T, url, p string) {
		code, out, errOut := openev(t, "sim", "--url", url, "--protocol", p, "--stations", "50", "--ramp", "200/s",
			"--duration", "2s", "--scenario", "heartbeat", "--json", "--id-pattern", "LOAD-%03d")
		var rep load.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("exit %d, report not JSON: %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
		}
		if code != 0 || !rep.OK || rep.ErrorsTotal != 0 || rep.Connected != 50 || rep.Protocol != p {
			t.Fatalf("exit %d\n%s\nstderr:\n%s", code, out, errOut)
		}
		got := map[string]int64{}
		for _, a := range rep.Actions {
			got[a.Action] = a.Calls
			if a.P50MS <= 0 || a.P99MS < a.P50MS {
				t.Errorf("%s percentiles: %+v", a.Action, a)
			}
		}
		// Every station boots; on a busy machine a few may still be waiting
		// for their one Heartbeat's answer when the run ends (not an error).
		if got["BootNotification"] != 50 || got["Heartbeat"] < 25 {
			t.Errorf("calls by action %v", got)
		}
	})
}

func TestSimLoadTextReportAndPeerSeesStations(t *testing.T) {
	srv, url := peerServer(t, "ocpp2.0.1")
	done := make(chan peer.Stats, 1)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, _ := srv.Stats(ctx)
		done <- st
	}()
	code, out, errOut := openev(t, "sim", "--url", url, "--stations", "30", "--ramp", "0", "--duration", "2s", "--scenario", "idle", "--progress")
	if code != 0 || !strings.Contains(out, "result: PASS") || !strings.Contains(out, "BootNotification") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "connected 30/30") {
		t.Errorf("no progress line:\n%s", errOut)
	}
	if st := <-done; st.Connected != 30 || st.ValidationFailures != 0 {
		t.Errorf("ocpp-rpc saw %+v", st)
	}
}

func TestSimUsageErrors(t *testing.T) {
	bad := writeScenario(t, "bad.yaml", "steps:\n  - connect\n  - authorize: {tokn: T1}\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim"}, "--url is required"},
		{[]string{"sim", "--url", "http://x"}, "must start with ws://"},
		{[]string{"sim", "--url", "ws://x/ocpp", "--protocol", "ocpp2.1"}, "speaks ocpp1.6 and ocpp2.0.1"},
		{[]string{"sim", "--url", "ws://x/ocpp", "--ramp", "fast"}, "--ramp"},
		{[]string{"sim", "--url", "ws://x/ocpp", "--scenario", "nope"}, "neither built in"},
		{[]string{"sim", "--url", "ws://x/ocpp", "--scenario", bad}, `line 3: step 2 (authorize): unknown field "tokn"`},
		{[]string{"sim", "--url", "ws://x/ocpp", "--stations", "0"}, "at least 1"},
		{[]string{"sim", "--bogus"}, "unknown flag"},
	} {
		code, _, errOut := openev(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestSimConnectFailure(t *testing.T) {
	code, _, errOut := openev(t, "sim", "--url", "ws://127.0.0.1:1/ocpp", "--scenario", "boot")
	if code != exitFailed || !strings.Contains(errOut, "step 1 (connect)") || !strings.Contains(errOut, "could not connect") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

// TestStationFlagsWinOverTheScenarioInLoadMode checks that the station
// flags end up in the scenario itself: load mode applies the scenario to
// every station again, which used to undo --meter-interval and the others.
func TestStationFlagsWinOverTheScenarioInLoadMode(t *testing.T) {
	sc, err := scenario.Parse("x.yaml", []byte("name: x\nstation: {meter_interval: 10s, evses: 2, connectors: 1, speed: 5}\nsteps:\n  - wait: 1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	overrideStation(sc, &simFlags{meterInterval: time.Second, connectors: 3, speed: 60})
	// What load.Run does for every station:
	cfg := sc.ApplyTo(sim.Config{})
	if cfg.MeterInterval != time.Second || cfg.Speed != 60 {
		t.Errorf("meter interval %v, speed %v: want the flags' 1s and 60", cfg.MeterInterval, cfg.Speed)
	}
	if len(cfg.EVSEs) != 2 || cfg.EVSEs[0].Connectors != 3 {
		t.Errorf("EVSEs %+v: want the scenario's 2 EVSEs with the flag's 3 connectors", cfg.EVSEs)
	}
}
