package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim"
)

// DefaultTimeout bounds a step that waits for the server when the step sets
// no timeout.
const DefaultTimeout = 30 * time.Second

// maxFailures bounds the failures a Result keeps; a long load run that fails
// the same way every minute should not grow without end. Failed counts all.
const maxFailures = 100

// Runner executes scenarios on one station. Its fields are read-only once
// Run starts; a Runner runs one scenario at a time.
type Runner struct {
	// Station carries out the steps.
	Station *sim.Station
	// Rand draws random waits and tokens. Seed it (rand.NewPCG) to make a
	// run reproducible; nil uses an unseeded source.
	Rand *rand.Rand
	// Out gets one line per step for a human; nil prints nothing.
	Out io.Writer
	// Pace, if set, is called before every step that sends a message, to
	// hold the run to a target message rate. An error ends the step.
	Pace func(ctx context.Context) error
	// IDTokens are picked from by authorize and start steps that name no
	// token; empty uses the scenario's station.id_tokens, then "SIM-TOKEN".
	IDTokens []string
	// OnFailure, if set, is called for each failure as it happens (the load
	// generator counts them live).
	OnFailure func(Failure)
	// DetachIdle makes a scenario that ends with an unbounded idle step
	// return at that step with Result.Idle set, leaving the station
	// connected, instead of blocking until the context ends. The load
	// generator uses it so that ten thousand idle stations need no goroutine
	// each.
	DetachIdle bool

	sc       *Scenario
	interval time.Duration // heartbeat interval from the last accepted boot
	res      *Result
}

// Failure is an expectation that did not hold, or a step that could not be
// carried out.
type Failure struct {
	Step string // `step 3 (authorize)`
	Line int    // the step's line in the scenario file, 0 if unknown
	Kind FailureKind
	Msg  string
}

// FailureKind says what kind of thing failed.
type FailureKind uint8

// The kinds of failure. A load run counts call failures through the
// station's observer already, so it tells them apart from the others.
const (
	// FailExpectation: an answer (or CALLERROR) was not the expected one.
	FailExpectation FailureKind = iota
	// FailCall: a message got no answer (timeout, connection lost) or an
	// unexpected CALLERROR.
	FailCall
	// FailConnect: the station could not connect; the run ends.
	FailConnect
	// FailStation: the simulated station refused the step (e.g. plugging
	// into an EVSE it does not have).
	FailStation
)

func (f Failure) Error() string {
	if f.Line > 0 {
		return fmt.Sprintf("%s, line %d: %s", f.Step, f.Line, f.Msg)
	}
	return f.Step + ": " + f.Msg
}

// Result is the outcome of running a scenario.
type Result struct {
	Scenario string
	// Steps counts the steps carried out (a repeat's inner steps each time).
	Steps int
	// Failures are the first failures in order; Failed counts all of them.
	Failures []Failure
	Failed   int
	// Stopped says the run's context ended before the scenario did (a
	// duration elapsed, Ctrl-C): not a failure.
	Stopped bool
	// Fatal is set when a failure made the rest of the scenario pointless
	// (the station could not connect) and the run ended there.
	Fatal bool
	// Idle is set when Run returned at a final unbounded idle step
	// (Runner.DetachIdle): the station should stay connected until stopped.
	Idle bool
}

// OK reports whether every expectation held.
func (r *Result) OK() bool { return r.Failed == 0 }

// Err returns nil if the run passed, or an error listing the failures.
func (r *Result) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s: %d failure(s)", r.Scenario, r.Failed)
	for _, f := range r.Failures {
		b.WriteString("\n  ")
		b.WriteString(f.Error())
	}
	if r.Failed > len(r.Failures) {
		fmt.Fprintf(&b, "\n  ... and %d more", r.Failed-len(r.Failures))
	}
	return errors.New(b.String())
}

// errFatal ends the run: later steps cannot work.
var errFatal = errors.New("fatal step failure")

