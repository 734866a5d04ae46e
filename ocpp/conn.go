package ocpp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a connection. The zero value of every field means its default.
type Options struct {
	// CallTimeout bounds a Call whose context has no deadline. Default 30s.
	CallTimeout time.Duration
	// QueueSize is how many outgoing calls may wait behind the one in flight;
	// a Call beyond that fails at once with ErrQueueFull. Default 100.
	QueueSize int
	// Validation is the connection's starting validation mode. Default Strict.
	// Conn.SetValidation changes it per connection.
	Validation Validation
	// MaxMessageSize is the largest frame accepted; a larger one closes the
	// connection with code 1009. Default 64 KiB.
	MaxMessageSize int64
	// PingInterval is how often a silent peer is pinged. Default 30s;
	// negative turns pings off.
	PingInterval time.Duration
	// PongTimeout is how long after a ping a silent peer is dropped.
	// Default: PingInterval.
	PongTimeout time.Duration
	// WriteTimeout bounds one frame write. Default 10s.
	WriteTimeout time.Duration
	// Logger receives the connection's logs, each with the station identity.
	// Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 10
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = o.PingInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// maxInbox bounds the CALLs a peer may have waiting for a handler. OCPP
// allows one at a time; the slack tolerates peers that pipeline a little.
const maxInbox = 32

// Conn is one OCPP-J connection, on the server side (a station connected to
// us) or the station side (us connected to a server). It answers the peer's
// CALLs with its Handler, one at a time in arrival order, and sends our CALLs
// one at a time with a bounded queue behind the one in flight. CALLs from the
// peer are never held up by our own outstanding call.
type Conn struct {
	id        string
	version   Version
	handler   Handler
	opts      *Options
	log       atomic.Pointer[slog.Logger] // see Logger
	wire      wire
	handshake *Handshake

	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc

	validation atomic.Uint32
	lastSeen   atomic.Int64 // unix nanoseconds of the last frame or pong
	lastPing   atomic.Int64
	nextID     atomic.Uint64
	data       atomic.Value

	mu      sync.Mutex
	current *outCall   // the call in flight, waiting for the peer's answer
	queue   []*outCall // calls waiting for their turn, oldest first
	closed  bool
	doneErr error
	done    chan struct{}

	inMu      sync.Mutex
	inbox     []Frame
	inRunning bool
	busy      atomic.Int64 // running handlers and calls; Shutdown waits for zero

	onClose func(*Conn, error)

	afterReply []func() // AfterReply's functions, waiting for the current answer; under inMu
}

// outCall is one of our CALLs to the peer.
type outCall struct {
	id     string
	action string
	frame  []byte
	turn   chan struct{}    // closed when the call may be sent
	result chan callOutcome // gets the peer's answer; buffered
}

type callOutcome struct {
	payload json.RawMessage
	err     error
}

func newConn(id string, v Version, h Handler, opts *Options, w wire) *Conn {
	c := &Conn{id: id, version: v, handler: h, opts: opts, wire: w, done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.validation.Store(uint32(opts.Validation))
	c.touch()
	return c
}

// ID returns the station identity.
func (c *Conn) ID() string { return c.id }

// Version returns the negotiated OCPP version.
func (c *Conn) Version() Version { return c.version }

// Handshake returns what the station presented when it connected (server
// side only; nil on the station side).
func (c *Conn) Handshake() *Handshake { return c.handshake }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.wire.remoteAddr() }

// Context returns a context that ends when the connection closes.
func (c *Conn) Context() context.Context { return c.ctx }

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection closed, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doneErr
}

// Validation returns the connection's validation mode.
func (c *Conn) Validation() Validation { return Validation(c.validation.Load()) }

// SetValidation changes the connection's validation mode, e.g. to Lenient
// for a charger known to break the schemas.
func (c *Conn) SetValidation(m Validation) { c.validation.Store(uint32(m)) }

// SetData attaches application data to the connection (a session object, say).
func (c *Conn) SetData(v any) { c.data.Store(&v) }

// Data returns what SetData stored, or nil.
func (c *Conn) Data() any {
	if p, ok := c.data.Load().(*any); ok {
		return *p
	}
	return nil
}

// Logger returns the connection's logger; its lines carry the station identity.
func (c *Conn) Logger() *slog.Logger {
	// Built on first use: a logger with attributes costs memory that most
	// idle connections never need.
	if l := c.log.Load(); l != nil {
		return l
	}
	l := c.opts.Logger.With("station", c.id, "ocpp", c.version.String())
	c.log.Store(l)
	return l
}

