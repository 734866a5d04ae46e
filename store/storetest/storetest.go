// Package storetest is the conformance suite of csms.Store: every backend
// runs Run against a fresh store, and the same behaviour is required of all.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store"
)

// Open returns a new, empty store; the suite closes it.
type Open func(t *testing.T) csms.Store

// Run runs the conformance suite. Each subtest opens its own store.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, csms.Store)
	}{
		{"Stations", testStations},
		{"StationSeen", testStationSeen},
		{"StationsPage", testStationsPage},
		{"Status", testStatus},
		{"Tokens", testTokens},
		{"StationEvents", testStationEvents},
		{"OCPP16StartReplayStop", testOCPP16},
		{"EveryArrivalOrder", testEveryArrivalOrder},
		{"SecondEnded", testSecondEnded},
		{"EndedBeforeStarted", testEndedBeforeStarted},
		{"MeterValueDuplicates", testMeterValueDuplicates},
		{"MeterValuesAtSeveralTimes", testMeterValuesAtSeveralTimes},
		{"ReplayStoresOnlyNewMeterValues", testReplayStoresOnlyNewMeterValues},
		{"EnergyWhileActive", testEnergyWhileActive},
		{"TransactionFilters", testTransactionFilters},
		{"NotFound", testNotFound},
		{"BadInput", testBadInput},
		{"ConcurrentWrites", testConcurrentWrites},
		{"FailingWriteInBatch", testFailingWriteInBatch},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 123456789, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

func wh(v float64) *float64 { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, csms.ErrNotFound) {
		t.Errorf("%s: got %v, want csms.ErrNotFound", what, err)
	}
}

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("%s: got %v, want store.ErrInvalid", what, err)
	}
}

// sameTime compares times by instant, as stores return them in UTC.
func sameTime(a, b time.Time) bool { return a.Equal(b) }

func testStations(t *testing.T, s csms.Store) {
	st := csms.Station{
		ID: "CS-1", Vendor: "V", Model: "M", SerialNumber: "SN", FirmwareVersion: "1.0",
		Protocol: "ocpp2.0.1", SecurityProfile: 2, PasswordHash: "hash",
		Registration: csms.RegistrationAccepted, FirmwareStatus: "Installed",
		DiagnosticsStatus: "Idle", LogStatus: "Idle",
	}
	must(t, s.SaveStation(ctx(t), st))
	got, err := s.Station(ctx(t), "CS-1")
	must(t, err)
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("CreatedAt/UpdatedAt not set: %+v", got)
	}
	created := got.CreatedAt
	got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("Station = %+v, want %+v", got, st)
	}
	// Replace: every field changes but CreatedAt.
	st.Vendor, st.Registration, st.SecurityProfile = "V2", csms.RegistrationRejected, 3
	must(t, s.SaveStation(ctx(t), st))
	got, err = s.Station(ctx(t), "CS-1")
	must(t, err)
	if got.Vendor != "V2" || got.Registration != csms.RegistrationRejected || got.SecurityProfile != 3 {
		t.Errorf("replaced station = %+v", got)
	}
	if !sameTime(got.CreatedAt, created) {
		t.Errorf("CreatedAt changed on replace: %v -> %v", created, got.CreatedAt)
	}
	if _, err := s.Station(ctx(t), "cs-1"); !errors.Is(err, csms.ErrNotFound) {
		t.Errorf("station ids are case-sensitive; got %v", err)
	}
	must(t, s.DeleteStation(ctx(t), "CS-1"))
	_, err = s.Station(ctx(t), "CS-1")
	wantNotFound(t, "Station after delete", err)
	wantNotFound(t, "DeleteStation twice", s.DeleteStation(ctx(t), "CS-1"))
}

func testStationSeen(t *testing.T, s csms.Store) {
	wantNotFound(t, "StationSeen unknown", s.StationSeen(ctx(t), "nope", true, t0))
	must(t, s.SaveStation(ctx(t), csms.Station{ID: "A"}))
	got, err := s.Station(ctx(t), "A")
	must(t, err)
	if got.Online || !got.LastSeen.IsZero() {
		t.Fatalf("new station online=%v lastSeen=%v", got.Online, got.LastSeen)
	}
	must(t, s.StationSeen(ctx(t), "A", true, t0))
	got, _ = s.Station(ctx(t), "A")
	if !got.Online || !sameTime(got.LastSeen, t0) {
		t.Errorf("after seen: online=%v lastSeen=%v", got.Online, got.LastSeen)
	}
	// A late disconnect of an older connection changes nothing.
	must(t, s.StationSeen(ctx(t), "A", false, t0.Add(-time.Minute)))
	got, _ = s.Station(ctx(t), "A")
	if !got.Online || !sameTime(got.LastSeen, t0) {
		t.Errorf("older notice applied: online=%v lastSeen=%v", got.Online, got.LastSeen)
	}
	must(t, s.StationSeen(ctx(t), "A", false, t0.Add(time.Minute)))
	got, _ = s.Station(ctx(t), "A")
	if got.Online || !sameTime(got.LastSeen, t0.Add(time.Minute)) {
		t.Errorf("after offline: online=%v lastSeen=%v", got.Online, got.LastSeen)
	}
	on, off := true, false
	must(t, s.SaveStation(ctx(t), csms.Station{ID: "B"}))
	must(t, s.StationSeen(ctx(t), "B", true, t0))
	ids := func(f csms.StationFilter) []string {
		l, err := s.Stations(ctx(t), f)
		must(t, err)
		var out []string
		for _, st := range l {
			out = append(out, st.ID)
		}
		return out
	}
	if got := ids(csms.StationFilter{Online: &on}); !reflect.DeepEqual(got, []string{"B"}) {
		t.Errorf("online stations = %v", got)
	}
	if got := ids(csms.StationFilter{Online: &off}); !reflect.DeepEqual(got, []string{"A"}) {
		t.Errorf("offline stations = %v", got)
	}
}

