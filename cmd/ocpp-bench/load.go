package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The load generator: N stations, each a bare websocket client that sends
// Heartbeat CALLs and matches the CALLRESULTs by message id. It shares the
// machine's CPUs with the server under test, so it does as little as it can:
// one reader goroutine per station, frames built in per-station buffers, no
// JSON decoding (only the message type and id of an answer are read).

// loadGen drives the stations of one server under test.
type loadGen struct {
	url      func(identity string) string
	protocol string

	mu       sync.Mutex
	stations []*station // connected, in connection order

	cur       atomic.Pointer[phase] // the phase new calls belong to
	completed atomic.Int64          // answers received, all phases together
	closing   atomic.Bool           // set before we close the stations ourselves
	lost      atomic.Int64          // stations whose connection dropped while in use
	unmatched atomic.Int64          // answers that match no call we sent
	firstErr  onceError             // first connection or protocol problem seen
}

// phase groups calls for counting: latencies and outcomes are attributed to
// the phase a call was sent in.
type phase struct {
	closed     bool        // closed loop: each answer makes its station send the next call
	stop       atomic.Bool // closed loop: send no more
	rec        recorder
	sent       atomic.Int64
	answered   atomic.Int64
	callErrors atomic.Int64 // CALLERROR answers
	errSample  onceError
}

// settled reports whether every call of the phase has been answered.
func (p *phase) settled() bool {
	return p.sent.Load() == p.answered.Load()+p.callErrors.Load()
}

// unanswered is the number of calls without an answer, after a drain: timeouts.
func (p *phase) unanswered() int64 {
	return p.sent.Load() - p.answered.Load() - p.callErrors.Load()
}

// station is one simulated charging station.
type station struct {
	g  *loadGen
	id string
	ws *websocket.Conn

	wmu   sync.Mutex // one writer at a time; guards seq and frame
	seq   uint64
	frame []byte

	pmu     sync.Mutex
	pending []pendingCall // calls sent and not yet answered, oldest first
}

type pendingCall struct {
	seq  uint64
	sent time.Time
	ph   *phase
}

// maxPending bounds a station's unanswered calls; older ones are forgotten
// (and stay counted as unanswered in their phase).
const maxPending = 64

// connectConcurrency bounds the websocket handshakes in progress at once.
const connectConcurrency = 256

// sourceIPs spreads the stations' source addresses over 127.0.0.2 ...
// 127.0.0.(1+sourceIPs): each address has its own ~28 000 ephemeral ports,
// so back-to-back runs of 10 000 stations (plus their TIME_WAIT sockets)
// never run short.
const sourceIPs = 8

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h): bind the
// source address now but choose the port at connect time, by the whole
// 4-tuple, instead of reserving a port per source address at bind time.
const ipBindAddressNoPort = 24

func newLoadGen(url func(string) string, protocol string) *loadGen {
	g := &loadGen{url: url, protocol: protocol}
	g.cur.Store(&phase{}) // calls before the first phase (none) land here
	return g
}

// connected returns the number of stations connected.
func (g *loadGen) connected() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.stations)
}

// connectResult is how the connect phase went.
type connectResult struct {
	Connected int
	Failed    int
	FirstErr  error
	Elapsed   time.Duration
}

// connect opens n stations, starting at most ramp per second (0: as fast as
// the server accepts them), each sending one BootNotification and waiting for
// its answer before it counts as connected. progress is called about once a
// second. A "too many open files" failure stops the phase at once.
func (g *loadGen) connect(ctx context.Context, n int, ramp float64, progress func(connected, failed int)) connectResult {
	var next atomic.Uint64
	netDialer := &net.Dialer{Timeout: 30 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
		})
		return errors.Join(err, serr)
	}}
	dialer := &websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := *netDialer
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+next.Add(1)%sourceIPs))}
			return d.DialContext(ctx, network, addr)
		},
		HandshakeTimeout: 30 * time.Second,
		Subprotocols:     []string{g.protocol},
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var failed atomic.Int64
	var firstErr onceError
	sem := make(chan struct{}, connectConcurrency)
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := every(time.Second, func() { progress(g.connected(), int(failed.Load())) })
	for i := range n {
		if ramp > 0 {
			sleepUntil(ctx, start.Add(time.Duration(float64(i)/ramp*float64(time.Second))))
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			failed.Add(int64(n - i))
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			st, err := g.dial(ctx, dialer, fmt.Sprintf("bench%05d", i))
			if err != nil {
				failed.Add(1)
				firstErr.set(err)
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.EADDRNOTAVAIL) {
					cancel() // every further dial would fail the same way
				}
				return
			}
			g.mu.Lock()
			g.stations = append(g.stations, st)
			g.mu.Unlock()
			go st.readLoop()
		}()
	}
	wg.Wait()
	stopProgress()
	return connectResult{Connected: g.connected(), Failed: int(failed.Load()), FirstErr: firstErr.get(), Elapsed: time.Since(start)}
}

