package load

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a load run. Its JSON form (--json) is stable for
// scripts: durations are in milliseconds or seconds as the field names say.
type Report struct {
	Scenario string `json:"scenario"`
	URL      string `json:"url"`
	Protocol string `json:"protocol"`
	// Stations is the number asked for; Started how many were started
	// before the run ended.
	Stations int `json:"stations"`
	Started  int `json:"started"`
	// Connected is how many were connected when the run ended, PeakConnected
	// the most at any one time.
	Connected     int64 `json:"connected"`
	PeakConnected int64 `json:"peak_connected"`
	// ConnectFailures counts first connections that failed; Reconnections
	// connections opened again after one was lost.
	ConnectFailures int64   `json:"connect_failures"`
	Reconnections   int64   `json:"reconnections"`
	DurationS       float64 `json:"duration_s"`
	Calls           int64   `json:"calls"`
	CallsPerS       float64 `json:"calls_per_s"`
	// Errors counts every failure by kind: "CALLERROR <code>", "timeout",
	// "closed", "not connected", "connect", "assertion", ...
	Errors      map[string]int64 `json:"errors"`
	ErrorsTotal int64            `json:"errors_total"`
	// Actions has one row per action; All covers every answered call.
	Actions []ActionReport `json:"actions"`
	All     ActionReport   `json:"all"`
	// Steady covers the run from the moment every station was connected to
	// the end: latency without the ramp's connection storm. Absent when the
	// fleet never was fully connected.
	Steady *Phase `json:"steady,omitempty"`
	// Failures are the first scenario failures, each prefixed by the
	// station identity.
	Failures []string `json:"failures,omitempty"`
	// Sim is what the simulator process itself cost.
	Sim SimCost `json:"sim"`
	// OK is true when every expectation held and no call failed.
	OK bool `json:"ok"`
}

// Phase is the calls of part of a run.
type Phase struct {
	DurationS float64        `json:"duration_s"`
	Calls     int64          `json:"calls"`
	CallsPerS float64        `json:"calls_per_s"`
	Actions   []ActionReport `json:"actions"`
	All       ActionReport   `json:"all"`
}

// phase returns what happened between two snapshots.
func phase(from, to *actionsSnapshot) *Phase {
	p := &Phase{DurationS: to.at.Sub(from.at).Seconds(), Calls: to.calls - from.calls}
	if p.DurationS > 0 {
		p.CallsPerS = float64(p.Calls) / p.DurationS
	}
	all := &HistSnapshot{}
	var failed int64
	for _, name := range slices.Sorted(maps.Keys(to.acts)) {
		a := to.acts[name]
		b := from.acts[name] // zero when the action first showed up later
		h := a.hist.Sub(b.hist)
		all.Add(h)
		failed += a.failed - b.failed
		p.Actions = append(p.Actions, snapReport(name, a.calls-b.calls, a.failed-b.failed, h))
	}
	if len(to.acts) > 0 {
		p.All = snapReport("all", p.Calls, failed, all)
	}
	return p
}

func snapReport(name string, calls, errs int64, s *HistSnapshot) ActionReport {
	return ActionReport{Action: name, Calls: calls, Errors: errs, MeanMS: ms(s.Mean()),
		P50MS: ms(s.Quantile(0.5)), P90MS: ms(s.Quantile(0.9)), P99MS: ms(s.Quantile(0.99)), MaxMS: ms(s.Max())}
}

