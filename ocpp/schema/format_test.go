package schema

import (
	"strings"
	"testing"
	"time"
)

func TestDateTime(t *testing.T) {
	valid := []string{
		"2024-01-02T03:04:05Z",
		"2024-01-02t03:04:05z",
		"2024-01-02T03:04:05.1Z",
		"2024-01-02T03:04:05.123456789123Z",
		"2024-01-02T03:04:05+05:30",
		"2024-01-02T03:04:05-23:59",
		"2024-02-29T00:00:00Z",
		"2000-02-29T00:00:00Z",
		"0000-01-01T00:00:00Z",
		"2016-12-31T23:59:60Z",
		"2016-12-31T22:59:60-01:00",
		"2017-01-01T00:59:60+01:00",
	}
	invalid := []string{
		"",
		"2024-01-02",
		"2024-01-02T03:04:05",
		"2024-01-02 03:04:05Z",
		"2024-01-02T03:04Z",
		"2024-1-02T03:04:05Z",
		"2024-01-02T03:04:05.Z",
		"2024-01-02T03:04:05ZZ",
		"2024-01-02T03:04:05+0530",
		"2024-01-02T03:04:05+05:3",
		"2024-01-02T03:04:05+24:00",
		"2024-01-02T03:04:05+05:60",
		"2024-00-02T03:04:05Z",
		"2024-13-02T03:04:05Z",
		"2024-01-00T03:04:05Z",
		"2024-01-32T03:04:05Z",
		"2023-02-29T03:04:05Z",
		"1900-02-29T03:04:05Z",
		"2024-04-31T03:04:05Z",
		"2024-01-02T24:00:00Z",
		"2024-01-02T23:60:00Z",
		"2024-01-02T23:59:61Z",
		"2024-01-02T12:00:60Z",
		"+024-01-02T03:04:05Z",
		"2024-01-02T+3:04:05Z",
		"２０２４-01-02T03:04:05Z",
	}
	for _, s := range valid {
		if !isDateTime(s) {
			t.Errorf("%q: rejected", s)
		}
	}
	for _, s := range invalid {
		if isDateTime(s) {
			t.Errorf("%q: accepted", s)
		}
	}
}

// FuzzDateTime checks isDateTime both ways against package time: every
// date-time it accepts parses with time.RFC3339Nano (leap seconds and
// lowercase t and z aside, which Go does not support), and every time Go
// formats with an RFC 3339 layout is accepted. (Go's parser is laxer than
// RFC 3339, e.g. about one-digit hours, so it cannot judge rejections.)
func FuzzDateTime(f *testing.F) {
	f.Add("2024-01-02T03:04:05Z", int64(0), uint32(0), int16(0))
	f.Add("2024-01-02T03:04:05.999+01:00", int64(1e12), uint32(999), int16(-330))
	f.Fuzz(func(t *testing.T, s string, sec int64, nsec uint32, offsetMinutes int16) {
		if isDateTime(s) && !strings.ContainsAny(s, "tz") && s[17:19] != "60" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				t.Fatalf("%q accepted, but time.Parse fails: %v", s, err)
			}
		}
		// Years 0 to 9999 only, and offsets within a day.
		tm := time.Unix(sec%253402300800, int64(nsec%1e9)).UTC()
		if tm.Year() < 0 {
			tm = tm.AddDate(-tm.Year(), 0, 0)
		}
		tm = tm.In(time.FixedZone("", int(offsetMinutes%(24*60))*60))
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		for _, layout := range []string{time.RFC3339, time.RFC3339Nano} {
			if out := tm.Format(layout); !isDateTime(out) {
				t.Fatalf("%q (formatted by Go) rejected", out)
			}
		}
	})
}

func TestURI(t *testing.T) {
	valid := []string{
		"https://example.com",
		"http://example.com/fw/1.bin?x=1&y=%20#frag",
		"ftp://user:pass@host:21/path",
		"urn:isbn:123",
		"mailto:a@example.com",
		"http://[::1]:8080/",
		"s3+https://bucket/key",
		"file:///tmp/x",
	}
	invalid := []string{
		"",
		"example.com",
		"/relative/path",
		":nothing",
		"1http://x",
		"http://exa mple.com",
		"http://example.com/é",
		"http://example.com/%zz",
		"http://example.com/%2",
		"http://example.com/a#b#c",
		"http://example.com/[x]",
		"ht tp://x",
		`http://example.com/\`,
	}
	for _, s := range valid {
		if !isURI(s) {
			t.Errorf("%q: rejected", s)
		}
	}
	for _, s := range invalid {
		if isURI(s) {
			t.Errorf("%q: accepted", s)
		}
	}
}
