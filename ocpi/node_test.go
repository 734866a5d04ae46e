package ocpi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable Config.Now. The test nodes' clocks start years
// before the real time: the token grace period must follow the node's
// clock alone (a store checking expiry against the real clock would refuse
// the previous token at once).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// echoModule answers with what the Node handed it.
type echoModule struct {
	id   ModuleID
	role InterfaceRole
}

func (m echoModule) Identifier() ModuleID         { return m.id }
func (m echoModule) InterfaceRole() InterfaceRole { return m.role }
func (m echoModule) ServeOCPI(w http.ResponseWriter, r *Request) {
	WriteData(w, http.StatusOK, echoed{Peer: r.Peer.ID, From: r.From.String(), To: r.To.String(), Path: r.Path, Method: r.Method})
}

type echoed struct {
	Peer   string   `json:"peer"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Path   []string `json:"path"`
	Method string   `json:"method"`
}

type testNode struct {
	*Node
	srv   *httptest.Server
	store *MemoryStore
	clock *clock
}

func role(r Role, cc, pid, name string) CredentialsRole {
	return CredentialsRole{Role: r, CountryCode: cc, PartyID: pid, BusinessDetails: BusinessDetails{Name: name}}
}

var (
	cpoA  = role(RoleCPO, "NL", "CPA", "Alpha CPO")
	emspB = role(RoleEMSP, "DE", "EMB", "Beta eMSP")
)

// newTestNode starts a Node on a real HTTP server. prefix is PublicURL's
// path ("" for the root); the node is mounted under it on a ServeMux.
func newTestNode(t *testing.T, prefix string, parties []CredentialsRole, modules ...Module) *testNode {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	store := NewMemoryStore()
	clk := &clock{t: time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC)}
	node, err := NewNode(Config{
		PublicURL: "http://" + srv.Listener.Addr().String() + prefix,
		Parties:   parties,
		Store:     store,
		Now:       clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modules {
		node.Handle(m)
	}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/ocpi/", node)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &testNode{Node: node, srv: srv, store: store, clock: clk}
}

func newNodeA(t *testing.T) *testNode {
	return newTestNode(t, "", []CredentialsRole{cpoA}, echoModule{ModuleLocations, Sender})
}

func newNodeB(t *testing.T) *testNode {
	return newTestNode(t, "", []CredentialsRole{emspB}, echoModule{ModuleLocations, Receiver})
}

// answer is a decoded reply of a raw HTTP call.
type answer struct {
	HTTPStatus int
	Header     http.Header
	Response
}

// call sends one request with the Authorization header auth (none when
// empty) and the extra headers given as name, value pairs.
func call(t *testing.T, method, url, auth string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := body.(string); ok {
			b = []byte(s)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{HTTPStatus: resp.StatusCode, Header: resp.Header}
	if err := json.Unmarshal(raw, &a.Response); err != nil {
		t.Fatalf("%s %s: HTTP %d, not an envelope: %q", method, url, resp.StatusCode, raw)
	}
	return a
}

// get sends a GET with call.
func get(t *testing.T, url, auth string, headers ...string) answer {
	t.Helper()
	return call(t, "GET", url, auth, nil, headers...)
}

func tok(token string) string { return AuthorizationHeader(token, false) }

func (a answer) want(t *testing.T, httpStatus, code int) {
	t.Helper()
	if a.HTTPStatus != httpStatus || a.StatusCode != code {
		t.Fatalf("got HTTP %d, status_code %d (%q); want HTTP %d, status_code %d", a.HTTPStatus, a.StatusCode, a.StatusMessage, httpStatus, code)
	}
}

func (a answer) decode(t *testing.T, out any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, out); err != nil {
		t.Fatalf("data %s: %v", a.Data, err)
	}
}

func peerOf(t *testing.T, n *testNode, id string) Peer {
	t.Helper()
	p, err := n.store.Peer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewNodeRejectsBadConfig(t *testing.T) {
	good := Config{PublicURL: "https://ocpi.example.com", Parties: []CredentialsRole{cpoA}, Store: NewMemoryStore()}
	if _, err := NewNode(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	cases := map[string]struct {
		change func(*Config)
		want   string
	}{
		"no URL":          {func(c *Config) { c.PublicURL = "" }, "PublicURL is empty"},
		"relative URL":    {func(c *Config) { c.PublicURL = "/ocpi-node" }, "absolute http(s) URL"},
		"URL with /ocpi":  {func(c *Config) { c.PublicURL = "https://x.example/ocpi" }, "ends in /ocpi"},
		"URL with query":  {func(c *Config) { c.PublicURL = "https://x.example/?a=b" }, "query"},
		"no store":        {func(c *Config) { c.Store = nil }, "Store is nil"},
		"no parties":      {func(c *Config) { c.Parties = nil }, "roles: required"},
		"bad role":        {func(c *Config) { c.Parties = []CredentialsRole{role("MSP", "NL", "ABC", "x")} }, `roles[0].role: "MSP"`},
		"bad party":       {func(c *Config) { c.Parties = []CredentialsRole{role(RoleCPO, "NLD", "ABC", "x")} }, "country_code"},
		"no name":         {func(c *Config) { c.Parties = []CredentialsRole{role(RoleCPO, "NL", "ABC", " ")} }, "business_details.name"},
		"duplicate party": {func(c *Config) { c.Parties = []CredentialsRole{cpoA, cpoA} }, "repeats"},
		"negative limit":  {func(c *Config) { c.MaxLimit = -1 }, "MaxLimit"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := good
			tc.change(&c)
			_, err := NewNode(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNewNodeFillsDefaults(t *testing.T) {
	n, err := NewNode(Config{PublicURL: "https://ocpi.example.com/", Parties: []CredentialsRole{cpoA}, Store: NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	c := n.Config()
	if c.MaxLimit != DefaultMaxLimit || c.TokenGrace != DefaultTokenGrace || c.Now == nil || c.Logger == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if got := n.VersionsURL(); got != "https://ocpi.example.com/ocpi/versions" {
		t.Fatalf("VersionsURL = %q", got)
	}
}

func TestVersionsAndDetailsListCredentialsAndModules(t *testing.T) {
	a := newTestNode(t, "", []CredentialsRole{cpoA}, echoModule{ModuleLocations, Sender}, echoModule{ModuleTokens, Receiver})
	p, err := a.IssueTokenA(context.Background(), "beta")
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, a.VersionsURL(), tok(p.IncomingToken))
	r.want(t, 200, StatusSuccess)
	var vs []Version
	r.decode(t, &vs)
	base := a.srv.URL + "/ocpi/2.2.1"
	if len(vs) != 1 || vs[0].Version != Version221 || vs[0].URL != base {
		t.Fatalf("versions = %+v", vs)
	}
	r = get(t, vs[0].URL, tok(p.IncomingToken))
	r.want(t, 200, StatusSuccess)
	var d VersionDetails
	r.decode(t, &d)
	want := []Endpoint{
		{ModuleCredentials, Sender, base + "/credentials"},
		{ModuleLocations, Sender, base + "/sender/locations"},
		{ModuleTokens, Receiver, base + "/receiver/tokens"},
	}
	if d.Version != Version221 || !slices.Equal(d.Endpoints, want) {
		t.Fatalf("details = %+v; want endpoints %+v", d, want)
	}
}

func TestHandlePanicsOnDuplicateOrReservedModule(t *testing.T) {
	a := newNodeA(t)
	for name, m := range map[string]Module{
		"duplicate":   echoModule{ModuleLocations, Sender},
		"credentials": echoModule{ModuleCredentials, Sender},
		"bad role":    echoModule{ModuleTokens, "BOTH"},
		"upper case":  echoModule{"Tokens", Sender},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Handle did not panic")
				}
			}()
			a.Handle(m)
		})
	}
}

func TestMissingUnknownOrGarbledAuthorizationIs401(t *testing.T) {
	a := newNodeA(t)
	p, _ := a.IssueTokenA(context.Background(), "beta")
	cases := map[string]struct{ auth, want string }{
		"missing":        {"", "missing"},
		"unknown token":  {tok("no-such-token"), "unknown credentials token"},
		"unknown raw":    {"Token no-such-token", "unknown credentials token"},
		"bearer scheme":  {"Bearer " + p.IncomingToken, "is not \"Token"},
		"scheme only":    {"Token", "is not \"Token"},
		"garbled base64": {"Token " + "%%%" + p.IncomingToken, "unknown credentials token"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, url := range []string{a.VersionsURL(), a.srv.URL + "/ocpi/2.2.1/credentials", a.srv.URL + "/ocpi/2.2.1/sender/locations", a.srv.URL + "/ocpi/nothing"} {
				r := get(t, url, tc.auth)
				r.want(t, http.StatusUnauthorized, StatusClientError)
				if !strings.Contains(r.StatusMessage, tc.want) {
					t.Fatalf("%s: message %q does not say %q", url, r.StatusMessage, tc.want)
				}
				if r.Header.Get("WWW-Authenticate") != "Token" {
					t.Fatalf("no WWW-Authenticate: Token")
				}
			}
		})
	}
}

func TestTokenAReachesOnlyVersionsDetailsAndCredentials(t *testing.T) {
	a := newNodeA(t)
	p, _ := a.IssueTokenA(context.Background(), "beta")
	auth := tok(p.IncomingToken)
	get(t, a.VersionsURL(), auth).want(t, 200, StatusSuccess)
	get(t, a.srv.URL+"/ocpi/2.2.1", auth).want(t, 200, StatusSuccess)
	r := get(t, a.srv.URL+"/ocpi/2.2.1/credentials", auth)
	r.want(t, 200, StatusSuccess)
	var c Credentials
	r.decode(t, &c)
	if c.Token != p.IncomingToken || c.URL != a.VersionsURL() || len(c.Roles) != 1 || c.Roles[0].PartyID != "CPA" {
		t.Fatalf("credentials = %+v", c)
	}
	r = get(t, a.srv.URL+"/ocpi/2.2.1/sender/locations", auth)
	r.want(t, http.StatusUnauthorized, StatusClientError)
	if !strings.Contains(r.StatusMessage, "token A") {
		t.Fatalf("message %q does not explain token A", r.StatusMessage)
	}
}

func TestUnknownPathIs404AndWrongMethodIs405(t *testing.T) {
	a := newNodeA(t)
	p, _ := a.IssueTokenA(context.Background(), "beta")
	auth := tok(p.IncomingToken)
	for _, path := range []string{"/ocpi/2.1.1", "/ocpi/2.2.1/sender/tariffs", "/ocpi/2.2.1/cpo/locations", "/ocpi/versionsx"} {
		get(t, a.srv.URL+path, auth).want(t, http.StatusNotFound, StatusClientError)
	}
	r := call(t, "POST", a.VersionsURL(), auth, map[string]string{})
	r.want(t, http.StatusMethodNotAllowed, StatusClientError)
	if r.Header.Get("Allow") != "GET" {
		t.Fatalf("Allow = %q", r.Header.Get("Allow"))
	}
	call(t, "PATCH", a.srv.URL+"/ocpi/2.2.1/credentials", auth, map[string]string{}).want(t, http.StatusMethodNotAllowed, StatusClientError)
}

func TestRequestAndCorrelationIDsAreEchoed(t *testing.T) {
	a := newNodeA(t)
	r := get(t, a.VersionsURL(), "", HeaderRequestID, "req-1", HeaderCorrelationID, "corr-1")
	if r.Header.Get(HeaderRequestID) != "req-1" || r.Header.Get(HeaderCorrelationID) != "corr-1" {
		t.Fatalf("ids not echoed (even on a 401): %v", r.Header)
	}
	r = get(t, a.VersionsURL(), "")
	if r.Header.Get(HeaderRequestID) == "" || r.Header.Get(HeaderCorrelationID) == "" {
		t.Fatalf("ids not generated when absent: %v", r.Header)
	}
}

// register connects b to a (b registers at a) and returns each side's peer.
func register(t *testing.T, a, b *testNode) (peerBAtA, peerAAtB Peer) {
	t.Helper()
	ctx := context.Background()
	pa, err := a.IssueTokenA(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Register(ctx, a.VersionsURL(), pa.IncomingToken)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return peerOf(t, a, pa.ID), pb
}

func TestRegistrationExchangesTokensBothWays(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	ctx := context.Background()
	pa, _ := a.IssueTokenA(ctx, "beta")
	tokenA := pa.IncomingToken
	pb, err := b.Register(ctx, a.VersionsURL(), tokenA)
	if err != nil {
		t.Fatal(err)
	}
	atA := peerOf(t, a, pa.ID)
	if atA.Status != PeerRegistered || pb.Status != PeerRegistered {
		t.Fatalf("status at A %s, at B %s", atA.Status, pb.Status)
	}
	// B calls A with A's token C; A calls B with B's token B.
	if pb.OutgoingToken != atA.IncomingToken || atA.OutgoingToken != pb.IncomingToken {
		t.Fatalf("tokens do not pair up: A in %q out %q, B in %q out %q", atA.IncomingToken, atA.OutgoingToken, pb.IncomingToken, pb.OutgoingToken)
	}
	if atA.IncomingToken == tokenA || atA.PreviousIncomingToken != "" {
		t.Fatal("token A is still A's incoming token")
	}
	if pb.Name != "Alpha CPO" || len(pb.Roles) != 1 || pb.Roles[0].Party() != cpoA.Party() ||
		atA.Name != "beta" || len(atA.Roles) != 1 || atA.Roles[0].Party() != emspB.Party() {
		t.Fatalf("roles: at A %+v, at B %+v", atA.Roles, pb.Roles)
	}
	if _, ok := b.Endpoint(pb, ModuleLocations, Sender); !ok {
		t.Fatalf("B does not know A's locations sender: %+v", pb.Endpoints)
	}
	if u, ok := a.Endpoint(atA, ModuleLocations, Receiver); !ok || u != b.srv.URL+"/ocpi/2.2.1/receiver/locations" {
		t.Fatalf("A's view of B's locations receiver: %q %v", u, ok)
	}

	// Token A is dead, on every endpoint.
	get(t, a.VersionsURL(), tok(tokenA)).want(t, http.StatusUnauthorized, StatusClientError)

	// Each side calls the other's module with its Client.
	var got echoed
	if err := b.Client(pb).Get(ctx, b.mustEndpoint(t, pb, ModuleLocations, Sender)+"/NL/CPA/loc1", &got, ForModule(ModuleLocations)); err != nil {
		t.Fatal(err)
	}
	if got.Peer != atA.ID || got.From != "DE-EMB" || got.To != "NL-CPA" || !slices.Equal(got.Path, []string{"NL", "CPA", "loc1"}) {
		t.Fatalf("A's module saw %+v", got)
	}
	if err := a.Client(atA).Get(ctx, a.mustEndpoint(t, atA, ModuleLocations, Receiver), &got, ForModule(ModuleLocations)); err != nil {
		t.Fatal(err)
	}
	if got.Peer != pb.ID || got.From != "NL-CPA" || got.To != "DE-EMB" || len(got.Path) != 0 {
		t.Fatalf("B's module saw %+v", got)
	}

	// GET credentials answers with the token the caller uses.
	r := get(t, a.srv.URL+"/ocpi/2.2.1/credentials", tok(pb.OutgoingToken))
	r.want(t, 200, StatusSuccess)
	var c Credentials
	r.decode(t, &c)
	if c.Token != pb.OutgoingToken || c.URL != a.VersionsURL() {
		t.Fatalf("GET credentials = %+v", c)
	}
}

func (n *testNode) mustEndpoint(t *testing.T, p Peer, m ModuleID, r InterfaceRole) string {
	t.Helper()
	u, ok := n.Endpoint(p, m, r)
	if !ok {
		t.Fatalf("no %s %s endpoint in %+v", m, r, p.Endpoints)
	}
	return u
}

func TestCredentialsPostWhenRegisteredIs405(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, pb := register(t, a, b)
	body := b.ourCredentials(pb.IncomingToken)
	r := call(t, "POST", a.srv.URL+"/ocpi/2.2.1/credentials", tok(pb.OutgoingToken), body)
	r.want(t, http.StatusMethodNotAllowed, StatusClientError)
	if after := peerOf(t, b, pb.ID); after.OutgoingToken != pb.OutgoingToken {
		t.Fatal("the refused POST changed something")
	}
	get(t, a.VersionsURL(), tok(pb.OutgoingToken)).want(t, 200, StatusSuccess)
}

func TestCredentialsPutOrDeleteWhenPendingIs405(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	for _, method := range []string{"PUT", "DELETE"} {
		r := call(t, method, a.srv.URL+"/ocpi/2.2.1/credentials", tok(pa.IncomingToken), b.ourCredentials("some-token"))
		r.want(t, http.StatusMethodNotAllowed, StatusClientError)
	}
	if p := peerOf(t, a, pa.ID); p.Status != PeerPending || p.IncomingToken != pa.IncomingToken {
		t.Fatalf("peer changed: %+v", p)
	}
}

func TestCredentialsPostWithBadBodyIsRefusedAndTokenAStays(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	good := b.ourCredentials("token-b")
	cases := map[string]struct {
		body       any
		httpStatus int
		code       int
		want       string
	}{
		"not JSON":         {"{not json", http.StatusBadRequest, StatusClientError, "not valid JSON"},
		"empty":            {"", http.StatusBadRequest, StatusClientError, "empty"},
		"too large":        {`{"token":"` + strings.Repeat("x", maxCredentialsBody) + `"}`, http.StatusRequestEntityTooLarge, StatusClientError, "larger than"},
		"a list":           {"[]", 200, StatusInvalidParameters, "expected a JSON object"},
		"token not string": {`{"token": 42, "url": "` + good.URL + `", "roles": []}`, 200, StatusInvalidParameters, "token: expected a string"},
		"roles not list":   {`{"token": "t", "url": "` + good.URL + `", "roles": {}}`, 200, StatusInvalidParameters, "roles: expected a list"},
		"token too long":   {Credentials{Token: strings.Repeat("x", 65), URL: good.URL, Roles: good.Roles}, 200, StatusInvalidParameters, "token"},
		"token has space":  {Credentials{Token: "a b", URL: good.URL, Roles: good.Roles}, 200, StatusInvalidParameters, "token"},
		"relative url":     {Credentials{Token: "t", URL: "/ocpi/versions", Roles: good.Roles}, 200, StatusInvalidParameters, "url"},
		"no roles":         {Credentials{Token: "t", URL: good.URL}, 200, StatusInvalidParameters, "roles: required"},
		"bad role":         {Credentials{Token: "t", URL: good.URL, Roles: []CredentialsRole{role("X", "DE", "EMB", "b")}}, 200, StatusInvalidParameters, "roles[0].role"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, "POST", a.srv.URL+"/ocpi/2.2.1/credentials", tok(pa.IncomingToken), tc.body)
			r.want(t, tc.httpStatus, tc.code)
			if !strings.Contains(r.StatusMessage, tc.want) {
				t.Fatalf("message %q does not name %q", r.StatusMessage, tc.want)
			}
			if p := peerOf(t, a, pa.ID); p.Status != PeerPending || p.IncomingToken != pa.IncomingToken {
				t.Fatalf("peer changed: %+v", p)
			}
		})
	}
}

func TestRotationByEitherSideReplacesTokensAfterGrace(t *testing.T) {
	for _, initiator := range []string{"B", "A"} {
		t.Run("by "+initiator, func(t *testing.T) {
			a, b := newNodeA(t), newNodeB(t)
			atA, atB := register(t, a, b)
			ctx := context.Background()
			var err error
			if initiator == "B" {
				_, err = b.RotateCredentials(ctx, atB.ID)
			} else {
				_, err = a.RotateCredentials(ctx, atA.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			newA, newB := peerOf(t, a, atA.ID), peerOf(t, b, atB.ID)
			if newA.IncomingToken == atA.IncomingToken || newB.IncomingToken == atB.IncomingToken {
				t.Fatal("a token did not change")
			}
			if newB.OutgoingToken != newA.IncomingToken || newA.OutgoingToken != newB.IncomingToken {
				t.Fatal("the new tokens do not pair up")
			}
			// Old tokens still work during the grace period, on both sides.
			get(t, a.srv.URL+"/ocpi/2.2.1/sender/locations", tok(atA.IncomingToken)).want(t, 200, StatusSuccess)
			get(t, b.srv.URL+"/ocpi/2.2.1/receiver/locations", tok(atB.IncomingToken)).want(t, 200, StatusSuccess)

			a.clock.Advance(DefaultTokenGrace + time.Second)
			b.clock.Advance(DefaultTokenGrace + time.Second)
			r := get(t, a.srv.URL+"/ocpi/2.2.1/sender/locations", tok(atA.IncomingToken))
			r.want(t, http.StatusUnauthorized, StatusClientError)
			if !strings.Contains(r.StatusMessage, "replaced") {
				t.Fatalf("message %q does not say the token was replaced", r.StatusMessage)
			}
			get(t, b.srv.URL+"/ocpi/2.2.1/receiver/locations", tok(atB.IncomingToken)).want(t, http.StatusUnauthorized, StatusClientError)

			// The new ones work, through the nodes' clients.
			if err := b.Client(newB).Get(ctx, b.mustEndpoint(t, newB, ModuleLocations, Sender), nil, ForModule(ModuleLocations)); err != nil {
				t.Fatal(err)
			}
			if err := a.Client(newA).Get(ctx, a.mustEndpoint(t, newA, ModuleLocations, Receiver), nil, ForModule(ModuleLocations)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A lossy network in front of A: A handles a credentials PUT, but the
// answer never reaches the caller.
func TestRotationWithLostAnswerCanBeRetried(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	atA, atB := register(t, a, b)
	node := a.srv.Config.Handler
	a.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			node.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler)
		}
		node.ServeHTTP(w, r)
	})
	ctx := context.Background()
	_, err := b.RotateCredentials(ctx, atB.ID)
	if err == nil || !strings.Contains(err.Error(), "rotate again") {
		t.Fatalf("err = %v; want one saying to rotate again", err)
	}
	// A applied it and calls B with the new token; B still takes it.
	newAtA := peerOf(t, a, atA.ID)
	if newAtA.OutgoingToken == atA.OutgoingToken {
		t.Fatal("A did not apply the update")
	}
	if err := a.Client(newAtA).Get(ctx, a.mustEndpoint(t, newAtA, ModuleLocations, Receiver), nil, ForModule(ModuleLocations)); err != nil {
		t.Fatalf("A's new token refused by B: %v", err)
	}
	// The retry goes through, and leaves both sides paired.
	a.srv.Config.Handler = node
	p, err := b.RotateCredentials(ctx, atB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if peerOf(t, a, atA.ID).OutgoingToken != p.IncomingToken || peerOf(t, a, atA.ID).IncomingToken != p.OutgoingToken {
		t.Fatal("tokens do not pair up after the retry")
	}
}

func TestRotationRefusedByPeerKeepsTheTokens(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	node := a.srv.Config.Handler
	a.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			WriteError(w, Errorf(http.StatusServiceUnavailable, StatusServerError, "down for maintenance"))
			return
		}
		node.ServeHTTP(w, r)
	})
	_, err := b.RotateCredentials(context.Background(), atB.ID)
	if codeOf(err) != StatusServerError || !strings.Contains(err.Error(), "maintenance") {
		t.Fatalf("err = %v; want the peer's 3000", err)
	}
	p := peerOf(t, b, atB.ID)
	if p.IncomingToken != atB.IncomingToken || p.OutgoingToken != atB.OutgoingToken || p.PreviousIncomingToken != atB.PreviousIncomingToken {
		t.Fatalf("tokens changed: %+v", p)
	}
}

func TestUnregisterByEitherSideEndsBothDirections(t *testing.T) {
	for _, initiator := range []string{"B", "A"} {
		t.Run("by "+initiator, func(t *testing.T) {
			a, b := newNodeA(t), newNodeB(t)
			atA, atB := register(t, a, b)
			ctx := context.Background()
			var err error
			if initiator == "B" {
				_, err = b.Unregister(ctx, atB.ID)
			} else {
				_, err = a.Unregister(ctx, atA.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			if peerOf(t, a, atA.ID).Status != PeerUnregistered || peerOf(t, b, atB.ID).Status != PeerUnregistered {
				t.Fatal("a side is not UNREGISTERED")
			}
			for _, c := range []struct{ url, token string }{
				{a.VersionsURL(), atA.IncomingToken},
				{b.VersionsURL(), atB.IncomingToken},
			} {
				r := get(t, c.url, tok(c.token))
				r.want(t, http.StatusUnauthorized, StatusClientError)
				if !strings.Contains(r.StatusMessage, "unregistered") {
					t.Fatalf("message %q", r.StatusMessage)
				}
			}
		})
	}
}

func TestUnregisterOfUnreachablePeerStillUnregistersHere(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	a.srv.Close()
	p, err := b.Unregister(context.Background(), atB.ID)
	if err == nil || !strings.Contains(err.Error(), "not told") {
		t.Fatalf("err = %v; want one saying the peer was not told", err)
	}
	if p.Status != PeerUnregistered || peerOf(t, b, atB.ID).Status != PeerUnregistered {
		t.Fatal("not unregistered here")
	}
}

func TestUnregisterOfPendingPeerRevokesTokenA(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	if _, err := a.Unregister(context.Background(), pa.ID); err != nil {
		t.Fatal(err)
	}
	get(t, a.VersionsURL(), tok(pa.IncomingToken)).want(t, http.StatusUnauthorized, StatusClientError)
}

func TestCredentialsPutOrDeleteAfterUnregisterIs401(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	auth := tok(atB.OutgoingToken)
	call(t, "DELETE", a.srv.URL+"/ocpi/2.2.1/credentials", auth, nil).want(t, 200, StatusSuccess)
	// The token is dead now: a second DELETE or a PUT is refused before
	// the 405 check can be reached.
	call(t, "DELETE", a.srv.URL+"/ocpi/2.2.1/credentials", auth, nil).want(t, http.StatusUnauthorized, StatusClientError)
	call(t, "PUT", a.srv.URL+"/ocpi/2.2.1/credentials", auth, b.ourCredentials(atB.IncomingToken)).want(t, http.StatusUnauthorized, StatusClientError)
}

func TestRoutingHeaders(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	url := a.srv.URL + "/ocpi/2.2.1/sender/locations/NL/CPA/loc%2F1/"
	auth := tok(atB.OutgoingToken)

	t.Run("defaults and swapped answer", func(t *testing.T) {
		r := get(t, url, auth)
		r.want(t, 200, StatusSuccess)
		var got echoed
		r.decode(t, &got)
		if got.From != "DE-EMB" || got.To != "NL-CPA" || !slices.Equal(got.Path, []string{"NL", "CPA", "loc/1"}) {
			t.Fatalf("module saw %+v", got)
		}
		if r.Header.Get(HeaderFromCountryCode) != "NL" || r.Header.Get(HeaderFromPartyID) != "CPA" ||
			r.Header.Get(HeaderToCountryCode) != "DE" || r.Header.Get(HeaderToPartyID) != "EMB" {
			t.Fatalf("answer's routing headers not swapped: %v", r.Header)
		}
	})
	t.Run("lower-case headers accepted", func(t *testing.T) {
		get(t, url, auth, HeaderFromCountryCode, "de", HeaderFromPartyID, "emb", HeaderToCountryCode, "nl", HeaderToPartyID, "cpa").want(t, 200, StatusSuccess)
	})
	cases := map[string]struct {
		headers    []string
		httpStatus int
		code       int
		want       string
	}{
		"half from":      {[]string{HeaderFromCountryCode, "DE"}, 200, StatusInvalidParameters, HeaderFromPartyID},
		"malformed to":   {[]string{HeaderToCountryCode, "NLD", HeaderToPartyID, "CPA"}, 200, StatusInvalidParameters, HeaderToCountryCode},
		"foreign from":   {[]string{HeaderFromCountryCode, "FR", HeaderFromPartyID, "XYZ"}, http.StatusNotFound, StatusClientError, "not one of your parties"},
		"not our to":     {[]string{HeaderToCountryCode, "BE", HeaderToPartyID, "XYZ"}, http.StatusNotFound, StatusClientError, "not a party of this node"},
		"our party from": {[]string{HeaderFromCountryCode, "NL", HeaderFromPartyID, "CPA"}, http.StatusNotFound, StatusClientError, "not one of your parties"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := get(t, url, auth, tc.headers...)
			r.want(t, tc.httpStatus, tc.code)
			if !strings.Contains(r.StatusMessage, tc.want) {
				t.Fatalf("message %q does not name %q", r.StatusMessage, tc.want)
			}
		})
	}
}

func TestRoutingHeadersRequiredWhenSeveralParties(t *testing.T) {
	cpo2 := role(RoleCPO, "NL", "CP2", "Second CPO")
	a := newTestNode(t, "", []CredentialsRole{cpoA, cpo2}, echoModule{ModuleLocations, Sender})
	b := newNodeB(t)
	_, atB := register(t, a, b)
	url := a.srv.URL + "/ocpi/2.2.1/sender/locations"
	r := get(t, url, tok(atB.OutgoingToken))
	r.want(t, 200, StatusInvalidParameters)
	if !strings.Contains(r.StatusMessage, HeaderToCountryCode) {
		t.Fatalf("message %q does not name the to header", r.StatusMessage)
	}
	r = get(t, url, tok(atB.OutgoingToken), HeaderToCountryCode, "NL", HeaderToPartyID, "CP2")
	r.want(t, 200, StatusSuccess)
	var got echoed
	r.decode(t, &got)
	if got.To != "NL-CP2" {
		t.Fatalf("to = %q", got.To)
	}
}

func TestCPOAndEMSPNodePicksThePartyServingTheModule(t *testing.T) {
	emsp := role(RoleEMSP, "NL", "EMA", "Alpha eMSP")
	a := newTestNode(t, "", []CredentialsRole{cpoA, emsp}, echoModule{ModuleLocations, Sender}, echoModule{ModuleLocations, Receiver})
	b := newTestNode(t, "", []CredentialsRole{emspB, role(RoleCPO, "DE", "CPB", "Beta CPO")}, echoModule{ModuleLocations, Receiver})
	_, atB := register(t, a, b)
	for _, c := range []struct{ iface, from, to string }{{"sender", "DE-EMB", "NL-CPA"}, {"receiver", "DE-CPB", "NL-EMA"}} {
		r := get(t, a.srv.URL+"/ocpi/2.2.1/"+c.iface+"/locations", tok(atB.OutgoingToken))
		r.want(t, 200, StatusSuccess)
		var got echoed
		r.decode(t, &got)
		if got.From != c.from || got.To != c.to {
			t.Fatalf("%s: from %s to %s; want %s to %s", c.iface, got.From, got.To, c.from, c.to)
		}
	}
}

func TestPublicURLWithPathPrefix(t *testing.T) {
	a := newTestNode(t, "/ocpi-node", []CredentialsRole{cpoA}, echoModule{ModuleLocations, Sender})
	b := newTestNode(t, "/b/x", []CredentialsRole{emspB}, echoModule{ModuleLocations, Receiver})
	if a.VersionsURL() != a.srv.URL+"/ocpi-node/ocpi/versions" {
		t.Fatalf("VersionsURL = %q", a.VersionsURL())
	}
	atA, atB := register(t, a, b)
	if u := b.mustEndpoint(t, atB, ModuleLocations, Sender); u != a.srv.URL+"/ocpi-node/ocpi/2.2.1/sender/locations" {
		t.Fatalf("endpoint %q", u)
	}
	if err := a.Client(atA).Get(context.Background(), a.mustEndpoint(t, atA, ModuleLocations, Receiver)+"/x", nil, ForModule(ModuleLocations)); err != nil {
		t.Fatal(err)
	}
	// Mounted behind http.StripPrefix, the same node serves /ocpi/... too.
	srv := httptest.NewServer(http.StripPrefix("/ocpi-node", a.Node))
	defer srv.Close()
	get(t, srv.URL+"/ocpi-node/ocpi/versions", tok(atB.OutgoingToken)).want(t, 200, StatusSuccess)
}

func TestHubPeerMayRouteForAnyParty(t *testing.T) {
	a := newNodeA(t)
	hub := newTestNode(t, "", []CredentialsRole{role(RoleHub, "DE", "HUB", "Hub")})
	_, atHub := register(t, a, hub)
	r := get(t, a.srv.URL+"/ocpi/2.2.1/sender/locations", tok(atHub.OutgoingToken), HeaderFromCountryCode, "FR", HeaderFromPartyID, "XYZ")
	r.want(t, 200, StatusSuccess)
	var got echoed
	r.decode(t, &got)
	if got.From != "FR-XYZ" || got.To != "NL-CPA" {
		t.Fatalf("module saw %+v", got)
	}
}

func TestNegativeTokenGraceEndsTheOldTokenAtOnce(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	a, err := NewNode(Config{PublicURL: "http://" + srv.Listener.Addr().String(), Parties: []CredentialsRole{cpoA}, Store: NewMemoryStore(), TokenGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	a.Handle(echoModule{ModuleLocations, Sender})
	srv.Config.Handler = a
	srv.Start()
	defer srv.Close()
	b := newNodeB(t)
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	pb, err := b.Register(context.Background(), a.VersionsURL(), pa.IncomingToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.RotateCredentials(context.Background(), pb.ID); err != nil {
		t.Fatal(err)
	}
	get(t, srv.URL+"/ocpi/2.2.1/sender/locations", tok(pb.OutgoingToken)).want(t, http.StatusUnauthorized, StatusClientError)
	get(t, srv.URL+"/ocpi/2.2.1/sender/locations", tok(peerOf(t, b, pb.ID).OutgoingToken)).want(t, 200, StatusSuccess)
}

// bodyModule reads the whole body, as any module would, with readBody.
type bodyModule struct{}

func (bodyModule) Identifier() ModuleID         { return ModuleTariffs }
func (bodyModule) InterfaceRole() InterfaceRole { return Receiver }
func (bodyModule) ServeOCPI(w http.ResponseWriter, r *Request) {
	if _, err := readBody(w, r.Request, 1<<40, "tariff"); err != nil {
		WriteError(w, err)
		return
	}
	WriteData(w, http.StatusOK, nil)
}

func TestEveryModuleBodyIsBoundedByTheNode(t *testing.T) {
	a := newTestNode(t, "", []CredentialsRole{emspB}, bodyModule{})
	if err := a.store.SavePeer(context.Background(), Peer{ID: "p", Status: PeerRegistered, IncomingToken: "token-c-of-the-cpo", Roles: []CredentialsRole{cpoA}}); err != nil {
		t.Fatal(err)
	}
	u := a.srv.URL + "/ocpi/2.2.1/receiver/tariffs/NL/CPA/T1"
	call(t, http.MethodPut, u, tok("token-c-of-the-cpo"), `{"id":"T1"}`).want(t, http.StatusOK, StatusSuccess)
	r := call(t, http.MethodPut, u, tok("token-c-of-the-cpo"), `{"id":"`+strings.Repeat("x", MaxRequestBody)+`"}`)
	r.want(t, http.StatusRequestEntityTooLarge, StatusClientError)
}

// gatedStore holds the first save of a peer in raw-token mode until gate
// is closed, to interleave it with a rotation.
type gatedStore struct {
	*MemoryStore
	once    sync.Once
	blocked chan struct{}
	gate    chan struct{}
}

func (s *gatedStore) SavePeer(ctx context.Context, p Peer) error {
	if p.RawToken {
		s.once.Do(func() { close(s.blocked); <-s.gate })
	}
	return s.MemoryStore.SavePeer(ctx, p)
}

// The first raw request of a peer records the raw-token mode; a rotation
// running meanwhile must not be undone by that save.
func TestRawTokenDetectionDoesNotUndoAConcurrentRotation(t *testing.T) {
	gs := &gatedStore{MemoryStore: NewMemoryStore(), blocked: make(chan struct{}), gate: make(chan struct{})}
	srv := httptest.NewUnstartedServer(nil)
	node, err := NewNode(Config{PublicURL: "http://" + srv.Listener.Addr().String(), Parties: []CredentialsRole{cpoA}, Store: gs})
	if err != nil {
		t.Fatal(err)
	}
	node.Handle(echoModule{ModuleLocations, Sender})
	srv.Config.Handler = node
	srv.Start()
	t.Cleanup(srv.Close)
	a, b := &testNode{Node: node, srv: srv, store: gs.MemoryStore}, newNodeB(t)
	atA, atB := register(t, a, b)
	locations := a.srv.URL + "/ocpi/2.2.1/sender/locations"

	rawDone := make(chan answer, 1)
	go func() { rawDone <- get(t, locations, "Token "+atB.OutgoingToken) }()
	<-gs.blocked // the raw request is saving the raw-token mode
	rotated := make(chan error, 1)
	go func() { _, err := b.RotateCredentials(context.Background(), atB.ID); rotated <- err }()
	select {
	case err := <-rotated: // without serialisation it completes now
		close(gs.gate)
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(200 * time.Millisecond): // with it, it waits for the save
		close(gs.gate)
		if err := <-rotated; err != nil {
			t.Fatal(err)
		}
	}
	(<-rawDone).want(t, http.StatusOK, StatusSuccess)
	newB := peerOf(t, b, atB.ID)
	get(t, locations, tok(newB.OutgoingToken)).want(t, http.StatusOK, StatusSuccess)
	if p := peerOf(t, a, atA.ID); p.IncomingToken != newB.OutgoingToken {
		t.Fatalf("after the rotation A expects token %q; B sends %q", p.IncomingToken, newB.OutgoingToken)
	}
}