// Close closes the connection with a websocket close code and reason.
func (c *Conn) Close(code int, reason string) error { return c.wire.close(code, reason) }

func (c *Conn) touch() { c.lastSeen.Store(time.Now().UnixNano()) }

// Call sends req to the peer and decodes its answer into resp. It returns an
// *Error when the peer answers with a CALLERROR, ErrTimeout, ErrQueueFull or
// ErrClosed. Without a deadline in ctx the call gets Options.CallTimeout.
func (c *Conn) Call(ctx context.Context, req Message, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("ocpp: encoding %s request: %w", req.Action(), err)
	}
	raw, err := c.CallRaw(ctx, req.Action(), payload)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("ocpp: decoding %s response: %w", req.Action(), decodeError(err))
	}
	return nil
}

// Call sends req on c and returns the peer's typed answer; the response type
// follows from the request type.
//
//	resp, err := ocpp.Call(ctx, conn, &v201.ResetRequest{Type: v201.ResetEnumImmediate})
func Call[Req Request[Resp], Resp any](ctx context.Context, c *Conn, req Req) (*Resp, error) {
	resp := req.NewResponse()
	if err := c.Call(ctx, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// CallAsync sends req like Call and hands the answer to done from another
// goroutine instead of waiting for it.
func CallAsync[Req Request[Resp], Resp any](ctx context.Context, c *Conn, req Req, done func(*Resp, error)) {
	go func() { done(Call(ctx, c, req)) }()
}

// CallRaw sends a CALL with an action and a JSON payload (which must be an
// object) and returns the raw CALLRESULT payload. In Strict and Lenient mode
// the payload and the answer are checked against the version's schemas.
func (c *Conn) CallRaw(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	mode := c.Validation()
	if err := checkOutgoing(c.version, mode, action, payload, false); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
	}
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	oc := &outCall{
		id:     id,
		action: action,
		frame:  appendCall(make([]byte, 0, len(payload)+len(action)+32), TypeCall, id, action, payload),
		turn:   make(chan struct{}),
		result: make(chan callOutcome, 1),
	}
	if err := c.enqueue(oc); err != nil {
		return nil, err
	}
	c.busy.Add(1)
	defer c.busy.Add(-1)

	select {
	case <-oc.turn:
	case <-ctx.Done():
		c.abandon(oc)
		return nil, ctxErr(ctx, action)
	}
	select {
	case out := <-oc.result: // the connection closed while the call waited
		return nil, out.err
	default:
	}
	if err := c.wire.writeText(oc.frame); err != nil {
		// A connection that cannot be written to is finished.
		c.abandon(oc)
		c.wire.close(closeInternal, "write failed")
		return nil, fmt.Errorf("%w: sending %s: %v", ErrClosed, action, err)
	}
	select {
	case out := <-oc.result:
		if out.err != nil {
			return nil, out.err
		}
		payload, err := checkIncoming(c.version, c.Validation(), action, out.payload, true)
		if err != nil {
			c.Logger().Warn("peer's answer breaks the schema", "action", action, "err", err)
			if c.version == V21 {
				c.write(appendError(nil, TypeCallResultError, id, err, c.version))
			}
			return nil, err
		}
		return payload, nil
	case <-ctx.Done():
		c.abandon(oc)
		return nil, ctxErr(ctx, action)
	}
}

// Send sends an OCPP 2.1 SEND: a message the peer does not answer.
func (c *Conn) Send(ctx context.Context, msg Message) error {
	if c.version != V21 {
		return fmt.Errorf("ocpp: SEND needs OCPP 2.1; this connection speaks %s", c.version)
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("ocpp: encoding %s: %w", msg.Action(), err)
	}
	if err := checkOutgoing(c.version, c.Validation(), msg.Action(), payload, false); err != nil {
		return err
	}
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	return c.wire.writeText(appendCall(nil, TypeSend, id, msg.Action(), payload))
}

// SendRaw writes frame exactly as given, as one text frame, with no framing
// or validation. It exists for simulators and tests that must send what a
// broken peer sends; an answer to it arrives like any unsolicited frame.
func (c *Conn) SendRaw(frame []byte) error { return c.wire.writeText(frame) }

func ctxErr(ctx context.Context, action string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%s)", ErrTimeout, action)
	}
	return ctx.Err()
}

// enqueue makes oc the call in flight if there is none, or queues it.
func (c *Conn) enqueue(oc *outCall) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.current == nil:
		c.current = oc
		close(oc.turn)
	case len(c.queue) >= c.opts.QueueSize:
		return ErrQueueFull
	default:
		c.queue = append(c.queue, oc)
	}
	return nil
}

