package ocpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Dialer opens station-side OCPP-J connections to a CSMS. The zero value
// offers OCPP 2.0.1 with default Options. A Dialer may be shared by many
// stations (the simulator does): one goroutine pings all of their connections.
type Dialer struct {
	// Versions are offered in this order of preference. Default [V201].
	Versions []Version
	// Password, when set, is sent as HTTP Basic auth with the station
	// identity as user name (security profiles 1 and 2).
	Password string
	// TLSConfig is used for wss:// URLs (client certificates for profile 3).
	TLSConfig *tls.Config
	// Header holds extra HTTP headers for the upgrade request.
	Header http.Header
	// NetDialContext, when set, opens the TCP connection (for example to bind
	// a source address when one address runs out of ports).
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout bounds the websocket handshake. Default 10s.
	HandshakeTimeout time.Duration
	// Options tune each connection.
	Options Options

	once   sync.Once
	opts   Options
	pinger *pinger
}

func (d *Dialer) init() {
	d.once.Do(func() {
		d.opts = d.Options.withDefaults()
		if len(d.Versions) == 0 {
			d.Versions = []Version{V201}
		}
		if d.HandshakeTimeout <= 0 {
			d.HandshakeTimeout = 10 * time.Second
		}
		d.pinger = newPinger(&d.opts)
	})
}

// Dial connects the station identity to the CSMS endpoint serverURL (the
// identity is appended as the last path segment) and returns the open
// connection. h answers the CSMS's CALLs; nil answers them all NotSupported.
func (d *Dialer) Dial(ctx context.Context, serverURL, identity string, h Handler) (*Conn, error) {
	d.init()
	target := strings.TrimSuffix(serverURL, "/") + "/" + url.PathEscape(identity)
	offered := make([]string, len(d.Versions))
	for i, v := range d.Versions {
		offered[i] = v.Subprotocol()
	}
	wd := websocket.Dialer{
		Subprotocols:     offered,
		TLSClientConfig:  d.TLSConfig,
		NetDialContext:   d.NetDialContext,
		HandshakeTimeout: d.HandshakeTimeout,
		WriteBufferPool:  &sync.Pool{},
		// As on the server: a small read buffer keeps an idle station cheap
		// (the simulator runs tens of thousands); larger frames are read in pieces.
		ReadBufferSize: 512,
		Proxy:          http.ProxyFromEnvironment,
	}
	header := d.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if d.Password != "" {
		req := http.Request{Header: header}
		req.SetBasicAuth(identity, d.Password)
	}
	ws, resp, err := wd.DialContext(ctx, target, header)
	if err != nil {
		if resp != nil {
			return nil, &DialError{URL: target, Status: resp.StatusCode, Err: err}
		}
		return nil, &DialError{URL: target, Err: err}
	}
	version, ok := ParseSubprotocol(ws.Subprotocol())
	if !ok {
		// The server chose no subprotocol; speak our first choice.
		version = d.Versions[0]
	}
	w := &gorillaWire{ws: ws, writeTimeout: d.opts.WriteTimeout}
	c := newConn(identity, version, h, &d.opts, w)
	c.onClose = func(c *Conn, _ error) { d.pinger.remove(c) }
	d.pinger.add(c)
	go serveGorilla(ws, c)
	return c, nil
}

// DialError says why a connection to a CSMS could not be opened.
type DialError struct {
	URL    string
	Status int // HTTP status of a refused upgrade, 0 if there was none
	Err    error
}

func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("ocpp: connecting to %s: server answered HTTP %d (%v)", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("ocpp: connecting to %s: %v", e.URL, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Station keeps one station's connection to a CSMS open: it dials, and when
// the connection drops it dials again after a backoff that grows to
// MaxBackoff, with jitter so that a fleet does not reconnect in lockstep.
type Station struct {
	// URL is the CSMS endpoint without the identity, e.g. ws://host:8080/ocpp.
	URL string
	// Identity is the station identity.
	Identity string
	// Handler answers the CSMS's CALLs.
	Handler Handler
	// Dialer opens the connections; nil uses a zero Dialer.
	Dialer *Dialer
	// OnConnect runs after each successful (re)connection, e.g. to send
	// BootNotification. The connection's calls may be made from it.
	OnConnect func(c *Conn)
	// OnDisconnect runs when a connection ends.
	OnDisconnect func(c *Conn, err error)
	// MinBackoff and MaxBackoff bound the wait between attempts.
	// Defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration

	mu   sync.Mutex
	conn *Conn
}

// Run connects and reconnects until ctx ends, then closes the connection.
func (s *Station) Run(ctx context.Context) error {
	d := s.Dialer
	if d == nil {
		d = &Dialer{}
	}
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB <= 0 {
		maxB = 60 * time.Second
	}
	backoff := minB
	for {
		c, err := d.Dial(ctx, s.URL, s.Identity, s.Handler)
		if err == nil {
			backoff = minB
			s.setConn(c)
			if s.OnConnect != nil {
				s.OnConnect(c)
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
				c.Close(closeNormal, "station stopping")
				<-c.Done()
			}
			s.setConn(nil)
			if s.OnDisconnect != nil {
				s.OnDisconnect(c, c.Err())
			}
		} else if ctx.Err() == nil {
			d.opts.Logger.Debug("station could not connect", "station", s.Identity, "err", err, "retry_in", backoff)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(backoff*2, maxB)
	}
}

func (s *Station) setConn(c *Conn) {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
}

// Conn returns the current connection, or nil while disconnected.
func (s *Station) Conn() *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// ErrNotConnectedYet is returned by Station.CallRaw while it is disconnected.
var ErrNotConnectedYet = errors.New("ocpp: station is not connected")

// CallRaw sends a CALL on the current connection.
func (s *Station) CallRaw(ctx context.Context, action string, payload []byte) ([]byte, error) {
	c := s.Conn()
	if c == nil {
		return nil, ErrNotConnectedYet
	}
	return c.CallRaw(ctx, action, payload)
}
