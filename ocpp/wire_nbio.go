package ocpp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// Transport is the websocket implementation that serves a Server's
// connections. The zero value is the default, TransportNbio.
type Transport int

const (
	// TransportGorilla serves each connection with github.com/gorilla/websocket
	// and one reader goroutine per connection.
	TransportGorilla Transport = iota + 1
	// TransportNbio hands each plain-TCP connection, once upgraded, to an
	// event loop (github.com/lesismal/nbio): an idle connection has no
	// goroutine. TLS connections, and connections that are not a
	// *net.TCPConn (a wrapping net.Listener), stay on gorilla.
	TransportNbio
)

// defaultTransport is what a zero Server.Transport means. The tests switch
// it (OPENEV_OCPP_TRANSPORT) to run the whole suite on either transport.
var defaultTransport = TransportNbio

func (t Transport) String() string {
	switch t {
	case TransportGorilla:
		return "gorilla"
	case TransportNbio:
		return "nbio"
	}
	return "default"
}

// serverWire returns the wire for a station whose websocket gorilla has just
// upgraded, on s's transport: attach runs once the Conn exists and before
// Server.Connect, serve once the Conn is registered. On nbio, a connection
// that cannot be moved to the event loop stays on gorilla.
func (s *Server) serverWire(ws *websocket.Conn) (w wire, attach func(*Conn) error, serve func(*Conn)) {
	tr := s.Transport
	if tr == 0 {
		tr = defaultTransport
	}
	if tr == TransportNbio {
		if nw := s.nbioTransfer(ws); nw != nil {
			return nw, nw.attach, nw.serve
		}
	}
	return &gorillaWire{ws: ws, writeTimeout: s.opts.WriteTimeout},
		func(*Conn) error { return nil },
		func(c *Conn) { go serveGorilla(ws, c) }
}

// nbioServer is a Server's part of the event loop: the process's nbio engine
// and the Server's upgrader, whose handlers serve every connection.
type nbioServer struct {
	engine   *nbhttp.Engine
	upgrader *nbws.Upgrader
}

// nbioLoop returns s's part of the event loop, starting the engine on first use.
func (s *Server) nbioLoop() (*nbioServer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nbio != nil {
		return s.nbio, nil
	}
	if s.closing {
		return nil, errors.New("server is shutting down")
	}
	engine, err := nbioEngine()
	if err != nil {
		return nil, err
	}
	u := nbws.NewUpgrader()
	u.Engine = engine
	u.KeepaliveTime = 0 // our pinger keeps connections alive
	u.MessageLengthLimit = int(s.opts.MaxMessageSize)
	u.OnMessage(nbioOnMessage)
	u.SetPongHandler(func(ws *nbws.Conn, _ string) { ws.Session().(*nbioWire).c.touch() })
	u.SetPingHandler(nbioOnPing)
	u.SetCloseHandler(nbioOnCloseFrame)
	u.OnClose(nbioOnClose)
	s.nbio = &nbioServer{engine: engine, upgrader: u}
	return s.nbio, nil
}

// nbioMaxQueued bounds what waits in nbio for a station that does not read;
// past it the connection is closed (gorilla would block the writer instead).
// nbio writes a message in frames of at most 32 KiB, so this does not limit
// the size of a message.
const nbioMaxQueued = 4 << 20

var shared struct {
	once   sync.Once
	engine *nbhttp.Engine
	err    error
}

// nbioEngine returns the process's event loop: one nbio engine, started on
// first use and never stopped, shared by every Server (as net/http's servers
// share the runtime's poller). It has one poller goroutine per four CPUs.
func nbioEngine() (*nbhttp.Engine, error) {
	shared.once.Do(func() {
		if fmt.Sprintf("%T", logging.DefaultLogger) == "*logging.logger" { // nbio's own: stdout
			logging.SetLogger(nbioLogs{})
		}
		engine := nbhttp.NewEngine(nbhttp.Config{
			Name: "openev-ocpp",
			// Handlers only decode and queue a frame (Conn.receive never
			// blocks on a handler), so they run on the poller, not on a pool.
			ServerExecutor:     func(f func()) { f() },
			SupportServerOnly:  true,
			MaxWriteBufferSize: nbioMaxQueued,
		})
		// gorilla does not check that text frames are UTF-8; the JSON decoder
		// answers a broken frame with a CALLERROR instead of a close.
		engine.CheckUtf8 = func([]byte) bool { return true }
		if shared.err = engine.Start(); shared.err == nil {
			shared.engine = engine
		}
	})
	return shared.engine, shared.err
}

