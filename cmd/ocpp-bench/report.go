package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openev/openev/interop/peer"
)

// unit says how a figure is printed.
type unit int

const (
	count unit = iota
	seconds
	bytesUnit
	percent
	perSecond
	millis
)

// metric is one figure of the report: one row of the tables, one key of the
// JSON medians.
type metric struct {
	key     string
	label   string
	unit    unit
	ratio   bool // show openev ÷ ocpp-rpc
	section string
	get     func(r *serverResult) (float64, bool)
}

func field(f func(r *serverResult) float64) func(*serverResult) (float64, bool) {
	return func(r *serverResult) (float64, bool) { return f(r), true }
}

// goField is a figure of a Go server's runtime per connected station.
func goField(f func(g *goRuntime) float64) func(*serverResult) (float64, bool) {
	return func(r *serverResult) (float64, bool) {
		if r.Go == nil || r.Connected == 0 {
			return 0, false
		}
		return f(r.Go) / float64(r.Connected), true
	}
}

// goLoad is a figure of a Go server's runtime during a load phase.
func goLoad(f func(g *goRuntime) float64) func(*serverResult) (float64, bool) {
	return func(r *serverResult) (float64, bool) {
		if r.Go == nil {
			return 0, false
		}
		return f(r.Go), true
	}
}

func delta(a, b uint64) float64 { return float64(b) - float64(a) }

