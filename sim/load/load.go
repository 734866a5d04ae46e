package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
	"github.com/openev/openev/sim/scenario"
)

// Options configure a load run.
type Options struct {
	// Station is the template of every station: URL, Version, Password,
	// EVSEs, ... Identity, Dialer and Observer are set per run.
	Station sim.Config
	// Scenario is what every station runs.
	Scenario *scenario.Scenario
	// Stations is how many stations to run.
	Stations int
	// IDPattern makes the identities: a printf pattern given the station's
	// number, from 1. Default "SIM-%05d".
	IDPattern string
	// Ramp is how many stations start per second; 0 starts them all at once.
	Ramp float64
	// Duration is how long the full fleet runs once the last station has
	// started; stations whose scenario ends sooner stay connected until then.
	// 0 runs until every scenario has ended (or ctx ends).
	Duration time.Duration
	// Rate caps the messages per second that the scenarios send, across all
	// stations; 0 is no cap. (The heartbeats a station sends by itself at the
	// server's interval are not paced.)
	Rate float64
	// Seed makes random waits and token choices reproducible; station i
	// draws from a source seeded with (Seed, i).
	Seed uint64
	// SourceAddrs spreads the connections over that many local addresses
	// 127.0.0.1, 127.0.0.2, ... when the server is on the loopback network,
	// since one address has only about 28 000 ephemeral ports. 0 picks one
	// address per 8 000 stations; 1 leaves the choice to the kernel.
	SourceAddrs int
	// Progress gets the status line once a second; nil prints none. Live
	// rewrites the line in place (for a terminal); otherwise a plain line is
	// printed every ProgressEvery seconds (default 1).
	Progress      io.Writer
	Live          bool
	ProgressEvery int
	// MaxFailures is how many scenario failures the report lists (default 20).
	MaxFailures int
	// Trace, if set, prints every call and connection change of every
	// station (--verbose).
	Trace *Tracer
	// AtEnd, if set, runs when the run has ended but before the stations
	// are closed (e.g. to take a heap profile of the full fleet).
	AtEnd func()
}

