package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// bareNbioServer is the floor of openev's default transport: nbio's own
// HTTP engine and websocket upgrader, one poller goroutine for every
// connection, answering each CALL with the canned CALLRESULT of bareServer
// right on the poller. No OCPP library, no handler goroutine: openev's
// figures above it are the cost of the ocpp package, including the handoff
// of each CALL to a goroutine where a handler may block. Like openev's nbio
// wire, it does not check that text frames are UTF-8 (CheckUtf8 is off).
type bareNbioServer struct {
	n      atomic.Int64
	engine *nbhttp.Engine
}

func (b *bareNbioServer) len() int { return int(b.n.Load()) }

// start serves on a free port of 127.0.0.1 and returns it.
func (b *bareNbioServer) start() (int, error) {
	// nbio listens itself; take a free port from the kernel first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	logging.SetLevel(logging.LevelNone) // nbio logs to stdout, where the bench reads our answers
	u := nbws.NewUpgrader()
	u.Subprotocols = []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}
	u.CheckOrigin = func(*http.Request) bool { return true }
	u.KeepaliveTime = 0
	u.OnOpen(func(*nbws.Conn) { b.n.Add(1) })
	u.OnClose(func(*nbws.Conn, error) { b.n.Add(-1) })
	u.OnMessage(func(ws *nbws.Conn, _ nbws.MessageType, msg []byte) {
		_, id, ok := parseAnswer(msg) // a CALL starts like an answer: [2,"id",
		if !ok {
			return
		}
		out := make([]byte, 0, 96)
		out = append(out, `[3,"`...)
		out = append(out, id...)
		out = append(out, `",{"currentTime":"`...)
		out = time.Now().UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
		if !bytes.Contains(msg, []byte(`"Heartbeat"`)) {
			out = append(out, `","interval":300,"status":"Accepted`...)
		}
		out = append(out, `"}]`...)
		_ = ws.WriteMessage(nbws.TextMessage, out)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/ocpp/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = u.Upgrade(w, r, nil)
	})
	b.engine = nbhttp.NewEngine(nbhttp.Config{
		Network:           "tcp",
		Addrs:             []string{fmt.Sprintf("127.0.0.1:%d", port)},
		Handler:           mux,
		ServerExecutor:    func(f func()) { f() }, // as openev: callbacks on the poller
		SupportServerOnly: true,
	})
	b.engine.CheckUtf8 = func([]byte) bool { return true }
	if err := b.engine.Start(); err != nil {
		return 0, err
	}
	return port, nil
}