var metrics = []metric{
	{key: "connected", label: "stations connected", unit: count, section: "Connections", get: field(func(r *serverResult) float64 { return float64(r.Connected) })},
	{key: "connect_s", label: "time to connect and boot them", unit: seconds, get: field(func(r *serverResult) float64 { return r.ConnectSeconds })},
	{key: "rss_baseline", label: "server RSS at start", unit: bytesUnit, get: field(func(r *serverResult) float64 { return float64(r.RSSBaseline) })},
	{key: "rss_idle", label: "server RSS, stations idle", unit: bytesUnit, get: field(func(r *serverResult) float64 { return float64(r.RSSIdle) })},
	{key: "memory_per_station", label: "memory per idle station", unit: bytesUnit, ratio: true, get: field(func(r *serverResult) float64 { return r.MemPerStation })},
	{key: "idle_cpu", label: "server CPU while idle", unit: percent, get: field(func(r *serverResult) float64 { return r.IdleCPUPercent })},

	{key: "closed_rate", label: "round trips/s", unit: perSecond, ratio: true, section: "Closed loop", get: field(func(r *serverResult) float64 { return r.Closed.PerSecond })},
	{key: "closed_cpu_per_1000", label: "server CPU per 1000 round trips", unit: millis, ratio: true, get: field(func(r *serverResult) float64 { return r.Closed.ServerCPUPer1000 })},
	{key: "closed_cpu", label: "server CPU use (100% = 1 core)", unit: percent, get: field(func(r *serverResult) float64 { return r.Closed.ServerCPUPercent })},
	{key: "closed_load_cpu_per_1000", label: "load generator CPU per 1000", unit: millis, get: field(func(r *serverResult) float64 { return r.Closed.LoadCPUPer1000 })},
	{key: "closed_other_cpu", label: "CPU of everything else (other processes, softirq)", unit: percent, get: field(func(r *serverResult) float64 { return r.Closed.OtherCPUPercent })},
	{key: "closed_p50", label: "latency p50", unit: millis, get: field(func(r *serverResult) float64 { return r.Closed.Latency.P50 })},
	{key: "closed_p99", label: "latency p99", unit: millis, get: field(func(r *serverResult) float64 { return r.Closed.Latency.P99 })},
	{key: "closed_failed", label: "errors + timeouts", unit: count, get: field(func(r *serverResult) float64 { return float64(r.Closed.Errors + r.Closed.Timeouts) })},

	{key: "open_rate", label: "answered calls/s", unit: perSecond, section: "Fixed rate", get: field(func(r *serverResult) float64 { return r.Open.Achieved })},
	{key: "open_cpu_per_1000", label: "server CPU per 1000 round trips", unit: millis, ratio: true, get: field(func(r *serverResult) float64 { return r.Open.ServerCPUPer1000 })},
	{key: "open_cpu", label: "server CPU use (100% = 1 core)", unit: percent, get: field(func(r *serverResult) float64 { return r.Open.ServerCPUPercent })},
	{key: "open_other_cpu", label: "CPU of everything else (other processes, softirq)", unit: percent, get: field(func(r *serverResult) float64 { return r.Open.OtherCPUPercent })},
	{key: "open_p50", label: "latency p50", unit: millis, ratio: true, get: field(func(r *serverResult) float64 { return r.Open.Latency.P50 })},
	{key: "open_p90", label: "latency p90", unit: millis, ratio: true, get: field(func(r *serverResult) float64 { return r.Open.Latency.P90 })},
	{key: "open_p99", label: "latency p99", unit: millis, ratio: true, get: field(func(r *serverResult) float64 { return r.Open.Latency.P99 })},
	{key: "open_max", label: "latency max", unit: millis, get: field(func(r *serverResult) float64 { return r.Open.Latency.Max })},
	{key: "open_errors", label: "CALLERRORs", unit: count, get: field(func(r *serverResult) float64 { return float64(r.Open.Errors) })},
	{key: "open_timeouts", label: "timeouts (no answer within 5 s of the end)", unit: count, get: field(func(r *serverResult) float64 { return float64(r.Open.Timeouts) })},
	{key: "connections_lost", label: "connections lost during the load", unit: count, get: field(func(r *serverResult) float64 { return float64(r.Lost) })},

	{key: "release_s", label: "time to release all stations after they closed", unit: seconds, get: field(func(r *serverResult) float64 { return r.ReleaseSeconds })},

	{key: "go_heap_per_station", label: "heap in use (HeapInuse)", unit: bytesUnit, section: "Go runtime per station, idle",
		get: goField(func(g *goRuntime) float64 { return delta(g.Baseline.HeapInuse, g.Idle.HeapInuse) })},
	{key: "go_stack_per_station", label: "goroutine stacks (StackInuse)", unit: bytesUnit, get: goField(func(g *goRuntime) float64 { return delta(g.Baseline.StackInuse, g.Idle.StackInuse) })},
	{key: "go_meta_per_station", label: "runtime metadata (spans, GC, other)", unit: bytesUnit, get: goField(func(g *goRuntime) float64 { return delta(g.Baseline.RuntimeMeta, g.Idle.RuntimeMeta) })},
	{key: "go_goroutines_per_station", label: "goroutines", unit: count, get: goField(func(g *goRuntime) float64 { return float64(g.Idle.Goroutines - g.Baseline.Goroutines) })},
	{key: "go_live_heap_per_station", label: "live heap after a full GC (HeapAlloc)", unit: bytesUnit, get: goField(func(g *goRuntime) float64 { return delta(g.Baseline.HeapAlloc, g.IdleGC.HeapAlloc) })},
	{key: "go_rss_gc_per_station", label: "RSS after a full GC, per station", unit: bytesUnit, get: func(r *serverResult) (float64, bool) {
		if r.Go == nil || r.Connected == 0 {
			return 0, false
		}
		return delta(r.RSSBaseline, r.Go.RSSIdleGC) / float64(r.Connected), true
	}},
	{key: "go_closed_alloc", label: "allocated per round trip, closed loop", unit: bytesUnit, section: "Go runtime under load",
		get: goLoad(func(g *goRuntime) float64 { return g.Closed.AllocPerRT })},
	{key: "go_closed_mallocs", label: "allocations per round trip, closed loop", unit: count, get: goLoad(func(g *goRuntime) float64 { return g.Closed.MallocsPerRT })},
	{key: "go_closed_gcs", label: "GC cycles, closed loop", unit: count, get: goLoad(func(g *goRuntime) float64 { return float64(g.Closed.Cycles) })},
	{key: "go_open_gcs", label: "GC cycles, fixed rate", unit: count, get: goLoad(func(g *goRuntime) float64 { return float64(g.Open.Cycles) })},
	{key: "go_open_pause_max", label: "longest GC stop-the-world pause, fixed rate", unit: millis, get: goLoad(func(g *goRuntime) float64 { return g.Open.PauseMax })},
}

