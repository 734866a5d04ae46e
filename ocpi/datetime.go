package ocpi

import (
	"fmt"
	"strings"
	"time"
)

// DateTime is an OCPI timestamp. It is always UTC. Parsing accepts every
// form 2.2.1 allows (with or without Z, 0–9 fraction digits) and, being
// permissive, an explicit offset (converted to UTC); it is written in one
// canonical form: 2006-01-02T15:04:05Z, with milliseconds only when they
// are not zero (string(25) leaves room for no more).
type DateTime struct{ time.Time }

// NewDateTime truncates t to milliseconds in UTC.
func NewDateTime(t time.Time) DateTime { return DateTime{t.UTC().Truncate(time.Millisecond)} }

// ParseDateTime parses an OCPI timestamp.
func ParseDateTime(s string) (DateTime, error) {
	if s == "" {
		return DateTime{}, fmt.Errorf("empty timestamp")
	}
	layout := "2006-01-02T15:04:05.999999999"
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		s = s[:len(s)-1]
	} else if i := strings.LastIndexAny(s, "+-"); i > len("2006-01-02") {
		layout += "Z07:00"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return DateTime{}, fmt.Errorf("timestamp %q is not an OCPI DateTime (e.g. 2015-06-29T20:39:09Z)", s)
	}
	return NewDateTime(t), nil
}

// String is the canonical form.
func (d DateTime) String() string {
	t := d.UTC()
	if t.Nanosecond()/int(time.Millisecond) != 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05Z")
}

// MarshalJSON writes the canonical form.
func (d DateTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts every allowed form. null leaves d unchanged, as
// encoding/json does for other types (an optional field sent as null);
// whether a required timestamp is missing is for validation to say.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("timestamp must be a string, got %s", b)
	}
	v, err := ParseDateTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
