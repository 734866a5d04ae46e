package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// config is what the flags ask for.
type config struct {
	Stations    int           `json:"stations"`
	Ramp        float64       `json:"ramp_per_s"`
	Idle        time.Duration `json:"idle_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Concurrency int           `json:"concurrency"`
	Rate        float64       `json:"rate_per_s"`
	Servers     []string      `json:"servers"`
	Protocol    string        `json:"protocol"`
	Ping        time.Duration `json:"ping_interval_ns"` // both servers; negative: off
	WaitQuiet   time.Duration `json:"wait_quiet_ns"`
	Runs        int           `json:"runs"`
	MemProfile  string        `json:"-"`
	CPUProfile  string        `json:"-"`
	ServerEnv   []string      `json:"server_env,omitempty"` // extra environment of the openev server
}

// drainTimeout is how long a phase waits for its last answers; calls still
// unanswered then count as timeouts.
const drainTimeout = 5 * time.Second

// settle lets a freshly started server finish starting (node compiles its
// modules lazily) before its baseline memory is read.
const settle = 2 * time.Second

// serverResult is everything measured on one server in one run.
type serverResult struct {
	Server          string     `json:"server"`
	Stations        int        `json:"stations"`
	Connected       int        `json:"connected"`
	ConnectFailed   int        `json:"connect_failed"`
	ConnectSeconds  float64    `json:"connect_s"`
	ServerConnected int        `json:"server_connected"` // the server's own count at the idle point
	RSSBaseline     uint64     `json:"rss_baseline_bytes"`
	RSSIdle         uint64     `json:"rss_idle_bytes"`
	MemPerStation   float64    `json:"memory_per_station_bytes"` // (RSSIdle − RSSBaseline) / Connected
	IdleCPUPercent  float64    `json:"idle_cpu_percent"`         // server CPU while the stations idle
	Closed          closed     `json:"closed_loop"`
	Open            open       `json:"open_loop"`
	Lost            int64      `json:"connections_lost"` // dropped by the server during the phases
	Unmatched       int64      `json:"unmatched_frames"` // answers to no call of ours
	ReleaseSeconds  float64    `json:"release_s"`        // until the server let go of every closed station
	Problems        []string   `json:"problems,omitempty"`
	Go              *goRuntime `json:"go_runtime,omitempty"` // Go servers only
}

// closed is the closed-loop throughput phase.
type closed struct {
	Concurrency      int     `json:"concurrency"`
	Seconds          float64 `json:"seconds"`
	RoundTrips       int64   `json:"round_trips"`
	PerSecond        float64 `json:"round_trips_per_s"`
	ServerCPUPercent float64 `json:"server_cpu_percent"` // of one core
	ServerCPUPer1000 float64 `json:"server_cpu_ms_per_1000"`
	LoadCPUPer1000   float64 `json:"load_generator_cpu_ms_per_1000"`
	OtherCPUPercent  float64 `json:"other_cpu_percent"` // machine CPU outside server and load generator
	Errors           int64   `json:"call_errors"`
	Timeouts         int64   `json:"timeouts"`
	Latency          latency `json:"latency"`
}

// open is the open-loop fixed-rate latency phase.
type open struct {
	Rate             float64 `json:"target_rate_per_s"`
	Seconds          float64 `json:"seconds"`
	Sent             int64   `json:"sent"`
	Achieved         float64 `json:"answered_per_s"`
	ServerCPUPercent float64 `json:"server_cpu_percent"`
	ServerCPUPer1000 float64 `json:"server_cpu_ms_per_1000"`
	OtherCPUPercent  float64 `json:"other_cpu_percent"`
	Errors           int64   `json:"call_errors"`
	Timeouts         int64   `json:"timeouts"`
	Latency          latency `json:"latency"`
}

// goRuntime is a Go server's runtime memory at the start and at the
// idle point, to show where the memory per station goes.
type goRuntime struct {
	Baseline  goMem  `json:"baseline"`
	Idle      goMem  `json:"idle"`
	IdleGC    goMem  `json:"idle_after_gc"` // after a forced full GC, once RSSIdle was read
	RSSIdleGC uint64 `json:"rss_idle_after_gc_bytes"`
	Closed    gcLoad `json:"closed_loop"` // allocation and GC during the closed loop
	Open      gcLoad `json:"open_loop"`   // and during the fixed-rate phase
}

// run measures every server of cfg once, one after the other.
func run(ctx context.Context, cfg config, p *progress) (map[string]*serverResult, error) {
	results := map[string]*serverResult{}
	for _, name := range cfg.Servers {
		r, err := measure(ctx, cfg, name, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		results[name] = r
	}
	return results, nil
}

// bench is one server under test with its load generator.
type bench struct {
	cfg  config
	name string
	t    target
	gs   *goServer // t, when it is a Go server (openev or bare)
	g    *loadGen
	p    *progress
	res  *serverResult
}

// measure starts one server, runs the phases against it and stops it.
func measure(ctx context.Context, cfg config, name string, p *progress) (*serverResult, error) {
	p.say("%s: starting the server", name)
	t, err := startTarget(ctx, name, cfg)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	b := &bench{cfg: cfg, name: name, t: t, g: newLoadGen(t.URL, cfg.Protocol), p: p,
		res: &serverResult{Server: name, Stations: cfg.Stations}}
	b.gs, _ = t.(*goServer)
	defer b.g.closeAll() // before t.Close: deferred calls run last-in first-out

	for _, phase := range []func(context.Context) error{b.connect, b.idle, b.closedLoop, b.openLoop} {
		if err := phase(ctx); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	b.res.Lost, b.res.Unmatched = b.g.lost.Load(), b.g.unmatched.Load()
	b.noteErr("load", b.g.firstErr.get())
	b.checkRelease(ctx)
	return b.res, nil
}

// releaseTimeout is how long the server may take to let go of the stations
// once they have closed their sockets.
const releaseTimeout = 10 * time.Second

// checkRelease closes the stations and checks that the server lets go of
// them: its connection count back to 0 and, for the Go servers, its
// goroutines back to the start, give or take a few (nbio's event loop starts
// with the first connection and stays). Anything more is a leak, reported as
// a problem.
func (b *bench) checkRelease(ctx context.Context) {
	b.g.closeAll()
	start := time.Now()
	deadline := start.Add(releaseTimeout)
	slack := max(10, b.res.Connected/100)
	for {
		n, err := b.t.Connected(ctx)
		if err != nil {
			b.noteErr("release", err)
			return
		}
		goroutines := 0
		if b.gs != nil {
			m, err := b.gs.goMem(false)
			if err != nil {
				b.noteErr("release", err)
				return
			}
			goroutines = m.Goroutines - b.res.Go.Baseline.Goroutines
		}
		if n == 0 && goroutines <= slack {
			b.res.ReleaseSeconds = time.Since(start).Seconds()
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.res.Problems = append(b.res.Problems, fmt.Sprintf(
				"release: %s after the stations closed, the server still counts %d connections and %d goroutines more than at the start",
				releaseTimeout, n, goroutines))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) sample() (procSample, error) { return readProc(b.t.PID()) }

// gcStats reads a Go server's GC counters; zeros for ocpp-rpc or when the
// server is gone (the phase's errors say more then).
func (b *bench) gcStats() gcStats {
	if b.gs == nil {
		return gcStats{}
	}
	g, _ := b.gs.gcStats()
	return g
}

// connect reads the baseline memory, then connects and boots the stations.
func (b *bench) connect(ctx context.Context) error {
	sleepUntil(ctx, time.Now().Add(settle))
	base, err := b.sample()
	if err != nil {
		return err
	}
	b.res.RSSBaseline = base.RSS
	if b.gs != nil {
		b.res.Go = &goRuntime{}
		if b.res.Go.Baseline, err = b.gs.goMem(false); err != nil {
			return err
		}
	}
	cr := b.g.connect(ctx, b.cfg.Stations, b.cfg.Ramp, func(n, failed int) {
		b.p.status("%s: connecting: %d/%d stations, %d failed", b.name, n, b.cfg.Stations, failed)
	})
	b.p.done("%s: %d stations connected in %.1f s (%d failed)", b.name, cr.Connected, cr.Elapsed.Seconds(), cr.Failed)
	b.res.Connected, b.res.ConnectFailed, b.res.ConnectSeconds = cr.Connected, cr.Failed, cr.Elapsed.Seconds()
	b.noteErr("connect", cr.FirstErr)
	switch {
	case cr.Connected == 0:
		return fmt.Errorf("no station could connect: %w", explain(cr.FirstErr))
	case errors.Is(cr.FirstErr, syscall.EMFILE) || errors.Is(cr.FirstErr, syscall.EADDRNOTAVAIL):
		return explain(cr.FirstErr)
	}
	return nil
}

// idle lets the stations idle and reads the memory they cost.
func (b *bench) idle(ctx context.Context) error {
	w0 := sampleWindow(b.t.PID())
	stop := every(time.Second, func() {
		b.p.status("%s: %d stations idle, %.0f s left", b.name, b.g.connected(), time.Until(w0.server.At.Add(b.cfg.Idle)).Seconds())
	})
	sleepUntil(ctx, w0.server.At.Add(b.cfg.Idle))
	stop()
	idle, err := b.sample()
	if err != nil {
		return err
	}
	res := b.res
	res.RSSIdle = idle.RSS
	res.MemPerStation = (float64(idle.RSS) - float64(res.RSSBaseline)) / float64(res.Connected)
	res.IdleCPUPercent = w0.until(sampleWindow(b.t.PID())).percent(useServer)
	if res.ServerConnected, err = b.t.Connected(ctx); err != nil {
		return err
	}
	if res.ServerConnected != res.Connected {
		res.Problems = append(res.Problems, fmt.Sprintf("idle: the server counts %d stations, the load generator %d", res.ServerConnected, res.Connected))
	}
	if b.gs != nil {
		// Only now that RSSIdle is read: the forced GC must not flatter it.
		if res.Go.Idle, err = b.gs.goMem(false); err != nil {
			return err
		}
		if res.Go.IdleGC, err = b.gs.goMem(true); err != nil {
			return err
		}
		s, err := b.sample()
		if err != nil {
			return err
		}
		res.Go.RSSIdleGC = s.RSS
		if b.cfg.MemProfile != "" && isOpenEV(b.name) {
			if err := b.gs.heapProfile(b.profilePath(b.cfg.MemProfile)); err != nil {
				return err
			}
			b.p.done("%s: heap profile of the idle server written to %s", b.name, b.profilePath(b.cfg.MemProfile))
		}
	}
	b.p.done("%s: idle: RSS %s → %s, %s per station", b.name, fmtBytes(float64(res.RSSBaseline)), fmtBytes(float64(idle.RSS)), fmtBytes(res.MemPerStation))
	return nil
}

// closedLoop drives -concurrency stations back to back: throughput and CPU
// per round trip.
func (b *bench) closedLoop(ctx context.Context) error {
	b.waitQuiet(ctx)
	g := b.g
	warm := g.closedLoop(b.cfg.Concurrency)
	sleepUntil(ctx, time.Now().Add(b.cfg.Warmup))
	meas := g.continueClosedLoop()
	if err := b.profileCPU(b.cfg.CPUProfile); err != nil {
		return err
	}
	c0, w0, gc0 := g.completed.Load(), sampleWindow(b.t.PID()), b.gcStats()
	stop := every(time.Second, func() {
		b.p.status("%s: closed loop, %d stations: %.0f round trips/s", b.name, b.cfg.Concurrency, float64(g.completed.Load()-c0)/time.Since(w0.server.At).Seconds())
	})
	sleepUntil(ctx, w0.server.At.Add(b.cfg.Duration))
	c1, w1, gc1 := g.completed.Load(), sampleWindow(b.t.PID()), b.gcStats()
	stop()
	g.stopClosedLoop(meas)
	if err := b.profileCPU(""); err != nil {
		return err
	}
	drain(ctx, drainTimeout, warm, meas)
	use, rts := w0.until(w1), c1-c0
	b.res.Closed = closed{
		Concurrency:      b.cfg.Concurrency,
		Seconds:          use.wall.Seconds(),
		RoundTrips:       rts,
		PerSecond:        float64(rts) / use.wall.Seconds(),
		ServerCPUPercent: use.percent(useServer),
		ServerCPUPer1000: per1000(use.server, rts),
		LoadCPUPer1000:   per1000(use.load, rts),
		OtherCPUPercent:  use.percent(useOther),
		Errors:           meas.callErrors.Load() + warm.callErrors.Load(),
		Timeouts:         meas.unanswered() + warm.unanswered(),
		Latency:          meas.rec.summary(),
	}
	if b.res.Go != nil {
		b.res.Go.Closed = gcBetween(gc0, gc1, rts)
	}
	b.noteErr("closed loop", meas.errSample.get())
	b.warnNoise("closed loop", b.res.Closed.OtherCPUPercent)
	b.p.done("%s: closed loop: %.0f round trips/s, server CPU %.1f ms per 1000", b.name, b.res.Closed.PerSecond, b.res.Closed.ServerCPUPer1000)
	return nil
}

// profileCPU starts (path != "") or stops a CPU profile of the openev server.
func (b *bench) profileCPU(path string) error {
	if !isOpenEV(b.name) || b.cfg.CPUProfile == "" {
		return nil
	}
	if err := b.gs.cpuProfile(b.profilePath(path)); err != nil {
		return err
	}
	if path == "" {
		b.p.done("%s: CPU profile of the closed loop written to %s", b.name, b.profilePath(b.cfg.CPUProfile))
	}
	return nil
}

// profilePath is where the server's profile goes: path itself for openev,
// path.<name> for openev-gorilla, so that one run can profile both.
func (b *bench) profilePath(path string) string {
	if path == "" || b.name == openevName {
		return path
	}
	return path + "." + b.name
}

// openLoop sends -rate calls per second over all stations: latency.
func (b *bench) openLoop(ctx context.Context) error {
	b.waitQuiet(ctx)
	w0, gc0 := sampleWindow(b.t.PID()), b.gcStats()
	ph, sending := b.g.openLoop(ctx, b.cfg.Rate, b.cfg.Duration, func(ph *phase, elapsed time.Duration) {
		b.p.status("%s: fixed rate: %.0f calls/s sent, %d answered", b.name, float64(ph.sent.Load())/elapsed.Seconds(), ph.answered.Load())
	})
	use, gc1 := w0.until(sampleWindow(b.t.PID())), b.gcStats()
	drain(ctx, drainTimeout, ph)
	if b.res.Go != nil {
		b.res.Go.Open = gcBetween(gc0, gc1, ph.answered.Load())
	}
	b.res.Open = open{
		Rate:             b.cfg.Rate,
		Seconds:          sending.Seconds(),
		Sent:             ph.sent.Load(),
		Achieved:         float64(ph.answered.Load()) / sending.Seconds(),
		ServerCPUPercent: use.percent(useServer),
		ServerCPUPer1000: per1000(use.server, ph.answered.Load()),
		OtherCPUPercent:  use.percent(useOther),
		Errors:           ph.callErrors.Load(),
		Timeouts:         ph.unanswered(),
		Latency:          ph.rec.summary(),
	}
	b.noteErr("fixed rate", ph.errSample.get())
	b.warnNoise("fixed rate", b.res.Open.OtherCPUPercent)
	b.p.done("%s: fixed rate %.0f/s: p50 %.2f ms, p99 %.2f ms", b.name, b.cfg.Rate, b.res.Open.Latency.P50, b.res.Open.Latency.P99)
	return nil
}

// noisyCPU is the CPU use of other processes (percent of one core) above
// which a phase's figures are flagged as disturbed.
const noisyCPU = 10

// waitQuiet waits, at most -wait-quiet, until the rest of the machine (all
// but the server and the load generator) has used less than noisyCPU over a
// second: on a shared machine, someone's build would otherwise skew the
// next phase's figures.
func (b *bench) waitQuiet(ctx context.Context) {
	deadline := time.Now().Add(b.cfg.WaitQuiet)
	for ctx.Err() == nil {
		w0 := sampleWindow(b.t.PID())
		sleepUntil(ctx, time.Now().Add(time.Second))
		other := w0.until(sampleWindow(b.t.PID())).percent(useOther)
		if other < noisyCPU || time.Now().After(deadline) {
			return
		}
		b.p.status("%s: waiting for other processes to quiet down (they use %.0f%% of a core)", b.name, other)
	}
}

func (b *bench) warnNoise(phase string, otherCPU float64) {
	if otherCPU > noisyCPU {
		msg := fmt.Sprintf("%s: other processes used %.0f%% of a core meanwhile; its figures may be disturbed", phase, otherCPU)
		b.res.Problems = append(b.res.Problems, msg)
		b.p.done("%s: warning: %s", b.name, msg)
	}
}

func (b *bench) noteErr(where string, err error) {
	if err != nil {
		b.res.Problems = append(b.res.Problems, where+": "+err.Error())
	}
}

// cpuWindow is one end of a measuring window: the CPU time so far of the
// server, of this process (the load generator) and of the whole machine.
type cpuWindow struct {
	server, load procSample
	machine      time.Duration
}

// sampleWindow samples the CPU times. A failed read (the server died) leaves
// zeros: the phase then shows errors and timeouts, which say more.
func sampleWindow(pid int) cpuWindow {
	var w cpuWindow
	w.server, _ = readProc(pid)
	w.load, _ = readProc(os.Getpid())
	w.machine, _ = readMachineBusy()
	if w.server.At.IsZero() {
		w.server.At = time.Now()
	}
	return w
}

// cpuUse is the CPU time spent between two cpuWindows.
type cpuUse struct {
	wall, server, load, other time.Duration
}

func (w cpuWindow) until(end cpuWindow) cpuUse {
	u := cpuUse{
		wall:   end.server.At.Sub(w.server.At),
		server: end.server.CPU - w.server.CPU,
		load:   end.load.CPU - w.load.CPU,
	}
	u.other = max(0, end.machine-w.machine-u.server-u.load)
	return u
}

type whose int

const (
	useServer whose = iota
	useOther
)

// percent is a CPU use in percent of one core.
func (u cpuUse) percent(of whose) float64 {
	if u.wall <= 0 {
		return 0
	}
	d := u.server
	if of == useOther {
		d = u.other
	}
	return 100 * float64(d) / float64(u.wall)
}

func per1000(cpu time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return ms(cpu) * 1000 / float64(n)
}

// explain turns resource exhaustion into what to do about it.
func explain(err error) error {
	switch {
	case errors.Is(err, syscall.EMFILE):
		return fmt.Errorf("%w: too many open files: raise the limit (ulimit -n; each of this process and the server needs about -stations + 100)", err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%w: ephemeral ports exhausted: wait for TIME_WAIT sockets to expire (about 60 s) or widen net.ipv4.ip_local_port_range", err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: the server refuses connections: did it crash? see its stderr above", err)
	}
	return err
}
