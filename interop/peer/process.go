package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	eventBuffer  = 10000           // unread events kept before new ones are dropped
	maxLine      = 64 << 20        // longest stdout line (a CALL payload) accepted
	exitTimeout  = 5 * time.Second // Close: wait this long after "exit", then kill
	stderrLines  = 50              // stderr lines quoted in errors
	recentEvents = 5               // skipped events quoted when WaitEvent times out
)

// Peer is one running peer.js process. [Server] and [Client] embed it; its
// methods are safe for concurrent use.
type Peer struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	writeMu sync.Mutex // one command line at a time on stdin

	mu      sync.Mutex
	pending map[string]chan line // command id -> its reply; nil once exited
	nextID  uint64
	fatal   string // last "fatal" event, quoted in errors

	events  chan Event // closed when the process is gone
	dropped atomic.Int64
	stderr  *tail
	done    chan struct{} // closed after the process exited and stdout was drained
	exitErr error         // the process's exit status; valid after done

	closeOnce sync.Once
	closeErr  error
}

// start launches peer.js with args. The process lives until Close (or until
// it dies); stderr, if not nil, gets a copy of its stderr.
func start(args []string, stderr io.Writer) (*Peer, error) {
	node, script, err := locate()
	if err != nil {
		return nil, err
	}
	p := &Peer{
		pending: map[string]chan line{},
		events:  make(chan Event, eventBuffer),
		stderr:  newTail(stderrLines),
		done:    make(chan struct{}),
	}
	p.cmd = exec.Command(node, append([]string{script}, args...)...)
	p.cmd.Stderr = p.stderr
	if stderr != nil {
		p.cmd.Stderr = io.MultiWriter(p.stderr, stderr)
	}
	p.cmd.WaitDelay = exitTimeout // don't hang in Wait on pipes a stray grandchild holds
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("peer: starting node: %w", err)
	}
	go p.read(stdout)
	return p, nil
}

// read is the only reader of stdout. It routes replies to the commands waiting
// for them and events to the events channel, never blocking on either, so a
// test that ignores events cannot stall its own commands. When stdout ends it
// reaps the process and releases everyone waiting.
func (p *Peer) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		p.dispatch(sc.Bytes())
	}
	_, _ = io.Copy(io.Discard, stdout) // after an over-long line: keep node from blocking
	err := p.cmd.Wait()

	p.mu.Lock()
	p.exitErr = err
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	close(p.events)
	close(p.done)
}

func (p *Peer) dispatch(b []byte) {
	l := line{raw: append(json.RawMessage(nil), b...)}
	if err := json.Unmarshal(b, &l); err != nil {
		// Not ours (e.g. a console.log in a dependency): keep it as a diagnostic.
		_, _ = p.stderr.Write(append(l.raw, '\n'))
		return
	}
	if l.ID != nil && l.Event != "" {
		p.mu.Lock()
		ch := p.pending[*l.ID]
		delete(p.pending, *l.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- l // buffered: never blocks
		}
		return // a reply nobody waits for any more (its ctx ended)
	}
	if l.Event == "fatal" {
		p.mu.Lock()
		p.fatal = string(b)
		p.mu.Unlock()
	}
	select {
	case p.events <- l.event():
	default:
		p.dropped.Add(1)
	}
}

// exitError explains why the process is gone: exit status, its last fatal
// event and the tail of its stderr.
func (p *Peer) exitError() error {
	<-p.done
	p.mu.Lock()
	fatal := p.fatal
	p.mu.Unlock()
	msg := fmt.Sprintf("(%v)", p.exitErr)
	if fatal != "" {
		msg += "\nlast fatal event: " + fatal
	}
	if s := p.stderr.String(); s != "" {
		msg += "\nstderr:\n" + s
	}
	return fmt.Errorf("%w %s", ErrExited, msg)
}

// request sends c and waits for its reply. A cmd_error reply becomes an error.
func (p *Peer) request(ctx context.Context, c command) (line, error) {
	ch := make(chan line, 1)
	p.mu.Lock()
	if p.pending == nil {
		p.mu.Unlock()
		return line{}, fmt.Errorf("peer: %s: %w", c.Cmd, p.exitError())
	}
	p.nextID++
	c.ID = strconv.FormatUint(p.nextID, 10)
	p.pending[c.ID] = ch
	p.mu.Unlock()

	b, err := json.Marshal(c)
	if err == nil {
		p.writeMu.Lock()
		_, err = p.stdin.Write(append(b, '\n'))
		p.writeMu.Unlock()
	}
	if err != nil {
		p.forget(c.ID)
		select {
		case <-p.done:
			return line{}, fmt.Errorf("peer: %s: %w", c.Cmd, p.exitError())
		default:
			return line{}, fmt.Errorf("peer: %s: %w", c.Cmd, err)
		}
	}

	select {
	case l, ok := <-ch:
		if !ok {
			return line{}, fmt.Errorf("peer: %s: %w", c.Cmd, p.exitError())
		}
		if l.Event == "cmd_error" {
			return l, fmt.Errorf("peer: %s rejected: %s", c.Cmd, l.Message)
		}
		return l, nil
	case <-ctx.Done():
		p.forget(c.ID)
		return line{}, fmt.Errorf("peer: %s: %w", c.Cmd, ctx.Err())
	}
}

