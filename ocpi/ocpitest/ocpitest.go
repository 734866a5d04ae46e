// Package ocpitest is the conformance suite of the ocpi.Store contract:
// every implementation (ocpi.MemoryStore, and the SQLite and PostgreSQL
// stores of store/sqlite and store/postgres) runs TestStore in its tests.
package ocpitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpi"
)

// Options adapt the suite to an implementation.
type Options struct {
	// Invalid, if set, is the error that every rejection of bad input must
	// wrap (store.ErrInvalid for the SQL stores). Nil only checks that an
	// error is returned and nothing is written.
	Invalid error
}

// TestStore runs the conformance suite. open returns a new, empty store
// for each subtest and arranges its closing with t.Cleanup.
func TestStore(t *testing.T, open func(t *testing.T) ocpi.Store, opts Options) {
	tests := []struct {
		name string
		fn   func(*testing.T, ocpi.Store, Options)
	}{
		{"PeerSaveGetReplaceDelete", testPeerCRUD},
		{"PeerNotFound", testPeerNotFound},
		{"PeersOldestFirst", testPeersOldestFirst},
		{"PeerByTokenExactIncoming", testPeerByToken},
		{"PeerByTokenPreviousUntilExpiry", testPeerByTokenRotation},
		{"PeerIncomingTokenUnique", testPeerTokenUnique},
		{"PeerBadInputRejected", testPeerInvalid},
		{"PeerCopiesNotAliases", testPeerCopies},
		{"ObjectPutGetReplace", testObjectCRUD},
		{"ObjectIDIgnoresCase", testObjectIDCase},
		{"ObjectKeyedByKindModuleOwner", testObjectKeys},
		{"ObjectBadInputRejected", testObjectInvalid},
		{"ObjectCopiesNotAliases", testObjectCopies},
		{"ObjectsOwnersFilter", testObjectsOwners},
		{"ObjectsDateRangeFromInclusiveToExclusive", testObjectsRange},
		{"ObjectsStablePagesWithEqualTimes", testObjectsPages},
		{"ObjectsIDOrderBytewiseIgnoringCase", testObjectsIDOrder},
		{"ObjectsBadFilterRejected", testObjectsInvalidFilter},
		{"ConcurrentWriters", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t), opts) })
	}
}

var (
	partyNL = ocpi.PartyID{CountryCode: "NL", PartyID: "ABC"}
	partyDE = ocpi.PartyID{CountryCode: "DE", PartyID: "XYZ"}
	partyBE = ocpi.PartyID{CountryCode: "BE", PartyID: "BEC"}
	// base is a fixed instant with a nanosecond part, to check precision.
	base = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
)

func samplePeer(id string) ocpi.Peer {
	return ocpi.Peer{
		ID:            id,
		Name:          "Peer " + id,
		Status:        ocpi.PeerRegistered,
		IncomingToken: "in-" + id,
		OutgoingToken: "out-" + id,
		RawToken:      true,
		RawTokenFixed: true,
		VersionsURL:   "https://" + id + ".example.com/ocpi/versions",
		Version:       ocpi.Version221,
		Endpoints: []ocpi.Endpoint{
			{Identifier: ocpi.ModuleCredentials, Role: ocpi.Sender, URL: "https://" + id + ".example.com/ocpi/2.2.1/credentials"},
			{Identifier: ocpi.ModuleLocations, Role: ocpi.Receiver, URL: "https://" + id + ".example.com/ocpi/2.2.1/locations"},
		},
		Roles: []ocpi.CredentialsRole{{
			Role:        ocpi.RoleEMSP,
			CountryCode: "DE", PartyID: "XYZ",
			BusinessDetails: ocpi.BusinessDetails{
				Name: "Peer " + id,
				Logo: &ocpi.Image{URL: "https://" + id + ".example.com/logo.png", Category: ocpi.ImageOperator, Type: "png", Width: 64, Height: 64},
			},
		}},
	}
}

func sampleObject(owner ocpi.PartyID, id string, at time.Time) ocpi.Object {
	return ocpi.Object{
		Kind:        ocpi.Received,
		Module:      ocpi.ModuleLocations,
		Owner:       owner,
		ID:          id,
		LastUpdated: at,
		Data:        json.RawMessage(fmt.Sprintf(`{"id":%q,"country_code":%q,"party_id":%q,"name":"Station \u00e9"}`, id, owner.CountryCode, owner.PartyID)),
	}
}

