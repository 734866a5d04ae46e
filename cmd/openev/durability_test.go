package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/sqlite"
)

// childArgsEnv makes the test binary run `openev` with these arguments
// instead of the tests: the crash test needs a server it can kill -9.
const childArgsEnv = "OPENEV_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startChild runs `openev serve` in a child process and waits for /healthz.
func startChild(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(append([]string{"serve", "--addr", addr, "--log-level", "warn"}, args...), "\x1f"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child server never answered /healthz")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill -9 at a random moment loses nothing the server acknowledged, on both
// databases: stations send transaction events as fast as they can, the
// server is killed, and every event whose CALLRESULT arrived must be in the
// database. Then a new server starts on the same database and the stations
// do what their offline queues do: send again the event that was in flight
// (a replay, if the dead server had stored it), send an acknowledged one
// once more (a duplicate), and go on. Each event must be stored exactly once.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		kill9AndRestart(t, []string{"--data-dir", dir}, func() csms.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "openev.db"), sqlite.Options{})
			if err != nil {
				t.Fatalf("reopening after kill -9: %v", err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testdb.PostgresDSN(t)
		schema := testdb.NewSchema(t, dsn)
		db := dsn + "&schema=" + schema
		if !strings.Contains(dsn, "?") {
			db = dsn + "?schema=" + schema
		}
		kill9AndRestart(t, []string{"--db", db}, func() csms.Store {
			st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
			if err != nil {
				t.Fatalf("reopening after kill -9: %v", err)
			}
			return st
		})
	})
}

// crashStation is one station of the crash test: the events it sent and
// which were acknowledged.
type crashStation struct {
	id       string
	sent     []*v201.TransactionEventRequest // by seqNo
	acked    int                             // events 0..acked-1 were acknowledged
	inFlight bool                            // sent[acked] had no answer when the server died
}

func (cs *crashStation) event(seq int) *v201.TransactionEventRequest {
	typ := v201.TransactionEventEnumUpdated
	if seq == 0 {
		typ = v201.TransactionEventEnumStarted
	}
	now := time.Now().UTC()
	return &v201.TransactionEventRequest{
		EventType: typ, SeqNo: seq, Timestamp: now, TriggerReason: v201.TriggerReasonEnumMeterValuePeriodic,
		TransactionInfo: v201.Transaction{TransactionID: cs.id + "-tx"},
		MeterValue:      []v201.MeterValue{{Timestamp: now, SampledValue: []v201.SampledValue{{Value: float64(seq * 10)}}}},
	}
}

func kill9AndRestart(t *testing.T, dbArgs []string, open func() csms.Store) {
	args := append(append([]string(nil), dbArgs...), "--api-key", "k", "--accept-unknown-tokens")
	addr := freeAddr(t)
	child := startChild(t, addr, args...)
	quiet := &ocpp.Dialer{Options: ocpp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}

	stations := make([]*crashStation, 20)
	var mu sync.Mutex // guards the stations' acked and inFlight
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, cs := range stations {
			n += cs.acked
		}
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range stations {
		cs := &crashStation{id: fmt.Sprintf("CRASH-%02d", i)}
		stations[i] = cs
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := quiet.Dial(ctx, "ws://"+addr+"/ocpp", cs.id, nil)
			if err != nil {
				return
			}
			defer conn.Close(1000, "")
			for seq := 0; ctx.Err() == nil; seq++ {
				req := cs.event(seq)
				mu.Lock()
				cs.sent, cs.inFlight = append(cs.sent, req), true
				mu.Unlock()
				if _, err := ocpp.Call(ctx, conn, req); err != nil {
					if ctx.Err() == nil && os.Getenv("DEBUG_CRASH") != "" {
						t.Logf("%s: %v", cs.id, err)
					}
					return // the server is gone; the event stays in flight
				}
				mu.Lock()
				cs.acked, cs.inFlight = seq+1, false
				mu.Unlock()
			}
		}()
	}
	// Kill once traffic flows, at a random moment within it.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && total() < 100; time.Sleep(10 * time.Millisecond) {
	}
	time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	cancel()
	wg.Wait()
	acked := total()
	if acked < 20 {
		t.Fatalf("only %d events acknowledged before the kill; the test proves nothing", acked)
	}

	// Every acknowledged event survived the kill.
	st := open()
	for _, cs := range stations {
		seqs := storedSeqs(t, st, cs.id)
		for seq := range cs.acked {
			if seqs[seq] != 1 {
				t.Fatalf("event %d of %s was acknowledged but is stored %d times after kill -9 (%d acknowledged)", seq, cs.id, seqs[seq], acked)
			}
		}
	}
	st.Close()

	// A new server on the same database; the stations' queues send again.
	addr2 := freeAddr(t)
	child2 := startChild(t, addr2, args...)
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	final := map[string]int{} // the highest seqNo each station ends with
	for _, cs := range stations {
		conn, err := quiet.Dial(rctx, "ws://"+addr2+"/ocpp", cs.id, nil)
		if err != nil {
			t.Fatalf("%s reconnecting to the restarted server: %v", cs.id, err)
		}
		var resend []*v201.TransactionEventRequest
		if cs.inFlight {
			resend = append(resend, cs.sent[cs.acked]) // maybe stored, never answered: a replay or a first arrival
		}
		if cs.acked > 0 {
			resend = append(resend, cs.sent[cs.acked-1]) // answered already: a duplicate
		}
		next := len(cs.sent)
		for seq := next; seq < next+3; seq++ {
			resend = append(resend, cs.event(seq))
		}
		for _, req := range resend {
			if _, err := ocpp.Call(rctx, conn, req); err != nil {
				t.Fatalf("%s after the restart, event %d: %v", cs.id, req.SeqNo, err)
			}
		}
		final[cs.id] = next + 2
		conn.Close(1000, "")
	}
	child2.Process.Signal(syscall.SIGTERM)
	child2.Wait()

	st = open()
	defer st.Close()
	for _, cs := range stations {
		// One call in flight per station: sent holds the acknowledged events
		// and at most the one in flight, all sent again if need be, so
		// every seqNo from 0 to the last is stored, each once.
		seqs := storedSeqs(t, st, cs.id)
		if len(seqs) != final[cs.id]+1 {
			t.Fatalf("%s: %d distinct events stored, want %d (seqNo 0 to %d)", cs.id, len(seqs), final[cs.id]+1, final[cs.id])
		}
		for seq := 0; seq <= final[cs.id]; seq++ {
			if seqs[seq] != 1 {
				t.Fatalf("%s: event %d stored %d times after the restart, want once", cs.id, seq, seqs[seq])
			}
		}
		tx, err := st.TransactionByStationTxID(context.Background(), cs.id, cs.id+"-tx")
		if err != nil || tx.LastSeqNo != final[cs.id] {
			t.Fatalf("%s: transaction %+v (%v), want last seqNo %d", cs.id, tx, err, final[cs.id])
		}
	}
	t.Logf("%d events acknowledged before kill -9, all durable; replays and duplicates after the restart stored once", acked)
}

// storedSeqs counts the stored events of a station's crash-test transaction
// by seqNo.
func storedSeqs(t *testing.T, st csms.Store, station string) map[int]int {
	t.Helper()
	seqs := map[int]int{}
	tx, err := st.TransactionByStationTxID(context.Background(), station, station+"-tx")
	if errors.Is(err, csms.ErrNotFound) {
		return seqs
	}
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.TransactionEvents(context.Background(), tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		seqs[e.SeqNo]++
	}
	return seqs
}
