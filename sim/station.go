package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/openev/openev/ocpp"
)

// ErrOffline is returned by calls that need a connection while the station
// has none. It wraps ocpp.ErrNotConnectedYet.
var ErrOffline = fmt.Errorf("sim: station is offline: %w", ocpp.ErrNotConnectedYet)

// ErrClosed is returned once the station has been closed.
var ErrClosed = errors.New("sim: station is closed")

// Station is one simulated charging station. Its methods are safe for
// concurrent use. An idle connected station holds no goroutine of its own:
// timers (heartbeat, meter, reconnection) are time.AfterFunc timers, and the
// only long-lived goroutine is the connection's read loop.
type Station struct {
	cfg    Config
	dialer *ocpp.Dialer
	log    *slog.Logger

	// txMu keeps transaction messages in the order they happen: it is
	// held from taking a reading (and a seqNo) until the message is sent
	// or queued.
	txMu sync.Mutex

	mu        sync.Mutex
	conn      *ocpp.Conn
	started   bool // Connect succeeded once: reconnect after losses
	closed    bool
	backoff   time.Duration
	reconnect *time.Timer
	offUntil  time.Time // DropConnection: stay offline until then

	registered bool          // the last BootNotification was Accepted
	needBoot   bool          // a Reset happened: boot after reconnecting
	bootReason string        // reason of the next 2.0.1 BootNotification
	booting    bool          // a boot retry is scheduled or running
	hbInterval time.Duration // heartbeat interval (server's or configured)
	hbTimer    *time.Timer
	bootTimer  *time.Timer
	alignTimer *time.Timer // clock-aligned meter values (nil while off)

	settings settings
	evses    []*evse
	profiles []*profile // station-wide charging profiles (EVSE 0)

	queue     []queued // transaction messages waiting for a connection
	replaying bool
	pendReset string // a reset scheduled until the transactions end

	nextLocalTx int // provisional ids of 1.6 transactions started offline
	nextToken   int // the next of Config.IDTokens to present
}

// New validates cfg and returns a station that is not yet connected.
func New(cfg Config) (*Station, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Station{cfg: cfg, log: cfg.Logger, bootReason: "PowerUp"}
	if s.log == nil {
		s.log = discard
	}
	s.dialer = cfg.Dialer
	if s.dialer == nil {
		s.dialer = defaultDialer(cfg)
	}
	s.settings = newSettings(cfg)
	s.hbInterval = s.settings.heartbeat
	s.evses = make([]*evse, len(cfg.EVSEs))
	for i, ec := range cfg.EVSEs {
		s.evses[i] = &evse{id: i + 1, connectors: ec.Connectors, maxW: ec.MaxPowerW, operative: true}
	}
	return s, nil
}

var (
	dialersMu sync.Mutex
	dialers   = map[ocpp.Version]*ocpp.Dialer{}
)

// defaultDialer returns the dialer shared by the stations of cfg's version,
// or a private one when the station needs its own password or logger.
func defaultDialer(cfg Config) *ocpp.Dialer {
	if cfg.Password != "" || cfg.Logger != nil {
		l := cfg.Logger
		if l == nil {
			l = discard
		}
		return &ocpp.Dialer{Versions: []ocpp.Version{cfg.Version}, Password: cfg.Password, Options: ocpp.Options{Logger: l}}
	}
	dialersMu.Lock()
	defer dialersMu.Unlock()
	d := dialers[cfg.Version]
	if d == nil {
		d = &ocpp.Dialer{Versions: []ocpp.Version{cfg.Version}, Options: ocpp.Options{Logger: discard}}
		dialers[cfg.Version] = d
	}
	return d
}

// Identity returns the station identity.
func (s *Station) Identity() string { return s.cfg.Identity }

// Version returns the OCPP version the station speaks.
func (s *Station) Version() ocpp.Version { return s.cfg.Version }

// Config returns the station's configuration with the defaults filled in.
func (s *Station) Config() Config { return s.cfg }

// Connected reports whether the station has an open connection.
func (s *Station) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// Conn returns the current connection, or nil while offline.
func (s *Station) Conn() *ocpp.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// Close stops the station: timers end, the connection closes and no
// reconnection follows. Queued offline messages are dropped.
func (s *Station) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	c := s.conn
	stopTimer(s.reconnect)
	stopTimer(s.hbTimer)
	stopTimer(s.bootTimer)
	stopTimer(s.alignTimer)
	for _, e := range s.evses {
		if e.tx != nil {
			stopTimer(e.tx.timer)
		}
	}
	s.mu.Unlock()
	if c != nil {
		c.Close(1000, "station stopping")
		// Wait for the close handshake, but not for a server that never
		// answers it.
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-c.Done():
		case <-t.C:
		}
	}
	return nil
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// Call sends any action with a raw JSON payload in the station's version and
// returns the raw answer. The connection's validation applies (see
// Faults.SkipValidation); a CALLERROR comes back as *ocpp.Error.
func (s *Station) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	c := s.Conn()
	if c == nil {
		return nil, ErrOffline
	}
	return s.callRaw(ctx, c, action, payload)
}

// SendRaw writes text as one websocket frame exactly as given (a malformed
// frame on purpose). The server's answer, if any, is dropped by the
// connection as matching no call of ours.
func (s *Station) SendRaw(text string) error {
	c := s.Conn()
	if c == nil {
		return ErrOffline
	}
	return c.SendRaw([]byte(text))
}

// callRaw makes one CALL and reports it to the Observer.
func (s *Station) callRaw(ctx context.Context, c *ocpp.Conn, action string, payload json.RawMessage) (json.RawMessage, error) {
	start := time.Now()
	raw, err := c.CallRaw(ctx, action, payload)
	if s.cfg.Observer != nil {
		s.cfg.Observer.CallDone(action, time.Since(start), err)
	}
	if err != nil {
		s.log.Debug("call failed", "station", s.cfg.Identity, "action", action, "err", err)
	}
	return raw, err
}

// call sends a typed request on the current connection and decodes the answer.
func (s *Station) call(ctx context.Context, req ocpp.Message, resp any) error {
	c := s.Conn()
	if c == nil {
		return ErrOffline
	}
	return s.callOn(ctx, c, req, resp)
}

func (s *Station) callOn(ctx context.Context, c *ocpp.Conn, req ocpp.Message, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("sim: encoding %s: %w", req.Action(), err)
	}
	raw, err := s.callRaw(ctx, c, req.Action(), payload)
	if err != nil {
		return err
	}
	if resp != nil {
		if err := json.Unmarshal(raw, resp); err != nil {
			return fmt.Errorf("sim: decoding %s answer: %w", req.Action(), err)
		}
	}
	return nil
}

// bg returns a context for calls the station makes on its own (timers,
// replies to the server's requests), bounded like the connection's calls.
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// evseAt returns EVSE n (1-based) or an error naming the valid range.
func (s *Station) evseAt(n int) (*evse, error) {
	if n < 1 || n > len(s.evses) {
		return nil, fmt.Errorf("sim: station %s has no EVSE %d (it has 1..%d)", s.cfg.Identity, n, len(s.evses))
	}
	return s.evses[n-1], nil
}

// newUUID returns a random RFC 4122 version 4 UUID (2.0.1 transaction ids).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