// nbioLogs keeps nbio from printing to stdout (its default): unless the
// program set a logger of its own for nbio (logging.SetLogger, global to the
// process), nbio's warnings and errors go to slog.Default() and its
// informational lines are dropped.
type nbioLogs struct{}

func (nbioLogs) Debug(string, ...any) {}
func (nbioLogs) Info(string, ...any)  {}
func (nbioLogs) Warn(format string, v ...any) {
	slog.Warn("nbio: " + fmt.Sprintf(format, v...))
}
func (nbioLogs) Error(format string, v ...any) {
	slog.Error("nbio: " + fmt.Sprintf(format, v...))
}

// nbioWire is the wire on nbio. Reads arrive as callbacks from the poller;
// writes never block: what the socket does not take is queued by nbio and
// written by the poller. A connection is closed when what is queued has not
// been written WriteTimeout after the last write, or when the queue exceeds
// nbioMaxQueued.
type nbioWire struct {
	ws           *nbws.Conn
	nbc          *nbio.Conn
	loop         *nbioServer
	c            *Conn
	writeTimeout time.Duration
	wmu          sync.Mutex // a deadline and its frame go together
	closeOnce    sync.Once
	closedByUs   atomic.Bool
	serving      atomic.Bool // set once serve has delivered what came before

	mu        sync.Mutex  // guards the fields below
	pending   []nbioFrame // frames read before serve
	gone      bool        // the connection closed before serve
	goneErr   error
	peerClose *websocket.CloseError // the peer's close frame, as gorilla reports it
}

type nbioFrame struct {
	binary bool
	data   []byte
}

// nbioTransfer moves the upgraded connection under ws to s's event loop. It
// returns nil, leaving ws untouched, when it cannot: TLS, a connection that
// is not a *net.TCPConn, or no free file descriptor for the move.
func (s *Server) nbioTransfer(ws *websocket.Conn) *nbioWire {
	tcp, ok := ws.NetConn().(*net.TCPConn)
	if !ok {
		return nil
	}
	loop, err := s.nbioLoop()
	if err != nil {
		return nil
	}
	// gorilla has read nothing past the handshake (it refuses a client that
	// sends before it), so the socket holds the stream from its first frame.
	// The descriptor is duplicated; tcp is closed only if that worked.
	nbc, err := nbioConn(tcp)
	if err != nil {
		return nil
	}
	w := &nbioWire{nbc: nbc, loop: loop, writeTimeout: s.opts.WriteTimeout}
	w.ws = nbws.NewServerConn(loop.upgrader, nbc, ws.Subprotocol(), false, false)
	w.ws.Engine = loop.engine
	w.ws.Execute = nbc.Execute // a connection's callbacks run one at a time, in order
	w.ws.SetSession(w)
	nbc.SetSession(w.ws)
	nbc.OnData(nbioOnData)
	return w
}

// attach starts reading. Frames that arrive before serve are kept, so that
// Server.Connect runs before the station's first frame is handled, as on
// gorilla; writes (Connect refusing the station, say) work from here on.
func (w *nbioWire) attach(c *Conn) error {
	w.c = c
	if err := w.loop.engine.AddTransferredConn(w.nbc); err != nil {
		c.Logger().Warn("cannot hand the connection to the event loop", "err", err)
		return err
	}
	return nil
}

// serve delivers the frames kept since attach, then lets the poller deliver.
// A connection that Connect refused is never served, so, as on gorilla, it
// ends without Conn.terminate.
func (w *nbioWire) serve(c *Conn) {
	for {
		w.mu.Lock()
		batch := w.pending
		w.pending = nil
		if len(batch) == 0 {
			w.serving.Store(true)
			gone, err := w.gone, w.goneErr
			w.mu.Unlock()
			if gone {
				w.finish(err)
			}
			return
		}
		w.mu.Unlock()
		for _, f := range batch {
			w.deliver(f.binary, f.data)
		}
	}
}

