package ocpi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestDecodeNotJSONIsHTTP400WithStatus2000(t *testing.T) {
	for _, body := range []string{``, `{`, `{"id": "x",}`, `{"id":"x"} {"id":"y"}`, `nonsense`} {
		_, err := DecodeLocation([]byte(body))
		var oe *Error
		if !errors.As(err, &oe) || oe.HTTPStatus != http.StatusBadRequest || oe.Code != StatusClientError {
			t.Errorf("%q: got %v, want HTTP 400 / 2000", body, err)
		}
	}
}

func TestDecodeNonObjectIs2001(t *testing.T) {
	_, err := DecodeEVSE([]byte(`[{"uid":"a"}]`))
	wantInvalidParams(t, err, "body")
}

func TestDecodeWrongTypeNamesTheFieldWithListIndexes(t *testing.T) {
	_, err := DecodeEVSE([]byte(`{"uid":"e1","status":"AVAILABLE","connectors":[
		{"id":"1","max_voltage":230},{"id":"2","max_voltage":"230"}],"last_updated":"2026-01-01T00:00:00Z"}`))
	wantInvalidParams(t, err, "connectors[1].max_voltage")
	_, err = DecodeConnector([]byte(`{"id":"1","tariff_ids":["a",7]}`))
	wantInvalidParams(t, err, "tariff_ids[1]")
	_, err = DecodeConnector([]byte(`{"id":"1","last_updated":1700000000}`))
	wantInvalidParams(t, err, "last_updated")
}

func TestDecodeIgnoresUnknownFieldsAndNullOptionals(t *testing.T) {
	c, err := DecodeConnector([]byte(`{"id":"1","standard":"IEC_62196_T2","format":"SOCKET","power_type":"AC_3_PHASE",
		"max_voltage":230,"max_amperage":16,"max_electric_power":null,"tariff_ids":null,"terms_and_conditions":null,
		"x_vendor":{"a":1},"last_updated":"2026-01-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	want := `{"id":"1","standard":"IEC_62196_T2","format":"SOCKET","power_type":"AC_3_PHASE","max_voltage":230,"max_amperage":16,"last_updated":"2026-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Errorf("canonical form\n got %s\nwant %s", b, want)
	}
}

func TestEVSEEncodesConnectorsEvenWhenEmpty(t *testing.T) {
	// connectors has cardinality +: it is never omitted, so a bad EVSE
	// shows the problem instead of hiding it.
	b, _ := json.Marshal(EVSE{UID: "e"})
	if !strings.Contains(string(b), `"connectors":null`) && !strings.Contains(string(b), `"connectors":[]`) {
		t.Errorf("connectors omitted: %s", b)
	}
}

func TestDecodeLocationRequiresTheBooleans(t *testing.T) {
	base := `{"country_code":"BE","party_id":"WTT","id":"x","address":"a","city":"c","country":"BEL",
		"coordinates":{"latitude":"51.05446","longitude":"3.72017"},"time_zone":"Europe/Brussels",
		"last_updated":"2026-01-01T00:00:00Z"`
	_, err := DecodeLocation([]byte(base + `,"publish":null}`))
	wantInvalidParams(t, err, "publish")
	_, err = DecodeLocation([]byte(base + `,"publish":true,"energy_mix":{"supplier_name":"s"}}`))
	wantInvalidParams(t, err, "energy_mix.is_green_energy")
	l, err := DecodeLocation([]byte(base + `,"publish":false,"opening_times":{"twentyfourseven":false,"regular_hours":[{"weekday":7,"period_begin":"10:00","period_end":"11:00"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Error(err)
	}
}
