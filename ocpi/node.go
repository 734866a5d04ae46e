package ocpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxRequestBody bounds the body of every request the Node serves
// (modules included): a longer one fails to read with an
// *http.MaxBytesError, answered HTTP 413. Locations and credentials bodies
// are bounded lower still.
const MaxRequestBody = 8 << 20

// Defaults of Config.
const (
	// DefaultMaxLimit is Config.MaxLimit when it is zero.
	DefaultMaxLimit = 100
	// DefaultTokenGrace is Config.TokenGrace when it is zero.
	DefaultTokenGrace = time.Minute
)

// Config configures a Node.
type Config struct {
	// PublicURL is the base URL peers reach this node at, without the
	// trailing /ocpi, e.g. "http://127.0.0.1:8080" or
	// "https://x.example/ocpi-node". The versions endpoint is
	// PublicURL+"/ocpi/versions". Required.
	PublicURL string
	// Parties are our parties, each with its role and business details: one
	// CPO, one eMSP, or several (a node may be CPO and eMSP at once). They
	// are sent in our credentials. Required, at least one.
	Parties []CredentialsRole
	// Store keeps the peers (and the modules' objects). Required.
	Store Store
	// HTTPClient sends our requests to peers (registration, rotation,
	// unregistration, and the clients of Node.Client). Default: the
	// Client's default (30 s timeout).
	HTTPClient *http.Client
	// Logger gets registration events and failures; tokens are never
	// logged. Default: no logging.
	Logger *slog.Logger
	// Now is the clock (token grace periods). Default time.Now.
	Now func() time.Time
	// MaxLimit caps the page size of paginated GETs (the modules read it
	// from Node.Config). Default DefaultMaxLimit (100).
	MaxLimit int
	// TokenGrace is how long the incoming token replaced by a credentials
	// rotation keeps working, so requests in flight during the rotation do
	// not fail (the spec is silent, see ocpi/ocpi#568). Default
	// DefaultTokenGrace (1 minute); negative: the old token stops at once.
	TokenGrace time.Duration
}

// Node is an OCPI 2.2.1 platform: an http.Handler serving the versions,
// version details and credentials endpoints and routing functional modules
// (added with Handle), for the parties of its Config. It also runs our side
// of the credentials handshake: IssueTokenA, Register, RotateCredentials
// and Unregister.
//
// The Node serves the paths under PublicURL's path + "/ocpi/": with
// PublicURL "https://x.example" mount it with mux.Handle("/ocpi/", node);
// with "https://x.example/ocpi-node" use mux.Handle("/ocpi-node/ocpi/",
// node). A request whose path lacks PublicURL's path prefix (e.g. behind
// http.StripPrefix) is served as well.
//
// Endpoints:
//
//	GET  {PublicURL}/ocpi/versions
//	GET  {PublicURL}/ocpi/2.2.1                       version details
//	     {PublicURL}/ocpi/2.2.1/credentials           GET, POST, PUT, DELETE
//	     {PublicURL}/ocpi/2.2.1/{sender|receiver}/{module}/...
type Node struct {
	cfg        Config
	publicURL  string // without trailing slash
	pathPrefix string // PublicURL's path, without trailing slash ("" at the root)

	mu      sync.RWMutex
	modules map[moduleKey]Module

	// registering holds the ids of peers we are registering at (Register
	// between saving token B and the peer's answer): such a peer may call
	// our versions with token B, but not POST credentials itself.
	regMu       sync.Mutex
	registering map[string]bool
	peerLocks   map[string]*peerLock // see lockPeer

	saveMu sync.Mutex // serialises updatePeer's read-modify-write of peers
}

type moduleKey struct {
	role InterfaceRole
	id   ModuleID
}

