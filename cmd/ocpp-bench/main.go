// Command ocpp-bench measures an OCPP-J server under many connected
// stations: openev's ocpp.Server beside an independent implementation, the
// ocpp-rpc RPCServer (node, strict schema validation like ours), measured in
// the same run under the same load.
//
//	go run ./cmd/ocpp-bench                        # 10 000 stations, both servers
//	go run ./cmd/ocpp-bench -runs 3 -markdown      # a section for docs/benchmarks.md
//	go run ./cmd/ocpp-bench -servers openev -stations 1000 -idle 2s -duration 3s
//	go run ./cmd/ocpp-bench -servers bare,openev   # openev beside its floor
//
// A third server, bare, is the floor: gorilla websocket configured as
// ocpp.Server configures it, answering every CALL with a canned CALLRESULT,
// without the ocpp package. openev's figures above bare's are the cost of
// the OCPP layer; bare's are the websocket stack's and the machine's.
//
// Each server runs in a process of its own (openev and bare: this program
// re-executed in a hidden server mode), so that its resident memory and CPU
// time, read from /proc, are its own. This process is the load generator. For each
// server, one after the other:
//
//  1. the server's RSS after it started (baseline);
//  2. -stations stations connect, at most -ramp per second, each sending one
//     BootNotification;
//  3. they idle for -idle; memory per station = (RSS − baseline) / stations;
//  4. closed loop: -concurrency stations send Heartbeats back to back for
//     -duration (after -warmup): round trips per second and the server's CPU
//     time per 1000 round trips;
//  5. fixed rate: -rate Heartbeats per second, round-robin over all stations,
//     for -duration: latency percentiles from send to answer, as seen by the
//     load generator, and the rate actually answered.
//
// The load generator shares the CPUs with the server, so on a small machine
// compare CPU time per round trip and memory rather than raw throughput.
// Results go to stdout as a table (or -json, or -markdown); progress goes to
// stderr. docs/benchmarks.md has the results and how to read them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if name := os.Getenv(serveEnv); name != "" {
		if err := serve(name); err != nil {
			fmt.Fprintln(os.Stderr, "ocpp-bench server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, out, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "ocpp-bench:", err)
		os.Exit(2)
	}
	if err := benchmark(cfg, out); err != nil {
		fmt.Fprintln(os.Stderr, "ocpp-bench:", err)
		os.Exit(1)
	}
}

// output is which form the report takes, and where it comes from.
type output struct {
	json, markdown bool
	from           string // a report saved with -json, printed again instead of measuring
}