// samePeer compares what the store keeps of p with got, times by instant.
func samePeer(t *testing.T, got, want ocpi.Peer) {
	t.Helper()
	if !got.PreviousTokenExpires.Equal(want.PreviousTokenExpires) {
		t.Errorf("peer %q: PreviousTokenExpires = %v, want %v", want.ID, got.PreviousTokenExpires, want.PreviousTokenExpires)
	}
	if !got.PreviousTokenExpires.IsZero() && got.PreviousTokenExpires.Location() != time.UTC {
		t.Errorf("peer %q: PreviousTokenExpires in %v, want UTC", want.ID, got.PreviousTokenExpires.Location())
	}
	got.PreviousTokenExpires, want.PreviousTokenExpires = time.Time{}, time.Time{}
	got.Created, want.Created = time.Time{}, time.Time{}
	got.Updated, want.Updated = time.Time{}, time.Time{}
	gj, _ := json.Marshal(peerFields(got))
	wj, _ := json.Marshal(peerFields(want))
	if !bytes.Equal(gj, wj) {
		t.Errorf("peer %q:\n got %s\nwant %s", want.ID, gj, wj)
	}
}

// peerFields includes the fields that Peer's JSON tags leave out.
func peerFields(p ocpi.Peer) any {
	return struct {
		P                        ocpi.Peer
		Incoming, Prev, Outgoing string
	}{p, p.IncomingToken, p.PreviousIncomingToken, p.OutgoingToken}
}

// sameObject compares two objects: keys exactly, data as JSON values.
func sameObject(t *testing.T, got, want ocpi.Object) {
	t.Helper()
	if got.Kind != want.Kind || got.Module != want.Module || got.Owner != want.Owner || got.ID != want.ID {
		t.Errorf("object keys = %s/%s/%s/%q, want %s/%s/%s/%q", got.Kind, got.Module, got.Owner, got.ID, want.Kind, want.Module, want.Owner, want.ID)
	}
	if !got.LastUpdated.Equal(want.LastUpdated) {
		t.Errorf("object %q: LastUpdated = %v, want %v", want.ID, got.LastUpdated, want.LastUpdated)
	}
	if got.LastUpdated.Location() != time.UTC {
		t.Errorf("object %q: LastUpdated in %v, want UTC", want.ID, got.LastUpdated.Location())
	}
	if !jsonEqual(got.Data, want.Data) {
		t.Errorf("object %q: Data = %s, want %s", want.ID, got.Data, want.Data)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xj, _ := json.Marshal(x)
	yj, _ := json.Marshal(y)
	return bytes.Equal(xj, yj)
}

func mustNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, ocpi.ErrNotFound) {
		t.Fatalf("%s: err = %v, want ocpi.ErrNotFound", what, err)
	}
}

func mustInvalid(t *testing.T, err error, opts Options, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted, want an error", what)
	}
	if opts.Invalid != nil && !errors.Is(err, opts.Invalid) {
		t.Fatalf("%s: err = %v, want it to wrap %v", what, err, opts.Invalid)
	}
}