// Goals from the issue.
const (
	goalMemPerStation = 8 << 10 // bytes per idle station
	goalCPURatio      = 0.25    // our CPU per round trip ÷ theirs
	goalP99           = 2.0     // ms, at goalRate
	goalRate          = 5000    // calls/s
	goalStations      = 10000   // connected stations the goals are stated for
)

// report is the whole output, as -json prints it.
type report struct {
	Env     environment                   `json:"environment"`
	Config  config                        `json:"config"`
	Runs    []map[string]*serverResult    `json:"runs"`
	Medians map[string]map[string]float64 `json:"medians"` // server -> metric key -> median over runs
	Goals   []goal                        `json:"goals"`
}

type goal struct {
	Goal   string `json:"goal"`
	Result string `json:"result"`
	Met    *bool  `json:"met"` // null when it could not be judged
}

type environment struct {
	Date    string `json:"date"`
	NProc   int    `json:"nproc"`
	CPU     string `json:"cpu"`
	Kernel  string `json:"kernel"`
	Memory  string `json:"memory"`
	Go      string `json:"go"`
	OpenEV  string `json:"openev_commit"`
	Node    string `json:"node"`
	OcppRPC string `json:"ocpp_rpc"`
	FileMax uint64 `json:"open_files_limit"`
	Command string `json:"command"`
}

func newReport(cfg config, runs []map[string]*serverResult, env environment) *report {
	r := &report{Env: env, Config: cfg, Runs: runs, Medians: map[string]map[string]float64{}}
	for _, server := range cfg.Servers {
		r.Medians[server] = map[string]float64{}
		for _, m := range metrics {
			if v, ok := medianOf(runs, server, m); ok {
				r.Medians[server][m.key] = v
			}
		}
	}
	r.Goals = r.judge()
	return r
}

// medianOf is the median of a metric over the runs that have it.
func medianOf(runs []map[string]*serverResult, server string, m metric) (float64, bool) {
	var xs []float64
	for _, run := range runs {
		if res := run[server]; res != nil {
			if v, ok := m.get(res); ok {
				xs = append(xs, v)
			}
		}
	}
	return median(xs), len(xs) > 0
}

func (r *report) value(server, key string) (float64, bool) {
	v, ok := r.Medians[server][key]
	return v, ok
}

