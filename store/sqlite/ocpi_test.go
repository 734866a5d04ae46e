package sqlite_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpi/ocpitest"
	"github.com/openev/openev/store"
	"github.com/openev/openev/store/sqlite"
)

func openOCPI(t *testing.T, opts sqlite.Options) ocpi.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "openev.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOCPIStoreConformance(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return openOCPI(t, sqlite.Options{}) },
		ocpitest.Options{Invalid: store.ErrInvalid})
}

func TestOCPIStoreConformanceNoBatching(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return openOCPI(t, sqlite.Options{NoBatching: true}) },
		ocpitest.Options{Invalid: store.ErrInvalid})
}

// TestOCPIStoreSurvivesReopen checks that what a write acknowledged is in
// the file: a peer and an object read back after closing and reopening.
func TestOCPIStoreSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "openev.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	peer := ocpi.Peer{ID: "p", Status: ocpi.PeerRegistered, IncomingToken: "tok",
		Endpoints: []ocpi.Endpoint{{Identifier: ocpi.ModuleLocations, Role: ocpi.Receiver, URL: "https://p.example.com/locations"}}}
	obj := ocpi.Object{Kind: ocpi.Owned, Module: ocpi.ModuleLocations, Owner: ocpi.PartyID{CountryCode: "NL", PartyID: "ABC"},
		ID: "Loc1", LastUpdated: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC), Data: json.RawMessage(`{"id":"Loc1"}`)}
	if err := s.SavePeer(ctx, peer); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObject(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.PeerByToken(ctx, "tok")
	if err != nil || got.ID != "p" || len(got.Endpoints) != 1 || got.Endpoints[0] != peer.Endpoints[0] {
		t.Fatalf("peer after reopen = %+v, %v", got, err)
	}
	o, err := s.Object(ctx, ocpi.Owned, ocpi.ModuleLocations, obj.Owner, "LOC1")
	if err != nil || o.ID != "Loc1" || !o.LastUpdated.Equal(obj.LastUpdated) || string(o.Data) != string(obj.Data) {
		t.Fatalf("object after reopen = %+v, %v", o, err)
	}
}