func parseFlags(args []string) (config, output, error) {
	fs := flag.NewFlagSet("ocpp-bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: go run ./cmd/ocpp-bench [flags]\n\n"+
			"Connects -stations OCPP-J stations to each server, lets them idle, then drives\n"+
			"Heartbeat round trips; reports memory per station, CPU per 1000 round trips,\n"+
			"round trips/s and latency at a fixed rate for openev and ocpp-rpc side by side.\n\n")
		fs.PrintDefaults()
	}
	var cfg config
	var out output
	var servers string
	fs.IntVar(&cfg.Stations, "stations", 10000, "stations to connect to each server")
	fs.Float64Var(&cfg.Ramp, "ramp", 1000, "stations connecting per second at most (0: as fast as the server accepts them)")
	fs.DurationVar(&cfg.Idle, "idle", 10*time.Second, "how long the stations idle before the memory is read")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of the closed-loop and of the fixed-rate phase")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "closed-loop load before the measured closed loop (lets node's JIT warm up)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 200, "stations sending back to back in the closed loop")
	fs.Float64Var(&cfg.Rate, "rate", goalRate, "calls per second in the fixed-rate phase")
	fs.StringVar(&servers, "servers", openevName+","+peerName, "servers to measure, in order: "+openevName+" (ocpp.Server, default transport), "+
		openevGorillaName+" (ocpp.Server on gorilla), "+peerName+", "+bareName+" (gorilla websocket without OCPP: the floor), "+bareNbioName+" (nbio websocket without OCPP: the floor of openev's default transport)")
	fs.StringVar(&cfg.Protocol, "protocol", "ocpp2.0.1", "websocket subprotocol the stations offer: ocpp1.6, ocpp2.0.1 or ocpp2.1")
	fs.DurationVar(&cfg.Ping, "ping", 30*time.Second, "websocket ping interval of both servers (30 s is both libraries' default); negative turns pings off")
	fs.DurationVar(&cfg.WaitQuiet, "wait-quiet", 30*time.Second, "before each load phase, wait up to this long for other processes to use less than 10% of a core")
	fs.IntVar(&cfg.Runs, "runs", 1, "how many times to measure every server; the report shows medians and, in -markdown, every run")
	fs.BoolVar(&out.json, "json", false, "print the report as JSON")
	fs.BoolVar(&out.markdown, "markdown", false, "print the report as a markdown section for docs/benchmarks.md")
	fs.StringVar(&out.from, "report", "", "print the report saved (with -json) in this file instead of measuring, e.g. with -markdown")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile of the idle openev server to this file (last run; openev-gorilla's gets the suffix .openev-gorilla)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the openev server during the closed loop to this file (last run; openev-gorilla's gets the suffix .openev-gorilla)")
	fs.Func("server-env", "`KEY=VALUE` added to the environment of the Go servers (openev, bare), e.g. GOGC=200 or GODEBUG=gctrace=1 (repeatable)", func(kv string) error {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		cfg.ServerEnv = append(cfg.ServerEnv, kv)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return cfg, out, err
	}
	if fs.NArg() > 0 {
		return cfg, out, fmt.Errorf("unexpected argument %q; flags only (see -help)", fs.Arg(0))
	}
	for _, s := range strings.Split(servers, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(serverNames, s) {
			return cfg, out, fmt.Errorf("-servers: unknown server %q (want one of %s)", s, strings.Join(serverNames, ", "))
		}
		if !slices.Contains(cfg.Servers, s) {
			cfg.Servers = append(cfg.Servers, s)
		}
	}
	switch {
	case cfg.Protocol != "ocpp1.6" && cfg.Protocol != "ocpp2.0.1" && cfg.Protocol != "ocpp2.1":
		return cfg, out, fmt.Errorf("-protocol %q: want ocpp1.6, ocpp2.0.1 or ocpp2.1", cfg.Protocol)
	case cfg.Stations < 1 || cfg.Concurrency < 1 || cfg.Runs < 1:
		return cfg, out, errors.New("-stations, -concurrency and -runs must be at least 1")
	case cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Ping == 0:
		return cfg, out, errors.New("-rate, -duration and -ping must not be zero or negative (a negative -ping turns pings off)")
	case out.json && out.markdown:
		return cfg, out, errors.New("choose one of -json and -markdown")
	}
	cfg.Concurrency = min(cfg.Concurrency, cfg.Stations) // a closed loop on every station at most
	return cfg, out, nil
}

func benchmark(cfg config, out output) error {
	if out.from != "" {
		r, err := loadReport(out.from)
		if err != nil {
			return err
		}
		return r.print(out)
	}
	fileMax, err := raiseFileLimit(cfg.Stations)
	if err != nil {
		return err
	}
	// The load generator's memory is not measured: trade it for fewer GC
	// cycles, which would otherwise delay its readers and inflate latencies.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := readEnvironment(fileMax)
	p := newProgress(os.Stderr)
	var runs []map[string]*serverResult
	for i := range cfg.Runs {
		if cfg.Runs > 1 {
			p.done("run %d of %d", i+1, cfg.Runs)
		}
		res, err := run(ctx, cfg, p)
		if err != nil {
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			return err
		}
		runs = append(runs, res)
	}
	return newReport(cfg, runs, env).print(out)
}

// raiseFileLimit raises this process's open-file limit to its hard limit
// (the servers, started by it, inherit it) and checks that it is enough for
// the stations. It returns the limit.
func raiseFileLimit(stations int) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-files limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raising the open-files limit to %d: %w", lim.Max, err)
		}
	}
	// One socket per station here and one in the server, plus a margin for
	// the listener, pipes and node's own files.
	if need := uint64(stations) + 100; lim.Cur < need {
		return lim.Cur, fmt.Errorf("too many open files: %d stations need an open-files limit of at least %d, the hard limit is %d: raise it (ulimit -Hn, /etc/security/limits.conf) or use fewer -stations", stations, need, lim.Max)
	}
	return lim.Cur, nil
}

// progress writes progress to stderr: done lines stay; status lines replace
// each other on a terminal and appear every 5 s otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	pending  bool // a status line is on screen
	lastLine time.Time
}

func newProgress(f *os.File) *progress {
	fi, err := f.Stat()
	return &progress{w: f, tty: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

func (p *progress) status(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.pending = true
		return
	}
	if time.Since(p.lastLine) >= 5*time.Second {
		fmt.Fprintln(p.w, line)
		p.lastLine = time.Now()
	}
}

func (p *progress) done(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		fmt.Fprint(p.w, "\r\033[K")
		p.pending = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	p.lastLine = time.Now()
}

func (p *progress) say(format string, args ...any) { p.done(format, args...) }
