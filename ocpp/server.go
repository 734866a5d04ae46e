package ocpp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Handshake is what a station presents when it opens its websocket.
type Handshake struct {
	// Identity is the station identity: the last segment of the URL path,
	// percent-decoded.
	Identity string
	// Version is the OCPP version negotiated for the connection.
	Version Version
	// Username and Password are the HTTP Basic credentials (security
	// profiles 1 and 2); HasBasicAuth says whether there were any.
	Username, Password string
	HasBasicAuth       bool
	// TLS is the TLS state, with the client certificate chain under
	// security profile 3; nil on a plain connection.
	TLS *tls.ConnectionState
	// Request is the HTTP upgrade request. It is set while Authenticate and
	// Connect run, and nil afterwards.
	Request *http.Request
}

// ClientCertificate returns the station's TLS client certificate, or nil.
func (h *Handshake) ClientCertificate() *x509.Certificate {
	if h.TLS == nil || len(h.TLS.PeerCertificates) == 0 {
		return nil
	}
	return h.TLS.PeerCertificates[0]
}

// RefuseError refuses a station's connection with an HTTP status. An
// Authenticate hook returns it; any other error refuses with 401.
type RefuseError struct {
	Status int
	Reason string
}

func (e *RefuseError) Error() string {
	return fmt.Sprintf("ocpp: connection refused (%d): %s", e.Status, e.Reason)
}

// Server accepts OCPP-J websocket connections from charging stations. It is an
// http.Handler: mount it on the paths stations connect to (for example
// "/ocpp/" and "/cso/ocpp/"); the station identity is the last path segment.
// Set the fields before serving.
type Server struct {
	// Handler answers the stations' CALLs unless Connect gives a station its own.
	Handler Handler
	// Authenticate, when set, decides before the websocket upgrade whether a
	// station may connect: by identity, HTTP Basic credentials (profiles 1
	// and 2) or client certificate (profile 3). A *RefuseError chooses the
	// HTTP status; any other error refuses with 401.
	Authenticate func(ctx context.Context, h *Handshake) error
	// Connect, when set, runs once the websocket is open and before the
	// station's first frame is read. It may set the connection's validation
	// mode or data, and return the Handler for this station (nil keeps
	// Server.Handler). An error closes the connection.
	Connect func(c *Conn) (Handler, error)
	// Disconnect, when set, runs after a station's connection has closed.
	Disconnect func(c *Conn, err error)
	// DefaultVersion is spoken with a station that offers no subprotocol.
	// Default V201 (the seed's simulated station offers none).
	DefaultVersion Version
	// Versions are the versions offered. Default: all of Versions.
	Versions []Version
	// Options tune every connection.
	Options Options
	// Transport is the websocket implementation under the connections:
	// TransportNbio (the default: an idle station costs no goroutine) or
	// TransportGorilla. TLS connections are served by gorilla either way;
	// see docs/ocpp.md, "Transport".
	Transport Transport

	once     sync.Once
	opts     Options
	upgrader websocket.Upgrader

	mu      sync.RWMutex
	conns   map[string]*Conn
	closing bool
	pinger  *pinger
	nbio    *nbioServer // the event loop, once a connection needed it
}

func (s *Server) init() {
	s.once.Do(func() {
		s.opts = s.Options.withDefaults()
		if s.DefaultVersion == 0 {
			s.DefaultVersion = V201
		}
		if len(s.Versions) == 0 {
			s.Versions = Versions
		}
		s.conns = make(map[string]*Conn)
		s.upgrader = websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// Stations are not browsers: they send no Origin worth checking.
			CheckOrigin: func(*http.Request) bool { return true },
			// Idle connections hold no write buffer; one is borrowed per write.
			WriteBufferPool: &sync.Pool{},
			// A small read buffer of its own, rather than net/http's 4 KiB one,
			// keeps idle stations cheap; larger frames are read in pieces.
			ReadBufferSize: 512,
		}
		s.pinger = newPinger(&s.opts)
	})
}