func testPeerCRUD(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	p := samplePeer("alpha")
	p.PreviousIncomingToken = "old-alpha"
	p.PreviousTokenExpires = base.In(time.FixedZone("CET", 3600))
	before := time.Now().Add(-time.Second)
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.Peer(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	samePeer(t, got, p)
	if got.Created.Before(before) || got.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", got.Created)
	}
	if got.Created.Location() != time.UTC || got.Updated.Location() != time.UTC {
		t.Errorf("Created/Updated in %v/%v, want UTC", got.Created.Location(), got.Updated.Location())
	}
	created := got.Created

	// Replace: everything changes but Created.
	time.Sleep(2 * time.Millisecond)
	p2 := samplePeer("alpha")
	p2.Name, p2.Status, p2.RawToken, p2.RawTokenFixed = "Renamed", ocpi.PeerPending, false, false
	p2.IncomingToken, p2.OutgoingToken = "in-alpha-2", ""
	p2.Endpoints, p2.Roles, p2.Version, p2.VersionsURL = nil, nil, "", ""
	if err := s.SavePeer(ctx, p2); err != nil {
		t.Fatal(err)
	}
	got, err = s.Peer(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	samePeer(t, got, p2)
	if !got.Created.Equal(created) {
		t.Errorf("Created after replace = %v, want the first save's %v", got.Created, created)
	}
	if !got.Updated.After(created) {
		t.Errorf("Updated after replace = %v, want after Created %v", got.Updated, created)
	}
	if len(got.Endpoints) != 0 || len(got.Roles) != 0 {
		t.Errorf("replaced peer kept endpoints %v, roles %v", got.Endpoints, got.Roles)
	}
	if peers, err := s.Peers(ctx); err != nil || len(peers) != 1 {
		t.Fatalf("Peers = %d peers, %v; want 1", len(peers), err)
	}

	if err := s.DeletePeer(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Peer(ctx, "alpha")
	mustNotFound(t, err, "Peer after delete")
	_, err = s.PeerByToken(ctx, "in-alpha-2")
	mustNotFound(t, err, "PeerByToken after delete")
	mustNotFound(t, s.DeletePeer(ctx, "alpha"), "second DeletePeer")
	if peers, err := s.Peers(ctx); err != nil || len(peers) != 0 {
		t.Fatalf("Peers after delete = %v, %v; want none", peers, err)
	}
}

func testPeerNotFound(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	_, err := s.Peer(ctx, "nobody")
	mustNotFound(t, err, "Peer")
	_, err = s.PeerByToken(ctx, "nobody")
	mustNotFound(t, err, "PeerByToken")
	mustNotFound(t, s.DeletePeer(ctx, "nobody"), "DeletePeer")
	peers, err := s.Peers(ctx)
	if err != nil || len(peers) != 0 {
		t.Fatalf("Peers of an empty store = %v, %v", peers, err)
	}
}

func testPeersOldestFirst(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	// Saved in an order that is not the ids' order.
	ids := []string{"charlie", "alpha", "bravo"}
	for _, id := range ids {
		if err := s.SavePeer(ctx, samplePeer(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Replacing the first does not make it newer.
	if err := s.SavePeer(ctx, samplePeer("charlie")); err != nil {
		t.Fatal(err)
	}
	peers, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range peers {
		got = append(got, p.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("Peers = %v, want oldest first %v", got, ids)
	}
	samePeer(t, peers[1], samplePeer("alpha"))
}

func testPeerByToken(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	a, b := samplePeer("a"), samplePeer("b")
	a.IncomingToken = "Token-A"
	b.IncomingToken = ""
	c := samplePeer("c")
	c.IncomingToken = ""
	for _, p := range []ocpi.Peer{a, b, c} {
		if err := s.SavePeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PeerByToken(ctx, "Token-A")
	if err != nil || got.ID != "a" {
		t.Fatalf("PeerByToken(Token-A) = %q, %v; want peer a", got.ID, err)
	}
	samePeer(t, got, a)
	for _, tok := range []string{"token-a", "TOKEN-A", "Token-A ", "Token", ""} {
		_, err := s.PeerByToken(ctx, tok)
		mustNotFound(t, err, fmt.Sprintf("PeerByToken(%q)", tok))
	}
	// The outgoing token is ours to send, not one we accept.
	_, err = s.PeerByToken(ctx, a.OutgoingToken)
	mustNotFound(t, err, "PeerByToken(outgoing token)")
}

func testPeerByTokenRotation(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	p := samplePeer("p")
	p.IncomingToken = "token-new"
	p.PreviousIncomingToken = "token-old"
	p.PreviousTokenExpires = time.Now().Add(time.Hour)
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"token-new", "token-old"} {
		got, err := s.PeerByToken(ctx, tok)
		if err != nil || got.ID != "p" {
			t.Fatalf("PeerByToken(%q) during the grace period = %q, %v; want peer p", tok, got.ID, err)
		}
	}
	// An expiry in the past (by the store's clock or any other) still
	// finds the peer, with the expiry: the Node decides with its own clock
	// (Config.Now), so a store and a node never disagree about it.
	expired := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	p.PreviousTokenExpires = expired
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.PeerByToken(ctx, "token-old")
	if err != nil || got.ID != "p" || !got.PreviousTokenExpires.Equal(expired) {
		t.Fatalf("PeerByToken(previous token, expiry in the past) = %q expiring %v, %v; want peer p expiring %v", got.ID, got.PreviousTokenExpires, err, expired)
	}
	if got, err := s.PeerByToken(ctx, "token-new"); err != nil || got.ID != "p" {
		t.Fatalf("PeerByToken(token-new) = %q, %v; want peer p", got.ID, err)
	}
	// No expiry set: the previous token is not accepted at all.
	p.PreviousTokenExpires = time.Time{}
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = s.PeerByToken(ctx, "token-old")
	mustNotFound(t, err, "PeerByToken(previous token) without expiry")

	// Another peer's current token wins over a previous token.
	p.PreviousTokenExpires = time.Now().Add(time.Hour)
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	q := samplePeer("q")
	q.IncomingToken = "token-old"
	if err := s.SavePeer(ctx, q); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PeerByToken(ctx, "token-old"); err != nil || got.ID != "q" {
		t.Fatalf("PeerByToken(token-old) = %q, %v; want q, whose current token it is", got.ID, err)
	}
}

func testPeerTokenUnique(t *testing.T, s ocpi.Store, opts Options) {
	ctx := t.Context()
	a, b := samplePeer("a"), samplePeer("b")
	a.IncomingToken, b.IncomingToken = "shared", "shared"
	if err := s.SavePeer(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePeer(ctx, b); err == nil {
		t.Fatal("a second peer with the same incoming token was accepted")
	}
	if _, err := s.Peer(ctx, "b"); !errors.Is(err, ocpi.ErrNotFound) {
		t.Fatalf("the rejected peer was stored (err %v)", err)
	}
	if got, err := s.PeerByToken(ctx, "shared"); err != nil || got.ID != "a" {
		t.Fatalf("PeerByToken(shared) = %q, %v; want a", got.ID, err)
	}
	// Re-saving the owner of the token is fine; so are many empty tokens,
	// and a token that differs only by case (tokens are exact).
	if err := s.SavePeer(ctx, a); err != nil {
		t.Fatalf("re-saving a peer with its own token: %v", err)
	}
	b.IncomingToken = "SHARED"
	if err := s.SavePeer(ctx, b); err != nil {
		t.Fatalf("a token differing by case: %v", err)
	}
	for _, id := range []string{"c", "d"} {
		p := samplePeer(id)
		p.IncomingToken = ""
		if err := s.SavePeer(ctx, p); err != nil {
			t.Fatalf("peer %s without token: %v", id, err)
		}
	}
	// Once a gives its token up, b may take it.
	a.IncomingToken = "a-new"
	if err := s.SavePeer(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.IncomingToken = "shared"
	if err := s.SavePeer(ctx, b); err != nil {
		t.Fatalf("taking a released token: %v", err)
	}
	if got, err := s.PeerByToken(ctx, "shared"); err != nil || got.ID != "b" {
		t.Fatalf("PeerByToken(shared) = %q, %v; want b", got.ID, err)
	}
}

func testPeerInvalid(t *testing.T, s ocpi.Store, opts Options) {
	ctx := t.Context()
	noID := samplePeer("")
	mustInvalid(t, s.SavePeer(ctx, noID), opts, "peer without id")
	badStatus := samplePeer("x")
	badStatus.Status = "registered"
	mustInvalid(t, s.SavePeer(ctx, badStatus), opts, "peer with unknown status")
	noStatus := samplePeer("y")
	noStatus.Status = ""
	mustInvalid(t, s.SavePeer(ctx, noStatus), opts, "peer without status")
	if peers, err := s.Peers(ctx); err != nil || len(peers) != 0 {
		t.Fatalf("after rejected saves, Peers = %d peers, %v; want none", len(peers), err)
	}
}

func testPeerCopies(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	p := samplePeer("p")
	want := samplePeer("p")
	if err := s.SavePeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	// The caller's value changes after the save...
	p.Endpoints[0].URL = "https://changed"
	p.Roles[0].BusinessDetails.Logo.URL = "https://changed"
	got, err := s.Peer(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	samePeer(t, got, want)
	// ...and a returned value changes.
	got.Endpoints[0].URL = "https://changed"
	got.Roles[0].BusinessDetails.Logo.URL = "https://changed"
	got.Roles[0].PartyID = "ZZZ"
	for _, read := range []func() (ocpi.Peer, error){
		func() (ocpi.Peer, error) { return s.Peer(ctx, "p") },
		func() (ocpi.Peer, error) { return s.PeerByToken(ctx, "in-p") },
		func() (ocpi.Peer, error) {
			ps, err := s.Peers(ctx)
			if err != nil || len(ps) != 1 {
				return ocpi.Peer{}, fmt.Errorf("peers listed: %d, %v", len(ps), err)
			}
			ps[0].Endpoints[1].URL = "https://changed"
			return s.Peer(ctx, "p")
		},
	} {
		again, err := read()
		if err != nil {
			t.Fatal(err)
		}
		samePeer(t, again, want)
	}
}

func testObjectCRUD(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	o := sampleObject(partyNL, "LOC1", base.In(time.FixedZone("X", -7*3600)))
	if err := s.PutObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, partyNL, "LOC1")
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, o)
	if !got.LastUpdated.Equal(base) {
		t.Errorf("LastUpdated = %v, want %v (millisecond precision at least)", got.LastUpdated, base)
	}

	o2 := o
	o2.LastUpdated = base.Add(time.Minute)
	o2.Data = json.RawMessage(`{"id":"LOC1","country_code":"NL","party_id":"ABC","name":"renamed","evses":[]}`)
	if err := s.PutObject(ctx, o2); err != nil {
		t.Fatal(err)
	}
	got, err = s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, partyNL, "LOC1")
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, o2)
	page, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: ocpi.Received, Module: ocpi.ModuleLocations})
	if err != nil || total != 1 || len(page) != 1 {
		t.Fatalf("Objects after replace = %d objects, total %d, %v; want 1", len(page), total, err)
	}
	sameObject(t, page[0], o2)

	_, err = s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, partyNL, "LOC2")
	mustNotFound(t, err, "Object of another id")
}

func testObjectIDCase(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	o := sampleObject(partyNL, "Loc1", base)
	if err := s.PutObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	lower := ocpi.PartyID{CountryCode: "nl", PartyID: "abc"}
	for _, id := range []string{"Loc1", "LOC1", "loc1"} {
		got, err := s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, lower, id)
		if err != nil {
			t.Fatalf("Object(nl-abc, %q): %v", id, err)
		}
		sameObject(t, got, o)
	}
	// A write spelled differently replaces it and keeps the new spelling;
	// an owner in lower case is stored upper-cased.
	o2 := sampleObject(lower, "LOC1", base.Add(time.Second))
	if err := s.PutObject(ctx, o2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, partyNL, "loc1")
	if err != nil {
		t.Fatal(err)
	}
	want := o2
	want.Owner = partyNL
	sameObject(t, got, want)
	page, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: ocpi.Received, Module: ocpi.ModuleLocations, Owners: []ocpi.PartyID{lower}})
	if err != nil || total != 1 || len(page) != 1 {
		t.Fatalf("Objects = %d objects, total %d, %v; want the one object", len(page), total, err)
	}
	sameObject(t, page[0], want)
}