// ActionReport is the latency (of answered calls) and outcome of one action.
type ActionReport struct {
	Action string  `json:"action"`
	Calls  int64   `json:"calls"`
	Errors int64   `json:"errors"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// SimCost is the simulator's own resource use.
type SimCost struct {
	RSSBytes      uint64  `json:"rss_bytes"`
	RSSPerStation float64 `json:"rss_per_station_bytes"` // growth over the start, per connected station
	// LivePerStation is the growth of live heap and stacks (after a full
	// GC) per connected station: what a station really costs, without the
	// garbage RSS still holds after a burst of connections.
	LivePerStation float64 `json:"live_per_station_bytes"`
	CPUS           float64 `json:"cpu_s"`
	CPUPercent     float64 `json:"cpu_percent"` // of one core, over the run
	CPUPerStation  float64 `json:"cpu_per_station_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func actionReport(name string, calls, errs int64, h *Histogram) ActionReport {
	s := h.Snapshot()
	return ActionReport{Action: name, Calls: calls, Errors: errs, MeanMS: ms(h.Mean()),
		P50MS: ms(s.Quantile(0.5)), P90MS: ms(s.Quantile(0.9)), P99MS: ms(s.Quantile(0.99)), MaxMS: ms(h.Max())}
}

// fill copies the statistics into the report.
func (r *Report) fill(s *Stats, elapsed time.Duration) {
	r.DurationS = elapsed.Seconds()
	r.Calls = s.Calls()
	if elapsed > 0 {
		r.CallsPerS = float64(r.Calls) / elapsed.Seconds()
	}
	r.Errors = s.Errors()
	r.ErrorsTotal = s.Failed()
	acts := *s.actions.Load()
	for _, name := range slices.Sorted(maps.Keys(acts)) {
		a := acts[name]
		r.Actions = append(r.Actions, actionReport(name, a.calls.Load(), a.failed.Load(), &a.hist))
	}
	var failedCalls int64
	for _, a := range r.Actions {
		failedCalls += a.Errors
	}
	r.All = actionReport("all", r.Calls, failedCalls, &s.all)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table for humans.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, %d stations, %s at %s\n", r.Scenario, r.Stations, r.Protocol, r.URL)
	fmt.Fprintf(&b, "duration %.1fs  started %d  connected %d at the end (peak %d)  connect failures %d  reconnections %d\n",
		r.DurationS, r.Started, r.Connected, r.PeakConnected, r.ConnectFailures, r.Reconnections)
	fmt.Fprintf(&b, "calls %d (%.1f/s)  errors %d\n\n", r.Calls, r.CallsPerS, r.ErrorsTotal)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "action\tcalls\terrors\tmean\tp50\tp90\tp99\tmax\t")
	for _, a := range append(slices.Clone(r.Actions), r.All) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", a.Action, a.Calls, a.Errors,
			fmtMS(a.MeanMS), fmtMS(a.P50MS), fmtMS(a.P90MS), fmtMS(a.P99MS), fmtMS(a.MaxMS))
	}
	tw.Flush()
	if st := r.Steady; st != nil && st.Calls > 0 {
		fmt.Fprintf(&b, "\nsteady state (all %d connected), last %.1fs: calls %d (%.1f/s)\n", r.Stations, st.DurationS, st.Calls, st.CallsPerS)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "action\tcalls\terrors\tmean\tp50\tp90\tp99\tmax\t")
		for _, a := range append(slices.Clone(st.Actions), st.All) {
			if a.Calls == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", a.Action, a.Calls, a.Errors,
				fmtMS(a.MeanMS), fmtMS(a.P50MS), fmtMS(a.P90MS), fmtMS(a.P99MS), fmtMS(a.MaxMS))
		}
		tw.Flush()
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nerrors by kind:\n")
		for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
			fmt.Fprintf(&b, "  %-28s %d\n", k, r.Errors[k])
		}
	}
	if len(r.Failures) > 0 {
		b.WriteString("\nfirst failures:\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	c := r.Sim
	fmt.Fprintf(&b, "\nsimulator: RSS %s (%s per station; live heap and stacks %s per station), CPU %.2fs (%.0f%% of a core, %.2f ms per station)\n",
		fmtBytes(float64(c.RSSBytes)), fmtBytes(c.RSSPerStation), fmtBytes(c.LivePerStation), c.CPUS, c.CPUPercent, c.CPUPerStation)
	if r.OK {
		b.WriteString("result: PASS\n")
	} else {
		b.WriteString("result: FAIL\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 1000:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fs", v/1000)
}

func fmtBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}
