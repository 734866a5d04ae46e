package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/sqlite"
	"github.com/openev/openev/store/storetest"
)

// BenchmarkTxEvents compares group commit with one transaction per write;
// the events/s metric is durable, acknowledged events per second.
func BenchmarkTxEvents(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts sqlite.Options
	}{
		{"batching", sqlite.Options{}},
		{"no-batching", sqlite.Options{NoBatching: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchTxEvents(b, s)
		})
	}
}

// BenchmarkTxEventsLongTransactions is BenchmarkTxEvents (batching) with
// transactions that hold 100 events each before the timing starts.
func BenchmarkTxEventsLongTransactions(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchTxEventsAfter(b, s, 100)
}

// The benchmark's speed comes from the rows the committer keeps (no SELECT
// for the next event of a running transaction); these tests check that a
// kept row is never staler than the database.

// cacheEvent is event seq of transaction "T" of station "CS1".
func cacheEvent(typ string, seq int, meter float64) csms.TxEvent {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Minute)
	return csms.TxEvent{
		StationID: "CS1", StationTxID: "T", EVSE: 1, Connector: 1, IDToken: "TOKEN", MeterWh: &meter,
		StopReason: map[bool]string{true: "Local"}[typ == "Ended"],
		Event:      csms.TransactionEvent{EventType: typ, SeqNo: seq, Timestamp: at, TriggerReason: "Test"},
	}
}

func TestWriteOfAnotherProcessIsNotOverwrittenByAKeptRow(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "openev.db")
	a, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for seq, typ := range []string{"Started", "Updated"} {
		if _, _, err := a.RecordTransactionEvent(ctx, cacheEvent(typ, seq, float64(seq*1000))); err != nil {
			t.Fatal(err)
		}
	}
	// b stands for another process on the same file: its own connections.
	b, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.RecordTransactionEvent(ctx, cacheEvent("Ended", 2, 5000)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// a kept the row as it wrote it (active, last seqNo 1); it must see b's
	// Ended instead of writing its stale fold back.
	tx, applied, err := a.RecordTransactionEvent(ctx, cacheEvent("Updated", 3, 6000))
	if err != nil || !applied {
		t.Fatalf("applied %v, err %v", applied, err)
	}
	stored, err := a.Transaction(ctx, tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []csms.Transaction{tx, stored} {
		if got.Status != csms.TransactionFinished || got.StopReason != "Local" || got.LastSeqNo != 3 ||
			got.MeterStopWh == nil || *got.MeterStopWh != 5000 || got.EnergyWh != 5000 {
			t.Errorf("transaction = %+v, want finished by the other process's Ended (stop 5000 Wh, last seqNo 3)", got)
		}
	}
}

func TestKeptRowsStayExactBesideFailingWrites(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "openev.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const stations, events = 40, 15
	var wg sync.WaitGroup
	for i := range stations {
		wg.Add(2)
		station := fmt.Sprintf("CS%02d", i)
		go func() { // events, in order
			defer wg.Done()
			for seq := range events {
				e := cacheEvent(map[bool]string{true: "Started", false: "Updated"}[seq == 0], seq, float64(seq*100))
				e.StationID = station
				if _, _, err := s.RecordTransactionEvent(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() { // writes that fail inside the same batches
			defer wg.Done()
			for seq := range events {
				e := cacheEvent("Ended", seq, 1)
				e.StationID, e.StationTxID, e.TransactionID = station, "", 1_000_000+int64(seq)
				if _, _, err := s.RecordTransactionEvent(ctx, e); !errors.Is(err, csms.ErrNotFound) {
					t.Errorf("write to an unknown transaction: %v, want ErrNotFound", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range stations {
		station := fmt.Sprintf("CS%02d", i)
		tx, err := s.TransactionByStationTxID(ctx, station, "T")
		if err != nil {
			t.Fatal(err)
		}
		if tx.LastSeqNo != events-1 || tx.EnergyWh != float64((events-1)*100) || tx.Status != csms.TransactionActive {
			t.Errorf("%s: %+v, want active, last seqNo %d, %d Wh", station, tx, events-1, (events-1)*100)
		}
		evs, err := s.TransactionEvents(ctx, tx.ID)
		if err != nil || len(evs) != events {
			t.Errorf("%s: %d events (err %v), want %d", station, len(evs), err, events)
		}
	}
}