// abandon takes oc out of the queue, or out of flight, letting the next call go.
func (c *Conn) abandon(oc *outCall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == oc {
		c.advanceLocked()
		return
	}
	for i, q := range c.queue {
		if q == oc {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return
		}
	}
}

// advanceLocked lets the oldest queued call go. c.mu must be held.
func (c *Conn) advanceLocked() {
	c.current = nil
	if len(c.queue) > 0 {
		c.current = c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		close(c.current.turn)
	}
}

// complete delivers the peer's answer to the call in flight if the ids match;
// a late answer (its call timed out) or an unknown one is dropped and logged.
func (c *Conn) complete(id string, payload json.RawMessage, cerr error) {
	c.mu.Lock()
	oc := c.current
	if oc == nil || oc.id != id {
		c.mu.Unlock()
		c.Logger().Warn("dropping an answer that matches no call in flight (late or unknown)", "id", id)
		return
	}
	c.advanceLocked()
	c.mu.Unlock()
	oc.result <- callOutcome{payload: payload, err: cerr}
}

// QueueLen returns how many of our calls wait behind the one in flight.
func (c *Conn) QueueLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// receive handles one text frame from the peer. The transport calls it from
// its read loop, so it must not block on handlers.
func (c *Conn) receive(data []byte) {
	c.touch()
	f, ferr := DecodeFrame(data)
	if ferr == nil && c.version != V21 && (f.Type == TypeSend || f.Type == TypeCallResultError) {
		ferr = frameErr(f.ID, f.Type, MessageTypeNotSupported, fmt.Sprintf("message type %d needs OCPP 2.1", f.Type))
	}
	if ferr != nil {
		c.badFrame(ferr, data)
		return
	}
	switch f.Type {
	case TypeCall, TypeSend:
		c.deliverIncoming(f)
	case TypeCallResult:
		c.complete(f.ID, f.Payload, nil)
	case TypeCallError:
		c.complete(f.ID, nil, f.Error)
	case TypeCallResultError:
		c.Logger().Warn("peer rejected our CALLRESULT", "id", f.ID, "code", f.Error.Code, "description", f.Error.Description)
	}
}

// badFrame answers a frame that did not decode. Answers (CALLRESULT,
// CALLERROR) are never answered, which could loop between two peers; a broken
// answer to our call in flight fails that call instead.
func (c *Conn) badFrame(ferr *FrameError, data []byte) {
	c.Logger().Warn("bad frame from peer", "reason", ferr.Reason, "code", ferr.Code, "frame", truncate(data, 200))
	switch ferr.Type {
	case TypeCallResult, TypeCallError, TypeCallResultError:
		if ferr.ID != unreadableID {
			c.complete(ferr.ID, nil, &Error{Code: ferr.Code, Description: "peer's answer is malformed: " + ferr.Reason})
		}
		return
	}
	c.write(appendError(nil, TypeCallError, ferr.ID, &Error{Code: ferr.Code, Description: ferr.Reason}, c.version))
}

// receiveBinary answers a binary frame: OCPP-J uses text frames only.
func (c *Conn) receiveBinary() {
	c.touch()
	c.Logger().Warn("binary frame from peer; OCPP-J uses text frames")
	c.write(appendError(nil, TypeCallError, unreadableID,
		NewError(RPCFrameworkError, "binary frames are not used by OCPP-J; send text frames"), c.version))
}

// deliverIncoming queues a CALL for the handler goroutine, starting it if idle.
func (c *Conn) deliverIncoming(f Frame) {
	c.inMu.Lock()
	if len(c.inbox) >= maxInbox {
		c.inMu.Unlock()
		c.write(appendError(nil, TypeCallError, f.ID, NewError(GenericError, "too many calls waiting; send one at a time"), c.version))
		return
	}
	c.inbox = append(c.inbox, f)
	start := !c.inRunning
	c.inRunning = true
	if start {
		c.busy.Add(1)
	}
	c.inMu.Unlock()
	if start {
		workers.run(c.serveInbox)
	}
}

// serveInbox handles queued CALLs in order and ends when the inbox is empty,
// so an idle connection holds no handler goroutine.
func (c *Conn) serveInbox() {
	defer c.busy.Add(-1)
	for {
		c.inMu.Lock()
		after := c.afterReply // registered while the previous CALL was handled, now answered
		c.afterReply = nil
		if len(c.inbox) == 0 {
			c.inRunning = false
			c.inbox = nil
			c.inMu.Unlock()
			c.runAfterReply(after)
			return
		}
		f := c.inbox[0]
		c.inbox = c.inbox[1:]
		c.inMu.Unlock()
		c.runAfterReply(after)
		c.serveCall(f)
	}
}