func testObjectKeys(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	// The same id under another kind, module or owner is another object.
	variants := []ocpi.Object{
		sampleObject(partyNL, "X1", base),
		sampleObject(partyDE, "X1", base.Add(1)),
	}
	owned := sampleObject(partyNL, "X1", base.Add(2))
	owned.Kind = ocpi.Owned
	tariff := sampleObject(partyNL, "X1", base.Add(3))
	tariff.Module = ocpi.ModuleTariffs
	variants = append(variants, owned, tariff)
	for _, o := range variants {
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range variants {
		got, err := s.Object(ctx, o.Kind, o.Module, o.Owner, o.ID)
		if err != nil {
			t.Fatalf("Object(%s, %s, %s, %s): %v", o.Kind, o.Module, o.Owner, o.ID, err)
		}
		sameObject(t, got, o)
		page, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: o.Kind, Module: o.Module, Owners: []ocpi.PartyID{o.Owner}})
		if err != nil || total != 1 || len(page) != 1 {
			t.Fatalf("Objects(%s, %s, %s) = %d objects, total %d, %v; want 1", o.Kind, o.Module, o.Owner, len(page), total, err)
		}
		sameObject(t, page[0], o)
	}
	_, err := s.Object(ctx, ocpi.Owned, ocpi.ModuleTariffs, partyNL, "X1")
	mustNotFound(t, err, "Object of a kind and module never written")
	page, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: ocpi.Owned, Module: ocpi.ModuleSessions})
	if err != nil || total != 0 || len(page) != 0 {
		t.Fatalf("Objects of an empty module = %d objects, total %d, %v", len(page), total, err)
	}
	if page == nil {
		t.Errorf("Objects of an empty module returned a nil page, want an empty one")
	}
}

