package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openev/openev/csms"
)

// BenchStations is the number of simulated charging stations.
const BenchStations = 1000

// BenchTxEvents measures durable, acknowledged transaction events per
// second: BenchStations goroutines, each a charging station with one
// running transaction, send TransactionEvent Updated with two meter values
// (energy register and power) as fast as the store acknowledges them; b.N
// events in all. It reports events/s.
func BenchTxEvents(b *testing.B, s csms.Store) { BenchTxEventsAfter(b, s, 0) }

// BenchTxEventsAfter is BenchTxEvents with transactions that already hold
// history events each before the timing starts, as a fleet's running
// transactions do after some minutes: their index pages are then their
// own, which a benchmark of fresh transactions does not show.
func BenchTxEventsAfter(b *testing.B, s csms.Store, history int) {
	ctx := context.Background()
	run := fmt.Sprint(time.Now().UnixNano()) // fresh transactions per run
	seqs := make([]int, BenchStations)
	var wg sync.WaitGroup
	for i := range BenchStations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range history + 1 {
				typ := map[bool]string{true: "Started", false: "Updated"}[seq == 0]
				if _, _, err := s.RecordTransactionEvent(ctx, benchEvent(i, run, typ, seq)); err != nil {
					b.Error(err)
					return
				}
				seqs[i] = seq + 1
			}
		}()
	}
	wg.Wait()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for i := range BenchStations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				_, _, err := s.RecordTransactionEvent(ctx, benchEvent(i, run, "Updated", seqs[i]))
				if err != nil {
					b.Error(err)
					return
				}
				seqs[i]++
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

func benchEvent(station int, run, typ string, seq int) csms.TxEvent {
	at := t0.Add(time.Duration(seq) * time.Minute)
	meter := float64(seq * 100)
	return csms.TxEvent{
		StationID:   fmt.Sprintf("bench-%04d", station),
		StationTxID: run,
		EVSE:        1,
		Connector:   1,
		IDToken:     "BENCH",
		MeterWh:     &meter,
		Event: csms.TransactionEvent{EventType: typ, SeqNo: seq, Timestamp: at,
			TriggerReason: "MeterValuePeriodic"},
		MeterValues: []csms.MeterValue{
			{Timestamp: at, Value: meter, Unit: "Wh", RawValue: fmt.Sprint(meter), RawUnit: "Wh"},
			{Timestamp: at, Measurand: "Power.Active.Import", Value: 11000, Unit: "W", RawValue: "11000", RawUnit: "W"},
		},
	}
}