// ServeHTTP upgrades a station's request to an OCPP-J websocket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	identity, err := identityFromPath(r.URL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "this is an OCPP-J websocket endpoint: connect with a websocket client", http.StatusUpgradeRequired)
		return
	}
	version, chosen, ok := s.negotiate(websocket.Subprotocols(r))
	if !ok {
		http.Error(w, "none of the offered subprotocols is supported; offer one of "+strings.Join(s.subprotocols(), ", "), http.StatusBadRequest)
		return
	}
	hs := &Handshake{Identity: identity, Version: version, TLS: r.TLS, Request: r}
	hs.Username, hs.Password, hs.HasBasicAuth = r.BasicAuth()
	if s.Authenticate != nil {
		if err := s.Authenticate(r.Context(), hs); err != nil {
			refuse(w, err)
			s.opts.Logger.Info("station refused", "station", identity, "remote", r.RemoteAddr, "err", err)
			return
		}
	}
	s.mu.RLock()
	closing := s.closing
	s.mu.RUnlock()
	if closing {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	var header http.Header
	if chosen != "" {
		header = http.Header{"Sec-Websocket-Protocol": {chosen}}
	}
	ws, err := s.upgrader.Upgrade(w, r, header)
	if err != nil {
		return // the upgrader has answered the request
	}
	w2, attach, serve := s.serverWire(ws) // see Server.Transport
	c := newConn(identity, version, s.Handler, &s.opts, w2)
	c.handshake = hs
	c.onClose = s.unregister
	if err := attach(c); err != nil {
		return
	}
	if s.Connect != nil {
		h, err := s.Connect(c)
		if err != nil {
			c.Logger().Info("station refused after connecting", "err", err)
			w2.close(closePolicy, err.Error())
			return
		}
		if h != nil {
			c.handler = h
		}
	}
	// The request is not kept: an idle station should cost as little memory
	// as possible, and its headers are in no further use.
	hs.Request = nil
	s.register(c)
	s.opts.Logger.Info("station connected", "station", identity, "ocpp", version.String(), "remote", r.RemoteAddr)
	// Reading starts now (gorilla: in a fresh goroutine, which lets net/http's
	// goroutine, its request and its buffers go; nbio: on the event loop).
	serve(c)
}

// negotiate picks the first subprotocol in the station's order that we speak.
func (s *Server) negotiate(offered []string) (v Version, chosen string, ok bool) {
	if len(offered) == 0 {
		return s.DefaultVersion, "", true
	}
	for _, p := range offered {
		if v, ok := ParseSubprotocol(p); ok && s.speaks(v) {
			return v, p, true
		}
	}
	return 0, "", false
}

func (s *Server) speaks(v Version) bool {
	for _, have := range s.Versions {
		if have == v {
			return true
		}
	}
	return false
}

func (s *Server) subprotocols() []string {
	var names []string
	for _, v := range s.Versions {
		names = append(names, v.Subprotocol())
	}
	return names
}

func refuse(w http.ResponseWriter, err error) {
	var re *RefuseError
	if errors.As(err, &re) {
		if re.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="OCPP"`)
		}
		http.Error(w, re.Reason, re.Status)
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="OCPP"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// identityFromPath returns the last path segment, percent-decoded.
func identityFromPath(u *url.URL) (string, error) {
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	seg := p[strings.LastIndexByte(p, '/')+1:]
	id, err := url.PathUnescape(seg)
	if err != nil || id == "" {
		return "", errors.New("the URL must end with the station identity, e.g. /ocpp/CS1")
	}
	if len(id) > 48 || strings.ContainsAny(id, "/\x00") {
		return "", errors.New("station identity must be 1 to 48 characters, without '/'")
	}
	return id, nil
}

// register adds c, replacing (and closing) an older connection of the same
// station: a station that reconnects may have left a half-open one behind.
func (s *Server) register(c *Conn) {
	s.mu.Lock()
	old := s.conns[c.id]
	s.conns[c.id] = c
	s.mu.Unlock()
	s.pinger.add(c)
	if old != nil {
		old.Logger().Info("replaced by a new connection of the same station")
		old.Close(closePolicy, "replaced by a new connection")
	}
}

func (s *Server) unregister(c *Conn, err error) {
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
	}
	s.mu.Unlock()
	s.pinger.remove(c)
	c.Logger().Info("station disconnected", "reason", err)
	if s.Disconnect != nil {
		s.Disconnect(c, err)
	}
}

// Conn returns the connection of the station with that identity.
func (s *Server) Conn(identity string) (*Conn, bool) {
	s.init()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.conns[identity]
	return c, ok
}

// Conns returns every open connection.
func (s *Server) Conns() []*Conn {
	s.init()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Len returns the number of connected stations.
func (s *Server) Len() int {
	s.init()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns)
}

// CallRaw sends a CALL to the connected station with that identity; see Conn.CallRaw.
func (s *Server) CallRaw(ctx context.Context, identity, action string, payload []byte) ([]byte, error) {
	c, ok := s.Conn(identity)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotConnected, identity)
	}
	return c.CallRaw(ctx, action, payload)
}

// Shutdown stops accepting stations, lets the handlers and calls in flight
// finish (until ctx ends), then closes every connection with code 1001.
// The http.Server that serves s should be shut down too.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	conns := s.Conns()
	err := waitIdle(ctx, conns)
	for _, c := range conns {
		c.Close(closeGoingAway, "server shutting down")
	}
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// waitIdle waits until no handler or call is running on conns, or ctx ends.
func waitIdle(ctx context.Context, conns []*Conn) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		busy := false
		for _, c := range conns {
			if c.busy.Load() > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
