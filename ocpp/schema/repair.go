package schema

import (
	"strings"
	"time"
)

// RepairDateTimes rewrites, in place, the date-time strings in v that are not
// RFC 3339 but are clearly meant as timestamps, into canonical RFC 3339 in
// UTC, and returns how many it rewrote. v is a value decoded as for Validate;
// only objects and arrays can be changed in place, so a bare string is left
// alone.
//
// Real chargers send "2026-01-02T03:04:05" (no zone: taken as UTC),
// "2026-01-02 03:04:05", lowercase "t"/"z", "+0100" offsets and too many
// fraction digits. Lenient validation lets them through, and this makes them
// decodable into time.Time. Strings that do not look like a timestamp at all
// are left for validation to report.
func (n *Node) RepairDateTimes(v any) int {
	if n == nil {
		return 0
	}
	fixed := 0
	switch val := v.(type) {
	case map[string]any:
		for _, p := range n.Properties {
			child, ok := val[p.Name]
			if !ok {
				continue
			}
			if s, isString := child.(string); isString && p.Node.Format == DateTime {
				if t, ok := repairDateTime(s); ok {
					val[p.Name] = t
					fixed++
				}
				continue
			}
			fixed += p.Node.RepairDateTimes(child)
		}
	case []any:
		if n.Items == nil {
			return 0
		}
		for i, child := range val {
			if s, isString := child.(string); isString && n.Items.Format == DateTime {
				if t, ok := repairDateTime(s); ok {
					val[i] = t
					fixed++
				}
				continue
			}
			fixed += n.Items.RepairDateTimes(child)
		}
	}
	return fixed
}

// lenientLayouts are the timestamp shapes seen from chargers, tried in order
// after upper-casing and replacing a space separator with "T".
var lenientLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
}

// repairDateTime returns s as canonical RFC 3339 UTC if s is not valid
// RFC 3339 but parses with one of the lenient layouts.
func repairDateTime(s string) (string, bool) {
	if isDateTime(s) {
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return "", false // already fine for time.Time too
		}
	}
	norm := strings.ToUpper(strings.TrimSpace(s))
	if len(norm) > 10 && norm[10] == ' ' {
		norm = norm[:10] + "T" + norm[11:]
	}
	for _, layout := range lenientLayouts {
		if t, err := time.Parse(layout, norm); err == nil {
			return t.UTC().Format(time.RFC3339Nano), true
		}
	}
	return "", false
}
