package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/metrics"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/store/sqlite"
)

// storeCounts reads how many operations openev_store_duration_seconds has
// observed, per op.
func storeCounts(t *testing.T, m *metrics.Metrics) map[string]uint64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "openev_store_duration_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "op" {
					counts[l.GetValue()] += metric.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return counts
}

// A charging session through the real CSMS on a real SQLite store shows up
// in the store-latency histogram, one observation per store operation on the
// hot path.
func TestChargingSessionIsTimedInStoreLatencyHistogram(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &ocpp.Server{Options: ocpp.Options{Logger: log}}
	m := metrics.New(srv)
	svc := csms.New(m.Store(st), csms.Config{AcceptUnknownTokens: true, Logger: log})
	svc.Mount(srv)
	hs := httptest.NewServer(srv)
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		hs.Close()
	}()
	if n := storeCounts(t, m); len(n) != 0 {
		t.Fatalf("store operations observed before any station connected: %v", n)
	}

	station, err := (&ocpp.Dialer{Versions: []ocpp.Version{ocpp.V16}, Options: ocpp.Options{Logger: log}}).
		Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ocpp", "CS-M", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer station.Close(1000, "")
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := ocpp.Call(ctx, station, &v16.BootNotificationRequest{ChargePointVendor: "ACME", ChargePointModel: "X"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ocpp.Call(ctx, station, &v16.StatusNotificationRequest{ConnectorID: 1, ErrorCode: "NoError", Status: "Charging", Timestamp: &now}); err != nil {
		t.Fatal(err)
	}
	started, err := ocpp.Call(ctx, station, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T1", MeterStart: 0, Timestamp: now})
	if err != nil {
		t.Fatal(err)
	}
	tx := started.TransactionID
	if _, err := ocpp.Call(ctx, station, &v16.MeterValuesRequest{ConnectorID: 1, TransactionID: &tx, MeterValue: []v16.MeterValue{{
		Timestamp: now.Add(time.Minute), SampledValue: []v16.SampledValue{{Value: "500", Measurand: "Energy.Active.Import.Register"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ocpp.Call(ctx, station, &v16.StopTransactionRequest{TransactionID: tx, MeterStop: 1000, Timestamp: now.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}

	got := storeCounts(t, m)
	for op, want := range map[string]uint64{
		"StationSeen":            1, // the connection
		"SaveStation":            1, // the boot (and the registration of the unknown station)
		"RecordStatus":           1,
		"RecordTransactionEvent": 2, // start and stop
	} {
		if got[op] < want {
			t.Errorf("openev_store_duration_seconds_count{op=%q} = %d after the session, want at least %d (all: %v)", op, got[op], want, got)
		}
	}
	if got["RecordMeterValues"]+got["RecordTransactionEvent"] < 3 {
		t.Errorf("the meter values were not timed: %v", got)
	}
}

// The SQLite store's group-commit queue is a gauge: writes held back by a
// busy committer show up in it, and it drains to zero.
func TestStoreQueueIsAGauge(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "q.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New(&ocpp.Server{})
	timed := m.Store(st)
	queued := func() (float64, bool) {
		families, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "openev_store_writes_queued" {
				return f.GetMetric()[0].GetGauge().GetValue(), true
			}
		}
		return 0, false
	}
	if v, ok := queued(); !ok || v != 0 {
		t.Fatalf("openev_store_writes_queued = %v (exposed %v), want 0 on an idle store", v, ok)
	}
	// 200 writers at once: some wait while the committer runs a batch.
	var wg sync.WaitGroup
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				if v, _ := queued(); int64(v) > peak.Load() {
					peak.Store(int64(v))
				}
			}
		}
	}()
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				st := csms.Station{ID: fmt.Sprintf("Q%03d-%02d", i, j), Registration: csms.RegistrationAccepted}
				if err := timed.SaveStation(ctx, st); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if peak.Load() == 0 {
		t.Error("openev_store_writes_queued never rose above 0 under 200 concurrent writers")
	}
	if v, _ := queued(); v != 0 {
		t.Errorf("openev_store_writes_queued = %v once the writers are done, want 0", v)
	}
}