// dial opens one station and boots it: a BootNotification, answered before
// the station takes part in the load.
func (g *loadGen) dial(ctx context.Context, d *websocket.Dialer, id string) (*station, error) {
	ws, resp, err := d.DialContext(ctx, g.url(id), nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("station %s: websocket handshake refused with HTTP %s", id, resp.Status)
		}
		return nil, fmt.Errorf("station %s: %w", id, err)
	}
	if ws.Subprotocol() != g.protocol {
		ws.Close()
		return nil, fmt.Errorf("station %s: server chose subprotocol %q, not %q", id, ws.Subprotocol(), g.protocol)
	}
	fail := func(err error) (*station, error) {
		ws.Close()
		return nil, fmt.Errorf("station %s: BootNotification: %w", id, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, bootFrame(g.protocol)); err != nil {
		return fail(err)
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return fail(err)
	}
	if typ, mid, ok := parseAnswer(msg); !ok || typ != '3' || string(mid) != "boot" {
		return fail(fmt.Errorf("unexpected answer %.200s", msg))
	}
	ws.SetReadDeadline(time.Time{})
	return &station{g: g, id: id, ws: ws, frame: make([]byte, 0, 64)}, nil
}

// bootFrame is a schema-valid BootNotification CALL for the protocol.
func bootFrame(protocol string) []byte {
	if protocol == "ocpp1.6" {
		return []byte(`[2,"boot","BootNotification",{"chargePointVendor":"openev","chargePointModel":"bench"}]`)
	}
	return []byte(`[2,"boot","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"bench","vendorName":"openev"}}]`)
}

// send sends one Heartbeat CALL, counted in phase ph.
func (s *station) send(ph *phase) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	s.frame = appendHeartbeat(s.frame[:0], s.seq)
	s.pmu.Lock()
	if len(s.pending) == maxPending {
		s.pending = append(s.pending[:0], s.pending[1:]...)
	}
	// Stamped before the write: the answer may arrive before Write returns.
	s.pending = append(s.pending, pendingCall{seq: s.seq, sent: time.Now(), ph: ph})
	s.pmu.Unlock()
	ph.sent.Add(1)
	return s.ws.WriteMessage(websocket.TextMessage, s.frame)
}

// appendHeartbeat appends [2,"<seq>","Heartbeat",{}].
func appendHeartbeat(b []byte, seq uint64) []byte {
	b = append(b, `[2,"`...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, `","Heartbeat",{}]`...)
}

// take removes and returns the pending call with that sequence number.
func (s *station) take(seq uint64) (pendingCall, bool) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for i, pc := range s.pending {
		if pc.seq == seq {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return pc, true
		}
	}
	return pendingCall{}, false
}

// readLoop receives the station's frames until its connection ends.
func (s *station) readLoop() {
	buf := make([]byte, 0, 256)
	for {
		_, r, err := s.ws.NextReader()
		if err == nil {
			buf, err = readInto(buf[:0], r)
		}
		if err != nil {
			if !s.g.closing.Load() {
				s.g.lost.Add(1)
				s.g.firstErr.set(fmt.Errorf("station %s: connection lost: %w", s.id, err))
			}
			return
		}
		at := time.Now()
		typ, mid, ok := parseAnswer(buf)
		seq, err := strconv.ParseUint(string(mid), 10, 64)
		if !ok || err != nil || (typ != '3' && typ != '4') {
			s.g.unmatched.Add(1)
			s.g.firstErr.set(fmt.Errorf("station %s: unexpected frame %.200s", s.id, buf))
			continue
		}
		pc, found := s.take(seq)
		if !found {
			s.g.unmatched.Add(1) // an answer after its call was forgotten
			continue
		}
		s.g.completed.Add(1)
		if typ == '3' {
			pc.ph.answered.Add(1)
			pc.ph.rec.add(at.Sub(pc.sent))
		} else {
			pc.ph.callErrors.Add(1)
			pc.ph.errSample.set(fmt.Errorf("station %s: CALLERROR %.200s", s.id, buf))
		}
		if cur := s.g.cur.Load(); cur.closed && !cur.stop.Load() {
			if err := s.send(cur); err != nil {
				s.g.firstErr.set(fmt.Errorf("station %s: send: %w", s.id, err))
			}
		}
	}
}