// NewNode checks cfg, fills in its defaults and returns the Node.
func NewNode(cfg Config) (*Node, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.PublicURL))
	switch {
	case cfg.PublicURL == "":
		return nil, errors.New("ocpi: Config.PublicURL is empty: set the base URL peers reach this node at, e.g. https://ocpi.example.com")
	case err != nil:
		return nil, fmt.Errorf("ocpi: Config.PublicURL %q: %w", cfg.PublicURL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("ocpi: Config.PublicURL %q must be an absolute http(s) URL, e.g. https://ocpi.example.com", cfg.PublicURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("ocpi: Config.PublicURL %q must not have a query, fragment or user info", cfg.PublicURL)
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/ocpi") {
		return nil, fmt.Errorf("ocpi: Config.PublicURL %q ends in /ocpi: give the base URL without it (the node adds /ocpi/versions)", cfg.PublicURL)
	}
	if cfg.Store == nil {
		return nil, errors.New("ocpi: Config.Store is nil: give a Store (e.g. NewMemoryStore())")
	}
	if err := validateRoles(cfg.Parties); err != nil {
		return nil, fmt.Errorf("ocpi: Config.Parties: %w", err)
	}
	if cfg.MaxLimit < 0 {
		return nil, fmt.Errorf("ocpi: Config.MaxLimit %d is negative: use 0 for the default (%d)", cfg.MaxLimit, DefaultMaxLimit)
	}
	if cfg.MaxLimit == 0 {
		cfg.MaxLimit = DefaultMaxLimit
	}
	if cfg.TokenGrace == 0 {
		cfg.TokenGrace = DefaultTokenGrace
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Parties = slices.Clone(cfg.Parties)
	path := strings.TrimRight(u.EscapedPath(), "/")
	u.Path, u.RawPath = "", ""
	return &Node{
		cfg:         cfg,
		publicURL:   strings.TrimRight(u.String(), "/") + path,
		pathPrefix:  path,
		modules:     map[moduleKey]Module{},
		registering: map[string]bool{},
		peerLocks:   map[string]*peerLock{},
	}, nil
}

// Config returns the effective configuration (defaults filled in).
func (n *Node) Config() Config {
	c := n.cfg
	c.Parties = slices.Clone(c.Parties)
	return c
}

// VersionsURL is our versions endpoint, the URL given to peers with a
// token A.
func (n *Node) VersionsURL() string { return n.publicURL + "/ocpi/versions" }

func (n *Node) versionURL() string { return n.publicURL + "/ocpi/" + string(Version221) }

func (n *Node) moduleURL(role InterfaceRole, id ModuleID) string {
	return n.versionURL() + "/" + strings.ToLower(string(role)) + "/" + string(id)
}

// Handle adds a functional module: it is listed in the version details and
// served at {PublicURL}/ocpi/2.2.1/{sender|receiver}/{module}. Like
// http.ServeMux.Handle it panics on a programming error: a nil module, an
// empty or reserved identifier (credentials), an interface role that is
// neither Sender nor Receiver, or a module and role already added.
func (n *Node) Handle(m Module) {
	if m == nil {
		panic("ocpi: Node.Handle: nil module")
	}
	id, role := m.Identifier(), m.InterfaceRole()
	if id == "" || id == ModuleCredentials || strings.ContainsAny(string(id), "/?#") || id != ModuleID(strings.ToLower(string(id))) {
		panic(fmt.Sprintf("ocpi: Node.Handle: module identifier %q: want a lower-case module id other than credentials", id))
	}
	if role != Sender && role != Receiver {
		panic(fmt.Sprintf("ocpi: Node.Handle: module %s: interface role %q is neither SENDER nor RECEIVER", id, role))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	k := moduleKey{role, id}
	if _, dup := n.modules[k]; dup {
		panic(fmt.Sprintf("ocpi: Node.Handle: module %s %s added twice", id, role))
	}
	n.modules[k] = m
}

// Endpoint returns the URL of the peer's endpoint for module and role, as
// the peer listed it in its version details.
func (n *Node) Endpoint(peer Peer, module ModuleID, role InterfaceRole) (string, bool) {
	for _, e := range peer.Endpoints {
		if strings.EqualFold(string(e.Identifier), string(module)) && strings.EqualFold(string(e.Role), string(role)) {
			return e.URL, true
		}
	}
	return "", false
}

// Client returns a Client that calls the peer with the token it issued to
// us (in raw form for peers that need it). Its From is our party and its To
// the peer's when each side has exactly one; otherwise set them (or use
// WithRouting) per request.
func (n *Node) Client(peer Peer) *Client {
	c := &Client{HTTPClient: n.cfg.HTTPClient, Token: peer.OutgoingToken, RawToken: peer.RawToken, Logger: n.cfg.Logger}
	if len(n.cfg.Parties) == 1 {
		c.From = n.cfg.Parties[0].Party().Key()
	}
	if ps := distinctParties(peer.Roles); len(ps) == 1 {
		c.To = ps[0]
	}
	return c
}

// endpoint kinds a request can address.
type routeKind int

const (
	routeUnknown routeKind = iota
	routeVersions
	routeDetails
	routeCredentials
	routeModule
)

type route struct {
	kind   routeKind
	module Module
	rest   []string // unescaped segments after the module's base
}

// ServeHTTP serves the OCPI endpoints; every answer, errors included, is
// an OCPI envelope carrying the caller's X-Request-ID and X-Correlation-ID.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := r.Header.Get(HeaderRequestID)
	if requestID == "" {
		requestID = NewRequestID()
	}
	correlationID := r.Header.Get(HeaderCorrelationID)
	if correlationID == "" {
		correlationID = NewRequestID()
	}
	w.Header().Set(HeaderRequestID, requestID)
	w.Header().Set(HeaderCorrelationID, correlationID)
	r = r.WithContext(WithCorrelationID(r.Context(), correlationID))
	// No endpoint reads more than this, whatever a module does.
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)

	rt, err := n.route(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	peer, token, err := n.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", "Token")
		WriteError(w, err)
		return
	}
	if rt.kind == routeUnknown {
		WriteError(w, Errorf(http.StatusNotFound, StatusClientError, "no OCPI endpoint at %s: the versions endpoint is %s", r.URL.Path, n.VersionsURL()))
		return
	}
	if rt.kind == routeModule && peer.Status != PeerRegistered {
		w.Header().Set("WWW-Authenticate", "Token")
		WriteError(w, Errorf(http.StatusUnauthorized, StatusClientError,
			"this token (token A) may only be used for versions, version details and credentials: register with POST %s first", n.versionURL()+"/credentials"))
		return
	}
	switch rt.kind {
	case routeVersions:
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		WriteData(w, http.StatusOK, []Version{{Version: Version221, URL: n.versionURL()}})
	case routeDetails:
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		WriteData(w, http.StatusOK, n.versionDetails())
	case routeCredentials:
		n.serveCredentials(w, r, peer, token)
	case routeModule:
		n.serveModule(w, r, peer, rt)
	}
}

// writeError answers err; an error that is not an *Error (a store
// failure) is logged with the request and answered 3000 without its text.
func (n *Node) writeError(w http.ResponseWriter, r *http.Request, peerID string, err error) {
	writeLoggedError(w, r, n.cfg.Logger, peerID, err)
}

// writeLoggedError is writeError with the logger given.
func writeLoggedError(w http.ResponseWriter, r *http.Request, log *slog.Logger, peerID string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.ErrorContext(r.Context(), "ocpi: request failed", "method", r.Method, "path", r.URL.Path, "peer", peerID, "error", err)
		err = Errorf(http.StatusInternalServerError, StatusServerError, "the node failed to handle %s %s; try again later", r.Method, r.URL.Path)
	}
	WriteError(w, err)
}