func testObjectInvalid(t *testing.T, s ocpi.Store, opts Options) {
	ctx := t.Context()
	good := sampleObject(partyNL, "OK", base)
	bad := map[string]func(o *ocpi.Object){
		"empty id":           func(o *ocpi.Object) { o.ID = "" },
		"unknown kind":       func(o *ocpi.Object) { o.Kind = "borrowed" },
		"no kind":            func(o *ocpi.Object) { o.Kind = "" },
		"no module":          func(o *ocpi.Object) { o.Module = "" },
		"no owner":           func(o *ocpi.Object) { o.Owner = ocpi.PartyID{} },
		"owner too long":     func(o *ocpi.Object) { o.Owner = ocpi.PartyID{CountryCode: "NLD", PartyID: "ABC"} },
		"owner digit cc":     func(o *ocpi.Object) { o.Owner = ocpi.PartyID{CountryCode: "N1", PartyID: "ABC"} },
		"owner short party":  func(o *ocpi.Object) { o.Owner = ocpi.PartyID{CountryCode: "NL", PartyID: "AB"} },
		"data not JSON":      func(o *ocpi.Object) { o.Data = json.RawMessage(`{"id":`) },
		"data empty":         func(o *ocpi.Object) { o.Data = nil },
		"data trailing junk": func(o *ocpi.Object) { o.Data = json.RawMessage(`{} x`) },
		"no last_updated":    func(o *ocpi.Object) { o.LastUpdated = time.Time{} },
	}
	for name, change := range bad {
		o := good
		change(&o)
		mustInvalid(t, s.PutObject(ctx, o), opts, name)
	}
	for _, kind := range []ocpi.ObjectKind{ocpi.Owned, ocpi.Received} {
		page, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: kind, Module: ocpi.ModuleLocations})
		if err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("after rejected puts, Objects(%s) = %d objects, total %d, %v; want none", kind, len(page), total, err)
		}
	}
	// A rejected replace leaves the object as it was.
	if err := s.PutObject(ctx, good); err != nil {
		t.Fatal(err)
	}
	broken := good
	broken.Data = json.RawMessage(`not json`)
	mustInvalid(t, s.PutObject(ctx, broken), opts, "replace with data not JSON")
	got, err := s.Object(ctx, good.Kind, good.Module, good.Owner, good.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, good)
}

