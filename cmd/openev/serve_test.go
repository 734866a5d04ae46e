package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs `openev serve` in-process until the test ends.
func startServe(t *testing.T, args ...string) (addr string, stderr *syncBuffer) {
	t.Helper()
	addr = freeAddr(t)
	stderr = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- runContext(ctx, append([]string{"serve", "--addr", addr}, args...), &bytes.Buffer{}, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr, stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never answered /healthz: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The zero-setup start: SQLite in the data directory, a generated API key
// printed once, and a station simulated by `openev sim` shows up in the API.
func TestServeWithNoSetupStoresInSQLiteAndPrintsAKey(t *testing.T) {
	dir := t.TempDir()
	os.Unsetenv("OPENEV_API_KEY")
	addr, stderr := startServe(t, "--data-dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "openev.db")); err != nil {
		t.Fatalf("no SQLite database in the data directory: %v", err)
	}
	out := stderr.String()
	i := strings.Index(out, "this run's key is:")
	if i < 0 {
		t.Fatalf("no generated key printed: %s", out)
	}
	key := strings.Fields(out[i+len("this run's key is:"):])[0]

	simOut := &syncBuffer{}
	if code := run([]string{"sim", "--url", "ws://" + addr + "/ocpp", "--id", "SIM-1", "--scenario", "boot"}, simOut, simOut); code != 0 {
		t.Fatalf("sim boot exited %d: %s", code, simOut.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/stations/SIM-1", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ ID, Vendor, Registration string }
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != 200 || st.ID != "SIM-1" || st.Registration != "Accepted" {
		t.Fatalf("station after boot: %d %+v", resp.StatusCode, st)
	}
	metrics, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(body.String(), `openev_ocpp_calls_total{action="BootNotification",direction="from_station",result="ok"} 1`) {
		t.Fatalf("metrics do not count the boot:\n%s", body.String())
	}
	if strings.Count(stderr.String(), key) != 1 {
		t.Fatal("the API key must be printed once and never logged")
	}
}

func TestServeRejectsBadFlagsWithExitStatus2(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--unknown-stations", "maybe"},
		{"serve", "--validation", "loose"},
		{"serve", "--tls-cert", "x.pem"},
		{"serve", "--client-ca", "ca.pem"},
		{"serve", "--db", "mysql://x"},
		{"serve", "--db", "sqlite://x.db?batching=maybe"},
		{"serve", "--db", "sqlite://x.db?max_batch=0"},
		{"serve", "--db", "sqlite://x.db?batching=off&max_batch=64"},
		{"serve", "--db", "sqlite://x.db?cache=shared"},
		{"serve", "--db", "postgres://postgres@127.0.0.1:5432/test?max_batch=-3"},
		{"serve", "--db", "postgres://postgres@127.0.0.1:5432/test?schema="},
	} {
		var errOut bytes.Buffer
		if code := run(append(args, "--addr", freeAddr(t), "--data-dir", t.TempDir(), "--api-key", "k"), &bytes.Buffer{}, &errOut); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut.String())
		}
	}
}

// TestServeTakesGroupCommitSettingsFromTheDBURL starts serve with batching
// off and with a batch bound on SQLite, and checks the start-up line says so
// and that a station's boot is stored (the write path works either way).
func TestServeTakesGroupCommitSettingsFromTheDBURL(t *testing.T) {
	for param, want := range map[string]string{"batching=off": "(batching off)", "max_batch=1024": "(max_batch 1024)"} {
		t.Run(param, func(t *testing.T) {
			db := "sqlite://" + filepath.Join(t.TempDir(), "openev.db") + "?" + param
			addr, stderr := startServe(t, "--db", db, "--api-key", "batch-key")
			if !strings.Contains(stderr.String(), want) {
				t.Fatalf("start-up output does not say %q:\n%s", want, stderr.String())
			}
			out := &syncBuffer{}
			if code := run([]string{"sim", "--url", "ws://" + addr + "/ocpp", "--id", "BATCH-1", "--scenario", "boot"}, out, out); code != 0 {
				t.Fatalf("sim boot exited %d: %s", code, out.String())
			}
			req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/stations/BATCH-1", nil)
			req.Header.Set("Authorization", "Bearer batch-key")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET the booted station: HTTP %d", resp.StatusCode)
			}
		})
	}
}

