package ocpi

import (
	"encoding/json"
	"strings"
	"testing"
)

func problems(f func(v *Validator)) []string {
	var v Validator
	f(&v)
	return v.Problems()
}

func TestStringLengthCountsCodePointsNotBytes(t *testing.T) {
	if p := problems(func(v *Validator) { v.String("address", strings.Repeat("ø", 255), 255, true) }); len(p) != 0 {
		t.Errorf("255 two-byte characters rejected: %v", p)
	}
	if p := problems(func(v *Validator) { v.String("address", strings.Repeat("ø", 256), 255, true) }); len(p) != 1 {
		t.Errorf("256 characters accepted: %v", p)
	}
}

func TestStringRejectsControlCharactersAndInvalidUTF8(t *testing.T) {
	for _, s := range []string{"a\tb", "a\r", "line\nbreak", "\x00", string([]byte{0xff, 0xfe})} {
		if p := problems(func(v *Validator) { v.String("name", s, 255, false) }); len(p) != 1 {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCiStringIsPrintableASCII(t *testing.T) {
	for s, ok := range map[string]bool{"ABC-123_x.y*z": true, "with space": true, "tab\there": false, "é": false, "~": true, "\x7f": false} {
		p := problems(func(v *Validator) { v.CiString("id", s, 36, true) })
		if (len(p) == 0) != ok {
			t.Errorf("CiString %q: problems %v, want ok=%v", s, p, ok)
		}
	}
}

func TestRequiredAndOptionalEmptyValues(t *testing.T) {
	p := problems(func(v *Validator) {
		v.String("a", "", 10, true)
		v.String("b", "", 10, false)
		v.CiString("c", "", 10, true)
		v.URL("d", "", false)
		v.Enum("e", "", false, "Status", true)
		v.Enum("f", "", false, "ParkingType", false)
		v.DateTime("g", DateTime{})
	})
	want := []string{"a: required", "c: required", "e: required", "g: required"}
	if strings.Join(p, "|") != strings.Join(want, "|") {
		t.Errorf("problems %q, want %q", p, want)
	}
}

func TestURLMustBeAbsoluteHTTPAndAtMost255(t *testing.T) {
	base := "https://example.org/"
	cases := map[string]bool{
		base + strings.Repeat("a", 255-len(base)): true,
		base + strings.Repeat("a", 256-len(base)): false,
		"http://localhost:8080/ocpi/versions":     true,
		"/relative/path":                          false,
		"ftp://example.org/file":                  false,
		"https://":                                false,
	}
	for u, ok := range cases {
		p := problems(func(v *Validator) { v.URL("url", u, true) })
		if (len(p) == 0) != ok {
			t.Errorf("URL %q (%d chars): problems %v, want ok=%v", u, len(u), p, ok)
		}
	}
}

func TestCoordinatePatterns(t *testing.T) {
	cases := []struct {
		lat, lon string
		ok       bool
	}{
		{"50.770774", "-126.104965", true},
		{"-9.12345", "0.12345", true},
		{"89.1234567", "179.1234567", true},
		{"50.7707", "4.12345", false},       // 4 decimals
		{"50.77077412", "4.12345", false},   // 8 decimals
		{"150.77077", "4.12345", false},     // 3 integer digits
		{"50,77077", "4.12345", false},      // comma
		{"50.77077", "1234.12345", false},   // 4 integer digits
		{"95.00000", "4.12345", false},      // out of range
		{" 50.77077", "4.12345", false},     // space
		{"+50.77077", "4.12345", false},     // plus sign
		{"50.77077", "-180.0000001", false}, // out of range
	}
	for _, c := range cases {
		p := problems(func(v *Validator) { v.Coordinates("coordinates", c.lat, c.lon) })
		if (len(p) == 0) != c.ok {
			t.Errorf("%s,%s: problems %v, want ok=%v", c.lat, c.lon, p, c.ok)
		}
	}
}

func TestTimeOfDayPattern(t *testing.T) {
	for s, ok := range map[string]bool{"00:00": true, "23:59": true, "18:15": true, "24:00": false, "7:00": false, "07:60": false, "0700": false, "07:00:00": false} {
		p := problems(func(v *Validator) { v.TimeOfDay("period_begin", s) })
		if (len(p) == 0) != ok {
			t.Errorf("%q: problems %v, want ok=%v", s, p, ok)
		}
	}
}

func TestTimeZoneIsAnIANAName(t *testing.T) {
	if !tzDatabaseAvailable() {
		t.Skip("no tz database on this machine: names are only checked for syntax")
	}
	for tz, ok := range map[string]bool{"Europe/Oslo": true, "America/Argentina/Buenos_Aires": true, "UTC": true,
		"Europe/Atlantis": false, "CET+1": false, "Europe Oslo": false, "../etc/passwd": false} {
		p := problems(func(v *Validator) { v.TimeZone("time_zone", tz) })
		if (len(p) == 0) != ok {
			t.Errorf("%q: problems %v, want ok=%v", tz, p, ok)
		}
	}
}

func TestValidatorErrIsNilWithoutProblemsAndCapsTheMessage(t *testing.T) {
	var v Validator
	if v.Err() != nil {
		t.Fatal("empty validator returned an error")
	}
	for i := 0; i < 15; i++ {
		v.Addf(Index("evses", i), "bad")
	}
	err := AsError(v.Err())
	if err.Code != StatusInvalidParameters || !strings.Contains(err.Message, "evses[9]: bad") ||
		strings.Contains(err.Message, "evses[10]") || !strings.Contains(err.Message, "and 5 more") {
		t.Errorf("message %q", err.Message)
	}
}

func TestNumberKeepsItsDecimalTextExactly(t *testing.T) {
	var s EnergySource
	in := `{"source":"SOLAR","percentage":12.3456789012345678901}`
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(s)
	if string(out) != in {
		t.Errorf("re-encoded as %s", out)
	}
	if err := json.Unmarshal([]byte(`{"source":"SOLAR","percentage":"12"}`), &s); err == nil {
		t.Error("a quoted number was accepted")
	}
	if _, err := NewNumber("1e3"); err != nil {
		t.Errorf("exponent rejected: %v", err)
	}
	if _, err := NewNumber("12,5"); err == nil {
		t.Error("12,5 accepted")
	}
	var zero Number
	if b, _ := json.Marshal(zero); string(b) != "0" {
		t.Errorf("zero Number encodes as %s", b)
	}
}
