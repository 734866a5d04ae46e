package ocpi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validLocationFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/locations/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid location fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestValidLocationFixturesDecodeValidateAndRoundTrip(t *testing.T) {
	for name, data := range validLocationFixtures(t) {
		t.Run(name, func(t *testing.T) {
			l, err := DecodeLocation(data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			canonical, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(canonical, []byte("null")) {
				t.Errorf("canonical form has a null: %s", canonical)
			}
			again, err := DecodeLocation(canonical)
			if err != nil {
				t.Fatalf("decode canonical: %v", err)
			}
			if !reflect.DeepEqual(l, again) {
				t.Errorf("round trip changed the location:\n first %+v\nsecond %+v", l, again)
			}
			if err := again.Validate(); err != nil {
				t.Errorf("canonical form does not validate: %v", err)
			}
			// The canonical form keeps every field the fixture had, except
			// fields unknown to 2.2.1, which are dropped.
			var in, out map[string]any
			_ = json.Unmarshal(data, &in)
			_ = json.Unmarshal(canonical, &out)
			for k := range in {
				if _, ok := out[k]; !ok && k != "vendor_extension" {
					t.Errorf("field %q lost in the canonical form", k)
				}
			}
		})
	}
}

func TestFullLocationFixtureKeepsEveryField(t *testing.T) {
	l, err := DecodeLocation(readFixture(t, "locations/valid/full.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Every field of Location, EVSE, Connector and the nested classes is
	// set somewhere in full.json: a field the Go type misses or misnames
	// would be zero here.
	checkAllFieldsSet(t, reflect.ValueOf(l))
	if got := l.EnergyMix.EnergySources[2].Percentage.String(); got != "10" {
		t.Errorf("percentage 10 re-encodes as %q", got)
	}
	if got := l.EnergyMix.EnvironImpact[0].Amount.String(); got != "0.0006" {
		t.Errorf("amount 0.0006 re-encodes as %q", got)
	}
}

// checkAllFieldsSet fails for a struct field that is the zero value in
// every element that was visited (lists: at least one element sets it).
func checkAllFieldsSet(t *testing.T, v reflect.Value) {
	t.Helper()
	set := map[string]bool{}
	collectSet(v, set)
	var missing []string
	var walk func(typ reflect.Type)
	seenTypes := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(DateTime{}) || typ == reflect.TypeOf(Number{}) || seenTypes[typ] {
			return
		}
		seenTypes[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key := typ.Name() + "." + f.Name
			if !set[key] {
				missing = append(missing, key)
			}
			walk(f.Type)
		}
	}
	walk(v.Type())
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fields never set in the fixture: %s", strings.Join(missing, ", "))
	}
}

func collectSet(v reflect.Value, set map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			collectSet(v.Elem(), set)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			collectSet(v.Index(i), set)
		}
	case reflect.Struct:
		typ := v.Type()
		if typ == reflect.TypeOf(DateTime{}) || typ == reflect.TypeOf(Number{}) {
			return
		}
		for i := 0; i < typ.NumField(); i++ {
			f := v.Field(i)
			// A bool set to false is still "set" when the fixture has it;
			// the JSON-level check in the round-trip test covers those.
			if !f.IsZero() || f.Kind() == reflect.Bool {
				set[typ.Name()+"."+typ.Field(i).Name] = true
			}
			collectSet(f, set)
		}
	}
}