func (p *Peer) forget(id string) {
	p.mu.Lock()
	delete(p.pending, id)
	p.mu.Unlock()
}

// call runs a "call" command. The call timeout on the node side follows ctx's
// deadline; without one ocpp-rpc's default applies (30 s server, 60 s client).
func (p *Peer) call(ctx context.Context, identity, action string, payload any) (json.RawMessage, *RPCError, error) {
	raw, err := marshal(payload)
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		raw = json.RawMessage("{}")
	}
	c := command{Cmd: "call", Identity: identity, Action: action, Payload: raw}
	if deadline, ok := ctx.Deadline(); ok {
		c.TimeoutMS = max(1, time.Until(deadline).Milliseconds())
	}
	l, err := p.request(ctx, c)
	switch {
	case err != nil:
		return nil, nil, err
	case l.Event == "result":
		return l.Payload, nil, nil
	case l.errorCode() != "":
		return nil, &RPCError{Code: l.errorCode(), Message: l.Message, Details: l.Details}, nil
	default: // a failure that is no RPC error: timeout, socket not open, ...
		return nil, nil, fmt.Errorf("peer: call %s: %s: %s", action, l.Name, l.Message)
	}
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("peer: encoding payload: %w", err)
	}
	return b, nil
}

// Response tells a peer how to answer one action from now on, on all its
// connections (including future ones).
type Response struct {
	Payload any           // the answer; nil keeps the default answer
	Error   *RPCError     // answer with this CALLERROR instead (any code is sent as given)
	Delay   time.Duration // wait this long before answering
	NoReply bool          // never answer (to test our call timeouts)
}

// SetResponse overrides how the peer answers action.
func (p *Peer) SetResponse(ctx context.Context, action string, r Response) error {
	raw, err := marshal(r.Payload)
	if err != nil {
		return err
	}
	_, err = p.request(ctx, command{
		Cmd: "respond", Action: action, Payload: raw, Error: r.Error,
		DelayMS: r.Delay.Milliseconds(), NoReply: r.NoReply,
	})
	return err
}

// Respond makes the peer answer action with payload.
func (p *Peer) Respond(ctx context.Context, action string, payload any) error {
	if payload == nil {
		return errors.New("peer: Respond needs a payload; use ResetResponse for the default")
	}
	return p.SetResponse(ctx, action, Response{Payload: payload})
}

// RespondError makes the peer answer action with a CALLERROR.
func (p *Peer) RespondError(ctx context.Context, action, code, message string) error {
	return p.SetResponse(ctx, action, Response{Error: &RPCError{Code: code, Message: message}})
}

// ResetResponse restores the default answer to action.
func (p *Peer) ResetResponse(ctx context.Context, action string) error {
	_, err := p.request(ctx, command{Cmd: "respond", Action: action, Reset: true})
	return err
}

// Stats asks the process for its counters and resource usage.
func (p *Peer) Stats(ctx context.Context) (Stats, error) {
	l, err := p.request(ctx, command{Cmd: "stats"})
	if err != nil {
		return Stats{}, err
	}
	return l.stats(), nil
}

// Events returns the peer's unsolicited events, in order. The channel is
// closed when the process is gone. Events that arrive while eventBuffer
// (10 000) are unread are dropped and counted by DroppedEvents. WaitEvent
// reads the same channel.
func (p *Peer) Events() <-chan Event { return p.events }

// DroppedEvents is the number of events lost because nobody read Events.
func (p *Peer) DroppedEvents() int64 { return p.dropped.Load() }

// WaitEvent reads events until match accepts one, and returns it. The events
// it skips are consumed. It fails when ctx ends or the process exits.
func (p *Peer) WaitEvent(ctx context.Context, match func(Event) bool) (Event, error) {
	var skipped []string
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				return Event{}, fmt.Errorf("peer: waiting for event: %w", p.exitError())
			}
			if match(ev) {
				return ev, nil
			}
			skipped = append(skipped, string(ev.Raw))
			if len(skipped) > recentEvents {
				skipped = skipped[1:]
			}
		case <-ctx.Done():
			return Event{}, fmt.Errorf("peer: waiting for event: %w (last events skipped: %q)", ctx.Err(), skipped)
		}
	}
}

// PID is the node process's id, e.g. to sample its CPU and memory from outside.
func (p *Peer) PID() int { return p.cmd.Process.Pid }

// Stderr returns the last lines the process wrote to stderr.
func (p *Peer) Stderr() string { return p.stderr.String() }

// Close asks the process to close its connections and exit, kills it if it
// has not exited within 5 s, and waits for it. It returns an error if the
// process had to be killed or exited unsuccessfully. Calling it again returns
// the same result.
func (p *Peer) Close() error {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
		defer cancel()
		_, _ = p.request(ctx, command{Cmd: "exit"}) // fails if already dead: Wait tells why
		select {
		case <-p.done:
			if p.exitErr != nil {
				p.closeErr = p.exitError()
			}
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
			<-p.done
			p.closeErr = fmt.Errorf("peer: node did not exit within %v of exit; killed\nstderr:\n%s", exitTimeout, p.Stderr())
		}
		_ = p.stdin.Close()
	})
	return p.closeErr
}