// Run carries out the scenario's steps in order. Expectations that fail are
// recorded and the run goes on, so one run reports every broken expectation;
// a failed connect ends it. When ctx ends, Run returns with Stopped set.
func (r *Runner) Run(ctx context.Context, sc *Scenario) Result {
	r.sc = sc
	r.res = &Result{Scenario: sc.Name}
	if r.Rand == nil {
		r.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	steps := sc.Steps
	if n := len(steps); r.DetachIdle && n > 0 && steps[n-1].Kind == KindIdle && steps[n-1].For <= 0 {
		steps = steps[:n-1]
		r.res.Idle = true
	}
	err := r.steps(ctx, steps)
	if r.res.Idle {
		r.res.Idle = err == nil
		if err == nil {
			r.res.Steps++ // the idle step has begun
		}
	}
	res := *r.res
	r.res = nil
	switch {
	case errors.Is(err, errFatal):
		res.Fatal = true
	case err != nil || ctx.Err() != nil:
		res.Stopped = true
	}
	return res
}

func (r *Runner) steps(ctx context.Context, steps []Step) error {
	for i := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := r.step(ctx, &steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) fail(st *Step, kind FailureKind, format string, args ...any) {
	f := Failure{Step: st.String(), Line: st.Line, Kind: kind, Msg: fmt.Sprintf(format, args...)}
	r.res.Failed++
	if len(r.res.Failures) < maxFailures {
		r.res.Failures = append(r.res.Failures, f)
	}
	if r.OnFailure != nil {
		r.OnFailure(f)
	}
	r.printf(st, "FAIL: %s", f.Msg)
}

func (r *Runner) printf(st *Step, format string, args ...any) {
	if r.Out != nil {
		fmt.Fprintf(r.Out, "%s: %s\n", st, fmt.Sprintf(format, args...))
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// step carries out one step. It returns an error only to end the run: ctx
// ended, or errFatal.
func (r *Runner) step(ctx context.Context, st *Step) error {
	r.res.Steps++
	s := r.Station
	switch st.Kind {
	case KindWait:
		if st.Wait.Interval && r.interval <= 0 {
			r.fail(st, FailStation, "`wait: interval` needs an accepted boot before it (no heartbeat interval is known)")
			return nil
		}
		return sleep(ctx, r.waitFor(st))
	case KindIdle:
		if st.For <= 0 {
			r.printf(st, "staying connected until stopped (Ctrl-C)")
			<-ctx.Done()
			return ctx.Err()
		}
		r.printf(st, "staying connected for %v", st.For)
		return sleep(ctx, st.For)
	case KindRepeat:
		rctx := ctx
		if st.For > 0 {
			var cancel context.CancelFunc
			rctx, cancel = context.WithTimeout(ctx, st.For)
			defer cancel()
		}
		for n := 0; st.Times == 0 || n < st.Times; n++ {
			if err := r.steps(rctx, st.Steps); err != nil {
				if ctx.Err() == nil && rctx.Err() != nil && !errors.Is(err, errFatal) {
					return nil // the repeat's own `for:` ran out
				}
				return err
			}
		}
		return nil
	case KindPlug:
		if err := s.Plug(ctx, st.EVSE); err != nil {
			return r.stepErr(ctx, st, err)
		}
		r.printf(st, "EV plugged in at EVSE %d", st.EVSE)
		return nil
	case KindUnplug:
		if err := s.Unplug(ctx, st.EVSE); err != nil {
			return r.stepErr(ctx, st, err)
		}
		r.printf(st, "EV unplugged from EVSE %d", st.EVSE)
		return nil
	case KindCharge:
		r.printf(st, "charging at EVSE %d for %v", st.EVSE, st.For)
		return sleep(ctx, st.For)
	case KindDrop:
		s.DropConnection(st.OfflineFor)
		// The close handshake takes a moment; wait for it so that the next
		// step waits for the reconnection instead of using the dying
		// connection.
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for s.Connected() && sleep(dctx, 5*time.Millisecond) == nil {
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.printf(st, "connection dropped; offline for %v", st.OfflineFor)
		return nil
	case KindConnect:
		cctx, cancel := r.timeout(ctx, st)
		defer cancel()
		if err := s.Connect(cctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.fail(st, FailConnect, "could not connect: %v", err)
			return errFatal
		}
		r.printf(st, "connected as %s (OCPP %s)", s.Identity(), s.Version())
		return nil
	}
	// The rest send messages: pace them, and give the station a moment to
	// come back if a drop or the server took the connection away.
	if r.Pace != nil {
		if err := r.Pace(ctx); err != nil {
			return ctx.Err()
		}
	}
	cctx, cancel := r.timeout(ctx, st)
	defer cancel()
	if st.Kind != KindRaw {
		r.awaitConnection(cctx)
	}
	switch st.Kind {
	case KindBoot:
		res, err := s.Boot(cctx)
		if err != nil {
			return r.callErr(ctx, st, "BootNotification", err)
		}
		if res.Status == "Accepted" {
			r.interval = res.Interval
		}
		r.printf(st, "BootNotification: %s (interval %v, server time %s)", res.Status, res.Interval, res.CurrentTime.Format(time.RFC3339))
		answer, _ := json.Marshal(map[string]any{"status": res.Status, "interval": res.Interval.Seconds(),
			"currentTime": res.CurrentTime.Format(time.RFC3339Nano)})
		r.expect(st, answer)
	case KindHeartbeat:
		if err := s.Heartbeat(cctx); err != nil {
			return r.callErr(ctx, st, "Heartbeat", err)
		}
		r.printf(st, "Heartbeat: ok")
		r.expect(st, nil)
	case KindAuthorize:
		tok := r.token(st)
		status, err := s.Authorize(cctx, tok)
		if err != nil {
			return r.callErr(ctx, st, "Authorize", err)
		}
		r.printf(st, "Authorize %s: %s", tok, status)
		answer, _ := json.Marshal(map[string]string{"status": status})
		r.expect(st, answer)
	case KindStart:
		tok := r.token(st)
		tx, err := s.StartTransaction(cctx, st.EVSE, tok)
		if err != nil {
			return r.callErr(ctx, st, "start transaction", err)
		}
		r.printf(st, "transaction %s started at EVSE %d for %s", tx, st.EVSE, tok)
		r.expect(st, nil)
	case KindStop:
		reason := st.Reason
		if reason == "" {
			reason = "Local"
		}
		if err := s.StopTransaction(cctx, st.EVSE, reason); err != nil {
			return r.callErr(ctx, st, "stop transaction", err)
		}
		r.printf(st, "transaction at EVSE %d stopped (%s)", st.EVSE, reason)
		r.expect(st, nil)
	case KindCall:
		answer, err := s.Call(cctx, st.Action, st.Payload)
		if err != nil {
			return r.callErr(ctx, st, st.Action, err)
		}
		r.printf(st, "%s: %s", st.Action, answer)
		r.expect(st, answer)
	case KindRaw:
		if err := s.SendRaw(st.Frame); err != nil {
			return r.stepErr(ctx, st, err)
		}
		r.printf(st, "sent %s", st.Frame)
		if st.ExpectClosed {
			if st.Timeout <= 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
			}
			for s.Connected() {
				if err := sleep(cctx, 20*time.Millisecond); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					r.fail(st, FailExpectation, "the server did not close the connection after the frame")
					return nil
				}
			}
			r.printf(st, "the server closed the connection, as expected")
		}
	}
	return nil
}

// waitFor draws a wait step's pause: the server's interval, a fixed time, or
// uniformly at random between min and max from the run's seeded source.
func (r *Runner) waitFor(st *Step) time.Duration {
	switch {
	case st.Wait.Interval:
		return r.interval
	case st.Wait.Max > st.Wait.Min:
		return st.Wait.Min + time.Duration(r.Rand.Int64N(int64(st.Wait.Max-st.Wait.Min)+1))
	}
	return st.Wait.Min
}

// timeout returns ctx bounded by the step's timeout.
func (r *Runner) timeout(ctx context.Context, st *Step) (context.Context, context.CancelFunc) {
	d := st.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// awaitConnection waits (until ctx ends) for the station to be connected.
func (r *Runner) awaitConnection(ctx context.Context) {
	for !r.Station.Connected() && sleep(ctx, 20*time.Millisecond) == nil {
	}
}

// expect checks a successful answer against the step's expectations.
func (r *Runner) expect(st *Step, answer json.RawMessage) {
	if st.ExpectError != "" {
		r.fail(st, FailExpectation, "want the CALLERROR %s, got an answer %s", st.ExpectError, orNone(answer))
		return
	}
	if st.Expect == nil {
		return
	}
	if ok, why := Match(st.Expect, answer); !ok {
		r.fail(st, FailExpectation, "unexpected answer: %s (answer %s)", why, orNone(answer))
	}
}

func orNone(b json.RawMessage) string {
	if len(b) == 0 {
		return "(none)"
	}
	if len(b) > 200 {
		return string(b[:197]) + "..."
	}
	return string(b)
}

// callErr handles a message step that got no answer: either the CALLERROR
// the step expects, or a failure.
func (r *Runner) callErr(ctx context.Context, st *Step, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var oe *ocpp.Error
	if errors.As(err, &oe) {
		if st.ExpectError != "" && strings.EqualFold(string(oe.Code), st.ExpectError) {
			r.printf(st, "%s: CALLERROR %s, as expected", what, oe.Code)
			return nil
		}
		if st.ExpectError != "" {
			r.fail(st, FailExpectation, "%s: want the CALLERROR %s, got %s", what, st.ExpectError, oe)
			return nil
		}
		r.fail(st, FailCall, "%s: the server answered with a CALLERROR: %v", what, oe)
		return nil
	}
	r.fail(st, FailCall, "%s: %v", what, err)
	return nil
}

// stepErr records a local failure (not an answer from the server).
func (r *Runner) stepErr(ctx context.Context, st *Step, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.fail(st, FailStation, "%v", err)
	return nil
}

// token picks the step's id token.
func (r *Runner) token(st *Step) string {
	if st.IDToken != "" {
		return st.IDToken
	}
	toks := r.IDTokens
	if len(toks) == 0 && r.sc != nil {
		toks = r.sc.Station.IDTokens
	}
	if len(toks) == 0 {
		return "SIM-TOKEN"
	}
	return toks[r.Rand.IntN(len(toks))]
}