func TestValidFixturesCoverEveryEnumValue(t *testing.T) {
	seen := map[string]bool{}
	for _, data := range validLocationFixtures(t) {
		l, err := DecodeLocation(data)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(l)
		var tree any
		_ = json.Unmarshal(b, &tree)
		collectStrings(tree, seen)
	}
	want := map[string][]string{}
	add := func(typ string, vals ...string) { want[typ] = append(want[typ], vals...) }
	for _, c := range ConnectorTypes {
		add("ConnectorType", string(c))
	}
	add("Status", "AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED", "RESERVED", "UNKNOWN")
	add("Capability", "CHARGING_PROFILE_CAPABLE", "CHARGING_PREFERENCES_CAPABLE", "CHIP_CARD_SUPPORT", "CONTACTLESS_CARD_SUPPORT",
		"CREDIT_CARD_PAYABLE", "DEBIT_CARD_PAYABLE", "PED_TERMINAL", "REMOTE_START_STOP_CAPABLE", "RESERVABLE", "RFID_READER",
		"START_SESSION_CONNECTOR_REQUIRED", "TOKEN_GROUP_CAPABLE", "UNLOCK_CAPABLE")
	add("ConnectorFormat", "SOCKET", "CABLE")
	add("PowerType", "AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC")
	add("ParkingType", "ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET", "UNDERGROUND_GARAGE")
	add("ParkingRestriction", "EV_ONLY", "PLUGGED", "DISABLED", "CUSTOMERS", "MOTORCYCLES")
	add("ImageCategory", "CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER")
	add("EnergySourceCategory", "NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER")
	add("EnvironmentalImpactCategory", "NUCLEAR_WASTE", "CARBON_DIOXIDE")
	add("TokenType", "AD_HOC_USER", "APP_USER", "OTHER", "RFID")
	add("Facility", "HOTEL", "RESTAURANT", "CAFE", "MALL", "SUPERMARKET", "SPORT", "RECREATION_AREA", "NATURE", "MUSEUM",
		"BIKE_SHARING", "BUS_STOP", "TAXI_STAND", "TRAM_STOP", "METRO_STATION", "TRAIN_STATION", "AIRPORT", "PARKING_LOT",
		"CARPOOL_PARKING", "FUEL_STATION", "WIFI")
	for typ, vals := range want {
		for _, v := range vals {
			if !seen[v] {
				t.Errorf("%s %s appears in no valid fixture", typ, v)
			}
		}
	}
	if len(want["ConnectorType"]) != 40 {
		t.Errorf("ConnectorTypes has %d values, 2.2.1 defines 40", len(want["ConnectorType"]))
	}
}

func collectStrings(v any, seen map[string]bool) {
	switch x := v.(type) {
	case string:
		seen[x] = true
	case []any:
		for _, e := range x {
			collectStrings(e, seen)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, seen)
		}
	}
}