// Run starts the stations, lets them run their scenario, stops them and
// returns the report. It returns an error only when the run could not start;
// a run that failed expectations returns a report with OK false.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Stations <= 0 {
		return nil, errors.New("load: the number of stations must be at least 1")
	}
	if o.Scenario == nil {
		return nil, errors.New("load: no scenario")
	}
	if o.IDPattern == "" {
		o.IDPattern = "SIM-%05d"
	}
	if !strings.Contains(o.IDPattern, "%") {
		return nil, fmt.Errorf("load: the identity pattern %q has no %%d verb for the station number (e.g. SIM-%%05d)", o.IDPattern)
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 20
	}
	version := o.Station.Version
	if version == 0 {
		version = ocpp.V201
	}
	base := proc()
	baseLive := liveBytes()
	stats := NewStats()
	dialer := &ocpp.Dialer{
		Versions: []ocpp.Version{version},
		Password: o.Station.Password,
		// A fleet connecting at once makes a busy server slow to answer the
		// handshake; give it longer than a single station needs.
		HandshakeTimeout: 30 * time.Second,
		Options:          ocpp.Options{Logger: o.Station.Logger},
	}
	if n := sourceAddrs(o.Station.URL, o.Stations, o.SourceAddrs); n > 1 {
		dialer.NetDialContext = roundRobinDial(n)
	}
	pacer := NewPacer(o.Rate)

	rep := &Report{Scenario: o.Scenario.Name, URL: o.Station.URL, Protocol: version.Subprotocol(), Stations: o.Stations}
	var (
		failMu   sync.Mutex
		failures []string
		assertOK atomic.Bool
	)
	assertOK.Store(true)

	// runCtx ends the scenarios: at Duration after the ramp, or with ctx.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	var started atomic.Int64
	var idling atomic.Int64           // stations parked at a final idle step
	var fleetUp = make(chan struct{}) // closed when the last station has started

	// Stations that stay connected after their scenario (a final idle, or
	// a scenario shorter than Duration) wait here, not in a goroutine each.
	var keepMu sync.Mutex
	var kept []*sim.Station

	station := func(i int) {
		defer wg.Done()
		cfg := o.Scenario.ApplyTo(o.Station)
		cfg.Version = version
		cfg.Identity = fmt.Sprintf(o.IDPattern, i+1)
		cfg.Dialer = dialer
		cfg.Observer = stats
		if o.Trace != nil {
			cfg.Observer = &observers{identity: cfg.Identity, stats: stats, trace: o.Trace}
		}
		s, err := sim.New(cfg)
		if err != nil {
			stats.Error("station config")
			failMu.Lock()
			if len(failures) < o.MaxFailures {
				failures = append(failures, cfg.Identity+": "+err.Error())
			}
			failMu.Unlock()
			assertOK.Store(false)
			return
		}
		r := &scenario.Runner{
			Station:    s,
			Rand:       rand.New(rand.NewPCG(o.Seed, uint64(i))),
			Pace:       pacer.Wait,
			DetachIdle: true,
			OnFailure: func(f scenario.Failure) {
				switch f.Kind {
				case scenario.FailConnect:
					stats.Error("connect")
				case scenario.FailExpectation:
					stats.Error("assertion")
				case scenario.FailStation:
					stats.Error("station")
				}
				// FailCall: the observer has counted the call already.
				assertOK.Store(false)
				failMu.Lock()
				if len(failures) < o.MaxFailures {
					failures = append(failures, cfg.Identity+" "+f.Error())
				}
				failMu.Unlock()
			},
		}
		res := r.Run(runCtx, o.Scenario)
		if res.Idle || (!res.Stopped && !res.Fatal && o.Duration > 0) {
			keepMu.Lock()
			kept = append(kept, s)
			keepMu.Unlock()
			if res.Idle {
				idling.Add(1)
			}
			return
		}
		s.Close()
	}

	prog := &progress{w: o.Progress, live: o.Live, every: max(o.ProgressEvery, 1), target: o.Stations, stats: stats}
	var peak atomic.Int64
	progDone := make(chan struct{})
	go func() {
		defer close(progDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				peak.Store(max(peak.Load(), stats.Connected()))
				if o.Progress != nil {
					prog.tick(now, int(started.Load()))
				}
			case <-runCtx.Done():
				return
			}
		}
	}()

	start := time.Now()
	go func() {
		defer close(fleetUp)
		for i := 0; i < o.Stations; i++ {
			if o.Ramp > 0 {
				due := start.Add(time.Duration(float64(i) / o.Ramp * float64(time.Second)))
				if sleepUntil(runCtx, due) != nil {
					return
				}
			} else if runCtx.Err() != nil {
				return
			}
			wg.Add(1)
			started.Add(1)
			go station(i)
		}
	}()

	// End of the run: Duration after the ramp, all scenarios done, or ctx.
	allDone := make(chan struct{})
	go func() {
		<-fleetUp
		wg.Wait()
		close(allDone)
	}()
	// The steady phase starts when every station is connected.
	steadyFrom := make(chan *actionsSnapshot, 1)
	go func() {
		for stats.Connected() < int64(o.Stations) {
			if sleepUntil(runCtx, time.Now().Add(20*time.Millisecond)) != nil {
				return
			}
		}
		steadyFrom <- stats.snapshot()
	}()
	select {
	case <-fleetUp:
		fleetAt := time.Now()
		if o.Duration > 0 {
			select {
			case <-time.After(o.Duration):
			case <-runCtx.Done():
			case <-allDone:
				// Every scenario has ended; the stations kept connected stay
				// until the duration is over.
				if len(kept) > 0 {
					select {
					case <-time.After(o.Duration - time.Since(fleetAt)):
					case <-runCtx.Done():
					}
				}
			}
		} else {
			select {
			case <-allDone:
				if idling.Load() > 0 {
					<-runCtx.Done() // idle until stopped, as the scenario says
				}
			case <-runCtx.Done():
			}
		}
	case <-runCtx.Done():
	}
	elapsed := time.Since(start)
	// Read the fleet's state and cost before it shuts down.
	rep.Connected = stats.Connected()
	rep.PeakConnected = max(peak.Load(), rep.Connected)
	end := proc()
	steadyTo := stats.snapshot()
	endLive := liveBytes()
	if o.AtEnd != nil {
		o.AtEnd()
	}
	stats.stopping.Store(true)
	stopRun()
	<-progDone
	if o.Progress != nil {
		// The last line shows the fleet as it was, not as it shuts down.
		prog.ticks = prog.every - 1
		prog.lastConnected = rep.Connected
		prog.tick(time.Now(), int(started.Load()))
		prog.done()
	}
	<-fleetUp
	wg.Wait()
	closeAll(kept)

	rep.Started = int(started.Load())
	rep.fill(stats, elapsed)
	rep.ConnectFailures = rep.Errors["connect"]
	rep.Reconnections = max(stats.connects.Load()-int64(rep.Started)+rep.ConnectFailures, 0)
	rep.Failures = failures
	select {
	case from := <-steadyFrom:
		if from.at.Before(steadyTo.at) {
			rep.Steady = phase(from, steadyTo)
		}
	default:
	}
	rep.Sim = SimCost{RSSBytes: end.RSS, CPUS: (end.CPU - base.CPU).Seconds()}
	if elapsed > 0 {
		rep.Sim.CPUPercent = 100 * (end.CPU - base.CPU).Seconds() / elapsed.Seconds()
	}
	if n := max(rep.PeakConnected, 1); rep.Started > 0 {
		rep.Sim.RSSPerStation = float64(int64(end.RSS)-int64(base.RSS)) / float64(n)
		rep.Sim.LivePerStation = float64(int64(endLive)-int64(baseLive)) / float64(n)
		rep.Sim.CPUPerStation = 1000 * (end.CPU - base.CPU).Seconds() / float64(rep.Started)
	}
	rep.OK = assertOK.Load() && rep.ErrorsTotal == 0 && rep.Started == o.Stations
	return rep, nil
}

func proc() ProcStat { return ReadProcStat() }

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sourceAddrs decides over how many local addresses to spread connections.
func sourceAddrs(serverURL string, stations, asked int) int {
	if asked > 0 {
		return min(asked, 254)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return 1
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 1 // other hosts: the kernel's choice of source is the only one that routes
	}
	return min((stations+7999)/8000, 254)
}

// roundRobinDial binds each new connection to the next of n loopback source
// addresses, 127.0.0.1 to 127.0.0.n. Linux routes all of 127.0.0.0/8 to lo
// without configuration, and each address has its own ephemeral ports.
func roundRobinDial(n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dialers := make([]*net.Dialer, n)
	for i := range dialers {
		dialers[i] = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+1))}}
	}
	var next atomic.Uint64
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := dialers[next.Add(1)%uint64(n)]
		return d.DialContext(ctx, network, addr)
	}
}

// closeAll closes the stations, many at a time: each Close waits for its
// close handshake.
func closeAll(stations []*sim.Station) {
	var wg sync.WaitGroup
	work := make(chan *sim.Station)
	for range min(len(stations), 256) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				s.Close()
			}
		}()
	}
	for _, s := range stations {
		work <- s
	}
	close(work)
	wg.Wait()
}
