package scenario

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
	"github.com/openev/openev/sim/load/target"
)

// startTarget serves the accept-all CSMS and returns its URL (…/ocpp).
func startTarget(t *testing.T) string {
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

func newStation(t *testing.T, url string, v ocpp.Version, id string) *sim.Station {
	t.Helper()
	s, err := sim.New(sim.Config{URL: url, Identity: id, Version: v, MeterInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func runYAML(t *testing.T, url string, v ocpp.Version, src string) (Result, string) {
	t.Helper()
	sc, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &Runner{Station: newStation(t, url, v, "T-"+t.Name()[len(t.Name())-3:]), Out: &out, Rand: rand.New(rand.NewPCG(1, 1))}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := r.Run(ctx, sc)
	return res, out.String()
}

func TestRunnerAgainstServer(t *testing.T) {
	url := startTarget(t)
	for _, v := range []ocpp.Version{ocpp.V16, ocpp.V201} {
		t.Run(v.String(), func(t *testing.T) {
			res, out := runYAML(t, url, v, `
name: all
steps:
  - connect
  - boot: {expect: {status: Accepted, interval: 300}}
  - heartbeat
  - plug: 1
  - authorize: {id_token: TAG1, expect: {status: Accepted}}
  - start: {evse: 1, id_token: TAG1}
  - charge: {for: 300ms}
  - stop: {reason: Local}
  - unplug
  - call: {action: DataTransfer, payload: {vendorId: acme}, expect: {status: Accepted}}
  - drop: {offline_for: 100ms}
  - heartbeat: {timeout: 5s}
  - repeat: {times: 2, steps: [heartbeat, {wait: {min: 1ms, max: 5ms}}]}
`)
			if !res.OK() || res.Stopped || res.Fatal {
				t.Fatalf("result %+v\n%s", res, out)
			}
			if res.Steps != 17 { // 12 steps + a repeat of 2 steps twice
				t.Errorf("steps = %d\n%s", res.Steps, out)
			}
			for _, want := range []string{"step 2 (boot): BootNotification: Accepted", "step 5 (authorize): Authorize TAG1: Accepted", `step 10 (call): DataTransfer: {"status":"Accepted"}`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestRunnerFailures(t *testing.T) {
	url := startTarget(t)
	res, out := runYAML(t, url, ocpp.V201, `
steps:
  - connect
  - boot: {expect: {status: Rejected}}
  - call: {action: DataTransfer, payload: {vendorId: acme}, expect_error: NotSupported}
  - call:
      action: Get15118EVCertificate
      payload: {iso15118SchemaVersion: "urn:iso:15118:2:2013:MsgDef", action: Install, exiRequest: "AAAA"}
      expect_error: NotSupported
  - call: {action: Get15118EVCertificate, payload: {iso15118SchemaVersion: x, action: Install, exiRequest: "AAAA"}}
  - raw: '[2,"raw-1","Heartbeat",{}]'
`)
	if res.OK() || res.Failed != 3 || res.Fatal {
		t.Fatalf("result %+v\n%s", res, out)
	}
	msgs := make([]string, len(res.Failures))
	for i, f := range res.Failures {
		msgs[i] = f.Error()
	}
	want := []string{
		`step 2 (boot), line 4: unexpected answer: $.status: want "Rejected", got "Accepted"`,
		`step 3 (call), line 5: want the CALLERROR NotSupported, got an answer {"status":"Accepted"}`,
		`step 5 (call), line 10: Get15118EVCertificate: the server answered with a CALLERROR: ocpp: NotSupported`,
	}
	for i, w := range want {
		if i >= len(msgs) || !strings.HasPrefix(msgs[i], w) {
			t.Errorf("failure %d:\n got  %q\n want %q…", i, msgs, w)
		}
	}
	if res.Failures[0].Kind != FailExpectation || res.Failures[2].Kind != FailCall {
		t.Errorf("kinds %v", res.Failures)
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "3 failure(s)") {
		t.Errorf("Err() = %v", err)
	}
}

func TestRunnerConnectFailureIsFatal(t *testing.T) {
	res, _ := runYAML(t, "ws://127.0.0.1:1/ocpp", ocpp.V201, "steps: [{connect: {timeout: 2s}}, boot]")
	if !res.Fatal || res.Failed != 1 || res.Failures[0].Kind != FailConnect || !strings.Contains(res.Failures[0].Msg, "could not connect") {
		t.Fatalf("%+v", res)
	}
}

func TestRunnerStopsWithContext(t *testing.T) {
	url := startTarget(t)
	sc, err := Builtin("idle")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	r := &Runner{Station: newStation(t, url, ocpp.V201, "IDLE1")}
	res := r.Run(ctx, sc)
	if !res.OK() || !res.Stopped || res.Steps != 3 {
		t.Fatalf("%+v", res)
	}
}

func TestRandomWaitsAreSeeded(t *testing.T) {
	st := &Step{Kind: KindWait, Wait: WaitSpec{Min: time.Second, Max: 10 * time.Second}}
	draw := func(seed uint64) []time.Duration {
		r := &Runner{Rand: rand.New(rand.NewPCG(seed, 7))}
		var out []time.Duration
		for range 20 {
			d := r.waitFor(st)
			if d < time.Second || d > 10*time.Second {
				t.Fatalf("wait %v outside [1s, 10s]", d)
			}
			out = append(out, d)
		}
		return out
	}
	a, b, c := draw(42), draw(42), draw(43)
	if !slices.Equal(a, b) {
		t.Error("the same seed drew different waits")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds drew the same waits")
	}
	fixed := &Step{Kind: KindWait, Wait: WaitSpec{Min: 5 * time.Second, Max: 5 * time.Second}}
	if d := (&Runner{}).waitFor(fixed); d != 5*time.Second {
		t.Errorf("fixed wait %v", d)
	}
}

func TestRunnerFaults(t *testing.T) {
	url := startTarget(t)
	big := strings.Repeat("x", 70<<10)
	res, out := runYAML(t, url, ocpp.V201, `
faults: {skip_validation: true}
steps:
  - connect
  - boot
  # schema-invalid on purpose: Authorize without idToken
  - call: {action: Authorize, payload: {}, expect_error: OccurrenceConstraintViolation}
  # malformed frame: the server answers with an error the station drops; the connection stays
  - raw: '[2,"bad-1","Heartbeat"'
  - heartbeat
  # a frame over the server's 64 KiB limit: it closes the connection (1009)
  - raw: {frame: '[2,"big-1","DataTransfer",{"vendorId":"v","data":"`+big+`"}]', expect_closed: true}
  - heartbeat: {timeout: 10s}
  - raw: {frame: '[2,"ok-1","Heartbeat",{}]', expect_closed: true, timeout: 300ms}
`)
	if res.Failed != 1 || !strings.Contains(res.Failures[0].Error(), "step 8 (raw)") ||
		!strings.Contains(res.Failures[0].Msg, "did not close the connection") {
		t.Fatalf("%+v\n%s", res, out)
	}
	if !strings.Contains(out, "step 3 (call): Authorize: CALLERROR OccurrenceConstraintViolation, as expected") ||
		!strings.Contains(out, "step 6 (raw): the server closed the connection, as expected") ||
		!strings.Contains(out, "step 7 (heartbeat): Heartbeat: ok") {
		t.Errorf("output:\n%s", out)
	}
}

func TestApplyTo(t *testing.T) {
	sc, err := Parse("s.yaml", []byte(`
station: {vendor: V, evses: 2, connectors: 2, max_power_w: 7400, meter_interval: 5s, id_tokens: [A], ev: {start_soc: 50}, speed: 10}
faults: {response_delay: {Reset: 2s}, no_response: [GetVariables], quirks: [wrong-units], skip_validation: true}
steps: [connect]
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sc.ApplyTo(sim.Config{Vendor: "keep-me-not", Model: "kept"})
	if cfg.Vendor != "V" || cfg.Model != "kept" || len(cfg.EVSEs) != 2 || cfg.EVSEs[1].Connectors != 2 ||
		cfg.EVSEs[0].MaxPowerW != 7400 || cfg.MeterInterval != 5*time.Second || cfg.IDTokens[0] != "A" ||
		cfg.EV.StartSoC != 50 || cfg.Speed != 10 {
		t.Errorf("station config %+v", cfg)
	}
	f := cfg.Faults
	if f.ResponseDelay["Reset"] != 2*time.Second || !f.NoResponse["GetVariables"] || f.Quirks[0] != "wrong-units" || !f.SkipValidation {
		t.Errorf("faults %+v", f)
	}
}