// judge checks the goals against the medians.
func (r *report) judge() []goal {
	var goals []goal
	verdict := func(ok bool) *bool { return &ok }

	g := goal{Goal: fmt.Sprintf("≤ %s of server memory per idle station", fmtBytes(goalMemPerStation))}
	if v, ok := r.value(openevName, "memory_per_station"); ok {
		g.Met = verdict(v <= goalMemPerStation)
		g.Result = "openev " + fmtBytes(v)
		if v > goalMemPerStation {
			g.Result += fmt.Sprintf(", %s (%.0f%%) over", fmtBytes(v-goalMemPerStation), 100*(v-goalMemPerStation)/goalMemPerStation)
		}
	} else {
		g.Result = "openev not measured"
	}
	if r.Config.Stations < goalStations {
		g.Met = nil
		g.Result += fmt.Sprintf(" (with %d stations, whose share of the server's fixed costs is larger than at %d: not judged)", r.Config.Stations, goalStations)
	}
	if v, ok := r.value(openevGorillaName, "memory_per_station"); ok {
		g.Result += fmt.Sprintf("; openev-gorilla %s (%s)", fmtBytes(v), map[bool]string{true: "met", false: "missed"}[v <= goalMemPerStation])
	}
	goals = append(goals, g)

	g = goal{Goal: "server CPU per round trip ≤ ¼ of ocpp-rpc's (closed loop)"}
	ours, ok1 := r.value(openevName, "closed_cpu_per_1000")
	theirs, ok2 := r.value(peerName, "closed_cpu_per_1000")
	if ok1 && ok2 && theirs > 0 {
		ratio := ours / theirs
		g.Met = verdict(ratio <= goalCPURatio)
		g.Result = fmt.Sprintf("%.2f ms vs %.2f ms per 1000: ratio %.2f", ours, theirs, ratio)
		if ratio > goalCPURatio {
			g.Result += fmt.Sprintf(" (%.2f ms per 1000 would meet it)", theirs*goalCPURatio)
		}
	} else {
		g.Result = "needs both servers (-servers openev,ocpp-rpc)"
	}
	goals = append(goals, g)

	g = goal{Goal: fmt.Sprintf("p99 ≤ %.0f ms at %d calls/s", goalP99, goalRate)}
	if p99, ok := r.value(openevName, "open_p99"); ok {
		rate, _ := r.value(openevName, "open_rate")
		failed := r.Medians[openevName]["open_errors"] + r.Medians[openevName]["open_timeouts"]
		g.Result = fmt.Sprintf("openev p99 %.2f ms at %.0f answered calls/s", p99, rate)
		switch {
		case r.Config.Rate != goalRate:
			g.Result += fmt.Sprintf(" (measured at -rate %.0f, not %d: not judged)", r.Config.Rate, goalRate)
		case rate < 0.99*goalRate || failed > 0:
			g.Met = verdict(false)
			g.Result += fmt.Sprintf(", %.0f errors and timeouts: the rate was not held", failed)
		default:
			g.Met = verdict(p99 <= goalP99)
		}
	} else {
		g.Result = "openev not measured"
	}
	return append(goals, g)
}

// writeTable prints the human-readable report.
func (r *report) writeTable(w io.Writer) {
	cfg := r.Config
	fmt.Fprintf(w, "OCPP-J server benchmark: %d stations (%s), ramp %s, idle %s, closed loop %d stations × %s, fixed rate %.0f/s × %s",
		cfg.Stations, cfg.Protocol, rampText(cfg.Ramp), cfg.Idle, cfg.Concurrency, cfg.Duration, cfg.Rate, cfg.Duration)
	if len(r.Runs) > 1 {
		fmt.Fprintf(w, "; medians of %d runs", len(r.Runs))
	}
	fmt.Fprintf(w, "\n%s; openev %s, Go %s, node %s, ocpp-rpc %s\n\n", r.Env.machine(), r.Env.OpenEV, r.Env.Go, r.Env.Node, r.Env.OcppRPC)

	header := []string{""}
	header = append(header, cfg.Servers...)
	if r.hasBoth() {
		header = append(header, "openev/ocpp-rpc")
	}
	rows := [][]string{header}
	for _, m := range metrics {
		row, any := r.row(m)
		if !any {
			continue
		}
		if m.section != "" {
			rows = append(rows, []string{m.section})
		}
		rows = append(rows, append([]string{"  " + m.label}, row...))
	}
	writeAligned(w, rows)
	fmt.Fprintln(w, "\nGoals:")
	for _, g := range r.Goals {
		fmt.Fprintf(w, "  %-8s %s: %s\n", g.mark(), g.Goal, g.Result)
	}
	r.writeProblems(w)
}

