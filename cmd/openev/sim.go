package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
	"github.com/openev/openev/sim/load"
	"github.com/openev/openev/sim/scenario"
	"github.com/spf13/cobra"
)

// simFlags are the flags of `openev sim`.
type simFlags struct {
	url, id, protocol, password, scenario string
	stations                              int
	ramp                                  string
	duration                              time.Duration
	rate                                  float64
	idPattern                             string
	evses, connectors                     int
	meterInterval                         time.Duration
	speed                                 float64
	seed                                  uint64
	sourceAddrs                           int
	json, progress, verbose               bool
	memprofile, cpuprofile                string
}

func newSimCmd(stdout, stderr io.Writer) *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim --url ws://HOST:PORT/ocpp [flags]",
		Short: "Simulate OCPP charging stations: one station running a scenario, or a load test",
		Long: `Simulate OCPP 1.6 or 2.0.1 charging stations against a CSMS.

One station (the default): connects as --id, runs the scenario (default
"heartbeat": connect, boot, heartbeat, then keep heartbeating at the server's
interval until Ctrl-C) and prints what the server answered.

Load mode (--stations N): N stations with identities from --id-pattern start at
--ramp per second, each runs the scenario, for --duration after the last one
started; a progress line on stderr, then a report (--json for scripts).

Scenarios: built in (` + strings.Join(scenario.Builtins(), ", ") + `) or a YAML/JSON file; see
docs/simulator.md. Exit status: 0 when every expectation held, 1 when one failed
(the failures are printed with their step), 2 for bad flags or a bad scenario.`,
		Example: `  openev sim --url ws://127.0.0.1:8080/ocpp --id CS1 --protocol ocpp2.0.1
  openev sim --url ws://127.0.0.1:8080/ocpp --id CS1 --scenario charge --speed 60
  openev sim --url ws://127.0.0.1:8080/ocpp --scenario my-test.yaml --seed 42
  openev sim --url ws://127.0.0.1:8080/ocpp --stations 15000 --ramp 500/s --duration 5m --scenario idle`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd, &f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "CSMS endpoint without the identity, e.g. ws://127.0.0.1:8080/ocpp (required)")
	fl.StringVar(&f.id, "id", "CS1", "station identity (one station)")
	fl.StringVar(&f.protocol, "protocol", "ocpp2.0.1", "OCPP version: ocpp1.6 or ocpp2.0.1")
	fl.StringVar(&f.password, "password", "", "HTTP Basic auth password (security profile 1/2); the identity is the user")
	fl.StringVar(&f.scenario, "scenario", "heartbeat", "built-in scenario ("+strings.Join(scenario.Builtins(), ", ")+") or a YAML/JSON file")
	fl.IntVar(&f.stations, "stations", 0, "load mode: run this many stations")
	fl.StringVar(&f.ramp, "ramp", "500/s", "load mode: stations started per second, e.g. 500/s (0: all at once)")
	fl.DurationVar(&f.duration, "duration", 0, "how long to run (load mode: after the last station started); 0 = until the scenario ends or Ctrl-C")
	fl.Float64Var(&f.rate, "rate", 0, "load mode: cap the scenarios' messages per second across all stations (0: no cap)")
	fl.StringVar(&f.idPattern, "id-pattern", "SIM-%05d", "load mode: printf pattern of the identities, given the number 1..N")
	fl.IntVar(&f.evses, "evses", 0, "EVSEs per station (default: the scenario's, else 1)")
	fl.IntVar(&f.connectors, "connectors", 0, "connectors per EVSE (default: the scenario's, else 1)")
	fl.DurationVar(&f.meterInterval, "meter-interval", 0, "meter values interval while charging (default: the scenario's, else 60s)")
	fl.Float64Var(&f.speed, "speed", 0, "simulated-time factor for energy and state of charge (60: a minute per second)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for random waits and token choices (0: a random seed, printed)")
	fl.IntVar(&f.sourceAddrs, "source-addrs", 0, "load mode: spread connections over 127.0.0.1..127.0.0.N (0: one per 8000 stations on loopback)")
	fl.BoolVar(&f.json, "json", false, "print the report (or the one-station result) as JSON on stdout")
	fl.BoolVar(&f.progress, "progress", false, "load mode: a progress line every second even when stderr is not a terminal")
	fl.BoolVar(&f.verbose, "verbose", false, "load mode: log every call and connection change; both modes: the stations' debug log, on stderr")
	fl.StringVar(&f.memprofile, "memprofile", "", "load mode: write a heap profile of the full fleet to this file, and print the Go memory statistics")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the simulator to this file")
	_ = fl.MarkHidden("memprofile") // for working on the simulator's own cost
	_ = fl.MarkHidden("cpuprofile")
	return cmd
}

