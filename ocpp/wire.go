package ocpp

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wire is the websocket under a Conn. Keeping it this small lets the
// websocket stack change (a goroutine-per-connection one, or an event-driven
// one for lower memory per station) without touching the RPC logic.
//
// The transport feeds the Conn: receive for each text frame, receiveBinary
// for each binary frame, touch for each pong, and terminate once when the
// connection is gone.
type wire interface {
	// writeText sends one text frame; safe for concurrent use.
	writeText(data []byte) error
	// ping sends a websocket ping.
	ping() error
	// close sends a close frame with code and reason and closes the socket.
	close(code int, reason string) error
	remoteAddr() net.Addr
}

// gorillaWire is the wire on github.com/gorilla/websocket: one goroutine per
// connection reads; writes are serialised by a mutex.
type gorillaWire struct {
	ws           *websocket.Conn
	writeTimeout time.Duration
	mu           sync.Mutex
	closeOnce    sync.Once
}

func (g *gorillaWire) writeText(data []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ws.SetWriteDeadline(time.Now().Add(g.writeTimeout))
	return g.ws.WriteMessage(websocket.TextMessage, data)
}

func (g *gorillaWire) ping() error {
	return g.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(g.writeTimeout))
}

func (g *gorillaWire) close(code int, reason string) error {
	var err error
	g.closeOnce.Do(func() {
		if len(reason) > 120 { // a close frame's payload is at most 125 bytes
			reason = reason[:120]
		}
		g.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		err = g.ws.Close()
	})
	return err
}

func (g *gorillaWire) remoteAddr() net.Addr { return g.ws.RemoteAddr() }

// serveGorilla runs the read loop of c over ws until the connection ends.
func serveGorilla(ws *websocket.Conn, c *Conn) {
	ws.SetReadLimit(c.opts.MaxMessageSize)
	ws.SetPongHandler(func(string) error { c.touch(); return nil })
	ws.SetPingHandler(func(data string) error {
		c.touch()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	var err error
	for {
		var mt int
		var data []byte
		mt, data, err = ws.ReadMessage()
		if err != nil {
			break
		}
		if mt == websocket.BinaryMessage {
			c.receiveBinary()
			continue
		}
		c.receive(data)
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		c.Logger().Warn("frame larger than the limit; closed with 1009", "limit", c.opts.MaxMessageSize)
	}
	c.wire.close(closeNormal, "")
	c.terminate(err)
}