// allowMethod answers 405 unless r uses one of methods.
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "method %s is not allowed here; allowed: %s", r.Method, strings.Join(methods, ", ")))
	return false
}

// route finds what the request addresses. Its only error is a malformed
// path escape.
func (n *Node) route(r *http.Request) (route, error) {
	p := r.URL.EscapedPath()
	if n.pathPrefix != "" && strings.HasPrefix(p, n.pathPrefix+"/") {
		p = p[len(n.pathPrefix):]
	}
	rest, ok := strings.CutPrefix(p, "/ocpi/")
	if !ok {
		return route{}, nil
	}
	raw := strings.Split(rest, "/")
	if len(raw) > 1 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1] // a trailing slash
	}
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, InvalidParams("path segment %q is not validly escaped: %v", s, err)
		}
		segs[i] = u
	}
	switch {
	case len(segs) == 1 && segs[0] == "versions":
		return route{kind: routeVersions}, nil
	case segs[0] != string(Version221):
		return route{}, nil
	case len(segs) == 1:
		return route{kind: routeDetails}, nil
	case len(segs) == 2 && segs[1] == string(ModuleCredentials):
		return route{kind: routeCredentials}, nil
	case len(segs) >= 3:
		role := InterfaceRole(strings.ToUpper(segs[1]))
		if segs[1] != strings.ToLower(segs[1]) {
			return route{}, nil
		}
		n.mu.RLock()
		m := n.modules[moduleKey{role, ModuleID(segs[2])}]
		n.mu.RUnlock()
		if m == nil {
			return route{}, nil
		}
		return route{kind: routeModule, module: m, rest: segs[3:]}, nil
	}
	return route{}, nil
}

