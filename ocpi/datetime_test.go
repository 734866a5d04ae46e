package ocpi

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDateTimeAcceptsEveryAllowedForm(t *testing.T) {
	base := time.Date(2015, 6, 29, 20, 39, 9, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		// The six forms of types.asciidoc: Z or none (none is UTC), 0–3
		// fraction digits.
		{"2015-06-29T20:39:09Z", base},
		{"2015-06-29T20:39:09", base},
		{"2015-06-29T20:39:09.2Z", base.Add(200 * time.Millisecond)},
		{"2015-06-29T20:39:09.2", base.Add(200 * time.Millisecond)},
		{"2015-06-29T20:39:09.123Z", base.Add(123 * time.Millisecond)},
		{"2015-06-29T20:39:09.123", base.Add(123 * time.Millisecond)},
		// Permissive extras seen in the wild.
		{"2015-06-29T20:39:09z", base},
		{"2015-06-29T20:39:09.123456789Z", base.Add(123 * time.Millisecond)},
		{"2015-06-29T22:39:09+02:00", base},
		{"2015-06-29T18:39:09.5-02:00", base.Add(500 * time.Millisecond)},
		{"2015-06-29T20:39:09+00:00", base},
	} {
		got, err := ParseDateTime(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", tc.in, got.Time, tc.want)
		}
	}
}

func TestParseDateTimeRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		"", "garbage", "2015-06-29", "20:39:09", "2015-06-29 20:39:09",
		"2015-13-29T20:39:09Z", "2015-06-31T20:39:09Z", "2015-06-29T25:39:09Z",
		"2015-06-29T20:39:09ZZ", "2015-06-29T20:39:09+0200x", "1435610349",
	} {
		if d, err := ParseDateTime(in); err == nil {
			t.Errorf("%q parsed as %v", in, d)
		}
	}
}

func TestDateTimeCanonicalForm(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2015, 6, 29, 20, 39, 9, 0, time.UTC), "2015-06-29T20:39:09Z"},
		{time.Date(2015, 6, 29, 20, 39, 9, 200e6, time.UTC), "2015-06-29T20:39:09.200Z"},
		{time.Date(2015, 6, 29, 20, 39, 9, 123456789, time.UTC), "2015-06-29T20:39:09.123Z"},
		// Below a millisecond is dropped, and so is the fraction with it.
		{time.Date(2015, 6, 29, 20, 39, 9, 999999, time.UTC), "2015-06-29T20:39:09Z"},
		{time.Date(2015, 6, 29, 22, 39, 9, 0, time.FixedZone("CEST", 2*3600)), "2015-06-29T20:39:09Z"},
	} {
		d := NewDateTime(tc.t)
		if got := d.String(); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.t, got, tc.want)
		}
		if len(d.String()) > 25 {
			t.Errorf("%s is longer than string(25)", d)
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != `"`+tc.want+`"` {
			t.Errorf("%v: JSON %s %v, want %q", tc.t, b, err, tc.want)
		}
	}
}

func TestDateTimeRoundTrip(t *testing.T) {
	for _, in := range []string{"2015-06-29T20:39:09Z", "2015-06-29T20:39:09.001Z", "2099-12-31T23:59:59.999Z"} {
		var d DateTime
		if err := json.Unmarshal([]byte(`"`+in+`"`), &d); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		b, _ := json.Marshal(d)
		if string(b) != `"`+in+`"` {
			t.Errorf("%s came back as %s", in, b)
		}
		again, err := ParseDateTime(d.String())
		if err != nil || !again.Equal(d.Time) {
			t.Errorf("%s: reparse %v %v", in, again, err)
		}
	}
	// A struct field, as in every OCPI object.
	var obj struct {
		LastUpdated DateTime `json:"last_updated"`
	}
	if err := json.Unmarshal([]byte(`{"last_updated":"2015-06-29T20:39:09.2"}`), &obj); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(obj); string(b) != `{"last_updated":"2015-06-29T20:39:09.200Z"}` {
		t.Errorf("object came back as %s", b)
	}
}

func TestDateTimeUnmarshalRejectsNonStrings(t *testing.T) {
	for _, in := range []string{`1435610349`, `"garbage"`, `""`, `{}`, `"`, `true`} {
		var d DateTime
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s unmarshalled as %v", in, d)
		}
	}
}

func TestDateTimeNullLeavesFieldUnset(t *testing.T) {
	var obj struct {
		End DateTime `json:"end_date_time"`
	}
	if err := json.Unmarshal([]byte(`{"end_date_time":null}`), &obj); err != nil {
		t.Fatalf("an optional timestamp sent as null: %v", err)
	}
	if !obj.End.IsZero() {
		t.Fatalf("null set %v", obj.End)
	}
}
