package ocpi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// otherPlatform is a hand-written OCPI platform of another make: it offers
// the versions it is given, lists a credentials endpoint or not, and may
// accept its token only unencoded (as 2.1.1 platforms do). It records the
// Authorization headers it receives.
type otherPlatform struct {
	srv      *httptest.Server
	token    string // the token it accepts
	rawOnly  bool
	versions []VersionNumber
	noCreds  bool

	mu           sync.Mutex
	seen         []string
	correlations []string
}

func newOtherPlatform(t *testing.T, token string, rawOnly bool, versions ...VersionNumber) *otherPlatform {
	p := &otherPlatform{token: token, rawOnly: rawOnly, versions: versions}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *otherPlatform) versionsURL() string { return p.srv.URL + "/versions" }

func (p *otherPlatform) headers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

func (p *otherPlatform) serve(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	p.mu.Lock()
	p.seen = append(p.seen, h)
	p.correlations = append(p.correlations, r.Header.Get(HeaderCorrelationID))
	p.mu.Unlock()
	ok := h == "Token "+p.token
	if !p.rawOnly {
		ok = ok || h == AuthorizationHeader(p.token, false)
	}
	if !ok {
		WriteError(w, Errorf(http.StatusUnauthorized, StatusClientError, "unknown token"))
		return
	}
	switch r.URL.Path {
	case "/versions":
		var vs []Version
		for _, v := range p.versions {
			vs = append(vs, Version{Version: v, URL: p.srv.URL + "/" + string(v)})
		}
		WriteData(w, http.StatusOK, vs)
	case "/" + string(Version221), "/" + string(Version211):
		eps := []Endpoint{{Identifier: ModuleLocations, Role: Receiver, URL: p.srv.URL + "/locations"}}
		if !p.noCreds {
			// Listed as RECEIVER, as some platforms do: the role is ignored.
			eps = append(eps, Endpoint{Identifier: ModuleCredentials, Role: Receiver, URL: p.srv.URL + "/credentials"})
		}
		WriteData(w, http.StatusOK, VersionDetails{Version: Version221, Endpoints: eps})
	default:
		WriteData(w, http.StatusOK, map[string]string{})
	}
}

// postCredentials registers at a with token A, offering the platform's
// versions URL and token.
func postCredentials(t *testing.T, a *testNode, auth string, p *otherPlatform) answer {
	t.Helper()
	body := Credentials{Token: p.token, URL: p.versionsURL(), Roles: []CredentialsRole{emspB}}
	return call(t, "POST", a.srv.URL+"/ocpi/2.2.1/credentials", auth, body)
}

// stillPending checks that a refused registration changed nothing.
func stillPending(t *testing.T, a *testNode, pa Peer) {
	t.Helper()
	p := peerOf(t, a, pa.ID)
	if p.Status != PeerPending || p.IncomingToken != pa.IncomingToken || p.OutgoingToken != "" {
		t.Fatalf("the peer changed: %+v", p)
	}
	get(t, a.VersionsURL(), tok(pa.IncomingToken)).want(t, 200, StatusSuccess)
}

func TestCredentialsPostFromPlatformWithout221Is3002(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "old")
	other := newOtherPlatform(t, "token-b", false, Version211)
	r := postCredentials(t, a, tok(pa.IncomingToken), other)
	r.want(t, 200, StatusUnsupportedVersion)
	if !strings.Contains(r.StatusMessage, "2.1.1") {
		t.Fatalf("message %q does not list the offered versions", r.StatusMessage)
	}
	stillPending(t, a, pa)
}

func TestCredentialsPostFromPlatformWithoutCredentialsEndpointIs3003(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "partial")
	other := newOtherPlatform(t, "token-b", false, Version211, Version221)
	other.noCreds = true
	postCredentials(t, a, tok(pa.IncomingToken), other).want(t, 200, StatusNoMatchingEndpoints)
	stillPending(t, a, pa)
}

func TestCredentialsPostWithUnusableCallbackIs3001(t *testing.T) {
	cases := map[string]func(t *testing.T) *otherPlatform{
		"unreachable": func(t *testing.T) *otherPlatform {
			p := newOtherPlatform(t, "token-b", false, Version221)
			p.srv.Close()
			return p
		},
		"refuses the token": func(t *testing.T) *otherPlatform {
			p := newOtherPlatform(t, "token-b", false, Version221)
			p.token = "something-else" // we offer token-b below, it wants this
			return p
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			a := newNodeA(t)
			pa, _ := a.IssueTokenA(context.Background(), "x")
			p := mk(t)
			body := Credentials{Token: "token-b", URL: p.versionsURL(), Roles: []CredentialsRole{emspB}}
			r := call(t, "POST", a.srv.URL+"/ocpi/2.2.1/credentials", tok(pa.IncomingToken), body)
			r.want(t, 200, StatusUnableToUseClientAPI)
			if strings.Contains(r.StatusMessage, "token-b") {
				t.Fatalf("message %q shows the token", r.StatusMessage)
			}
			stillPending(t, a, pa)
		})
	}
}