func testObjectCopies(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	o := sampleObject(partyNL, "C1", base)
	want := sampleObject(partyNL, "C1", base)
	if err := s.PutObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.Data[2] = 'X' // the caller reuses its buffer
	got, err := s.Object(ctx, o.Kind, o.Module, o.Owner, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, want)
	got.Data[2] = 'X'
	page, _, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: o.Kind, Module: o.Module})
	if err != nil || len(page) != 1 {
		t.Fatalf("Objects = %d, %v", len(page), err)
	}
	sameObject(t, page[0], want)
	page[0].Data[2] = 'X'
	again, err := s.Object(ctx, o.Kind, o.Module, o.Owner, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, again, want)
}

func ids(objs []ocpi.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID
	}
	return out
}

func list(t *testing.T, s ocpi.Store, f ocpi.ObjectFilter) ([]string, int) {
	t.Helper()
	f.Kind, f.Module = ocpi.Received, ocpi.ModuleLocations
	page, total, err := s.Objects(t.Context(), f)
	if err != nil {
		t.Fatalf("Objects(%+v): %v", f, err)
	}
	return ids(page), total
}

func testObjectsOwners(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	for i, o := range []ocpi.Object{
		sampleObject(partyNL, "N1", base),
		sampleObject(partyDE, "D1", base.Add(time.Second)),
		sampleObject(partyBE, "B1", base.Add(2*time.Second)),
		sampleObject(partyNL, "N2", base.Add(3*time.Second)),
	} {
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		owners []ocpi.PartyID
		want   string
	}{
		{nil, "[N1 D1 B1 N2]"},
		{[]ocpi.PartyID{}, "[N1 D1 B1 N2]"},
		{[]ocpi.PartyID{partyNL}, "[N1 N2]"},
		{[]ocpi.PartyID{{CountryCode: "de", PartyID: "xyz"}}, "[D1]"},
		{[]ocpi.PartyID{partyNL, partyBE}, "[N1 B1 N2]"},
		{[]ocpi.PartyID{partyNL, partyNL}, "[N1 N2]"},
		{[]ocpi.PartyID{{CountryCode: "FR", PartyID: "ABC"}}, "[]"},
		// The country and the party must match together.
		{[]ocpi.PartyID{{CountryCode: "NL", PartyID: "XYZ"}}, "[]"},
	} {
		got, total := list(t, s, ocpi.ObjectFilter{Owners: tc.owners})
		if fmt.Sprint(got) != tc.want || total != len(got) {
			t.Errorf("owners %v: got %v (total %d), want %s", tc.owners, got, total, tc.want)
		}
	}
}

