package main

import (
	"context"
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

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
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

// kill -9 at a random moment loses nothing the server acknowledged: stations
// send transaction events as fast as they can, the server is killed, and
// every event whose CALLRESULT arrived must be in the database.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a server process")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	child := startChild(t, addr, "--data-dir", dir, "--api-key", "k", "--accept-unknown-tokens")

	type ack struct {
		station string
		seqNo   int
	}
	var mu sync.Mutex
	var acked []ack
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("CRASH-%02d", i)
			d := &ocpp.Dialer{Options: ocpp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
			conn, err := d.Dial(ctx, "ws://"+addr+"/ocpp", id, nil)
			if err != nil {
				return
			}
			defer conn.Close(1000, "")
			for seq := 0; ctx.Err() == nil; seq++ {
				typ := v201.TransactionEventEnumUpdated
				if seq == 0 {
					typ = v201.TransactionEventEnumStarted
				}
				_, err := ocpp.Call(ctx, conn, &v201.TransactionEventRequest{
					EventType: typ, SeqNo: seq, Timestamp: time.Now().UTC(), TriggerReason: v201.TriggerReasonEnumMeterValuePeriodic,
					TransactionInfo: v201.Transaction{TransactionID: id + "-tx"},
					MeterValue:      []v201.MeterValue{{Timestamp: time.Now().UTC(), SampledValue: []v201.SampledValue{{Value: float64(seq * 10)}}}},
				})
				if err != nil {
					if ctx.Err() == nil && os.Getenv("DEBUG_CRASH") != "" {
						t.Logf("%s: %v", id, err)
					}
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, ack{id, seq})
				mu.Unlock()
			}
		}()
	}
	// Kill once traffic flows, at a random moment within it.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
	}
	time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	cancel()
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d events acknowledged before the kill; the test proves nothing", len(acked))
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "openev.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer st.Close()
	seen := map[ack]bool{}
	for i := range 20 {
		id := fmt.Sprintf("CRASH-%02d", i)
		tx, err := st.TransactionByStationTxID(context.Background(), id, id+"-tx")
		if err != nil {
			continue
		}
		evs, err := st.TransactionEvents(context.Background(), tx.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			seen[ack{id, e.SeqNo}] = true
		}
	}
	for _, a := range acked {
		if !seen[a] {
			t.Fatalf("event %d of %s was acknowledged but is not in the database (%d acknowledged)", a.seqNo, a.station, len(acked))
		}
	}
	t.Logf("%d acknowledged events, all durable after kill -9", len(acked))
}
