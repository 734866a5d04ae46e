package storetest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/csms"
)

// crashChildEnv marks the child process of Crash.
const crashChildEnv = "OPENEV_STORETEST_CRASH_CHILD"

// crashWriters is the number of concurrent writers in the child: enough to
// fill group-commit batches.
const crashWriters = 16

// Crash is the kill -9 durability test. The calling test function runs
// twice: in the test process (the parent), and in a child process that
// re-runs the test binary with only that test. The child opens the store
// with open, writes transaction events from many goroutines as fast as it
// can and prints each event's id once RecordTransactionEvent has returned;
// the parent kills it with SIGKILL at a random moment, opens the store
// again and checks that every acknowledged event is there.
//
// open must open the same database in both processes; pass its location to
// the child in env (the child inherits the parent's environment plus env).
func Crash(t *testing.T, env map[string]string, open func(t testing.TB) csms.Store) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild(t, open)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	var acked []string // read until EOF, so complete only after readDone
	first := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				if acked = append(acked, line); len(acked) == 1 {
					close(first)
				}
			}
		}
	}()
	// Kill at a random moment once the child is writing.
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child acknowledged nothing in 30s")
	}
	time.Sleep(time.Duration(100+rand.IntN(500)) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	<-readDone // what the child printed before dying is still in the pipe
	_ = cmd.Wait()

	s := open(t)
	defer s.Close()
	ctx := context.Background()
	highest := map[string]int{}
	for _, a := range acked {
		var station string
		var seq int
		if _, err := fmt.Sscanf(a, "%s %d", &station, &seq); err != nil {
			t.Fatalf("child printed %q: %v", a, err)
		}
		highest[station] = max(highest[station], seq)
	}
	for station, top := range highest {
		tx, err := s.TransactionByStationTxID(ctx, station, "t")
		if err != nil {
			t.Fatalf("acknowledged transaction of %s lost: %v", station, err)
		}
		evs, err := s.TransactionEvents(ctx, tx.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Each writer's events are sequential, so seqNos 0..top were all
		// acknowledged.
		have := map[int]bool{}
		for _, e := range evs {
			have[e.SeqNo] = true
		}
		for seq := 0; seq <= top; seq++ {
			if !have[seq] {
				t.Errorf("%s: acknowledged event seqNo %d lost (%d events stored, %d acknowledged)", station, seq, len(evs), top+1)
				break
			}
		}
	}
	t.Logf("checked %d acknowledged events from %d writers after kill -9", len(acked), len(highest))
}

// crashChild writes until it is killed (or, orphaned, for at most 30s).
func crashChild(t *testing.T, open func(t testing.TB) csms.Store) {
	s := open(t)
	var mu sync.Mutex
	stop := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			station := fmt.Sprint("crash-", w)
			for seq := 0; time.Now().Before(stop); seq++ {
				typ := "Updated"
				if seq == 0 {
					typ = "Started"
				}
				at := t0.Add(time.Duration(seq) * time.Second)
				_, _, err := s.RecordTransactionEvent(context.Background(), csms.TxEvent{
					StationID: station, StationTxID: "t", MeterWh: wh(float64(seq)),
					Event:       csms.TransactionEvent{EventType: typ, SeqNo: seq, Timestamp: at},
					MeterValues: []csms.MeterValue{{Timestamp: at, Value: float64(seq), Unit: "Wh"}},
				})
				if err != nil {
					t.Errorf("child: %v", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %d\n", station, seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
