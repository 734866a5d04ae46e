package csms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/openev/openev/internal/throttle"
	"github.com/openev/openev/ocpp"
)

// StationPolicy says what happens to a station the CSMS does not know.
type StationPolicy string

// StationPolicy values (the --unknown-stations flag).
const (
	// AcceptUnknown registers the station and accepts its boot.
	AcceptUnknown StationPolicy = "accept"
	// PendingUnknown registers it with boot status Pending until an
	// operator accepts it.
	PendingUnknown StationPolicy = "pending"
	// RejectUnknown refuses its websocket connection.
	RejectUnknown StationPolicy = "reject"
)

// ParseStationPolicy parses accept, pending or reject.
func ParseStationPolicy(s string) (StationPolicy, error) {
	switch p := StationPolicy(strings.ToLower(s)); p {
	case AcceptUnknown, PendingUnknown, RejectUnknown:
		return p, nil
	}
	return "", fmt.Errorf("unknown station policy %q: want accept, pending or reject", s)
}

// Config tunes a Service; zero fields take the documented defaults.
type Config struct {
	// HeartbeatInterval is sent in BootNotification answers. Default 300s.
	HeartbeatInterval time.Duration
	// UnknownStations decides about stations not in the store. Default accept.
	UnknownStations StationPolicy
	// AcceptUnknownTokens answers Accepted for id tokens not in the store
	// (for development); by default they are Invalid.
	AcceptUnknownTokens bool
	// LoginBackoff is how long a station identity or address must wait
	// after a failed password; it doubles per failure, up to a minute.
	// Default 500ms.
	LoginBackoff time.Duration
	// Logger; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service is the CSMS: it answers stations' OCPP messages in 1.6 and 2.0.1
// from and into its Store.
type Service struct {
	store    Store
	cfg      Config
	log      *slog.Logger
	guessing *throttle.Throttle // slows down password guessing per identity and address
}

// New returns a Service on store.
func New(store Store, cfg Config) *Service {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 300 * time.Second
	}
	if cfg.UnknownStations == "" {
		cfg.UnknownStations = AcceptUnknown
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.LoginBackoff <= 0 {
		cfg.LoginBackoff = 500 * time.Millisecond
	}
	return &Service{store: store, cfg: cfg, log: cfg.Logger, guessing: throttle.New(cfg.LoginBackoff, time.Minute)}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Handler returns the ocpp.Handler that answers stations in 1.6 and 2.0.1.
func (s *Service) Handler() ocpp.Handler {
	r := ocpp.NewRouter()
	s.route16(r)
	s.route201(r)
	return guardUnaccepted(r)
}

// Mount makes srv the CSMS's OCPP endpoint: its Handler, Authenticate,
// Connect and Disconnect become the Service's. Set srv.Options before or
// after; wrap srv.Handler afterwards to observe calls.
func (s *Service) Mount(srv *ocpp.Server) {
	srv.Handler = s.Handler()
	srv.Authenticate = s.Authenticate
	srv.Connect = s.Connected
	srv.Disconnect = s.Disconnected
}

// Authenticate decides whether a station may connect: unknown stations by
// policy; known ones by their security profile (Basic-auth password for
// profiles 1 and 2, a client certificate naming the station for 3).
func (s *Service) Authenticate(ctx context.Context, h *ocpp.Handshake) error {
	st, err := s.store.Station(ctx, h.Identity)
	if errors.Is(err, ErrNotFound) {
		if s.cfg.UnknownStations == RejectUnknown {
			return &ocpp.RefuseError{Status: 404, Reason: "unknown station"}
		}
		return nil
	}
	if err != nil {
		return &ocpp.RefuseError{Status: 503, Reason: "station registry unavailable"}
	}
	switch st.SecurityProfile {
	case 0:
		return nil
	case 1, 2:
		if st.SecurityProfile == 2 && h.TLS == nil {
			return &ocpp.RefuseError{Status: 403, Reason: "security profile 2 needs TLS"}
		}
		return s.checkPassword(st, h)
	case 3:
		cert := h.ClientCertificate()
		// VerifiedChains is empty when the listener did not check the
		// certificate against --client-ca (a TLS config that merely requests
		// one): such a certificate proves nothing.
		if cert == nil || len(h.TLS.VerifiedChains) == 0 || cert.Subject.CommonName != h.Identity {
			return &ocpp.RefuseError{Status: 403, Reason: "client certificate does not name this station"}
		}
		return nil
	}
	// Fail closed: a profile this code does not know protects nothing yet.
	s.log.Error("station has an unknown security profile; refusing it", "station", h.Identity, "security_profile", st.SecurityProfile)
	return &ocpp.RefuseError{Status: 403, Reason: "unknown security profile"}
}

// checkPassword checks a station's Basic-auth password, refusing at once
// while the identity or the address is serving a delay for earlier failures.
func (s *Service) checkPassword(st Station, h *ocpp.Handshake) error {
	now := s.now()
	addr := throttle.RemoteHost(h.Request)
	if wait := max(s.guessing.Wait("id:"+h.Identity, now), s.guessing.Wait("addr:"+addr, now)); wait > 0 {
		return &ocpp.RefuseError{Status: 429, Reason: fmt.Sprintf("too many failed logins; retry in %s", wait.Round(time.Second)+time.Second)}
	}
	if h.HasBasicAuth && h.Username == h.Identity && CheckPassword(st.PasswordHash, h.Password) {
		s.guessing.Succeed("id:" + h.Identity)
		s.guessing.Succeed("addr:" + addr)
		return nil
	}
	delay := s.guessing.Fail("id:"+h.Identity, now)
	s.guessing.Fail("addr:"+addr, now)
	// The password itself is never logged.
	s.log.Warn("station failed to log in", "station", h.Identity, "remote", addr, "next_attempt_in", delay)
	return errors.New("bad credentials")
}

// Connected marks a station online; it is the ocpp.Server's Connect hook.
func (s *Service) Connected(c *ocpp.Conn) (ocpp.Handler, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.store.StationSeen(ctx, c.ID(), true, s.now())
	if errors.Is(err, ErrNotFound) {
		err = s.register(ctx, c.ID(), c.Version())
	}
	var st Station
	if err == nil {
		st, err = s.store.Station(ctx, c.ID())
	}
	if err != nil {
		return nil, fmt.Errorf("recording connection of %s: %w", c.ID(), err)
	}
	state := &connState{}
	state.registration.Store(st.Registration) // until it boots: as registered
	c.SetData(state)
	return nil, nil
}

// Disconnected marks a station offline; it is the ocpp.Server's Disconnect hook.
func (s *Service) Disconnected(c *ocpp.Conn, _ error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.StationSeen(ctx, c.ID(), false, s.now()); err != nil && !errors.Is(err, ErrNotFound) {
		c.Logger().Error("cannot record disconnection", "err", err)
	}
}

// register adds an unknown station per the policy.
func (s *Service) register(ctx context.Context, id string, v ocpp.Version) error {
	reg := RegistrationAccepted
	if s.cfg.UnknownStations == PendingUnknown {
		reg = RegistrationPending
	}
	now := s.now()
	return s.store.SaveStation(ctx, Station{
		ID: id, Protocol: v.Subprotocol(), Registration: reg, Online: true, LastSeen: now, CreatedAt: now, UpdatedAt: now,
	})
}

// boot records what a station says about itself and decides its status.
func (s *Service) boot(ctx context.Context, c *ocpp.Conn, vendor, model, serial, firmware string) (Registration, error) {
	st, err := s.store.Station(ctx, c.ID())
	if errors.Is(err, ErrNotFound) {
		if err := s.register(ctx, c.ID(), c.Version()); err != nil {
			return "", err
		}
		st, err = s.store.Station(ctx, c.ID())
	}
	if err != nil {
		return "", err
	}
	now := s.now()
	st.Vendor, st.Model, st.SerialNumber, st.FirmwareVersion = vendor, model, serial, firmware
	st.Protocol = c.Version().Subprotocol()
	st.Online, st.LastSeen, st.UpdatedAt = true, now, now
	if st.Registration == "" {
		st.Registration = RegistrationAccepted
	}
	if err := s.store.SaveStation(ctx, st); err != nil {
		return "", err
	}
	setRegistration(c, st.Registration)
	return st.Registration, nil
}

// authorize answers whether a token may charge at a station.
func (s *Service) authorize(ctx context.Context, stationID, token string) (TokenStatus, *time.Time, string, error) {
	t, err := s.store.Token(ctx, token)
	if errors.Is(err, ErrNotFound) {
		if s.cfg.AcceptUnknownTokens {
			return TokenAccepted, nil, "", nil
		}
		return TokenInvalid, nil, "", nil
	}
	if err != nil {
		return "", nil, "", err
	}
	status := t.Status
	if status == TokenAccepted && t.ExpiresAt != nil && !t.ExpiresAt.After(s.now()) {
		status = TokenExpired
	}
	if status == TokenAccepted && len(t.Stations) > 0 && !contains(t.Stations, stationID) {
		status = TokenInvalid
	}
	return status, t.ExpiresAt, t.GroupID, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// storeError hides the store's error text from the station and logs it.
func (s *Service) storeError(c *ocpp.Conn, action string, err error) error {
	c.Logger().Error("store failed; answering InternalError", "action", action, "err", err)
	return ocpp.NewError(ocpp.InternalError, "the CSMS could not record %s; retry later", action)
}

// rawPayload is the payload of the CALL being handled as the station sent
// it — what "raw values kept" means — or, outside an ocpp typed handler,
// req encoded again.
func rawPayload(ctx context.Context, req any) []byte {
	if p := ocpp.Payload(ctx); p != nil {
		return p
	}
	raw, _ := json.Marshal(req)
	return raw
}