func TestServeOnPostgreSQL(t *testing.T) {
	dsn := os.Getenv("OPENEV_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is not reachable on 127.0.0.1:5432: run scripts/services.sh (%v)", err)
		}
		t.Skip("PostgreSQL not running")
	}
	conn.Close()
	addr, stderr := startServe(t, "--db", dsn, "--api-key", "pg-test-key")
	simOut := &syncBuffer{}
	id := fmt.Sprintf("PG-%d", time.Now().UnixNano())
	if code := run([]string{"sim", "--url", "ws://" + addr + "/ocpp", "--id", id, "--protocol", "ocpp1.6", "--scenario", "boot"}, simOut, simOut); code != 0 {
		t.Fatalf("sim boot exited %d: %s\n%s", code, simOut.String(), stderr.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/stations/"+id, nil)
	req.Header.Set("Authorization", "Bearer pg-test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("station not stored in PostgreSQL: %d", resp.StatusCode)
	}
}

// The simulator charges at the real CSMS, in both versions: the session it
// ran is the transaction the API then lists, with the energy it metered.
func TestSimChargesAtServe(t *testing.T) {
	addr, _ := startServe(t, "--data-dir", t.TempDir(), "--api-key", "k", "--accept-unknown-tokens")
	scenarioFile := filepath.Join(t.TempDir(), "short-charge.yaml")
	os.WriteFile(scenarioFile, []byte(`name: short-charge
steps:
  - connect
  - boot: {expect: {status: Accepted}}
  - plug: {evse: 1}
  - authorize: {expect: {status: Accepted}}
  - start: {evse: 1}
  - charge: {for: 2s, evse: 1}
  - stop: {evse: 1, reason: Local}
  - unplug: {evse: 1}
`), 0o644)
	for _, protocol := range []string{"ocpp1.6", "ocpp2.0.1"} {
		id := "CHG-" + strings.ReplaceAll(protocol, ".", "")
		out := &syncBuffer{} // the runner and the stations' tracer write at once
		args := []string{"sim", "--url", "ws://" + addr + "/ocpp", "--id", id, "--protocol", protocol,
			"--scenario", scenarioFile, "--speed", "600", "--meter-interval", "1s"}
		if code := run(args, out, out); code != 0 {
			t.Fatalf("%s: sim exited %d:\n%s", protocol, code, out.String())
		}
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/transactions?station="+id, nil)
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var txs []struct {
			Status   string
			EnergyWh float64 `json:"energy_wh"`
		}
		json.NewDecoder(resp.Body).Decode(&txs)
		resp.Body.Close()
		// 2 s at 600× is 20 simulated minutes at up to 11 kW.
		if len(txs) != 1 || txs[0].Status != "Finished" || txs[0].EnergyWh < 500 {
			t.Fatalf("%s: transactions %+v\nsim output:\n%s", protocol, txs, out.String())
		}
	}
	// The sessions' writes were timed: both versions record their
	// transaction events through the store.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if n := metricValue(body.String(), `openev_store_duration_seconds_count{op="RecordTransactionEvent"}`); n < 4 {
		t.Fatalf("store latency of transaction events counted %v times after two sessions, want at least 4:\n%s", n, body.String())
	}
}

// metricValue finds a sample in a Prometheus text exposition; -1 if absent.
func metricValue(exposition, sample string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}

// --debug-addr serves Go's profiler on its own listener, and only there.
func TestServeProfilerOnlyOnTheDebugListener(t *testing.T) {
	debug := freeAddr(t)
	addr, _ := startServe(t, "--data-dir", t.TempDir(), "--api-key", "k", "--debug-addr", debug)
	for _, c := range []struct {
		base, path string
		want       int
	}{
		{debug, "/debug/pprof/goroutine?debug=1", http.StatusOK},
		{addr, "/debug/pprof/goroutine?debug=1", http.StatusNotFound},
		{debug, "/debug/pprof/cmdline", http.StatusNotFound}, // the command line may hold secrets
	} {
		resp, err := http.Get("http://" + c.base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s%s: status %d, want %d", c.base, c.path, resp.StatusCode, c.want)
		}
		if c.want == http.StatusOK && !strings.Contains(string(body), "goroutine profile") {
			t.Errorf("%s: not a goroutine profile: %.200s", c.base, body)
		}
	}
	// A debug address in use is refused with the flag named.
	var stderr bytes.Buffer
	code := runContext(t.Context(), []string{"serve", "--addr", freeAddr(t), "--data-dir", t.TempDir(),
		"--api-key", "k", "--debug-addr", debug}, &bytes.Buffer{}, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "--debug-addr") {
		t.Errorf("a second serve on the same --debug-addr: exit %d, %q", code, stderr.String())
	}
}

// The CSMS answers OCPP 1.6 and 2.0.1: a station that prefers 2.1 but also
// offers 2.0.1 gets 2.0.1 and is served; one that offers only 2.1 is refused
// at the upgrade rather than connected and then refused every call.
func TestServeNegotiates201WithAStationPreferring21(t *testing.T) {
	addr, _ := startServe(t, "--data-dir", t.TempDir(), "--api-key", "k")
	ctx := t.Context()
	d := &ocpp.Dialer{Versions: []ocpp.Version{ocpp.V21, ocpp.V201}}
	c, err := d.Dial(ctx, "ws://"+addr+"/ocpp", "CS21", ocpp.NewRouter())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(1000, "")
	if c.Version() != ocpp.V201 {
		t.Fatalf("negotiated %v, want 2.0.1", c.Version())
	}
	boot, err := ocpp.Call(ctx, c, &v201.BootNotificationRequest{Reason: v201.BootReasonEnumPowerUp,
		ChargingStation: v201.ChargingStation{VendorName: "V", Model: "M"}})
	if err != nil || boot.Status != v201.RegistrationStatusEnumAccepted {
		t.Fatalf("boot: %+v %v", boot, err)
	}
	only21 := &ocpp.Dialer{Versions: []ocpp.Version{ocpp.V21}}
	if c, err := only21.Dial(ctx, "ws://"+addr+"/ocpp", "CS21ONLY", ocpp.NewRouter()); err == nil {
		c.Close(1000, "")
		t.Fatal("a station offering only OCPP 2.1 was connected")
	}
}