func testObjectsRange(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	// T0 .. T4, one millisecond apart, with a nanosecond part.
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }
	for i := range 5 {
		if err := s.PutObject(ctx, sampleObject(partyNL, fmt.Sprintf("T%d", i), at(i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from, to time.Time
		want     string
	}{
		{time.Time{}, time.Time{}, "[T0 T1 T2 T3 T4]"},
		{at(1), time.Time{}, "[T1 T2 T3 T4]"},
		{time.Time{}, at(3), "[T0 T1 T2]"},
		{at(1), at(3), "[T1 T2]"},
		{at(2), at(2), "[]"},
		{at(2), at(2).Add(1), "[T2]"},
		{at(2).Add(1), at(4), "[T3]"},
		{at(2).Add(-1), at(2), "[]"},
		{at(3), at(1), "[]"},
		{at(5), time.Time{}, "[]"},
		// A bound in another zone is the same instant.
		{at(1).In(time.FixedZone("X", 5*3600)), at(3).In(time.FixedZone("Y", -3*3600)), "[T1 T2]"},
	} {
		got, total := list(t, s, ocpi.ObjectFilter{From: tc.from, To: tc.to})
		if fmt.Sprint(got) != tc.want || total != len(got) {
			t.Errorf("from %v to %v: got %v (total %d), want %s", tc.from, tc.to, got, total, tc.want)
		}
	}
}

func testObjectsPages(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	// 30 objects: three owners, ten ids each, two timestamps only, written
	// in an order that is neither the list order nor the ids'.
	var want []string
	owners := []ocpi.PartyID{partyBE, partyDE, partyNL}
	type put struct {
		o    ocpi.Object
		slot int
	}
	var puts []put
	for tsi, ts := range []time.Time{base, base.Add(time.Millisecond)} {
		for _, owner := range owners {
			for i := range 5 {
				id := fmt.Sprintf("%s-%d", owner.CountryCode, tsi*5+i)
				if i%2 == 1 {
					id = fmt.Sprintf("%s-%d", lowerFirst(owner.CountryCode), tsi*5+i) // ids compare ignoring case
				}
				want = append(want, id)
				puts = append(puts, put{sampleObject(owner, id, ts), len(puts)})
			}
		}
	}
	for i := range puts {
		j := (i * 7) % len(puts)
		puts[i], puts[j] = puts[j], puts[i]
	}
	for _, p := range puts {
		if err := s.PutObject(ctx, p.o); err != nil {
			t.Fatal(err)
		}
	}
	all, total := list(t, s, ocpi.ObjectFilter{})
	if fmt.Sprint(all) != fmt.Sprint(want) || total != len(want) {
		t.Fatalf("full list = %v (total %d)\nwant %v", all, total, want)
	}
	for _, limit := range []int{1, 4, 7, 30, 31} {
		var got []string
		for offset := 0; offset < len(want)+limit; offset += limit {
			page, total := list(t, s, ocpi.ObjectFilter{Offset: offset, Limit: limit})
			if total != len(want) {
				t.Fatalf("offset %d limit %d: total %d, want %d", offset, limit, total, len(want))
			}
			if len(page) > limit {
				t.Fatalf("offset %d limit %d: %d objects", offset, limit, len(page))
			}
			got = append(got, page...)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pages of %d = %v\nwant %v", limit, got, want)
		}
	}
	// Paging composes with the filters; total ignores the page only.
	page, total := list(t, s, ocpi.ObjectFilter{Owners: []ocpi.PartyID{partyDE}, From: base.Add(time.Millisecond), Offset: 1, Limit: 2})
	if fmt.Sprint(page) != "[dE-6 DE-7]" || total != 5 {
		t.Fatalf("DE from the second timestamp, offset 1 limit 2 = %v (total %d), want [dE-6 DE-7] (total 5)", page, total)
	}
	page, total = list(t, s, ocpi.ObjectFilter{Offset: 100})
	if len(page) != 0 || total != len(want) {
		t.Fatalf("offset past the end = %v (total %d), want none (total %d)", page, total, len(want))
	}
	page, total = list(t, s, ocpi.ObjectFilter{Offset: -5, Limit: 2})
	if fmt.Sprint(page) != fmt.Sprint(want[:2]) || total != len(want) {
		t.Fatalf("negative offset = %v (total %d), want the first page %v", page, total, want[:2])
	}
}

func testObjectsIDOrder(t *testing.T, s ocpi.Store, _ Options) {
	ctx := t.Context()
	// Same time and owner: the ids decide, compared as lower-cased bytes
	// whatever the database's locale ("B" after "a_0", "a-2" before "A1").
	want := []string{"a-2", "a.5", "A1", "a_0", "ab", "B", "é"}
	for i := range want {
		id := want[(i*3)%len(want)]
		if err := s.PutObject(ctx, sampleObject(partyNL, id, base)); err != nil {
			t.Fatal(err)
		}
	}
	got, total := list(t, s, ocpi.ObjectFilter{})
	if fmt.Sprint(got) != fmt.Sprint(want) || total != len(want) {
		t.Fatalf("list = %q (total %d), want %q", got, total, want)
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	b[0] |= 0x20
	return string(b)
}

func testObjectsInvalidFilter(t *testing.T, s ocpi.Store, opts Options) {
	ctx := t.Context()
	for name, f := range map[string]ocpi.ObjectFilter{
		"unknown kind":  {Kind: "other", Module: ocpi.ModuleLocations},
		"no module":     {Kind: ocpi.Owned},
		"invalid owner": {Kind: ocpi.Owned, Module: ocpi.ModuleLocations, Owners: []ocpi.PartyID{{CountryCode: "N", PartyID: "ABC"}}},
	} {
		_, _, err := s.Objects(ctx, f)
		mustInvalid(t, err, opts, name)
	}
}

func testConcurrent(t *testing.T, s ocpi.Store, _ Options) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const writers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*4)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := samplePeer(fmt.Sprintf("peer-%d", w))
			for i := range each {
				p.IncomingToken = fmt.Sprintf("tok-%d-%d", w, i)
				if err := s.SavePeer(ctx, p); err != nil {
					errs <- err
				}
				// Every writer also rewrites a shared object.
				shared := sampleObject(partyNL, "SHARED", base.Add(time.Duration(i)))
				o := sampleObject(partyDE, fmt.Sprintf("W%d-%d", w, i), base.Add(time.Duration(w)*time.Second))
				for _, o := range []ocpi.Object{shared, o} {
					if err := s.PutObject(ctx, o); err != nil {
						errs <- err
					}
				}
				if _, _, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: ocpi.Received, Module: ocpi.ModuleLocations, Limit: 5}); err != nil {
					errs <- err
				}
				if _, err := s.PeerByToken(ctx, p.IncomingToken); err != nil {
					errs <- fmt.Errorf("PeerByToken right after SavePeer: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peers, err := s.Peers(ctx)
	if err != nil || len(peers) != writers {
		t.Fatalf("Peers = %d, %v; want %d", len(peers), err, writers)
	}
	for _, p := range peers {
		var w int
		fmt.Sscanf(p.ID, "peer-%d", &w)
		if want := fmt.Sprintf("tok-%d-%d", w, each-1); p.IncomingToken != want {
			t.Errorf("peer %s: incoming token %q, want the last written %q", p.ID, p.IncomingToken, want)
		}
	}
	_, total, err := s.Objects(ctx, ocpi.ObjectFilter{Kind: ocpi.Received, Module: ocpi.ModuleLocations, Owners: []ocpi.PartyID{partyDE}})
	if err != nil || total != writers*each {
		t.Fatalf("objects written concurrently: total %d, %v; want %d", total, err, writers*each)
	}
	if _, err := s.Object(ctx, ocpi.Received, ocpi.ModuleLocations, partyNL, "shared"); err != nil {
		t.Fatal(err)
	}
}