func (w *nbioWire) deliver(binary bool, data []byte) {
	if binary {
		w.c.receiveBinary()
		return
	}
	w.c.receive(data)
}

// keep holds a frame back until serve; it reports false once serving.
func (w *nbioWire) keep(binary bool, data []byte) bool {
	if w.serving.Load() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.serving.Load() {
		return false
	}
	w.pending = append(w.pending, nbioFrame{binary: binary, data: data})
	return true
}

// finish ends the Conn once the socket is gone, as serveGorilla's end does.
func (w *nbioWire) finish(err error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		w.c.Logger().Warn("frame larger than the limit; closed with 1009", "limit", w.c.opts.MaxMessageSize)
	}
	w.close(closeNormal, "")
	w.c.terminate(err)
}

func (w *nbioWire) writeText(data []byte) error {
	return w.write(nbws.TextMessage, data, w.writeTimeout)
}

func (w *nbioWire) ping() error {
	return w.write(nbws.PingMessage, nil, w.writeTimeout)
}

func (w *nbioWire) write(mt nbws.MessageType, data []byte, timeout time.Duration) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	// nbio clears the deadline once everything queued is written; if the
	// peer does not read, the deadline closes the connection.
	w.nbc.SetWriteDeadline(time.Now().Add(timeout))
	return w.ws.WriteMessage(mt, data)
}

func (w *nbioWire) close(code int, reason string) error {
	var err error
	w.closeOnce.Do(func() {
		w.closedByUs.Store(true)
		if len(reason) > 120 { // a close frame's payload is at most 125 bytes
			reason = reason[:120]
		}
		w.write(nbws.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Second)
		err = nbioShutdown(w.nbc)
	})
	return err
}

func (w *nbioWire) remoteAddr() net.Addr { return w.nbc.RemoteAddr() }

// nbioOnData parses what the poller read from a transferred connection.
func nbioOnData(nbc *nbio.Conn, data []byte) {
	ws, ok := nbc.Session().(*nbws.Conn)
	if !ok {
		nbc.Close()
		return
	}
	if err := ws.Parse(data); err != nil {
		nbc.CloseWithError(err)
	}
}

func nbioOnMessage(ws *nbws.Conn, mt nbws.MessageType, data []byte) {
	w := ws.Session().(*nbioWire)
	binary := mt == nbws.BinaryMessage
	if w.keep(binary, data) {
		return
	}
	w.deliver(binary, data)
}

// nbioOnPing answers the peer's ping as gorilla does.
func nbioOnPing(ws *nbws.Conn, data string) {
	w := ws.Session().(*nbioWire)
	w.c.touch()
	w.write(nbws.PongMessage, []byte(data), w.writeTimeout)
}

// nbioOnCloseFrame answers the peer's close frame as gorilla's default close
// handler does (its code, no reason); nbio then closes the socket.
func nbioOnCloseFrame(ws *nbws.Conn, code int, text string) {
	w := ws.Session().(*nbioWire)
	w.mu.Lock()
	w.peerClose = &websocket.CloseError{Code: code, Text: text}
	w.mu.Unlock()
	w.write(nbws.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Second)
}

// nbioOnClose runs once when a connection is gone. The error is made the one
// gorilla's read loop would have ended with, so Disconnect and Conn.Err see
// the same on both transports.
func nbioOnClose(ws *nbws.Conn, err error) {
	w, ok := ws.Session().(*nbioWire)
	if !ok {
		return
	}
	w.mu.Lock()
	switch {
	case w.peerClose != nil:
		err = w.peerClose
	case errors.Is(err, nbws.ErrMessageTooLarge), errors.Is(err, nbws.ErrControlMessageTooBig):
		err = websocket.ErrReadLimit
	case w.closedByUs.Load():
		err = &net.OpError{Op: "read", Net: "tcp", Addr: w.nbc.RemoteAddr(), Err: net.ErrClosed}
	case err == nil, errors.Is(err, io.EOF):
		err = &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}
	}
	if !w.serving.Load() {
		w.gone, w.goneErr = true, err
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	// Disconnect is the application's code: not on the poller.
	go w.finish(err)
}