func TestRawTokenPeerIsCalledRaw(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "legacy")
	other := newOtherPlatform(t, "token-b", true, Version221)
	// The peer sends token A unencoded; we call it back unencoded first.
	r := postCredentials(t, a, "Token "+pa.IncomingToken, other)
	r.want(t, 200, StatusSuccess)
	p := peerOf(t, a, pa.ID)
	if !p.RawToken || p.Status != PeerRegistered || p.OutgoingToken != "token-b" {
		t.Fatalf("peer = %+v", p)
	}
	if seen := other.headers(); len(seen) != 2 || seen[0] != "Token token-b" {
		t.Fatalf("callbacks sent %q; want raw only", seen)
	}
	other.mu.Lock()
	corr := slices.Clone(other.correlations)
	other.mu.Unlock()
	if want := r.Header.Get(HeaderCorrelationID); want == "" || !slices.Equal(corr, []string{want, want}) {
		t.Fatalf("callbacks carried correlation ids %q; want the POST's %q", corr, want)
	}
	// Our client for it sends the token raw too.
	if err := a.Client(p).Get(context.Background(), other.srv.URL+"/locations", nil, ForModule(ModuleLocations)); err != nil {
		t.Fatal(err)
	}
	if seen := other.headers(); seen[len(seen)-1] != "Token token-b" {
		t.Fatalf("client sent %q", seen[len(seen)-1])
	}
}

func TestBase64PeerWithRawOnlyVersionsIsCalledRawAfter401(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "mixed")
	other := newOtherPlatform(t, "token-b", true, Version221)
	postCredentials(t, a, tok(pa.IncomingToken), other).want(t, 200, StatusSuccess)
	if p := peerOf(t, a, pa.ID); !p.RawToken {
		t.Fatal("the raw mode that worked is not remembered")
	}
	want := []string{AuthorizationHeader("token-b", false), "Token token-b", "Token token-b"}
	if seen := other.headers(); !slices.Equal(seen, want) {
		t.Fatalf("callbacks sent %q; want %q", seen, want)
	}
}

func TestRawTokenSenderIsRemembered(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	atA, atB := register(t, a, b)
	if atA.RawToken {
		t.Fatal("raw before any raw request")
	}
	get(t, a.srv.URL+"/ocpi/2.2.1/sender/locations", "Token "+atB.OutgoingToken).want(t, 200, StatusSuccess)
	if !peerOf(t, a, atA.ID).RawToken {
		t.Fatal("a raw Authorization did not set RawToken")
	}
}

func TestRegisterAtPlatformWithout221Is3002(t *testing.T) {
	b := newNodeB(t)
	other := newOtherPlatform(t, "token-a", false, Version211)
	_, err := b.Register(context.Background(), other.versionsURL(), "token-a")
	if codeOf(err) != StatusUnsupportedVersion {
		t.Fatalf("err = %v; want status 3002", err)
	}
	if ps, _ := b.store.Peers(context.Background()); len(ps) != 0 {
		t.Fatalf("peers kept: %+v", ps)
	}
}

func TestRegisterAtPlatformWithoutCredentialsEndpointIs3003(t *testing.T) {
	b := newNodeB(t)
	other := newOtherPlatform(t, "token-a", false, Version221)
	other.noCreds = true
	_, err := b.Register(context.Background(), other.versionsURL(), "token-a")
	if codeOf(err) != StatusNoMatchingEndpoints {
		t.Fatalf("err = %v; want status 3003", err)
	}
	if len(other.headers()) != 2 {
		t.Fatalf("calls %q: want versions and details only, no POST", other.headers())
	}
}

func TestRegisterWithBadArgumentsIsRefused(t *testing.T) {
	b := newNodeB(t)
	if _, err := b.Register(context.Background(), "not a url", "token-a"); err == nil || !strings.Contains(err.Error(), "versions URL") {
		t.Fatalf("err = %v", err)
	}
	if _, err := b.Register(context.Background(), "https://x.example/ocpi/versions", "token a"); err == nil || !strings.Contains(err.Error(), "token A") {
		t.Fatalf("err = %v", err)
	}
}