// AfterReply runs fn in its own goroutine once the answer to the peer's CALL
// being handled has been written, so that a handler can make CALLs of its own
// (a TriggerMessage after a BootNotification, say) that never overtake its
// CALLRESULT: a Call made inside the handler would go out first, and the
// handler's answer would wait for the peer's. When none of the peer's CALLs
// is being handled, fn starts at once; called from another goroutine while
// one is, fn waits for that answer too. Shutdown waits for fn like for a
// running handler.
func (c *Conn) AfterReply(fn func()) {
	c.inMu.Lock()
	if c.inRunning {
		c.afterReply = append(c.afterReply, fn)
		c.inMu.Unlock()
		return
	}
	c.inMu.Unlock()
	c.runAfterReply([]func(){fn})
}

func (c *Conn) runAfterReply(fns []func()) {
	for _, fn := range fns {
		c.busy.Add(1)
		go func() {
			defer c.busy.Add(-1)
			fn()
		}()
	}
}

// serveCall runs the handler for one CALL or SEND and writes the answer.
func (c *Conn) serveCall(f Frame) {
	payload, err := c.answer(f)
	if f.Type == TypeSend {
		if err != nil {
			c.Logger().Warn("SEND from peer failed", "action", f.Action, "err", err)
		}
		return
	}
	if err != nil {
		var oe *Error
		if !errors.As(err, &oe) {
			oe = &Error{Code: InternalError, Description: err.Error()}
		}
		c.write(appendError(nil, TypeCallError, f.ID, oe, c.version))
		return
	}
	c.write(appendResult(make([]byte, 0, len(payload)+len(f.ID)+8), f.ID, payload))
}

// answer validates the CALL, runs the handler and validates its response.
func (c *Conn) answer(f Frame) (json.RawMessage, error) {
	mode := c.Validation()
	request, verr := checkIncoming(c.version, mode, f.Action, f.Payload, false)
	if verr != nil {
		return nil, verr
	}
	f.Payload = request
	if c.handler == nil {
		return nil, NewError(NotSupported, "%s is not supported here", f.Action)
	}
	resp, err := c.runHandler(f)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(resp)
	if err != nil {
		c.Logger().Error("cannot encode handler's response", "action", f.Action, "err", err)
		return nil, NewError(InternalError, "response could not be encoded")
	}
	if err := checkOutgoing(c.version, mode, f.Action, payload, true); err != nil {
		c.Logger().Error("handler's response breaks the schema", "action", f.Action, "err", err)
		return nil, NewError(InternalError, "response failed schema validation: %s", err.Description)
	}
	return payload, nil
}

// runHandler calls the handler, turning a panic into InternalError.
func (c *Conn) runHandler(f Frame) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.Logger().Error("handler panicked", "action", f.Action, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, NewError(InternalError, "handler for %s failed", f.Action)
		}
	}()
	return c.handler.ServeOCPP(c.ctx, c, f.Action, f.Payload)
}

// write sends a frame we generated; a failed write closes the connection,
// which fails whatever waited on it.
func (c *Conn) write(frame []byte) {
	if err := c.wire.writeText(frame); err != nil {
		c.Logger().Debug("write failed; closing", "err", err)
		c.wire.close(closeInternal, "write failed")
	}
}

// terminate runs once, when the transport's read loop has ended: it fails
// every call waiting on the connection and tells the owner.
func (c *Conn) terminate(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if err == nil {
		err = ErrClosed
	}
	c.doneErr = err
	pending := c.queue
	if c.current != nil {
		pending = append(pending, c.current)
	}
	c.current, c.queue = nil, nil
	c.mu.Unlock()
	for _, oc := range pending {
		// The outcome goes first: a queued caller woken by its turn checks
		// for it before writing.
		oc.result <- callOutcome{err: fmt.Errorf("%w: %v", ErrClosed, err)}
		select {
		case <-oc.turn:
		default:
			close(oc.turn)
		}
	}
	c.cancel()
	close(c.done)
	if c.onClose != nil {
		c.onClose(c, err)
	}
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// Websocket close codes used here.
const (
	closeNormal      = 1000
	closeGoingAway   = 1001
	closePolicy      = 1008
	closeTooBig      = 1009
	closeInternal    = 1011
	closeNoHeartbeat = 1001
)
