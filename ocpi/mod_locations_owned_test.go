package ocpi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestOwnedPutOlderThanTheStoredLocationIsRefused: receivers ignore a
// version older than the one they hold, so the CPO refuses to store (and
// push) one, saying how to get a current stamp.
func TestOwnedPutOlderThanTheStoredLocationIsRefused(t *testing.T) {
	node, err := NewNode(Config{PublicURL: "http://127.0.0.1:1", Parties: []CredentialsRole{cpoA}, Store: NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	locs := NewLocations(node, LocationsOptions{})
	t.Cleanup(locs.Close)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := locs.PutLocation(ctx, cpoA.Party(), testLocation("LOC1", now, "E1")); err != nil {
		t.Fatal(err)
	}
	older := testLocation("LOC1", now.Add(-time.Hour), "E1")
	older.Name = "renamed"
	_, err = locs.PutLocation(ctx, cpoA.Party(), older)
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != StatusInvalidParameters {
		t.Fatalf("older PUT: %v, want a 2001 *Error", err)
	}
	got, err := locs.Location(ctx, cpoA.Party(), "LOC1")
	if err != nil || got.Name == "renamed" {
		t.Fatalf("stored location after the refused PUT: %+v, %v", got, err)
	}
	// Without last_updated the CPO stamps now, which is newer: accepted.
	older.LastUpdated = DateTime{}
	if _, err := locs.PutLocation(ctx, cpoA.Party(), older); err != nil {
		t.Fatalf("PUT without last_updated: %v", err)
	}
}
