package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// TestOfflineQueue201: TransactionEvents made while the connection is down
// are replayed in order after the reconnection, with offline=true and seqNo
// without gaps; other calls fail at once while offline.
func TestOfflineQueue201(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, fastSession(ocpp.V201), true)
	ctx := testCtx(t)
	txID, err := s.StartTransaction(ctx, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an update", func() bool { return c.count("TransactionEvent") >= 2 })
	s.DropConnection(500 * time.Millisecond)
	waitFor(t, "offline", func() bool { return !s.Connected() })
	online := c.count("TransactionEvent")
	if _, err := s.Authorize(ctx, "X"); !errors.Is(err, ErrOffline) {
		t.Errorf("Authorize offline: %v, want ErrOffline", err)
	}
	waitFor(t, "queued updates", func() bool { return s.QueueLen() >= 2 })
	if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
		t.Fatalf("StopTransaction offline: %v", err)
	}
	queued := s.QueueLen()
	if snap := s.Snapshot(); snap.Queued != queued || snap.Connected {
		t.Errorf("snapshot offline: %+v", snap)
	}
	waitFor(t, "replay", func() bool { return s.Connected() && s.QueueLen() == 0 })
	waitFor(t, "replayed events", func() bool { return c.count("TransactionEvent") >= online+queued })
	evs := c.all("TransactionEvent")
	// seqNo counts up without gaps. A message that was on the wire when the
	// connection went is sent again (at least once): the same seqNo, offline.
	seen, offlineSeen := -1, false
	for i, r := range evs {
		ev := r.Msg.(*v201.TransactionEventRequest)
		offline := ev.Offline != nil && *ev.Offline
		retry := ev.SeqNo == seen && offline
		if ev.SeqNo != seen+1 && !retry || ev.TransactionInfo.TransactionID != txID || offlineSeen && !offline {
			t.Errorf("event %d: seqNo %d after %d, offline %v", i, ev.SeqNo, seen, offline)
		}
		seen, offlineSeen = ev.SeqNo, offlineSeen || offline
		if i >= online && !offline {
			t.Errorf("event %d, made offline, is not marked offline", i)
		}
	}
	if last := evs[len(evs)-1].Msg.(*v201.TransactionEventRequest); last.EventType != v201.TransactionEventEnumEnded {
		t.Errorf("last replayed event is %s", last.EventType)
	}
	if c.count("BootNotification") != 1 {
		t.Error("the station booted again after a mere connection loss")
	}
}

// TestOfflineQueue16: a 1.6 transaction started offline gets a provisional
// id; the replayed MeterValues and StopTransaction carry the transactionId
// the server gave the replayed StartTransaction. The status change made
// offline is reported after the reconnection.
func TestOfflineQueue16(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, fastSession(ocpp.V16), true)
	ctx := testCtx(t)
	s.DropConnection(400 * time.Millisecond)
	waitFor(t, "offline", func() bool { return !s.Connected() })
	c.reset()
	txID, err := s.StartTransaction(ctx, 1, "TAG9")
	if err != nil || txID != "local-1" {
		t.Fatalf("StartTransaction offline: %q %v", txID, err)
	}
	waitFor(t, "queued meter values", func() bool { return s.QueueLen() >= 3 })
	if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay", func() bool { return s.Connected() && s.QueueLen() == 0 && c.count("StopTransaction") == 1 })
	var seq []string
	for _, r := range c.all("") {
		if r.Action != "StatusNotification" {
			seq = append(seq, r.Action)
		}
	}
	if seq[0] != "StartTransaction" || seq[len(seq)-1] != "StopTransaction" || len(seq) < 3 {
		t.Fatalf("replayed %v", seq)
	}
	for _, r := range c.all("MeterValues") {
		if mv := r.Msg.(*v16.MeterValuesRequest); mv.TransactionID == nil || *mv.TransactionID != 101 {
			t.Errorf("replayed meter values without the server's transactionId: %+v", mv)
		}
	}
	if stop := c.all("StopTransaction")[0].Msg.(*v16.StopTransactionRequest); stop.TransactionID != 101 {
		t.Errorf("replayed stop: %+v", stop)
	}
	waitFor(t, "status after reconnection", func() bool {
		st := c.all("StatusNotification")
		return len(st) > 0 && st[len(st)-1].Msg.(*v16.StatusNotificationRequest).Status == v16.ChargePointStatusFinishing
	})
}

// TestReconnectBackoff: when the server is gone the station keeps trying
// and comes back once it returns (here: the server refuses, then accepts).
func TestReconnectBackoff(t *testing.T) {
	c := newCSMS(t)
	refuse, refused := true, 0
	mu := &c.mu
	c.srv.Authenticate = func(ctx context.Context, h *ocpp.Handshake) error {
		mu.Lock()
		defer mu.Unlock()
		if refuse && c.connects > 0 {
			refused++
			return &ocpp.RefuseError{Status: 503, Reason: "restarting"}
		}
		return nil
	}
	s := c.station(t, Config{Version: ocpp.V201}, true)
	c.conn(t, "CS1").Close(1001, "server restart")
	waitFor(t, "offline", func() bool { return !s.Connected() })
	waitFor(t, "three refused attempts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return refused >= 3
	})
	mu.Lock()
	refuse = false
	mu.Unlock()
	waitFor(t, "reconnected", func() bool { return s.Connected() })
}