func testStationsPage(t *testing.T, s csms.Store) {
	const n = 1005
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.SaveStation(ctx(t), csms.Station{ID: fmt.Sprintf("S%04d", i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	list := func(p csms.Page) []csms.Station {
		l, err := s.Stations(ctx(t), csms.StationFilter{Page: p})
		must(t, err)
		return l
	}
	if l := list(csms.Page{}); len(l) != 100 || l[0].ID != "S0000" || l[99].ID != "S0099" {
		t.Errorf("default page: %d stations, first %v", len(l), l[0].ID)
	}
	if l := list(csms.Page{Limit: 5000}); len(l) != 1000 {
		t.Errorf("limit 5000 gave %d stations, want the clamp 1000", len(l))
	}
	if l := list(csms.Page{Limit: 3, Offset: 1002}); len(l) != 3 || l[0].ID != "S1002" || l[2].ID != "S1004" {
		t.Errorf("offset page: %v", l)
	}
	if l := list(csms.Page{Limit: 3, Offset: 2000}); len(l) != 0 {
		t.Errorf("past the end: %d stations", len(l))
	}
	if l := list(csms.Page{Limit: -1, Offset: -5}); len(l) != 100 || l[0].ID != "S0000" {
		t.Errorf("negative page: %d stations", len(l))
	}
	must(t, s.StationSeen(ctx(t), "S0007", true, t0))
	for _, c := range []struct {
		f    csms.StationFilter
		want int
	}{
		{csms.StationFilter{}, n},
		{csms.StationFilter{Page: csms.Page{Limit: 3, Offset: 1002}}, n}, // the page does not count
		{csms.StationFilter{Online: ptrTo(true)}, 1},
		{csms.StationFilter{Online: ptrTo(false)}, n - 1},
	} {
		if got, err := s.CountStations(ctx(t), c.f); err != nil || got != c.want {
			t.Errorf("CountStations(%+v) = %d, %v; want %d", c.f, got, err, c.want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func testStatus(t *testing.T, s csms.Store) {
	rec := func(evse, conn int, status string, at time.Time) {
		t.Helper()
		must(t, s.RecordStatus(ctx(t), csms.ConnectorStatus{StationID: "S", EVSE: evse, Connector: conn,
			Status: status, Raw: status, ErrorCode: "NoError", Info: "i", Timestamp: at}))
	}
	rec(2, 1, "Available", t0)
	rec(1, 1, "Available", t0)
	rec(1, 1, "Occupied", t0.Add(2*time.Minute))
	rec(1, 1, "Faulted", t0.Add(time.Minute)) // late replay: history only
	rec(1, 2, "Unavailable", t0)
	cur, err := s.ConnectorStatuses(ctx(t), "S")
	must(t, err)
	var got []string
	for _, c := range cur {
		got = append(got, fmt.Sprintf("%d/%d %s", c.EVSE, c.Connector, c.Status))
	}
	want := []string{"1/1 Occupied", "1/2 Unavailable", "2/1 Available"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("current = %v, want %v", got, want)
	}
	if c := cur[0]; c.StationID != "S" || c.Raw != "Occupied" || c.ErrorCode != "NoError" || c.Info != "i" || !sameTime(c.Timestamp, t0.Add(2*time.Minute)) {
		t.Errorf("current status fields: %+v", c)
	}
	hist, err := s.StatusHistory(ctx(t), "S", csms.Page{})
	must(t, err)
	if len(hist) != 5 || hist[0].Status != "Occupied" || hist[1].Status != "Faulted" {
		t.Errorf("history = %+v", hist)
	}
	page, err := s.StatusHistory(ctx(t), "S", csms.Page{Limit: 2, Offset: 1})
	must(t, err)
	if len(page) != 2 || page[0].Status != "Faulted" {
		t.Errorf("history page = %+v", page)
	}
	if cur, _ := s.ConnectorStatuses(ctx(t), "other"); len(cur) != 0 {
		t.Errorf("statuses of unknown station: %v", cur)
	}
}

func testTokens(t *testing.T, s csms.Store) {
	exp := t0.Add(24 * time.Hour)
	tok := csms.IDToken{ID: "AbCd01", Type: "ISO14443", Status: csms.TokenAccepted, ExpiresAt: &exp,
		GroupID: "G", Stations: []string{"S1", "S2"}}
	must(t, s.SaveToken(ctx(t), tok))
	got, err := s.Token(ctx(t), "abcd01")
	must(t, err)
	if got.ID != "AbCd01" || got.Type != "ISO14443" || got.Status != csms.TokenAccepted ||
		got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.GroupID != "G" ||
		!reflect.DeepEqual(got.Stations, []string{"S1", "S2"}) || got.CreatedAt.IsZero() {
		t.Errorf("Token = %+v", got)
	}
	// Saving another spelling replaces the token.
	must(t, s.SaveToken(ctx(t), csms.IDToken{ID: "ABCD01", Status: csms.TokenBlocked}))
	got, err = s.Token(ctx(t), "AbCd01")
	must(t, err)
	if got.ID != "ABCD01" || got.Status != csms.TokenBlocked || got.ExpiresAt != nil || got.Stations != nil {
		t.Errorf("replaced token = %+v", got)
	}
	must(t, s.SaveToken(ctx(t), csms.IDToken{ID: "zz", Status: csms.TokenExpired}))
	must(t, s.SaveToken(ctx(t), csms.IDToken{ID: "Mm", Status: csms.TokenInvalid}))
	l, err := s.Tokens(ctx(t), csms.Page{})
	must(t, err)
	var ids []string
	for _, tk := range l {
		ids = append(ids, tk.ID)
	}
	if !reflect.DeepEqual(ids, []string{"ABCD01", "Mm", "zz"}) {
		t.Errorf("Tokens = %v", ids)
	}
	if l, _ := s.Tokens(ctx(t), csms.Page{Limit: 1, Offset: 1}); len(l) != 1 || l[0].ID != "Mm" {
		t.Errorf("Tokens page = %v", l)
	}
	if n, err := s.CountTokens(ctx(t)); err != nil || n != 3 {
		t.Errorf("CountTokens = %d, %v; want 3", n, err)
	}
	must(t, s.DeleteToken(ctx(t), "abcd01"))
	_, err = s.Token(ctx(t), "ABCD01")
	wantNotFound(t, "Token after delete", err)
	wantNotFound(t, "DeleteToken twice", s.DeleteToken(ctx(t), "ABCD01"))
}

func testStationEvents(t *testing.T, s csms.Store) {
	var ids []int64
	for i, kind := range []string{"NotifyEvent", "SecurityEventNotification", "NotifyEvent"} {
		id, err := s.RecordStationEvent(ctx(t), csms.StationEvent{StationID: "S", Kind: kind,
			Timestamp: t0.Add(time.Duration(i) * time.Second), Payload: json.RawMessage(`{"n": ` + strconv.Itoa(i) + `}`)})
		must(t, err)
		ids = append(ids, id)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("ids not distinct: %v", ids)
	}
	all, err := s.StationEvents(ctx(t), "S", "", csms.Page{})
	must(t, err)
	if len(all) != 3 || all[0].ID != ids[2] || string(all[0].Payload) != `{"n": 2}` || !sameTime(all[0].Timestamp, t0.Add(2*time.Second)) {
		t.Errorf("all events = %+v", all)
	}
	ne, err := s.StationEvents(ctx(t), "S", "NotifyEvent", csms.Page{Limit: 1, Offset: 1})
	must(t, err)
	if len(ne) != 1 || ne[0].ID != ids[0] || ne[0].Kind != "NotifyEvent" || ne[0].StationID != "S" {
		t.Errorf("NotifyEvent page = %+v", ne)
	}
}

// start16 is an OCPP 1.6 StartTransaction.
func start16(station string, connector int, tag string, at time.Time, meter float64) csms.TxEvent {
	return csms.TxEvent{StationID: station, EVSE: connector, Connector: connector, IDToken: tag,
		MeterWh: wh(meter), Event: csms.TransactionEvent{EventType: "Started", SeqNo: 0, Timestamp: at,
			TriggerReason: "Authorized", Raw: json.RawMessage(`{"connectorId":1}`)}}
}

func testOCPP16(t *testing.T, s csms.Store) {
	tx, applied, err := s.RecordTransactionEvent(ctx(t), start16("S16", 1, "TAG", t0, 1000))
	must(t, err)
	if !applied || tx.ID == 0 || tx.StationTxID != strconv.FormatInt(tx.ID, 10) || tx.LastSeqNo != -1 ||
		tx.Status != csms.TransactionActive || tx.MeterStartWh != 1000 || tx.IDToken != "TAG" ||
		tx.Connector != 1 || !sameTime(tx.StartedAt, t0) || tx.StoppedAt != nil {
		t.Fatalf("start: applied=%v tx=%+v", applied, tx)
	}
	// The replay gets the same transactionId.
	again, applied, err := s.RecordTransactionEvent(ctx(t), start16("S16", 1, "TAG", t0, 1000))
	must(t, err)
	if applied || again.ID != tx.ID {
		t.Fatalf("replayed start: applied=%v id %d, want %d", applied, again.ID, tx.ID)
	}
	// Another start (different time) is a new transaction.
	other, applied, err := s.RecordTransactionEvent(ctx(t), start16("S16", 1, "TAG", t0.Add(time.Second), 1000))
	must(t, err)
	if !applied || other.ID == tx.ID {
		t.Fatalf("second start: applied=%v id %d", applied, other.ID)
	}
	stop := csms.TxEvent{StationID: "S16", TransactionID: tx.ID, MeterWh: wh(4500), StopReason: "Local",
		Event:       csms.TransactionEvent{EventType: "Ended", SeqNo: 1 << 30, Timestamp: t0.Add(time.Hour)},
		MeterValues: []csms.MeterValue{{Timestamp: t0.Add(30 * time.Minute), Value: 2000, Unit: "Wh", RawValue: "2", RawUnit: "kWh"}}}
	done, applied, err := s.RecordTransactionEvent(ctx(t), stop)
	must(t, err)
	if !applied || done.Status != csms.TransactionFinished || done.StoppedAt == nil || !sameTime(*done.StoppedAt, t0.Add(time.Hour)) ||
		done.MeterStopWh == nil || *done.MeterStopWh != 4500 || done.EnergyWh != 3500 || done.StopReason != "Local" || done.LastSeqNo != -1 {
		t.Fatalf("stop: applied=%v tx=%+v", applied, done)
	}
	replay, applied, err := s.RecordTransactionEvent(ctx(t), stop)
	must(t, err)
	if applied || !reflect.DeepEqual(replay, done) {
		t.Errorf("replayed stop: applied=%v\n got %+v\nwant %+v", applied, replay, done)
	}
	// The replayed start after the stop still finds it.
	again, applied, err = s.RecordTransactionEvent(ctx(t), start16("S16", 1, "TAG", t0, 1000))
	must(t, err)
	if applied || again.ID != tx.ID || again.Status != csms.TransactionFinished {
		t.Errorf("start replayed after stop: applied=%v %+v", applied, again)
	}
	got, err := s.TransactionByStationTxID(ctx(t), "S16", tx.StationTxID)
	must(t, err)
	if !reflect.DeepEqual(got, done) {
		t.Errorf("TransactionByStationTxID = %+v, want %+v", got, done)
	}
	evs, err := s.TransactionEvents(ctx(t), tx.ID)
	must(t, err)
	if len(evs) != 2 || evs[0].EventType != "Started" || evs[1].EventType != "Ended" || evs[0].TransactionID != tx.ID ||
		string(evs[0].Raw) != `{"connectorId":1}` || evs[0].TriggerReason != "Authorized" {
		t.Errorf("events = %+v", evs)
	}
	mvs, err := s.MeterValues(ctx(t), tx.ID)
	must(t, err)
	if len(mvs) != 1 || mvs[0].Measurand != "Energy.Active.Import.Register" || mvs[0].Context != "Sample.Periodic" ||
		mvs[0].Location != "Outlet" || mvs[0].TransactionID == nil || *mvs[0].TransactionID != tx.ID ||
		mvs[0].StationID != "S16" || mvs[0].EVSE != 0 || mvs[0].RawUnit != "kWh" {
		t.Errorf("meter values = %+v", mvs)
	}
	// A stop from another station does not find the transaction.
	_, _, err = s.RecordTransactionEvent(ctx(t), csms.TxEvent{StationID: "OTHER", TransactionID: other.ID,
		Event: csms.TransactionEvent{EventType: "Ended", SeqNo: 1 << 30, Timestamp: t0}})
	wantNotFound(t, "stop of another station's transaction", err)
}

// tx201 is the four events of one 2.0.1 transaction, with two meter values
// each.
func tx201(station, txID string) []csms.TxEvent {
	ev := func(typ string, seq int, meter float64) csms.TxEvent {
		at := t0.Add(time.Duration(seq) * 10 * time.Minute)
		e := csms.TxEvent{StationID: station, StationTxID: txID, MeterWh: wh(meter),
			Event: csms.TransactionEvent{EventType: typ, SeqNo: seq, Timestamp: at, TriggerReason: "MeterValuePeriodic",
				Raw: json.RawMessage(fmt.Sprintf(`{"seqNo":%d}`, seq))},
			MeterValues: []csms.MeterValue{
				{Timestamp: at, Value: meter, Unit: "Wh", RawValue: fmt.Sprint(meter), RawUnit: "Wh"},
				{Timestamp: at, Measurand: "Power.Active.Import", Value: 7000, Unit: "W"},
			}}
		return e
	}
	started := ev("Started", 0, 1000)
	started.EVSE, started.Connector, started.IDToken = 1, 1, "Tok"
	started.Event.TriggerReason = "Authorized"
	u1 := ev("Updated", 1, 2000)
	u1.EVSE = 2 // later events do not override the earliest EVSE
	u2 := ev("Updated", 2, 3000)
	u2.Event.Offline = true
	ended := ev("Ended", 3, 3500)
	ended.StopReason = "EVDisconnected"
	return []csms.TxEvent{started, u1, u2, ended}
}

func permutations(n int) [][]int {
	var out [][]int
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			out = append(out, append([]int(nil), p...))
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
	return out
}

// comparable strips what differs between equal transactions.
func comparable(tx csms.Transaction) csms.Transaction {
	tx.ID, tx.StationTxID, tx.UpdatedAt = 0, "", time.Time{}
	return tx
}

func testEveryArrivalOrder(t *testing.T, s csms.Store) {
	var want *csms.Transaction
	var wantMV []csms.MeterValue
	var wantEv []csms.TransactionEvent
	for i, order := range permutations(4) {
		id := fmt.Sprintf("tx-%d", i)
		events := tx201("S201", id)
		var last csms.Transaction
		for _, k := range order {
			tx, applied, err := s.RecordTransactionEvent(ctx(t), events[k])
			must(t, err)
			if !applied {
				t.Fatalf("order %v: event %d not applied", order, k)
			}
			last = tx
		}
		// A replay of each event changes nothing.
		for _, k := range order {
			tx, applied, err := s.RecordTransactionEvent(ctx(t), events[k])
			must(t, err)
			if applied || !reflect.DeepEqual(tx, last) {
				t.Fatalf("order %v: replay of %d applied=%v changed %+v", order, k, applied, tx)
			}
		}
		stored, err := s.TransactionByStationTxID(ctx(t), "S201", id)
		must(t, err)
		if !reflect.DeepEqual(stored, last) {
			t.Fatalf("order %v: stored %+v, returned %+v", order, stored, last)
		}
		mv, err := s.MeterValues(ctx(t), stored.ID)
		must(t, err)
		evs, err := s.TransactionEvents(ctx(t), stored.ID)
		must(t, err)
		for j := range mv {
			mv[j].TransactionID = nil
		}
		for j := range evs {
			evs[j].TransactionID = 0
		}
		got := comparable(stored)
		if want == nil {
			want, wantMV, wantEv = &got, mv, evs
			continue
		}
		if !reflect.DeepEqual(got, *want) {
			t.Errorf("order %v:\n got %+v\nwant %+v", order, got, *want)
		}
		if !sameMeterValues(mv, wantMV) {
			t.Errorf("order %v: meter values differ:\n got %+v\nwant %+v", order, mv, wantMV)
		}
		if !reflect.DeepEqual(evs, wantEv) {
			t.Errorf("order %v: events differ:\n got %+v\nwant %+v", order, evs, wantEv)
		}
	}
	w := *want
	if w.Status != csms.TransactionFinished || !sameTime(w.StartedAt, t0) || w.StoppedAt == nil ||
		!sameTime(*w.StoppedAt, t0.Add(30*time.Minute)) || w.MeterStartWh != 1000 || *w.MeterStopWh != 3500 ||
		w.EnergyWh != 2500 || w.EVSE != 1 || w.Connector != 1 || w.IDToken != "Tok" || w.StopReason != "EVDisconnected" ||
		w.LastSeqNo != 3 || w.StationID != "S201" {
		t.Errorf("final transaction %+v", w)
	}
	if len(wantMV) != 8 || len(wantEv) != 4 || wantEv[0].EventType != "Started" || wantEv[3].EventType != "Ended" ||
		!wantEv[2].Offline || string(wantEv[1].Raw) != `{"seqNo":1}` {
		t.Errorf("%d meter values, events %+v", len(wantMV), wantEv)
	}
	for i := 1; i < len(wantMV); i++ {
		if wantMV[i].Timestamp.Before(wantMV[i-1].Timestamp) {
			t.Errorf("meter values not in time order: %+v", wantMV)
		}
	}
}

// sameMeterValues compares in a canonical order: values with equal
// timestamps may come back in insertion order, which differs by arrival.
func sameMeterValues(a, b []csms.MeterValue) bool {
	key := func(v csms.MeterValue) string {
		return fmt.Sprintf("%d|%s|%s|%s|%s", v.Timestamp.UnixNano(), v.Measurand, v.Phase, v.Context, v.Location)
	}
	sorted := func(l []csms.MeterValue) []csms.MeterValue {
		l = append([]csms.MeterValue(nil), l...)
		sort.Slice(l, func(i, j int) bool { return key(l[i]) < key(l[j]) })
		return l
	}
	return reflect.DeepEqual(sorted(a), sorted(b))
}

func testSecondEnded(t *testing.T, s csms.Store) {
	events := tx201("S", "T")
	for _, e := range events {
		_, _, err := s.RecordTransactionEvent(ctx(t), e)
		must(t, err)
	}
	before, err := s.TransactionByStationTxID(ctx(t), "S", "T")
	must(t, err)
	second := events[3]
	second.Event.SeqNo, second.MeterWh, second.StopReason = 4, wh(9999), "Other"
	second.Event.Timestamp = second.Event.Timestamp.Add(time.Hour)
	second.MeterValues = nil
	tx, _, err := s.RecordTransactionEvent(ctx(t), second)
	must(t, err)
	if tx.Status != csms.TransactionFinished || !sameTime(*tx.StoppedAt, *before.StoppedAt) || *tx.MeterStopWh != 3500 ||
		tx.StopReason != "EVDisconnected" || tx.EnergyWh != before.EnergyWh {
		t.Errorf("second Ended changed the transaction:\n got %+v\nwant %+v", tx, before)
	}
	if tx.LastSeqNo != 4 {
		t.Errorf("LastSeqNo = %d, want 4 (the highest applied)", tx.LastSeqNo)
	}
}

func testEndedBeforeStarted(t *testing.T, s csms.Store) {
	events := tx201("S", "T")
	tx, applied, err := s.RecordTransactionEvent(ctx(t), events[3])
	must(t, err)
	if !applied || tx.Status != csms.TransactionFinished || !sameTime(tx.StartedAt, events[3].Event.Timestamp) ||
		tx.EnergyWh != 0 || tx.IDToken != "" {
		t.Fatalf("Ended alone: %+v", tx)
	}
	tx2, applied, err := s.RecordTransactionEvent(ctx(t), events[0])
	must(t, err)
	if !applied || tx2.ID != tx.ID || tx2.Status != csms.TransactionFinished || !sameTime(tx2.StartedAt, t0) ||
		tx2.MeterStartWh != 1000 || tx2.EnergyWh != 2500 || tx2.IDToken != "Tok" || tx2.EVSE != 1 {
		t.Errorf("after Started: %+v", tx2)
	}
}

func testMeterValueDuplicates(t *testing.T, s csms.Store) {
	events := tx201("S", "T")
	tx, _, err := s.RecordTransactionEvent(ctx(t), events[0])
	must(t, err)
	// An Updated repeating the Started's values (same timestamp, measurand,
	// phase, context, location) and adding one.
	u := events[1]
	u.MeterValues = append(append([]csms.MeterValue(nil), events[0].MeterValues...),
		csms.MeterValue{Timestamp: t0, Measurand: "Power.Active.Import", Phase: "L1", Value: 2300, Unit: "W"},
		csms.MeterValue{Timestamp: t0, Measurand: "Power.Active.Import", Phase: "L1", Value: 2300, Unit: "W"})
	_, _, err = s.RecordTransactionEvent(ctx(t), u)
	must(t, err)
	mvs, err := s.MeterValues(ctx(t), tx.ID)
	must(t, err)
	// Started: 2 values; the Updated: 2 duplicates of those, 1 new, and
	// a duplicate of the new one.
	if len(mvs) != 3 {
		t.Errorf("got %d meter values, want 3: %+v", len(mvs), mvs)
	}
	// Values outside a transaction, twice.
	out := []csms.MeterValue{
		{StationID: "S", EVSE: 1, Timestamp: t0, Value: 5, Unit: "Wh"},
		{StationID: "S", EVSE: 2, Timestamp: t0, Value: 6, Unit: "Wh"},
		{StationID: "S", EVSE: 1, Timestamp: t0, Measurand: "Voltage", Value: 230, Unit: "V"},
	}
	must(t, s.RecordMeterValues(ctx(t), out))
	must(t, s.RecordMeterValues(ctx(t), out))
	id := tx.ID
	inTx := []csms.MeterValue{{StationID: "S", TransactionID: &id, Timestamp: t0.Add(time.Minute), Value: 1100, Unit: "Wh"}}
	must(t, s.RecordMeterValues(ctx(t), inTx))
	must(t, s.RecordMeterValues(ctx(t), inTx))
	mvs2, err := s.MeterValues(ctx(t), tx.ID)
	must(t, err)
	if len(mvs2) != len(mvs)+1 {
		t.Errorf("after RecordMeterValues: %d values, want %d", len(mvs2), len(mvs)+1)
	}
	missing := int64(1 << 40)
	err = s.RecordMeterValues(ctx(t), []csms.MeterValue{{StationID: "S", TransactionID: &missing, Timestamp: t0, Value: 1}})
	wantNotFound(t, "meter values of an unknown transaction", err)
}

// testMeterValuesAtSeveralTimes: an event whose values are at several
// times (a 1.6 StopTransaction's transactionData, a 2.0.1 Ended with its
// samples), values sent outside events, and another transaction's values at
// the very same times: each transaction gets exactly its own, in time order.
func testMeterValuesAtSeveralTimes(t *testing.T, s csms.Store) {
	value := func(at time.Duration, wh float64) csms.MeterValue {
		return csms.MeterValue{Timestamp: t0.Add(at), Value: wh, Unit: "Wh", RawValue: fmt.Sprint(wh), RawUnit: "Wh"}
	}
	ids := map[string]int64{}
	for i, station := range []string{"A", "B"} {
		base := float64(i * 100000)
		events := tx201(station, "T")
		ended := events[3]
		ended.MeterValues = []csms.MeterValue{value(31*time.Minute, base+3600), value(32*time.Minute, base+3700),
			value(31*time.Minute, base+3600)} // a repeat inside the event
		for _, e := range []csms.TxEvent{events[0], ended} {
			tx, _, err := s.RecordTransactionEvent(ctx(t), e)
			must(t, err)
			ids[station] = tx.ID
		}
		id := ids[station]
		must(t, s.RecordMeterValues(ctx(t), []csms.MeterValue{{StationID: station, TransactionID: &id,
			Timestamp: t0.Add(40 * time.Minute), Measurand: "Voltage", Value: 230 + float64(i), Unit: "V"}}))
	}
	for i, station := range []string{"A", "B"} {
		base := float64(i * 100000)
		mvs, err := s.MeterValues(ctx(t), ids[station])
		must(t, err)
		var got []string
		for _, v := range mvs {
			if v.StationID != station || v.TransactionID == nil || *v.TransactionID != ids[station] {
				t.Errorf("%s: value of another transaction: %+v", station, v)
			}
			got = append(got, fmt.Sprintf("%v %s %v", v.Timestamp.Sub(t0), v.Measurand, v.Value))
		}
		want := []string{
			"0s Energy.Active.Import.Register 1000", "0s Power.Active.Import 7000",
			fmt.Sprintf("31m0s Energy.Active.Import.Register %v", base+3600),
			fmt.Sprintf("32m0s Energy.Active.Import.Register %v", base+3700),
			fmt.Sprintf("40m0s Voltage %v", 230+i),
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: meter values\n got %q\nwant %q", station, got, want)
		}
	}
}

// testReplayStoresOnlyNewMeterValues: an event whose seqNo is recorded
// changes the transaction in nothing, but values it carries that are not
// stored yet go in (two 1.6 MeterValues at the same time share a seqNo).
func testReplayStoresOnlyNewMeterValues(t *testing.T, s csms.Store) {
	events := tx201("S", "T")
	for _, e := range events[:2] {
		_, _, err := s.RecordTransactionEvent(ctx(t), e)
		must(t, err)
	}
	second := events[1]
	second.MeterWh = wh(99999) // a different reading: the transaction keeps the first
	second.MeterValues = []csms.MeterValue{
		{Timestamp: second.Event.Timestamp, Measurand: "Voltage", Value: 230, Unit: "V"},                  // new, same time
		{Timestamp: second.Event.Timestamp.Add(time.Second), Measurand: "Voltage", Value: 231, Unit: "V"}, // new, another time
	}
	for i := range 2 { // the second time, a true replay of it
		tx, applied, err := s.RecordTransactionEvent(ctx(t), second)
		must(t, err)
		if applied || tx.EnergyWh != 1000 || tx.LastSeqNo != 1 {
			t.Errorf("try %d: applied %v, %+v; want a replay that leaves the transaction as it was", i, applied, tx)
		}
		mvs, err := s.MeterValues(ctx(t), tx.ID)
		must(t, err)
		var got []string
		for _, v := range mvs {
			got = append(got, fmt.Sprintf("%v %s %v", v.Timestamp.Sub(t0), v.Measurand, v.Value))
		}
		want := []string{"0s Energy.Active.Import.Register 1000", "0s Power.Active.Import 7000",
			"10m0s Energy.Active.Import.Register 2000", "10m0s Power.Active.Import 7000", "10m0s Voltage 230",
			"10m1s Voltage 231"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("try %d: meter values\n got %q\nwant %q", i, got, want)
		}
	}
}

func testEnergyWhileActive(t *testing.T, s csms.Store) {
	events := tx201("S", "T")
	for i, want := range []float64{0, 1000, 2000} {
		tx, _, err := s.RecordTransactionEvent(ctx(t), events[i])
		must(t, err)
		if tx.EnergyWh != want || tx.Status != csms.TransactionActive || tx.LastSeqNo != i {
			t.Errorf("after event %d: energy %v (want %v), %+v", i, tx.EnergyWh, want, tx)
		}
	}
	// An Updated without reading keeps the energy.
	e := events[2]
	e.Event.SeqNo, e.MeterWh, e.MeterValues = 7, nil, nil
	tx, _, err := s.RecordTransactionEvent(ctx(t), e)
	must(t, err)
	if tx.EnergyWh != 2000 || tx.LastSeqNo != 7 {
		t.Errorf("Updated without reading: %+v", tx)
	}
}

func testTransactionFilters(t *testing.T, s csms.Store) {
	type spec struct {
		station, tag string
		start        time.Duration
		finish       bool
	}
	specs := []spec{
		{"A", "T1", 0, true}, {"A", "t2", time.Hour, false}, {"B", "T1", 2 * time.Hour, false},
		{"B", "T2", 3 * time.Hour, true}, {"A", "T1", 4 * time.Hour, false},
	}
	ids := make([]int64, len(specs))
	for i, sp := range specs {
		e := csms.TxEvent{StationID: sp.station, StationTxID: fmt.Sprint("x", i), IDToken: sp.tag, MeterWh: wh(0),
			Event: csms.TransactionEvent{EventType: "Started", Timestamp: t0.Add(sp.start)}}
		tx, _, err := s.RecordTransactionEvent(ctx(t), e)
		must(t, err)
		ids[i] = tx.ID
		if sp.finish {
			e.Event.EventType, e.Event.SeqNo = "Ended", 1
			_, _, err := s.RecordTransactionEvent(ctx(t), e)
			must(t, err)
		}
	}
	check := func(name string, f csms.TransactionFilter, want ...int) {
		t.Helper()
		l, err := s.Transactions(ctx(t), f)
		must(t, err)
		var got, w []int64
		for _, tx := range l {
			got = append(got, tx.ID)
		}
		for _, i := range want {
			w = append(w, ids[i])
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %v, want %v", name, got, w)
		}
		if f.Page == (csms.Page{}) {
			if n, err := s.CountTransactions(ctx(t), f); err != nil || n != len(want) {
				t.Errorf("%s: CountTransactions = %d, %v; want %d", name, n, err, len(want))
			}
		}
	}
	check("all, newest first", csms.TransactionFilter{}, 4, 3, 2, 1, 0)
	check("station", csms.TransactionFilter{StationID: "A"}, 4, 1, 0)
	check("token ignores case", csms.TransactionFilter{IDToken: "t1"}, 4, 2, 0)
	check("status", csms.TransactionFilter{Status: csms.TransactionFinished}, 3, 0)
	check("active on A", csms.TransactionFilter{StationID: "A", Status: csms.TransactionActive}, 4, 1)
	check("from inclusive, to exclusive", csms.TransactionFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, 2, 1)
	check("from only", csms.TransactionFilter{From: t0.Add(3 * time.Hour)}, 4, 3)
	check("to only", csms.TransactionFilter{To: t0.Add(time.Nanosecond)}, 0)
	check("page", csms.TransactionFilter{Page: csms.Page{Limit: 2, Offset: 1}}, 3, 2)
	if n, err := s.CountTransactions(ctx(t), csms.TransactionFilter{StationID: "A", Page: csms.Page{Limit: 1}}); err != nil || n != 3 {
		t.Errorf("CountTransactions counts past the page: %d, %v; want 3", n, err)
	}
}

func testNotFound(t *testing.T, s csms.Store) {
	_, err := s.Station(ctx(t), "x")
	wantNotFound(t, "Station", err)
	wantNotFound(t, "DeleteStation", s.DeleteStation(ctx(t), "x"))
	wantNotFound(t, "StationSeen", s.StationSeen(ctx(t), "x", true, t0))
	_, err = s.Token(ctx(t), "x")
	wantNotFound(t, "Token", err)
	wantNotFound(t, "DeleteToken", s.DeleteToken(ctx(t), "x"))
	_, err = s.Transaction(ctx(t), 424242)
	wantNotFound(t, "Transaction", err)
	_, err = s.TransactionByStationTxID(ctx(t), "x", "y")
	wantNotFound(t, "TransactionByStationTxID", err)
	_, err = s.TransactionEvents(ctx(t), 424242)
	wantNotFound(t, "TransactionEvents", err)
	_, err = s.MeterValues(ctx(t), 424242)
	wantNotFound(t, "MeterValues", err)
	_, _, err = s.RecordTransactionEvent(ctx(t), csms.TxEvent{StationID: "x", TransactionID: 424242,
		Event: csms.TransactionEvent{EventType: "Ended", SeqNo: 1 << 30, Timestamp: t0}})
	wantNotFound(t, "RecordTransactionEvent with unknown TransactionID", err)
	if err != nil && !strings.Contains(err.Error(), "424242") {
		t.Errorf("error does not say which transaction: %v", err)
	}
}

func testBadInput(t *testing.T, s csms.Store) {
	wantInvalid(t, "station without id", s.SaveStation(ctx(t), csms.Station{}))
	wantInvalid(t, "token without id", s.SaveToken(ctx(t), csms.IDToken{Status: csms.TokenAccepted}))
	wantInvalid(t, "token with bad status", s.SaveToken(ctx(t), csms.IDToken{ID: "a", Status: "Maybe"}))
	wantInvalid(t, "status without time", s.RecordStatus(ctx(t), csms.ConnectorStatus{StationID: "S", Status: "Available"}))
	wantInvalid(t, "status without status", s.RecordStatus(ctx(t), csms.ConnectorStatus{StationID: "S", Timestamp: t0}))
	_, err := s.RecordStationEvent(ctx(t), csms.StationEvent{StationID: "S", Timestamp: t0})
	wantInvalid(t, "station event without kind", err)
	wantInvalid(t, "meter value without station", s.RecordMeterValues(ctx(t), []csms.MeterValue{{Timestamp: t0}}))
	wantInvalid(t, "meter value NaN", s.RecordMeterValues(ctx(t), []csms.MeterValue{{StationID: "S", Timestamp: t0, Value: math.NaN()}}))
	good := tx201("S", "T")[0]
	bad := map[string]func(e *csms.TxEvent){
		"no station":         func(e *csms.TxEvent) { e.StationID = "" },
		"bad type":           func(e *csms.TxEvent) { e.Event.EventType = "Paused" },
		"negative seqNo":     func(e *csms.TxEvent) { e.Event.SeqNo = -1 },
		"no timestamp":       func(e *csms.TxEvent) { e.Event.Timestamp = time.Time{} },
		"NaN meter":          func(e *csms.TxEvent) { e.MeterWh = wh(math.NaN()) },
		"Updated without id": func(e *csms.TxEvent) { e.StationTxID, e.Event.EventType = "", "Updated" },
		"bad raw":            func(e *csms.TxEvent) { e.Event.Raw = json.RawMessage("{") },
		"bad meter value":    func(e *csms.TxEvent) { e.MeterValues = []csms.MeterValue{{Value: 1}} },
	}
	for name, mutate := range bad {
		e := good
		mutate(&e)
		_, _, err := s.RecordTransactionEvent(ctx(t), e)
		wantInvalid(t, name, err)
	}
	// Nothing was written, and the good event still goes in.
	if l, _ := s.Transactions(ctx(t), csms.TransactionFilter{}); len(l) != 0 {
		t.Errorf("bad input left transactions: %+v", l)
	}
	if _, applied, err := s.RecordTransactionEvent(ctx(t), good); err != nil || !applied {
		t.Errorf("good event after bad ones: applied=%v err=%v", applied, err)
	}
}

func testConcurrentWrites(t *testing.T, s csms.Store) {
	const stations, perStation = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, stations*perStation)
	for i := range stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("CS", i)
			for seq := range perStation {
				typ := "Updated"
				if seq == 0 {
					typ = "Started"
				}
				_, applied, err := s.RecordTransactionEvent(ctx(t), csms.TxEvent{StationID: id, StationTxID: "t",
					MeterWh: wh(float64(seq * 100)), Event: csms.TransactionEvent{EventType: typ, SeqNo: seq,
						Timestamp: t0.Add(time.Duration(seq) * time.Second)},
					MeterValues: []csms.MeterValue{{Timestamp: t0.Add(time.Duration(seq) * time.Second), Value: float64(seq * 100)}}})
				if err == nil && !applied {
					err = fmt.Errorf("%s seq %d not applied", id, seq)
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	for i := range stations {
		tx, err := s.TransactionByStationTxID(ctx(t), fmt.Sprint("CS", i), "t")
		must(t, err)
		evs, err := s.TransactionEvents(ctx(t), tx.ID)
		must(t, err)
		mvs, err := s.MeterValues(ctx(t), tx.ID)
		must(t, err)
		if tx.LastSeqNo != perStation-1 || tx.EnergyWh != float64((perStation-1)*100) || len(evs) != perStation || len(mvs) != perStation {
			t.Errorf("station %d: %+v, %d events, %d meter values", i, tx, len(evs), len(mvs))
		}
	}
}

func testFailingWriteInBatch(t *testing.T, s csms.Store) {
	// Good and failing writes at once, so that batches mix them: each gets
	// its own answer and every good one lands.
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := csms.TxEvent{StationID: "S", StationTxID: fmt.Sprint("good", i), MeterWh: wh(1),
				Event: csms.TransactionEvent{EventType: "Started", Timestamp: t0}}
			if i%2 == 1 {
				e.StationTxID, e.TransactionID = "", int64(1<<40+i)
				e.Event.EventType = "Ended"
			}
			_, _, errs[i] = s.RecordTransactionEvent(ctx(t), e)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 {
			if err != nil {
				t.Errorf("good write %d: %v", i, err)
			} else if _, err := s.TransactionByStationTxID(ctx(t), "S", fmt.Sprint("good", i)); err != nil {
				t.Errorf("good write %d lost: %v", i, err)
			}
		} else {
			wantNotFound(t, fmt.Sprint("bad write ", i), err)
		}
	}
}

func testClose(t *testing.T, s csms.Store) {
	must(t, s.SaveStation(ctx(t), csms.Station{ID: "A"}))
	must(t, s.Close())
	if err := s.SaveStation(ctx(t), csms.Station{ID: "B"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("write after Close: %v, want store.ErrClosed", err)
	}
}