func TestInvalidLocationFixturesFailNamingTheField(t *testing.T) {
	var expected map[string]string
	if err := json.Unmarshal(readFixture(t, "locations/invalid/expected.json"), &expected); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/locations/invalid/*.json")
	if len(files) != len(expected)+1 {
		t.Errorf("%d invalid fixtures but %d expectations", len(files)-1, len(expected))
	}
	for name, path := range expected {
		t.Run(name, func(t *testing.T) {
			data := readFixture(t, "locations/invalid/"+name+".json")
			l, err := DecodeLocation(data)
			if err == nil {
				err = l.Validate()
			}
			if err == nil {
				t.Fatalf("accepted; want a problem at %s", path)
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.Code != StatusInvalidParameters || oe.HTTPStatus != http.StatusOK {
				t.Fatalf("got %v, want a 2001 *Error with HTTP 200", err)
			}
			if !strings.HasPrefix(oe.Message, path+": ") && !strings.Contains(oe.Message, "; "+path+": ") {
				t.Errorf("message %q does not name %s", oe.Message, path)
			}
		})
	}
}

func TestLenientEnumsAcceptUnknownValuesButNotOtherProblems(t *testing.T) {
	l, err := DecodeLocation(readFixture(t, "locations/invalid/connector_type_unknown.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := Validator{LenientEnums: true}
	l.ValidateInto(&v, "")
	if err := v.Err(); err != nil {
		t.Errorf("lenient validation rejected an unknown ConnectorType: %v", err)
	}
	l.City = ""
	v = Validator{LenientEnums: true}
	l.ValidateInto(&v, "")
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), "city: required") {
		t.Errorf("lenient validation: got %v, want city: required", err)
	}
}

func TestEVSEAndConnectorFixturesDecodeAndValidate(t *testing.T) {
	e, err := DecodeEVSE(readFixture(t, "locations/valid_evse.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(); err != nil {
		t.Error(err)
	}
	c, err := DecodeConnector(readFixture(t, "locations/valid_connector.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	c.Standard = "TYPE_9"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `standard: "TYPE_9" is not a ConnectorType`) {
		t.Errorf("got %v", err)
	}
}

func TestSpecErratumFloorIsIgnoredNotFloorLevel(t *testing.T) {
	// location_put_example_add_evse.json in the spec uses "floor"; the
	// field is floor_level. Unknown fields are ignored, so the EVSE decodes
	// without a floor level rather than failing.
	l, err := DecodeLocation(readFixture(t, "locations/valid/mall_spec_errata_floor.json"))
	if err != nil {
		t.Fatal(err)
	}
	if l.EVSEs[0].FloorLevel != "" {
		t.Errorf("floor_level = %q, want empty (\"floor\" is not a 2.2.1 field)", l.EVSEs[0].FloorLevel)
	}
}

func TestEveryTimestampFormIsAcceptedInsideObjects(t *testing.T) {
	forms := []string{
		"2026-06-29T20:39:09Z", "2026-06-29T20:39:09", "2026-12-29T17:45:09.2Z",
		"2026-12-29T17:45:09.2", "2026-01-01T01:08:01.123Z", "2026-01-01T01:08:01.123",
	}
	base := string(readFixture(t, "locations/valid/full.json"))
	for _, form := range forms {
		t.Run(form, func(t *testing.T) {
			doc := strings.ReplaceAll(base, `"2026-11-02T08:15:00Z"`, `"`+form+`"`)
			doc = strings.ReplaceAll(doc, `"2026-12-20T09:00:00Z"`, `"`+form+`"`)
			doc = strings.ReplaceAll(doc, `"2027-03-01T06:00:00Z"`, `"`+form+`"`)
			l, err := DecodeLocation([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ParseDateTime(form)
			got := []DateTime{l.EVSEs[0].LastUpdated, l.EVSEs[0].Connectors[0].LastUpdated,
				l.OpeningTimes.ExceptionalOpenings[0].PeriodBegin, l.EVSEs[0].StatusSchedule[0].PeriodBegin}
			for i, g := range got {
				if !g.Equal(want.Time) {
					t.Errorf("timestamp %d = %s, want %s", i, g, want)
				}
			}
		})
	}
}

func TestVisibleToMatchesEverySetFieldOfOnePublishToken(t *testing.T) {
	l := Location{Publish: false, PublishAllowedTo: []PublishTokenType{
		{UID: "ABC123", Type: TokenRFID},
		{VisualNumber: "NL-TNM-000001", Issuer: "TheNewMotion"},
		{GroupID: "depot-7"},
		{Type: TokenAppUser}, // sets none of uid, visual_number, group_id: matches no one
	}}
	for _, tc := range []struct {
		token PublishTokenType
		want  bool
	}{
		{PublishTokenType{UID: "abc123", Type: TokenRFID}, true},
		{PublishTokenType{UID: "ABC123", Type: TokenAppUser}, false},
		{PublishTokenType{UID: "ABC123"}, false},
		{PublishTokenType{VisualNumber: "NL-TNM-000001", Issuer: "TheNewMotion", UID: "x"}, true},
		{PublishTokenType{VisualNumber: "NL-TNM-000001", Issuer: "themewmotion"}, false},
		{PublishTokenType{GroupID: "DEPOT-7", UID: "any"}, true},
		{PublishTokenType{Type: TokenAppUser, UID: "u"}, false},
		{PublishTokenType{}, false},
	} {
		if got := l.VisibleTo(tc.token); got != tc.want {
			t.Errorf("VisibleTo(%+v) = %v, want %v", tc.token, got, tc.want)
		}
	}
	l.Publish = true
	if !l.VisibleTo(PublishTokenType{}) {
		t.Error("a published location is not visible to everyone")
	}
}
