package main

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// bareServer is the floor the OCPP servers are measured against: gorilla
// websocket, configured as ocpp.Server configures it, with one reader
// goroutine per connection that answers every CALL with a canned CALLRESULT.
// No OCPP library, no decoding, no validation: what remains of openev's
// figures above it is the cost of the ocpp package.
type bareServer struct {
	n        atomic.Int64
	upgrader websocket.Upgrader
	once     sync.Once
}

func (b *bareServer) len() int { return int(b.n.Load()) }

func (b *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.once.Do(func() {
		b.upgrader = websocket.Upgrader{
			CheckOrigin:     func(*http.Request) bool { return true },
			Subprotocols:    []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"},
			WriteBufferPool: &sync.Pool{},
			ReadBufferSize:  512,
		}
	})
	ws, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	b.n.Add(1)
	go b.serve(ws)
}

// serve answers the connection's CALLs until it ends.
func (b *bareServer) serve(ws *websocket.Conn) {
	defer b.n.Add(-1)
	defer ws.Close()
	var out []byte
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		_, id, ok := parseAnswer(msg) // a CALL starts like an answer: [2,"id",
		if !ok {
			continue
		}
		out = append(out[:0], `[3,"`...)
		out = append(out, id...)
		out = append(out, `",{"currentTime":"`...)
		out = time.Now().UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
		if !bytes.Contains(msg, []byte(`"Heartbeat"`)) {
			out = append(out, `","interval":300,"status":"Accepted`...)
		}
		out = append(out, `"}]`...)
		if err := ws.WriteMessage(websocket.TextMessage, out); err != nil {
			return
		}
	}
}
