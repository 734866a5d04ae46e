package ocpp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// transportEnv chooses the transport a zero Server.Transport means in this
// test binary, so the whole suite runs on either: gorilla or nbio.
const transportEnv = "OPENEV_OCPP_TRANSPORT"

func TestMain(m *testing.M) {
	switch v := os.Getenv(transportEnv); v {
	case "":
	case "gorilla":
		defaultTransport = TransportGorilla
	case "nbio":
		defaultTransport = TransportNbio
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: want gorilla or nbio\n", transportEnv, v)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// The suite runs on the default transport; this runs all of it once more, in
// a child process, on the other one.
func TestWholeSuiteOnTheOtherTransport(t *testing.T) {
	if os.Getenv(transportEnv) != "" {
		t.Skip("this is the child run")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	other := TransportGorilla
	if defaultTransport == TransportGorilla {
		other = TransportNbio
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), transportEnv+"="+other.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("suite on %s failed: %v\n%s", other, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("suite on %s: %s", other, lines[len(lines)-1])
}

// wireOf returns the transport serving the station's connection.
func wireOf(t *testing.T, srv *Server, id string) wire {
	t.Helper()
	waitFor(t, "registered "+id, func() bool { _, ok := srv.Conn(id); return ok })
	c, _ := srv.Conn(id)
	return c.wire
}

func TestTransportOptionSelectsTheWire(t *testing.T) {
	for _, tr := range []Transport{TransportGorilla, TransportNbio} {
		t.Run(tr.String(), func(t *testing.T) {
			srv := &Server{Handler: heartbeatRouter(), Transport: tr}
			base, _ := startServer(t, srv)
			c := dial(t, base, "CS1", nil, nil)
			if _, err := c.CallRaw(context.Background(), "Heartbeat", json.RawMessage(`{}`)); err != nil {
				t.Fatal(err)
			}
			switch w := wireOf(t, srv, "CS1"); tr {
			case TransportGorilla:
				if _, ok := w.(*gorillaWire); !ok {
					t.Fatalf("wire %T", w)
				}
			case TransportNbio:
				if _, ok := w.(*nbioWire); !ok {
					t.Fatalf("wire %T", w)
				}
			}
		})
	}
}

// The point of nbio: an idle station holds no goroutine of its own.
func TestNbioIdleStationsHoldNoGoroutine(t *testing.T) {
	const n = 50
	srv := &Server{Handler: heartbeatRouter(), Transport: TransportNbio}
	base, _ := startServer(t, srv)
	dial(t, base, "warm-up", nil, nil) // starts the event loop and the pinger
	waitFor(t, "warm-up", func() bool { return srv.Len() == 1 })
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := range n { // dialRaw keeps each client open until the test ends
		rc := dialRaw(t, base+fmt.Sprintf("/CS%d", i), "ocpp2.0.1")
		rc.send(`[2,"1","Heartbeat",{}]`)
		rc.next()
	}
	waitFor(t, "all registered", func() bool { return srv.Len() == n+1 })
	var after int
	waitFor(t, "handler goroutines gone", func() bool {
		after = runtime.NumGoroutine()
		return after-before < n/5
	})
	t.Logf("%d idle stations: %+d goroutines", n, after-before)
}

// TLS stays on gorilla (nbio can move only a plain *net.TCPConn, or its own
// TLS connection, to its event loop).
func TestNbioLeavesTLSOnGorilla(t *testing.T) {
	pki := newTestPKI(t)
	srv := &Server{Handler: heartbeatRouter(), Transport: TransportNbio, Options: Options{Logger: quietLogger}}
	hs := httptest.NewUnstartedServer(srv)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	hs.StartTLS()
	t.Cleanup(func() { srv.Shutdown(context.Background()); hs.Close() })
	d := &Dialer{Options: Options{Logger: quietLogger}, TLSConfig: &tls.Config{RootCAs: pki.pool}}
	c, err := d.Dial(context.Background(), "wss"+strings.TrimPrefix(hs.URL, "https")+"/ocpp", "CS1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(closeNormal, "")
	if _, err := c.CallRaw(context.Background(), "Heartbeat", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if w := wireOf(t, srv, "CS1"); fmt.Sprintf("%T", w) != "*ocpp.gorillaWire" {
		t.Fatalf("TLS connection served by %T", w)
	}
}

// Frames a station sends right after the handshake wait for Connect, and
// arrive in order.
func TestFramesWaitForConnectOnBothTransports(t *testing.T) {
	for _, tr := range []Transport{TransportGorilla, TransportNbio} {
		t.Run(tr.String(), func(t *testing.T) {
			var connected atomic.Bool
			var early atomic.Int32
			r := NewRouter()
			HandleRaw(r, V201, "Heartbeat", func(ctx context.Context, c *Conn, a string, p json.RawMessage) (any, error) {
				if !connected.Load() {
					early.Add(1)
				}
				return map[string]string{"currentTime": "2026-01-01T00:00:00Z"}, nil
			})
			srv := &Server{Transport: tr, Connect: func(c *Conn) (Handler, error) {
				time.Sleep(100 * time.Millisecond)
				connected.Store(true)
				return r, nil
			}}
			base, _ := startServer(t, srv)
			rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
			for i := range 5 {
				rc.send(fmt.Sprintf(`[2,"%d","Heartbeat",{}]`, i))
			}
			for i := range 5 {
				if f := rc.next(); f[0] != float64(3) || f[1] != fmt.Sprint(i) {
					t.Fatalf("answer %d: %v", i, f)
				}
			}
			if early.Load() != 0 {
				t.Fatalf("%d frames handled before Connect returned", early.Load())
			}
		})
	}
}

// What Disconnect receives, and what a refused station sees, is the same on
// both transports.
func TestCloseSemanticsMatchAcrossTransports(t *testing.T) {
	for _, tr := range []Transport{TransportGorilla, TransportNbio} {
		t.Run(tr.String(), func(t *testing.T) {
			gone := make(chan error, 4)
			srv := &Server{Handler: heartbeatRouter(), Transport: tr,
				Connect: func(c *Conn) (Handler, error) {
					if c.ID() == "REFUSED" {
						return nil, errors.New("not today")
					}
					return nil, nil
				},
				Disconnect: func(c *Conn, err error) { gone <- err },
			}
			base, _ := startServer(t, srv)

			// The station closes with a code: Disconnect gets gorilla's CloseError.
			rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
			waitFor(t, "registered", func() bool { return srv.Len() == 1 })
			rc.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"))
			var ce *websocket.CloseError
			if err := <-gone; !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "bye" {
				t.Fatalf("station's close: Disconnect got %v", err)
			}
			// The server answered with the same code.
			rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := rc.ws.ReadMessage(); !websocket.IsCloseError(err, 4001) {
				t.Fatalf("server's answer to the close: %v", err)
			}

			// The station vanishes: 1006.
			rc = dialRaw(t, base+"/CS2", "ocpp2.0.1")
			waitFor(t, "registered", func() bool { return srv.Len() == 1 })
			rc.ws.UnderlyingConn().Close()
			if err := <-gone; !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
				t.Fatalf("vanished station: Disconnect got %v", err)
			}

			// Connect refuses: close 1008 with the reason, and no Disconnect.
			rc = dialRaw(t, base+"/REFUSED", "ocpp2.0.1")
			rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := rc.ws.ReadMessage()
			if !errors.As(err, &ce) || ce.Code != closePolicy || ce.Text != "not today" {
				t.Fatalf("refused station: %v", err)
			}
			select {
			case err := <-gone:
				t.Fatalf("Disconnect ran for a refused station: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

// The station's pings are answered and count as a sign of life; text that
// is not UTF-8 is answered like any undecodable frame, not with a close.
func TestPeerPingsAndBrokenTextOnBothTransports(t *testing.T) {
	for _, tr := range []Transport{TransportGorilla, TransportNbio} {
		t.Run(tr.String(), func(t *testing.T) {
			srv := &Server{Handler: heartbeatRouter(), Transport: tr}
			base, _ := startServer(t, srv)
			rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
			sc, _ := srv.Conn("CS1")
			waitFor(t, "registered", func() bool { sc, _ = srv.Conn("CS1"); return sc != nil })
			sc.lastSeen.Store(0)
			pong := make(chan string, 1)
			rc.ws.SetPongHandler(func(s string) error { pong <- s; return nil })
			if err := rc.ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			go rc.ws.ReadMessage() // gorilla's client sees pongs while reading
			select {
			case s := <-pong:
				if s != "are you there" {
					t.Fatalf("pong carried %q", s)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no pong")
			}
			if sc.lastSeen.Load() == 0 {
				t.Fatal("the ping did not count as a sign of life")
			}

			rc2 := dialRaw(t, base+"/CS2", "ocpp2.0.1")
			rc2.send("[2,\"1\",\"Heartbeat\",{\"x\":\"\xff\xfe\"}]")
			f := rc2.next()
			if f[0] != float64(4) && f[0] != float64(3) {
				t.Fatalf("broken UTF-8: %v", f)
			}
			rc2.send(`[2,"2","Heartbeat",{}]`)
			if f := rc2.next(); f[0] != float64(3) || f[1] != "2" {
				t.Fatalf("after broken UTF-8: %v", f)
			}
		})
	}
}

// A station that stops reading while we keep writing to it is dropped on
// nbio too, which never blocks a writer but queues, up to a bound.
func TestNbioDropsAStationThatDoesNotRead(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter(), Transport: TransportNbio,
		Options: Options{WriteTimeout: 200 * time.Millisecond, Validation: Off}}
	base, _ := startServer(t, srv)
	dialRaw(t, base+"/CS1", "ocpp2.0.1") // never reads
	waitFor(t, "registered", func() bool { return srv.Len() == 1 })
	sc, _ := srv.Conn("CS1")
	big := make([]byte, 0, 60<<10)
	big = append(big, `[2,"x","DataTransfer",{"vendorId":"`...)
	big = append(big, strings.Repeat("y", 60<<10-64)...)
	big = append(big, `"}]`...)
	deadline := time.Now().Add(10 * time.Second)
	for sc.Err() == nil && time.Now().Before(deadline) {
		sc.SendRaw(big)
		time.Sleep(time.Millisecond)
	}
	select {
	case <-sc.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a station that does not read was never dropped")
	}
}