// parseRamp accepts "500/s", "500" or "0".
func parseRamp(s string) (float64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("--ramp %q: want stations per second, e.g. 500/s", s)
	}
	return r, nil
}

// parseProtocol accepts ocpp1.6 and ocpp2.0.1 (and the bare numbers).
func parseProtocol(s string) (ocpp.Version, error) {
	v, err := ocpp.ParseVersion(s)
	if err != nil || (v != ocpp.V16 && v != ocpp.V201) {
		return 0, fmt.Errorf("--protocol %q: the simulator speaks ocpp1.6 and ocpp2.0.1", s)
	}
	return v, nil
}

func runSim(cmd *cobra.Command, f *simFlags, stdout, stderr io.Writer) error {
	if f.url == "" {
		return usageErr("sim: --url is required, e.g. --url ws://127.0.0.1:8080/ocpp")
	}
	if !strings.HasPrefix(f.url, "ws://") && !strings.HasPrefix(f.url, "wss://") {
		return usageErr("sim: --url %q must start with ws:// or wss://", f.url)
	}
	version, err := parseProtocol(f.protocol)
	if err != nil {
		return usageErr("sim: %v", err)
	}
	ramp, err := parseRamp(f.ramp)
	if err != nil {
		return usageErr("sim: %v", err)
	}
	sc, err := scenario.Load(f.scenario)
	if err != nil {
		return usageErr("sim: %v", err)
	}
	loadMode := cmd.Flags().Changed("stations")
	if loadMode && f.stations < 1 {
		return usageErr("sim: --stations must be at least 1")
	}
	if f.seed == 0 {
		f.seed = rand.Uint64()
		if !f.json && (loadMode || f.verbose) {
			fmt.Fprintf(stderr, "seed %d (repeat this run with --seed %d)\n", f.seed, f.seed)
		}
	}
	if f.cpuprofile != "" {
		out, err := os.Create(f.cpuprofile)
		if err != nil {
			return usageErr("sim: --cpuprofile: %v", err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return usageErr("sim: --cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	if n, err := load.RaiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "warning: cannot raise the open-file limit (now %d): %v\n", n, err)
	} else if loadMode && uint64(f.stations)+64 > n {
		fmt.Fprintf(stderr, "warning: %d stations need more sockets than the open-file limit %d allows; expect connect failures\n", f.stations, n)
	}

	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	overrideStation(sc, f)
	cfg := sc.ApplyTo(sim.Config{URL: f.url, Identity: f.id, Version: version, Password: f.password, Logger: logger})

	// Ctrl-C or SIGTERM stops the run; the report (or result) still prints.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.duration > 0 {
		if !loadMode {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, f.duration)
			defer cancel()
		}
	}
	if loadMode {
		return runLoad(ctx, f, cfg, sc, ramp, stdout, stderr)
	}
	return runOne(ctx, f, cfg, sc, stdout, stderr)
}

// overrideStation writes the station flags into the scenario's station
// settings, so that flags win over the file. It changes the scenario rather
// than the config because load mode applies the scenario to every station
// again (load.Run); a flag applied only to the config would be undone there.
func overrideStation(sc *scenario.Scenario, f *simFlags) {
	if f.evses > 0 {
		sc.Station.EVSEs = f.evses
	}
	if f.connectors > 0 {
		sc.Station.Connectors = f.connectors
	}
	if f.meterInterval > 0 {
		sc.Station.MeterInterval = f.meterInterval
	}
	if f.speed > 0 {
		sc.Station.Speed = f.speed
	}
}

// runOne runs the scenario on one station and prints each step's outcome.
func runOne(ctx context.Context, f *simFlags, cfg sim.Config, sc *scenario.Scenario, stdout, stderr io.Writer) error {
	// Every call on stderr, the steps' outcomes on stdout: the station's own
	// heartbeats and status notifications show up without cluttering results.
	trace := load.NewTracer(stderr)
	cfg.Observer = trace
	s, err := sim.New(cfg)
	if err != nil {
		return usageErr("sim: %v", err)
	}
	defer func() {
		s.Close()
		trace.Stop() // the close is reported asynchronously; stderr is ours no more
	}()
	r := &scenario.Runner{Station: s, Rand: rand.New(rand.NewPCG(f.seed, 0))}
	if !f.json {
		r.Out = stdout
		fmt.Fprintf(stdout, "scenario %s: station %s, %s, %s\n", sc.Name, cfg.Identity, cfg.Version.Subprotocol(), cfg.URL)
	}
	res := r.Run(ctx, sc)
	if f.json {
		out := struct {
			Scenario string   `json:"scenario"`
			Station  string   `json:"station"`
			Steps    int      `json:"steps"`
			Stopped  bool     `json:"stopped"`
			Failed   int      `json:"failed"`
			Failures []string `json:"failures"`
			OK       bool     `json:"ok"`
		}{sc.Name, cfg.Identity, res.Steps, res.Stopped, res.Failed, []string{}, res.OK()}
		for _, fl := range res.Failures {
			out.Failures = append(out.Failures, fl.Error())
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if !res.OK() {
		return &exitError{code: exitFailed, err: res.Err()}
	}
	if !f.json {
		how := "passed"
		if res.Stopped {
			how = "stopped, no failures"
		}
		fmt.Fprintf(stdout, "scenario %s: %s (%d steps)\n", sc.Name, how, res.Steps)
	}
	return nil
}

// runLoad runs the load mode and prints the report.
func runLoad(ctx context.Context, f *simFlags, cfg sim.Config, sc *scenario.Scenario, ramp float64, stdout, stderr io.Writer) error {
	if !f.verbose {
		cfg.Logger = nil // thousands of stations: their warnings would drown the progress line
	}
	opts := load.Options{
		Station: cfg, Scenario: sc, Stations: f.stations, IDPattern: f.idPattern, Ramp: ramp,
		Duration: f.duration, Rate: f.rate, Seed: f.seed, SourceAddrs: f.sourceAddrs,
		Progress: stderr, Live: f.progress || isTerminal(stderr), ProgressEvery: 10,
	}
	if f.progress {
		opts.ProgressEvery = 1
	}
	if f.verbose {
		opts.Trace = load.NewTracer(stderr)
		defer opts.Trace.Stop()
	}
	if f.memprofile != "" {
		opts.AtEnd = func() { writeMemProfile(f.memprofile, stderr) }
	}
	if !f.json {
		fmt.Fprintf(stderr, "load: %d stations (%s), scenario %s, ramp %g/s, %s at %s\n",
			f.stations, f.idPattern, sc.Name, ramp, cfg.Version.Subprotocol(), cfg.URL)
	}
	rep, err := load.Run(ctx, opts)
	if err != nil {
		return usageErr("sim: %v", err)
	}
	if f.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return &exitError{code: exitFailed, err: loadFailure(rep)}
	}
	return nil
}

// loadFailure summarizes why a load run failed.
func loadFailure(rep *load.Report) error {
	var parts []string
	if rep.Started < rep.Stations {
		parts = append(parts, fmt.Sprintf("only %d of %d stations were started", rep.Started, rep.Stations))
	}
	if rep.ErrorsTotal > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", rep.ErrorsTotal))
	}
	if len(rep.Failures) > 0 {
		parts = append(parts, "first failure: "+rep.Failures[0])
	}
	if len(parts) == 0 {
		parts = append(parts, "expectations failed")
	}
	return fmt.Errorf("load run failed: %s", strings.Join(parts, "; "))
}

// isTerminal reports whether w is a character device (a terminal), where a
// live progress line can rewrite itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeMemProfile writes a heap profile and prints where the memory is.
func writeMemProfile(path string, w io.Writer) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(w, "memstats: heap in use %d MiB, stacks %d MiB, goroutines %d, runtime %d MiB, sys %d MiB\n",
		m.HeapInuse>>20, m.StackInuse>>20, runtime.NumGoroutine(), (m.MSpanInuse+m.MCacheInuse+m.GCSys+m.OtherSys)>>20, m.Sys>>20)
	out, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(out)
		out.Close()
	}
	if err != nil {
		fmt.Fprintln(w, "memprofile:", err)
	}
}
