package ocpi

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestAddPendingPeerRegistersWithTheGivenToken(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	ctx := context.Background()
	pa, err := a.AddPendingPeer(ctx, "beta", "agreed-token-A")
	if err != nil {
		t.Fatal(err)
	}
	if pa.Status != PeerPending || pa.IncomingToken != "agreed-token-A" || pa.Name != "beta" || pa.ID == "" {
		t.Fatalf("pending peer %+v", pa)
	}
	if _, err := b.Register(ctx, a.VersionsURL(), "agreed-token-A"); err != nil {
		t.Fatalf("register with the given token A: %v", err)
	}
	if p := peerOf(t, a, pa.ID); p.Status != PeerRegistered || p.IncomingToken == "agreed-token-A" {
		t.Fatalf("after registering: %s with token A still valid: %v", p.Status, p.IncomingToken == "agreed-token-A")
	}
}

func TestAddPendingPeerRefusesATokenThatIsNotOne(t *testing.T) {
	a := newNodeA(t)
	for _, bad := range []string{"", "with space", strings.Repeat("x", 65), "tök", "tab\there"} {
		if _, err := a.AddPendingPeer(context.Background(), "beta", bad); err == nil || !strings.Contains(err.Error(), "printable ASCII") {
			t.Fatalf("token %q: err = %v; want one naming the rule", bad, err)
		}
	}
	if ps, _ := a.store.Peers(context.Background()); len(ps) != 0 {
		t.Fatalf("a refused token left peers: %+v", ps)
	}
	if _, err := a.AddPendingPeer(context.Background(), "beta", strings.Repeat("x", 64)); err != nil {
		t.Fatalf("a 64-character token: %v", err)
	}
}

func TestAddPendingPeerRefusesATokenAnotherPeerHas(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	ctx := context.Background()
	first, err := a.AddPendingPeer(ctx, "first", "shared-token")
	if err != nil {
		t.Fatal(err)
	}
	atA, _ := register(t, a, b)
	for _, c := range []struct{ name, token string }{
		{"same token A", "shared-token"},
		{"its base64 form", base64.StdEncoding.EncodeToString([]byte("shared-token"))},
		{"a registered peer's token", atA.IncomingToken},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := a.AddPendingPeer(ctx, "second", c.token)
			if err == nil || !strings.Contains(err.Error(), "choose another token A") {
				t.Fatalf("err = %v; want a refusal saying what to do", err)
			}
		})
	}
	if ps, _ := a.store.Peers(ctx); len(ps) != 2 {
		t.Fatalf("%d peers; want the first and the registered one only", len(ps))
	}
	if p := peerOf(t, a, first.ID); p.IncomingToken != "shared-token" || p.Status != PeerPending {
		t.Fatalf("the first peer changed: %+v", p)
	}
}

func TestConcurrentAddPendingPeerWithOneTokenCreatesOnePeer(t *testing.T) {
	a := newNodeA(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.AddPendingPeer(context.Background(), "racer", "contested-token"); err == nil {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ps, _ := a.store.Peers(context.Background()); created != 1 || len(ps) != 1 {
		t.Fatalf("%d calls succeeded, %d peers; want 1", created, len(ps))
	}
}

// peersAnswer is the innermost *Error of err: the peer's own answer
// behind the node's 3001.
func peersAnswer(err error) *Error {
	var last *Error
	for e := err; errors.As(e, &last); e = last.Unwrap() {
		if last.Unwrap() == nil {
			return last
		}
	}
	return last
}

func TestRegisterErrorKeepsThePeersEnvelope401(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, err := b.Register(context.Background(), a.VersionsURL(), "not-the-token-A")
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != StatusUnableToUseClientAPI {
		t.Fatalf("err = %v; want our 3001 first", err)
	}
	if !strings.Contains(err.Error(), "cannot use the OCPI API at") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("message %q lost what it said", err)
	}
	var theirs *Error
	if !errors.As(oe.Unwrap(), &theirs) || theirs.HTTPStatus != http.StatusUnauthorized || theirs.Code != StatusClientError {
		t.Fatalf("behind the 3001: %v; want the peer's HTTP 401 answer", oe.Unwrap())
	}
	if p := peersAnswer(err); p != theirs {
		t.Fatalf("innermost *Error %v", p)
	}
}

func TestRegisterErrorKeepsA401WithoutEnvelope(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "Token")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	b := newNodeB(t)
	_, err := b.Register(context.Background(), srv.URL+"/ocpi/versions", "token-a")
	var he *HTTPError
	if !errors.As(err, &he) || he.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("err = %v; want errors.As to find the HTTP 401", err)
	}
}

func TestRegisterErrorKeepsTheNetworkError(t *testing.T) {
	dead := httptest.NewServer(nil)
	dead.Close()
	b := newNodeB(t)
	_, err := b.Register(context.Background(), dead.URL+"/ocpi/versions", "token-a")
	var ne net.Error
	var op *net.OpError
	if !errors.As(err, &ne) || !errors.As(err, &op) {
		t.Fatalf("err = %v; want errors.As to find the net.Error", err)
	}
	var he *HTTPError
	if errors.As(err, &he) || peersAnswer(err).Unwrap() == nil {
		t.Fatalf("err = %v claims an answer from a peer that is down", err)
	}
}

func TestRotateAndUnregisterErrorsKeepTheNetworkError(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	a.srv.Close()
	ctx := context.Background()
	var op *net.OpError
	if _, err := b.RotateCredentials(ctx, atB.ID); !errors.As(err, &op) {
		t.Fatalf("rotate: err = %v; want errors.As to find the *net.OpError", err)
	}
	if _, err := b.Unregister(ctx, atB.ID); !errors.As(err, &op) || !strings.Contains(err.Error(), "not told") {
		t.Fatalf("unregister: err = %v; want errors.As to find the *net.OpError", err)
	}
}

func TestRotateErrorKeepsThePeersAnswer(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	_, atB := register(t, a, b)
	node := a.srv.Config.Handler
	a.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		node.ServeHTTP(w, r)
	})
	_, err := b.RotateCredentials(context.Background(), atB.ID)
	var he *HTTPError
	if !errors.As(err, &he) || he.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("err = %v; want errors.As to find the HTTP 401", err)
	}
}

// A transport error whose text had our token taken out still unwraps to
// the net.Error.
func TestClientErrorWithoutTheTokenKeepsTheNetworkError(t *testing.T) {
	dead := httptest.NewServer(nil)
	dead.Close()
	token := "secret-token-in-url"
	c := &Client{Token: token}
	_, err := c.Versions(context.Background(), dead.URL+"/ocpi/versions?t="+token)
	var ne net.Error
	if err == nil || !strings.Contains(err.Error(), "[token]") || !errors.As(err, &ne) {
		t.Fatalf("err = %v; want the token scrubbed and the net.Error kept", err)
	}
}