// authenticate finds the peer by the Authorization header and returns the
// token it used. Every failure is an HTTP 401 saying what is wrong.
func (n *Node) authenticate(r *http.Request) (Peer, string, error) {
	unauthorized := func(format string, args ...any) error {
		return Errorf(http.StatusUnauthorized, StatusClientError, format, args...)
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return Peer{}, "", unauthorized("the Authorization header is missing: send Authorization: Token <base64 of your credentials token>")
	}
	candidates, ok := TokenCandidates(header)
	if !ok {
		return Peer{}, "", unauthorized("the Authorization header is not \"Token <base64 of your credentials token>\"")
	}
	ctx := r.Context()
	for i, tok := range candidates {
		peer, err := n.cfg.Store.PeerByToken(ctx, tok)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			n.cfg.Logger.ErrorContext(ctx, "ocpi: looking up a token", "error", err)
			return Peer{}, "", Errorf(http.StatusInternalServerError, StatusServerError, "looking up the credentials token failed; try again later")
		}
		switch {
		case peer.Status == PeerUnregistered:
			return Peer{}, "", unauthorized("these credentials were unregistered: ask the operator for a new token A and register again")
		case tok != peer.IncomingToken && tok == peer.PreviousIncomingToken && !n.cfg.Now().Before(peer.PreviousTokenExpires):
			return Peer{}, "", unauthorized("this credentials token was replaced by a credentials update and expired at %s: use the token of the update", NewDateTime(peer.PreviousTokenExpires))
		case tok != peer.IncomingToken && tok != peer.PreviousIncomingToken:
			continue // the store matched something else; do not trust it
		}
		// The last candidate is the header value itself: a raw token.
		n.followTokenEncoding(ctx, &peer, i == len(candidates)-1)
		return peer, tok, nil
	}
	return Peer{}, "", unauthorized("unknown credentials token: send Authorization: Token <base64 of the token we issued to you>")
}

// followTokenEncoding makes us call the peer the way it called us: a raw
// token switches RawToken on, a base64 one off again, so that one raw
// request (a misconfigured client, a test tool) does not decide for good.
// A peer whose mode is fixed (Peer.RawTokenFixed: the operator chose it
// with SetRawToken, or the peer's API refused the other encoding) keeps
// it. A failed save is logged and the request still served: the next
// request tries again.
func (n *Node) followTokenEncoding(ctx context.Context, peer *Peer, raw bool) {
	if peer.RawToken == raw || peer.RawTokenFixed {
		return
	}
	saved, err := n.updatePeer(ctx, peer.ID, func(p *Peer) error {
		if !p.RawTokenFixed { // fixed meanwhile: the choice stands
			p.RawToken = raw
		}
		return nil
	})
	if err != nil {
		n.cfg.Logger.WarnContext(ctx, "ocpi: saving the raw-token mode of a peer", "peer", peer.ID, "raw_token", raw, "error", err)
		return
	}
	peer.RawToken, peer.RawTokenFixed = saved.RawToken, saved.RawTokenFixed
	if saved.RawToken != raw {
		return
	}
	if raw {
		n.cfg.Logger.InfoContext(ctx, "ocpi: the peer sends its token unencoded; we will call it so too", "peer", peer.ID)
	} else {
		n.cfg.Logger.InfoContext(ctx, "ocpi: the peer sends its token base64-encoded again; we will call it so too", "peer", peer.ID)
	}
}

// versionDetails lists credentials and every module added with Handle.
func (n *Node) versionDetails() VersionDetails {
	eps := []Endpoint{{Identifier: ModuleCredentials, Role: Sender, URL: n.versionURL() + "/credentials"}}
	n.mu.RLock()
	for k := range n.modules {
		eps = append(eps, Endpoint{Identifier: k.id, Role: k.role, URL: n.moduleURL(k.role, k.id)})
	}
	n.mu.RUnlock()
	slices.SortFunc(eps[1:], func(a, b Endpoint) int {
		if c := strings.Compare(string(a.Identifier), string(b.Identifier)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Role), string(b.Role))
	})
	return VersionDetails{Version: Version221, Endpoints: eps}
}

// serveModule checks the routing headers and hands the request to the
// module, with swapped routing headers on the answer.
func (n *Node) serveModule(w http.ResponseWriter, r *http.Request, peer Peer, rt route) {
	id, role := rt.module.Identifier(), rt.module.InterfaceRole()
	req := &Request{Request: r, Peer: peer, Path: rt.rest}
	if id.Functional() {
		from, to, err := n.routing(r.Header, peer, id, role)
		if err != nil {
			WriteError(w, err)
			return
		}
		req.From, req.To = from, to
		SetRoutingHeaders(w.Header(), to, from)
	}
	rt.module.ServeOCPI(w, req)
}

