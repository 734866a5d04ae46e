package ocpi

import (
	"context"
	"net/http"
	"testing"
)

// lastHeader calls the platform with a's client for peer id and returns
// the Authorization header it sent.
func lastHeader(t *testing.T, a *testNode, other *otherPlatform, id string) string {
	t.Helper()
	_ = a.Client(peerOf(t, a, id)).Get(context.Background(), other.srv.URL+"/locations", nil, ForModule(ModuleLocations))
	seen := other.headers()
	return seen[len(seen)-1]
}

func TestPeerThatSendsRawThenBase64IsCalledBase64Again(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "switching")
	other := newOtherPlatform(t, "token-b", false, Version221)
	postCredentials(t, a, tok(pa.IncomingToken), other).want(t, http.StatusOK, StatusSuccess)
	tokenC := peerOf(t, a, pa.ID).IncomingToken

	get(t, a.VersionsURL(), "Token "+tokenC).want(t, http.StatusOK, StatusSuccess)
	if got := lastHeader(t, a, other, pa.ID); got != "Token token-b" {
		t.Fatalf("after a raw request we sent %q; want the raw token", got)
	}
	get(t, a.VersionsURL(), tok(tokenC)).want(t, http.StatusOK, StatusSuccess)
	if got, want := lastHeader(t, a, other, pa.ID), AuthorizationHeader("token-b", false); got != want {
		t.Fatalf("after a base64 request we sent %q; want %q", got, want)
	}
}

func TestSetRawTokenIsNotUndoneByThePeersRequests(t *testing.T) {
	a, b := newNodeA(t), newNodeB(t)
	atA, atB := register(t, a, b)
	if atA.RawTokenFixed {
		t.Fatal("fixed before any choice")
	}
	ctx := context.Background()
	if _, err := a.SetRawToken(ctx, atA.ID, false); err != nil {
		t.Fatal(err)
	}
	get(t, a.VersionsURL(), "Token "+atB.OutgoingToken).want(t, http.StatusOK, StatusSuccess)
	if p := peerOf(t, a, atA.ID); p.RawToken || !p.RawTokenFixed {
		t.Fatalf("after SetRawToken(false) and a raw request: raw_token %v, fixed %v; want false, true", p.RawToken, p.RawTokenFixed)
	}
	if _, err := a.SetRawToken(ctx, atA.ID, true); err != nil {
		t.Fatal(err)
	}
	get(t, a.VersionsURL(), tok(atB.OutgoingToken)).want(t, http.StatusOK, StatusSuccess)
	if p := peerOf(t, a, atA.ID); !p.RawToken {
		t.Fatal("a base64 request undid SetRawToken(true)")
	}
}

// A peer that sends base64 but whose API accepts only raw tokens (found by
// its 401 during registration) must stay raw: its base64 requests say
// nothing about what its API accepts.
func TestPeerWhoseAPIRefusedBase64StaysRawWhenItSendsBase64(t *testing.T) {
	a := newNodeA(t)
	pa, _ := a.IssueTokenA(context.Background(), "mixed")
	other := newOtherPlatform(t, "token-b", true, Version221)
	postCredentials(t, a, tok(pa.IncomingToken), other).want(t, http.StatusOK, StatusSuccess)
	p := peerOf(t, a, pa.ID)
	if !p.RawToken || !p.RawTokenFixed {
		t.Fatalf("after the 401 fallback: raw_token %v, fixed %v; want both", p.RawToken, p.RawTokenFixed)
	}
	get(t, a.VersionsURL(), tok(p.IncomingToken)).want(t, http.StatusOK, StatusSuccess)
	if got := lastHeader(t, a, other, pa.ID); got != "Token token-b" {
		t.Fatalf("after its base64 request we sent %q; want the raw token its API accepts", got)
	}
}
