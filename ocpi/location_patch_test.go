package ocpi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func storedFull(t *testing.T) Location {
	t.Helper()
	l, err := DecodeLocation(readFixture(t, "locations/valid/full.json"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantInvalidParams(t *testing.T, err error, path string) {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != StatusInvalidParameters || oe.HTTPStatus != http.StatusOK {
		t.Fatalf("got %v, want a 2001 *Error", err)
	}
	if !strings.HasPrefix(oe.Message, path+":") && !strings.Contains(oe.Message, "; "+path+":") {
		t.Errorf("message %q does not name %s", oe.Message, path)
	}
}

func TestPatchWithoutLastUpdatedIsRejectedNamingLastUpdated(t *testing.T) {
	l := storedFull(t)
	_, err := PatchLocation(l, []byte(`{"name":"New name"}`))
	wantInvalidParams(t, err, "last_updated")
	_, err = PatchEVSE(l.EVSEs[0], []byte(`{"status":"CHARGING","last_updated":null}`))
	wantInvalidParams(t, err, "last_updated")
	_, err = PatchConnector(l.EVSEs[0].Connectors[0], []byte(`{"max_amperage":16,"last_updated":"yesterday"}`))
	wantInvalidParams(t, err, "last_updated")
}

func TestPatchWithAnotherIDIsRejected(t *testing.T) {
	l := storedFull(t)
	_, err := PatchLocation(l, []byte(`{"id":"fjl-oslo-01","last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "id")
	_, err = PatchLocation(l, []byte(`{"party_id":"XYZ","last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "party_id")
	_, err = PatchEVSE(l.EVSEs[0], []byte(`{"uid":"other","last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "uid")
	_, err = PatchConnector(l.EVSEs[0].Connectors[0], []byte(`{"id":"9","last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "id")
}

func TestPatchWithTheSameIDInAnotherCaseIsAccepted(t *testing.T) {
	l := storedFull(t)
	got, err := PatchLocation(l, []byte(`{"id":"FJL-BERGEN-BRYGGEN-01","country_code":"no","name":"Bryggen","last_updated":"2026-11-05T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.Name != "Bryggen" {
		t.Errorf("id %q name %q", got.ID, got.Name)
	}
}

func TestPatchLocationMergesFieldsAndLeavesTheRest(t *testing.T) {
	l := storedFull(t)
	got, err := PatchLocation(l, []byte(`{
		"name": null,
		"opening_times": {"twentyfourseven": true, "regular_hours": null},
		"energy_mix": {"supplier_name": "Nordkraft"},
		"last_updated": "2026-11-05T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "" {
		t.Errorf("name = %q, want cleared by null", got.Name)
	}
	if !got.OpeningTimes.Twentyfourseven || got.OpeningTimes.RegularHours != nil || len(got.OpeningTimes.ExceptionalClosings) != 2 {
		t.Errorf("opening_times = %+v", got.OpeningTimes)
	}
	if got.EnergyMix.SupplierName != "Nordkraft" || len(got.EnergyMix.EnergySources) != 8 {
		t.Errorf("energy_mix = %+v", got.EnergyMix)
	}
	if got.Address != l.Address || len(got.EVSEs) != 2 {
		t.Error("untouched fields changed")
	}
	if got.LastUpdated.String() != "2026-11-05T10:00:00Z" {
		t.Errorf("last_updated = %s", got.LastUpdated)
	}
	if l.Name == "" {
		t.Error("the stored location was modified")
	}
}

func TestPatchLocationResultIsValidated(t *testing.T) {
	l := storedFull(t)
	_, err := PatchLocation(l, []byte(`{"city":null,"last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "city")
	_, err = PatchLocation(l, []byte(`{"evses":[{"uid":"fjl-brg-01-b","connectors":[{"id":"1","max_voltage":"high"}]}],"last_updated":"2026-11-05T10:00:00Z"}`))
	wantInvalidParams(t, err, "evses[1].connectors[0].max_voltage")
}

func TestPatchLocationEVSEsMergeByUIDAndAreNeverDropped(t *testing.T) {
	l := storedFull(t)
	got, err := PatchLocation(l, []byte(`{
		"evses": [{"uid": "FJL-BRG-01-B", "status": "REMOVED", "last_updated": "2026-11-06T00:00:00Z"}],
		"last_updated": "2026-11-05T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.EVSEs) != 2 {
		t.Fatalf("%d EVSEs, want both kept", len(got.EVSEs))
	}
	if got.EVSEs[1].Status != StatusRemoved || len(got.EVSEs[1].Connectors) != 2 {
		t.Errorf("evses[1] = %+v", got.EVSEs[1])
	}
	if got.EVSEs[0].Status != StatusAvailable {
		t.Errorf("evses[0].status = %s", got.EVSEs[0].Status)
	}
	if got.LastUpdated.String() != "2026-11-06T00:00:00Z" {
		t.Errorf("location last_updated = %s, want the newer EVSE's", got.LastUpdated)
	}
}

func TestPatchEVSEConnectorsListReplacesTheStoredList(t *testing.T) {
	l := storedFull(t)
	got, err := PatchEVSE(l.EVSEs[1], []byte(`{
		"connectors": [{"id": "3", "standard": "GBT_DC", "format": "CABLE", "power_type": "DC",
			"max_voltage": 750, "max_amperage": 250, "last_updated": "2026-11-07T12:00:00.25Z"}],
		"last_updated": "2026-11-07T12:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Connectors) != 1 || got.Connectors[0].ID != "3" {
		t.Fatalf("connectors = %+v, want only the patched one", got.Connectors)
	}
	if got.LastUpdated.String() != "2026-11-07T12:00:00.250Z" {
		t.Errorf("evse last_updated = %s, want the newer connector's", got.LastUpdated)
	}
	_, err = PatchEVSE(l.EVSEs[1], []byte(`{"connectors": [], "last_updated": "2026-11-07T12:00:00Z"}`))
	wantInvalidParams(t, err, "connectors")
}

func TestPatchEVSEStatusRemovedThenPutEVSEPropagatesToTheLocation(t *testing.T) {
	l := storedFull(t)
	before := len(l.EVSEs)
	stored, ok := l.EVSE("FJL-BRG-01-A")
	if !ok {
		t.Fatal("EVSE lookup is not case-insensitive")
	}
	e, err := PatchEVSE(*stored, []byte(`{"status":"REMOVED","last_updated":"2026-11-08T09:30:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	l.PutEVSE(e)
	if len(l.EVSEs) != before {
		t.Errorf("%d EVSEs after PutEVSE, want %d (EVSEs are never deleted)", len(l.EVSEs), before)
	}
	if got, _ := l.EVSE("fjl-brg-01-a"); got.Status != StatusRemoved {
		t.Errorf("status = %s", got.Status)
	}
	if l.LastUpdated.String() != "2026-11-08T09:30:00Z" {
		t.Errorf("location last_updated = %s", l.LastUpdated)
	}
	// An older child change does not move the parent back.
	old := l.EVSEs[1]
	old.LastUpdated, _ = ParseDateTime("2020-01-01T00:00:00Z")
	l.PutEVSE(old)
	if l.LastUpdated.String() != "2026-11-08T09:30:00Z" {
		t.Errorf("location last_updated moved back to %s", l.LastUpdated)
	}
}

func TestPatchConnectorThenPutConnectorPropagatesToEVSEAndLocation(t *testing.T) {
	l := storedFull(t)
	evse, _ := l.EVSE("fjl-brg-01-b")
	stored, ok := evse.Connector("2")
	if !ok {
		t.Fatal("connector 2 not found")
	}
	c, err := PatchConnector(*stored, []byte(`{"max_amperage":100,"tariff_ids":["DC-2027"],"last_updated":"2026-11-09T18:00:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAmperage != 100 || c.Standard != ConnectorCHAdeMO || len(c.TariffIDs) != 1 {
		t.Errorf("connector = %+v", c)
	}
	if err := l.PutConnector("FJL-BRG-01-B", c); err != nil {
		t.Fatal(err)
	}
	evse, _ = l.EVSE("fjl-brg-01-b")
	if evse.LastUpdated.String() != "2026-11-09T18:00:00Z" || l.LastUpdated.String() != "2026-11-09T18:00:00Z" {
		t.Errorf("evse %s, location %s; want both 2026-11-09T18:00:00Z", evse.LastUpdated, l.LastUpdated)
	}
	if len(evse.Connectors) != 2 || evse.Connectors[1].MaxAmperage != 100 {
		t.Errorf("connectors = %+v", evse.Connectors)
	}
}

func TestPutConnectorOnAnUnknownEVSEFails(t *testing.T) {
	l := storedFull(t)
	c := l.EVSEs[0].Connectors[0]
	err := l.PutConnector("no-such-evse", c)
	wantInvalidParams(t, err, "evse_uid")
	if !strings.Contains(err.Error(), "no-such-evse") {
		t.Errorf("error %q does not name the EVSE", err)
	}
}

func TestPutConnectorAddsANewConnector(t *testing.T) {
	l := storedFull(t)
	c, err := DecodeConnector(readFixture(t, "locations/valid_connector.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutConnector("fjl-brg-01-a", c); err != nil {
		t.Fatal(err)
	}
	if len(l.EVSEs[0].Connectors) != 3 {
		t.Errorf("%d connectors, want 3", len(l.EVSEs[0].Connectors))
	}
	if !l.LastUpdated.Equal(c.LastUpdated.Time) || !l.EVSEs[0].LastUpdated.Equal(c.LastUpdated.Time) {
		t.Errorf("last_updated not propagated: evse %s location %s", l.EVSEs[0].LastUpdated, l.LastUpdated)
	}
}

func TestPatchBodyThatIsNotJSONIsABadRequest(t *testing.T) {
	_, err := PatchLocation(storedFull(t), []byte(`{"name": "x",`))
	var oe *Error
	if !errors.As(err, &oe) || oe.HTTPStatus != http.StatusBadRequest || oe.Code != StatusClientError {
		t.Errorf("got %v, want HTTP 400 with 2000", err)
	}
}