// readInto appends all of r to buf, reusing buf's capacity.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// parseAnswer reads the message type digit and the message id of an OCPP-J
// frame such as [3,"17",{...}], without decoding the rest.
func parseAnswer(f []byte) (typ byte, id []byte, ok bool) {
	f = bytes.TrimLeft(f, " \t\r\n")
	if len(f) == 0 || f[0] != '[' {
		return 0, nil, false
	}
	f = bytes.TrimLeft(f[1:], " \t\r\n")
	if len(f) < 2 || f[0] < '0' || f[0] > '9' {
		return 0, nil, false
	}
	typ, f = f[0], bytes.TrimLeft(f[1:], " \t\r\n")
	if len(f) == 0 || f[0] != ',' {
		return 0, nil, false
	}
	f = bytes.TrimLeft(f[1:], " \t\r\n")
	if len(f) == 0 || f[0] != '"' {
		return 0, nil, false
	}
	end := bytes.IndexByte(f[1:], '"')
	if end < 0 {
		return 0, nil, false
	}
	return typ, f[1 : 1+end], true
}

// closedLoop starts a closed loop on the first conc stations: each sends a
// call, and every answer makes its station send the next, until the current
// phase is stopped or is not a closed-loop one. It returns the phase.
func (g *loadGen) closedLoop(conc int) *phase {
	ph := &phase{closed: true}
	g.cur.Store(ph)
	g.mu.Lock()
	sts := g.stations[:min(conc, len(g.stations))]
	g.mu.Unlock()
	for _, st := range sts {
		if err := st.send(ph); err != nil {
			g.firstErr.set(fmt.Errorf("station %s: send: %w", st.id, err))
		}
	}
	return ph
}

// continueClosedLoop makes later calls of a running closed loop count in a
// new phase (to leave a warm-up out of the figures).
func (g *loadGen) continueClosedLoop() *phase {
	ph := &phase{closed: true}
	g.cur.Store(ph)
	return ph
}

// stopClosedLoop stops the closed loop of ph: stations send no more calls.
func (g *loadGen) stopClosedLoop(ph *phase) {
	ph.stop.Store(true)
	g.cur.Store(&phase{})
}

// openLoop sends rate calls per second for d, round-robin over all stations,
// whatever the answers do. Go's timers fire about once a millisecond at best,
// so each tick sends the calls that have come due since the last one (five
// per tick at 5 000/s). It returns the phase and how long sending took.
func (g *loadGen) openLoop(ctx context.Context, rate float64, d time.Duration, progress func(ph *phase, elapsed time.Duration)) (*phase, time.Duration) {
	ph := &phase{}
	g.cur.Store(ph)
	g.mu.Lock()
	sts := g.stations
	g.mu.Unlock()
	if len(sts) == 0 {
		return ph, 0
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	lastProgress := start
	i := 0
	for ctx.Err() == nil {
		now := <-t.C
		elapsed := now.Sub(start)
		if elapsed >= d {
			elapsed = d
		}
		for due := int(elapsed.Seconds() * rate); i < due; i++ {
			st := sts[i%len(sts)]
			if err := st.send(ph); err != nil {
				g.firstErr.set(fmt.Errorf("station %s: send: %w", st.id, err))
			}
		}
		if now.Sub(lastProgress) >= time.Second {
			progress(ph, elapsed)
			lastProgress = now
		}
		if elapsed >= d {
			break
		}
	}
	return ph, time.Since(start)
}

// drain waits until every call of the phases is answered, or until timeout.
func drain(ctx context.Context, timeout time.Duration, phases ...*phase) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		settled := true
		for _, ph := range phases {
			settled = settled && ph.settled()
		}
		if settled {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closeAll closes every station's socket without a close handshake: the
// server under test is about to be stopped anyway.
func (g *loadGen) closeAll() {
	g.closing.Store(true)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.stations {
		st.ws.NetConn().Close()
	}
}

// onceError keeps the first error set.
type onceError struct {
	mu  sync.Mutex
	err error
}

func (o *onceError) set(err error) {
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
}

func (o *onceError) get() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// sleepUntil sleeps until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// every calls f every interval in a goroutine until the returned stop is called.
func every(interval time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
