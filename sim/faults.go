package sim

import (
	"strings"
)

// hasQuirk reports whether the named vendor quirk is on.
func (s *Station) hasQuirk(q string) bool { return contains(s.cfg.Faults.Quirks, q) }

// overlong pads v past the schema's maxLength n when the overlong-fields
// quirk is on, as firmware that never read the schema does.
func (s *Station) overlong(v string, n int) string {
	if !s.hasQuirk(QuirkOverlongFields) || len(v) > n {
		return v
	}
	return v + strings.Repeat("X", n+8-len(v))
}

// enum spells an enumeration value in lower case when the lowercase-enums
// quirk is on.
func (s *Station) enum(v string) string {
	if s.hasQuirk(QuirkLowercaseEnums) {
		return strings.ToLower(v)
	}
	return v
}

// wrongUnits reports whether energy goes out in kWh while labelled Wh.
func (s *Station) wrongUnits() bool { return s.hasQuirk(QuirkWrongUnits) }

// energyInt is an energy reading as the integer Wh that 1.6 meterStart and
// meterStop carry (kWh with the wrong-units quirk).
func (s *Station) energyInt(wh float64) int {
	if s.wrongUnits() {
		return int(wh / 1000)
	}
	return int(wh + 0.5)
}
