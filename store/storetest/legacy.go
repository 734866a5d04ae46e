package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/openev/openev/csms"
)

// MeterValuesBefore0004 fill a database that migration 0003 left, the way
// the store of that time wrote it: transaction 1 (station "OLD",
// transaction "T") with a Started and an Updated event and their meter
// values, a value sent outside the events, and one outside any
// transaction. Backends run them, then open the store (which applies
// migration 0004) and call CheckMeterValuesAfter0004. The literals are
// valid SQL for both backends.
var MeterValuesBefore0004 = []string{
	fmt.Sprintf(`INSERT INTO transactions (id, station_id, station_tx_id, issued_id, evse, connector, id_token,
		id_token_key, status, started_at, meter_start_wh, energy_wh, stop_reason, last_seq, updated_at,
		started_seq, started_by_start, meter_start_seq, meter_start_by_start, end_seq, evse_seq,
		connector_seq, id_token_seq, reading_seq, reading_wh)
	VALUES (1, 'OLD', 'T', FALSE, 1, 1, 'Tok', 'tok', 'Active', %d, 1000, 1000, '', 1, %d,
		0, FALSE, 0, FALSE, -1, 0, 0, 0, 1, 2000)`, t0.UnixNano(), t0.UnixNano()),
	fmt.Sprintf(`INSERT INTO transaction_events (transaction_id, seq_no, event_type, ts, trigger_reason, offline,
		raw, evse, connector, id_token, meter_wh, stop_reason, received_at)
	VALUES (1, 0, 'Started', %d, 'Authorized', FALSE, NULL, 1, 1, 'Tok', 1000, '', %d),
		(1, 1, 'Updated', %d, 'MeterValuePeriodic', FALSE, NULL, 1, 0, '', 2000, '', %d)`,
		t0.UnixNano(), t0.UnixNano(), t0.Add(time.Minute).UnixNano(), t0.Add(time.Minute).UnixNano()),
	fmt.Sprintf(`INSERT INTO meter_values (station_id, transaction_id, evse, ts, measurand, phase, context,
		location, value, unit, raw_value, raw_unit)
	VALUES ('OLD', 1, 1, %[1]d, 'Energy.Active.Import.Register', '', 'Sample.Periodic', 'Outlet', 1000, 'Wh', '1000', 'Wh'),
		('OLD', 1, 1, %[1]d, 'Power.Active.Import', '', 'Sample.Periodic', 'Outlet', 7000, 'W', '7000', 'W'),
		('OLD', 1, 1, %[2]d, 'Energy.Active.Import.Register', '', 'Sample.Periodic', 'Outlet', 2000, 'Wh', '2000', 'Wh'),
		('OLD', 1, 1, %[3]d, 'Voltage', '', 'Sample.Periodic', 'Outlet', 230, 'V', '230', 'V'),
		('OLD', NULL, 1, %[3]d, 'Voltage', '', 'Sample.Periodic', 'Outlet', 231, 'V', '231', 'V')`,
		t0.UnixNano(), t0.Add(time.Minute).UnixNano(), t0.Add(90*time.Second).UnixNano()),
}

// CheckMeterValuesAfter0004 checks a store opened on MeterValuesBefore0004:
// the old values are found, and the duplicate rule holds between old and
// new ones.
func CheckMeterValuesAfter0004(t *testing.T, s csms.Store) {
	t.Helper()
	got := func() []string {
		mvs, err := s.MeterValues(ctx(t), 1)
		must(t, err)
		var out []string
		for _, v := range mvs {
			out = append(out, fmt.Sprintf("%v %s %v", v.Timestamp.Sub(t0), v.Measurand, v.Value))
		}
		return out
	}
	want := []string{"0s Energy.Active.Import.Register 1000", "0s Power.Active.Import 7000",
		"1m0s Energy.Active.Import.Register 2000", "1m30s Voltage 230"}
	if g := got(); !reflect.DeepEqual(g, want) {
		t.Fatalf("meter values after the migration\n got %q\nwant %q", g, want)
	}
	// A new event repeating an old value (dropped) and adding one.
	at := t0.Add(2 * time.Minute)
	_, applied, err := s.RecordTransactionEvent(ctx(t), csms.TxEvent{StationID: "OLD", StationTxID: "T", MeterWh: wh(2500),
		Event: csms.TransactionEvent{EventType: "Updated", SeqNo: 2, Timestamp: at, TriggerReason: "MeterValuePeriodic"},
		MeterValues: []csms.MeterValue{
			{Timestamp: t0.Add(time.Minute), Value: 2000, Unit: "Wh"},
			{Timestamp: at, Value: 2500, Unit: "Wh"},
		}})
	must(t, err)
	if !applied {
		t.Fatal("the new event was taken for a replay")
	}
	want = append(want, "2m0s Energy.Active.Import.Register 2500")
	if g := got(); !reflect.DeepEqual(g, want) {
		t.Errorf("meter values after a new event\n got %q\nwant %q", g, want)
	}
}