// routing reads the routing headers, fills in the ones left out when there
// is only one candidate, and checks From is the peer's and To is ours.
func (n *Node) routing(h http.Header, peer Peer, id ModuleID, role InterfaceRole) (from, to PartyID, err error) {
	from, to, err = RoutingHeaders(h)
	if err != nil {
		return from, to, InvalidParams("%v", err)
	}
	ourSide := partiesServing(n.cfg.Parties, id, role)
	if from.IsZero() {
		// The caller is on the other side of the module.
		cands := partiesServing(peer.Roles, id, otherRole(role))
		if len(cands) != 1 {
			cands = distinctParties(peer.Roles)
		}
		if len(cands) != 1 {
			return from, to, InvalidParams("headers %s/%s are missing and you have several parties (%s): say which one sends this request", HeaderFromCountryCode, HeaderFromPartyID, partyList(cands))
		}
		from = cands[0]
	} else if !peer.Represents(from) {
		return from, to, Errorf(http.StatusNotFound, StatusClientError, "%s/%s %s is not one of your parties (%s) from the credentials handshake", HeaderFromCountryCode, HeaderFromPartyID, from, partyList(distinctParties(peer.Roles)))
	}
	if to.IsZero() {
		cands := ourSide
		if len(cands) != 1 {
			cands = distinctParties(n.cfg.Parties)
		}
		if len(cands) != 1 {
			return from, to, InvalidParams("headers %s/%s are missing and this node has several parties for %s %s (%s): say which one the request is for", HeaderToCountryCode, HeaderToPartyID, id, role, partyList(cands))
		}
		to = cands[0]
	} else if !containsParty(n.cfg.Parties, to) {
		return from, to, Errorf(http.StatusNotFound, StatusClientError, "%s/%s %s is not a party of this node (ours: %s)", HeaderToCountryCode, HeaderToPartyID, to, partyList(distinctParties(n.cfg.Parties)))
	}
	return from.Key(), to.Key(), nil
}

// cpoSide is the interface a CPO implements of a module: Sender for the
// modules whose data the CPO owns, Receiver for tokens, commands and
// charging profiles. Unknown (custom) modules have none.
func cpoSide(id ModuleID) (InterfaceRole, bool) {
	switch id {
	case ModuleLocations, ModuleSessions, ModuleCDRs, ModuleTariffs:
		return Sender, true
	case ModuleTokens, ModuleCommands, ModuleChargingProfiles:
		return Receiver, true
	}
	return "", false
}

func otherRole(r InterfaceRole) InterfaceRole {
	if r == Sender {
		return Receiver
	}
	return Sender
}

// partiesServing lists the distinct parties of roles that implement the
// interface role of module id: CPO parties on the CPO side, the others
// (eMSP, NSP, SCSP, ...) on the other side; for custom modules all.
func partiesServing(roles []CredentialsRole, id ModuleID, role InterfaceRole) []PartyID {
	side, known := cpoSide(id)
	var sel []CredentialsRole
	for _, r := range roles {
		if !known || (r.Role == RoleCPO) == (role == side) {
			sel = append(sel, r)
		}
	}
	return distinctParties(sel)
}

func distinctParties(roles []CredentialsRole) []PartyID {
	var ps []PartyID
	for _, r := range roles {
		p := r.Party().Key()
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

func containsParty(roles []CredentialsRole, p PartyID) bool {
	for _, r := range roles {
		if r.Party().Is(p) {
			return true
		}
	}
	return false
}

// Represents reports whether the peer may act for party: the party is one
// of the roles from its credentials, or the peer is a Hub (which reports
// only itself and forwards for parties it lists elsewhere). Modules use it
// for the ownership check on client-owned object URLs
// (transport_and_format: "MAY respond with HTTP 404").
func (p Peer) Represents(party PartyID) bool {
	for _, r := range p.Roles {
		if r.Role == RoleHub || r.Party().Is(party) {
			return true
		}
	}
	return false
}

// RepresentsAs reports whether the peer may act for party in role: party
// holds role in the peer's credentials, or the peer is a Hub. Modules use
// it where only one role owns the data (a Location belongs to a CPO).
func (p Peer) RepresentsAs(party PartyID, role Role) bool {
	for _, r := range p.Roles {
		if r.Role == RoleHub || r.Role == role && r.Party().Is(party) {
			return true
		}
	}
	return false
}

func partyList(ps []PartyID) string {
	if len(ps) == 0 {
		return "none"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// validateRoles checks our own parties as a credentials object's roles
// are checked (Credentials.Validate).
func validateRoles(roles []CredentialsRole) error {
	var v Validator
	validateRolesInto(&v, roles)
	if ps := v.Problems(); len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	return nil
}