// codeOf is the OCPI status code of err, 0 without one.
func codeOf(err error) int {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return 0
}

// B's public URL points nowhere, so A cannot call B back during the POST.
func TestRegisterWhenPeerCannotCallBackIs3001AndNothingIsKept(t *testing.T) {
	a := newNodeA(t)
	dead := httptest.NewServer(nil)
	dead.Close()
	store := NewMemoryStore()
	b, err := NewNode(Config{PublicURL: dead.URL, Parties: []CredentialsRole{emspB}, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	_, err = b.Register(context.Background(), a.VersionsURL(), pa.IncomingToken)
	if codeOf(err) != StatusUnableToUseClientAPI {
		t.Fatalf("err = %v; want status 3001", err)
	}
	if ps, _ := store.Peers(context.Background()); len(ps) != 0 {
		t.Fatalf("B kept %+v", ps)
	}
	stillPending(t, a, pa)
}

func TestRegisteringPeerCannotPostCredentialsWithTokenB(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	pa, _ := a.IssueTokenA(context.Background(), "beta")
	// Register B by hand up to the POST: B's peer exists with token B.
	b.setRegistering("x", true)
	defer b.setRegistering("x", false)
	if err := b.store.SavePeer(context.Background(), Peer{ID: "x", Status: PeerPending, IncomingToken: "token-b"}); err != nil {
		t.Fatal(err)
	}
	body := a.ourCredentials(pa.IncomingToken)
	call(t, "POST", b.srv.URL+"/ocpi/2.2.1/credentials", tok("token-b"), body).want(t, http.StatusMethodNotAllowed, StatusClientError)
	get(t, b.VersionsURL(), tok("token-b")).want(t, 200, StatusSuccess)
}

func TestConcurrentPostsWithTokenARegisterOnce(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "twice")
	others := []*otherPlatform{newOtherPlatform(t, "token-b1", false, Version221), newOtherPlatform(t, "token-b2", false, Version221)}
	answers := make([]answer, len(others))
	var wg sync.WaitGroup
	for i, o := range others {
		wg.Go(func() { answers[i] = postCredentials(t, a, tok(pa.IncomingToken), o) })
	}
	wg.Wait()
	var won int
	var c Credentials
	for _, r := range answers {
		switch {
		case r.HTTPStatus == 200 && r.StatusCode == StatusSuccess:
			won++
			r.decode(t, &c)
		case r.HTTPStatus == http.StatusMethodNotAllowed, r.HTTPStatus == http.StatusUnauthorized:
			// Waited for the winner (405), or came after it (token A dead).
		default:
			t.Fatalf("answer HTTP %d, %d %q", r.HTTPStatus, r.StatusCode, r.StatusMessage)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations succeeded; want 1", won)
	}
	if p := peerOf(t, a, pa.ID); p.IncomingToken != c.Token {
		t.Fatal("the token returned to the winner is not the one stored")
	}
}

func TestSetRawTokenSwitchesHowWeCallThePeer(t *testing.T) {
	a := newNodeA(t)
	ctx := context.Background()
	pa, _ := a.IssueTokenA(ctx, "legacy")
	other := newOtherPlatform(t, "token-b", false, Version221)
	postCredentials(t, a, tok(pa.IncomingToken), other).want(t, 200, StatusSuccess)
	p, err := a.SetRawToken(ctx, pa.ID, true)
	if err != nil || !p.RawToken || !peerOf(t, a, pa.ID).RawToken {
		t.Fatalf("SetRawToken = %+v, %v", p, err)
	}
	_ = a.Client(p).Get(ctx, other.srv.URL+"/locations", nil, ForModule(ModuleLocations))
	if seen := other.headers(); seen[len(seen)-1] != "Token token-b" {
		t.Fatalf("after SetRawToken(true) the client sent %q", seen[len(seen)-1])
	}
	if p, err = a.SetRawToken(ctx, pa.ID, false); err != nil || p.RawToken {
		t.Fatalf("SetRawToken(false) = %+v, %v", p, err)
	}
	_ = a.Client(p).Get(ctx, other.srv.URL+"/locations", nil, ForModule(ModuleLocations))
	if seen := other.headers(); seen[len(seen)-1] != AuthorizationHeader("token-b", false) {
		t.Fatalf("after SetRawToken(false) the client sent %q", seen[len(seen)-1])
	}
	if _, err := a.SetRawToken(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetRawToken of an unknown peer: %v", err)
	}
}