// writeAligned prints rows as columns: the first left-aligned, the others
// right-aligned. A row of one cell is a heading.
func writeAligned(w io.Writer, rows [][]string) {
	var width []int
	for _, row := range rows {
		if len(row) == 1 {
			continue
		}
		for i, c := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", max(0, width[i]-utf8.RuneCountInString(c)))
			if i == 0 {
				b.WriteString(c)
				if len(row) > 1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString("   " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// row formats a metric's medians, and the ratio; any is false when no server has it.
func (r *report) row(m metric) (cells []string, any bool) {
	vals := map[string]float64{}
	for _, s := range r.Config.Servers {
		v, ok := r.value(s, m.key)
		if !ok {
			cells = append(cells, "—")
			continue
		}
		any = true
		vals[s] = v
		cells = append(cells, format(m.unit, v))
	}
	if r.hasBoth() {
		a, ok1 := vals[openevName]
		b, ok2 := vals[peerName]
		switch {
		case m.ratio && ok1 && ok2 && b != 0:
			cells = append(cells, fmt.Sprintf("%.2f", a/b))
		default:
			cells = append(cells, "")
		}
	}
	return cells, any
}

func (r *report) hasBoth() bool {
	_, a := r.Medians[openevName]
	_, b := r.Medians[peerName]
	return a && b
}

func (r *report) writeProblems(w io.Writer) {
	for i, run := range r.Runs {
		for _, s := range r.Config.Servers {
			if res := run[s]; res != nil {
				for _, p := range res.Problems {
					fmt.Fprintf(w, "  run %d, %s: %s\n", i+1, s, p)
				}
			}
		}
	}
}

func (g goal) mark() string {
	switch {
	case g.Met == nil:
		return "[?]"
	case *g.Met:
		return "[met]"
	}
	return "[MISSED]"
}

// writeMarkdown prints a section ready to paste into docs/benchmarks.md.
func (r *report) writeMarkdown(w io.Writer) {
	cfg, env := r.Config, r.Env
	fmt.Fprintf(w, "## %s: %d stations, %s\n\n", env.Date, cfg.Stations, cfg.Protocol)
	fmt.Fprintf(w, "- Machine: %s\n", env.machine())
	fmt.Fprintf(w, "- openev %s; Go %s, node %s, ocpp-rpc %s; open files limit %d\n", env.OpenEV, env.Go, env.Node, env.OcppRPC, env.FileMax)
	fmt.Fprintf(w, "- Command: `%s`\n", env.Command)
	fmt.Fprintf(w, "- Phases: connect with ramp %s (one BootNotification each), idle %s, closed loop on %d stations for %s after %s warm-up, fixed rate %.0f calls/s round-robin over all stations for %s\n\n",
		rampText(cfg.Ramp), cfg.Idle, cfg.Concurrency, cfg.Duration, cfg.Warmup, cfg.Rate, cfg.Duration)

	what := "Results"
	if len(r.Runs) > 1 {
		what = fmt.Sprintf("Medians of %d runs", len(r.Runs))
	}
	fmt.Fprintf(w, "### %s\n\n| | %s |", what, strings.Join(cfg.Servers, " | "))
	if r.hasBoth() {
		fmt.Fprint(w, " openev ÷ ocpp-rpc |")
	}
	fmt.Fprintf(w, "\n|---|%s", strings.Repeat("---:|", len(cfg.Servers)))
	if r.hasBoth() {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, m := range metrics {
		row, any := r.row(m)
		if !any {
			continue
		}
		if m.section != "" {
			fmt.Fprintf(w, "| **%s** |%s\n", m.section, strings.Repeat(" |", len(row)))
		}
		fmt.Fprintf(w, "| %s | %s |\n", m.label, strings.Join(row, " | "))
	}

	fmt.Fprint(w, "\n### Goals\n\n| Goal | | Result |\n|---|---|---|\n")
	for _, g := range r.Goals {
		fmt.Fprintf(w, "| %s | %s | %s |\n", g.Goal, strings.Trim(g.mark(), "[]"), g.Result)
	}

	if len(r.Runs) > 1 {
		fmt.Fprint(w, "\n### Per run\n\n| |")
		var cols []string
		for _, s := range cfg.Servers {
			for i := range r.Runs {
				cols = append(cols, fmt.Sprintf("%s #%d", s, i+1))
			}
		}
		fmt.Fprintf(w, " %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---:|", len(cols)))
		for _, m := range metrics {
			var cells []string
			any := false
			for _, s := range cfg.Servers {
				for _, run := range r.Runs {
					cell := "—"
					if res := run[s]; res != nil {
						if v, ok := m.get(res); ok {
							cell, any = format(m.unit, v), true
						}
					}
					cells = append(cells, cell)
				}
			}
			if any {
				fmt.Fprintf(w, "| %s | %s |\n", m.label, strings.Join(cells, " | "))
			}
		}
	}
	var sb strings.Builder
	r.writeProblems(&sb)
	if sb.Len() > 0 {
		fmt.Fprintf(w, "\nProblems seen:\n\n```\n%s```\n", sb.String())
	}
}

// print writes the report to stdout in the form out asks for.
func (r *report) print(out output) error {
	switch {
	case out.json:
		return r.writeJSON(os.Stdout)
	case out.markdown:
		r.writeMarkdown(os.Stdout)
	default:
		r.writeTable(os.Stdout)
	}
	return nil
}

// loadReport reads a report saved with -json; medians and goals are
// computed again from its runs.
func loadReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a report saved with -json: %w", path, err)
	}
	if len(r.Runs) == 0 {
		return nil, fmt.Errorf("%s has no runs", path)
	}
	return newReport(r.Config, r.Runs, r.Env), nil
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (e environment) machine() string {
	return fmt.Sprintf("%d CPUs (%s), %s RAM, Linux %s", e.NProc, e.CPU, e.Memory, e.Kernel)
}

func rampText(ramp float64) string {
	if ramp <= 0 {
		return "as fast as accepted"
	}
	return fmt.Sprintf("%.0f/s", ramp)
}

func format(u unit, v float64) string {
	switch u {
	case seconds:
		return fmt.Sprintf("%.1f s", v)
	case bytesUnit:
		return fmtBytes(v)
	case percent:
		return fmt.Sprintf("%.0f%%", v)
	case perSecond:
		return fmt.Sprintf("%.0f/s", v)
	case millis:
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtBytes(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10<<20:
		return fmt.Sprintf("%.0f MiB", v/(1<<20))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// readEnvironment describes the machine and the software versions.
func readEnvironment(fileMax uint64) environment {
	e := environment{
		Date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		NProc:   runtime.NumCPU(),
		CPU:     cpuModel(),
		Kernel:  "unknown",
		Memory:  "unknown",
		Go:      runtime.Version(),
		OpenEV:  openevCommit(),
		Node:    "not found",
		OcppRPC: "not found",
		FileMax: fileMax,
		Command: "go run ./cmd/ocpp-bench " + shellJoin(os.Args[1:]),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			e.Memory = fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		e.Node = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile(filepath.Join(nodeModules(), "ocpp-rpc", "package.json")); err == nil {
		var pkg struct{ Version string }
		if json.Unmarshal(b, &pkg) == nil {
			e.OcppRPC = pkg.Version
		}
	}
	return e
}

// sourceCommit names the openev commit measured, when the build says so
// (-ldflags "-X main.sourceCommit=abc1234", for a build outside the
// repository); otherwise git is asked.
var sourceCommit string

// openevCommit is the commit of the ocpp package measured, with a warning
// when the working tree has changes there.
func openevCommit() string {
	if sourceCommit != "" {
		return sourceCommit
	}
	out, err := exec.Command("git", "-C", repoRoot(), "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	status, _ := exec.Command("git", "-C", repoRoot(), "status", "--porcelain", "--", "ocpp", "go.mod", "go.sum").Output()
	if len(strings.TrimSpace(string(status))) > 0 {
		commit += " + uncommitted changes in ocpp/"
	}
	return commit
}

// repoRoot is the repository this source file is in.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// nodeModules is interop/node/node_modules, found as interop/peer finds it.
func nodeModules() string {
	if dir := os.Getenv(peer.NodeDirEnv); dir != "" {
		return filepath.Join(dir, "node_modules")
	}
	return filepath.Join(repoRoot(), "interop", "node", "node_modules")
}

// shellJoin quotes args for a shell where needed.
func shellJoin(args []string) string {
	var out []string
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}();&|<>~#!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
