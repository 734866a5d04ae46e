package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpi/ocpitest"
	"github.com/openev/openev/store"
	"github.com/openev/openev/store/postgres"
)

func TestOCPIStoreConformance(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8})
		t.Cleanup(func() { _ = s.Close() }) // before the schema is dropped
		return s
	}, ocpitest.Options{Invalid: store.ErrInvalid})
}

func TestOCPIStoreConformanceNoBatching(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8, NoBatching: true})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, ocpitest.Options{Invalid: store.ErrInvalid})
}

// TestOCPIIncomingTokenUniqueAcrossNodes races two nodes on one database
// to give the same incoming token to two different peers: each round,
// exactly one save succeeds, the other is refused as bad input, and the
// token finds the winner.
func TestOCPIIncomingTokenUniqueAcrossNodes(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	schema := testdb.NewSchema(t, dsn)
	a := open(t, dsn, schema, postgres.Options{})
	t.Cleanup(func() { _ = a.Close() })
	b := open(t, dsn, schema, postgres.Options{})
	t.Cleanup(func() { _ = b.Close() })
	ctx := t.Context()
	for round := range 20 {
		token := fmt.Sprintf("token-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*postgres.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.SavePeer(ctx, ocpi.Peer{ID: fmt.Sprintf("node%d-peer", i), Status: ocpi.PeerPending, IncomingToken: token})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: errors %v and %v, want exactly one save to fail", round, errs[0], errs[1])
		}
		winner, loser := "node0-peer", errs[1]
		if errs[0] != nil {
			winner, loser = "node1-peer", errs[0]
		}
		if !errors.Is(loser, store.ErrInvalid) {
			t.Fatalf("round %d: the losing save failed with %v, want store.ErrInvalid", round, loser)
		}
		got, err := b.PeerByToken(ctx, token)
		if err != nil || got.ID != winner {
			t.Fatalf("round %d: PeerByToken = %q, %v; want %s", round, got.ID, err, winner)
		}
	}
}
