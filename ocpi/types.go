package ocpi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// DisplayText is a text in one language (types.asciidoc): an ISO 639-1
// language code and up to 512 characters without markup.
type DisplayText struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// Number is an OCPI number (types.asciidoc): a JSON number kept as the
// exact decimal text it arrived in, so percentages, amounts and prices
// survive a decode/encode round trip without float rounding. The zero value
// is 0.
type Number struct{ text string }

// NewNumber returns the Number with the given decimal text; it fails when
// text is not a JSON number.
func NewNumber(text string) (Number, error) {
	if !json.Valid([]byte(text)) || !isJSONNumber(text) {
		return Number{}, fmt.Errorf("%q is not a JSON number", text)
	}
	return Number{text: text}, nil
}

// MustNumber is NewNumber for constants in code and tests; it panics on a
// malformed number.
func MustNumber(text string) Number {
	n, err := NewNumber(text)
	if err != nil {
		panic(err)
	}
	return n
}

// String is the decimal text ("0" for the zero value).
func (n Number) String() string {
	if n.text == "" {
		return "0"
	}
	return n.text
}

// Float64 is the value as a float, for comparisons and ranges (not for
// money arithmetic).
func (n Number) Float64() float64 {
	f, _ := strconv.ParseFloat(n.String(), 64)
	return f
}

// MarshalJSON writes the number as it was received.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalJSON accepts a JSON number only (a quoted number is a type
// error: the spec says numbers are JSON numbers).
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if !isJSONNumber(string(b)) {
		kind := "string"
		switch {
		case len(b) == 0:
		case b[0] == '{':
			kind = "object"
		case b[0] == '[':
			kind = "array"
		case b[0] == 't' || b[0] == 'f':
			kind = "bool"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: numberType}
	}
	n.text = string(b)
	return nil
}

// numberType makes type errors read "expected a number".
var numberType = reflect.TypeOf(float64(0))

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	return (c == '-' || c >= '0' && c <= '9') && json.Valid([]byte(s))
}

// Price is an amount with and without VAT (types.asciidoc).
type Price struct {
	ExclVAT Number  `json:"excl_vat"`
	InclVAT *Number `json:"incl_vat,omitempty"`
}

// GeoLocation is a point in decimal degrees. Latitude and longitude are
// strings in OCPI (pattern -?[0-9]{1,2}\.[0-9]{5,7} and
// -?[0-9]{1,3}\.[0-9]{5,7}), kept as received so they round-trip exactly.
type GeoLocation struct {
	Latitude  string `json:"latitude"`
	Longitude string `json:"longitude"`
}

// AdditionalGeoLocation is a point related to a Location (an entrance, a
// pedestrian access), with an optional name.
type AdditionalGeoLocation struct {
	Latitude  string       `json:"latitude"`
	Longitude string       `json:"longitude"`
	Name      *DisplayText `json:"name,omitempty"`
}

// Hours are the opening times of a Location: either twentyfourseven or
// regular weekday hours, plus exceptional openings and closings.
type Hours struct {
	// Twentyfourseven is required; when false, RegularHours should hold at
	// least one entry.
	Twentyfourseven     bool                `json:"twentyfourseven"`
	RegularHours        []RegularHours      `json:"regular_hours,omitempty"`
	ExceptionalOpenings []ExceptionalPeriod `json:"exceptional_openings,omitempty"`
	ExceptionalClosings []ExceptionalPeriod `json:"exceptional_closings,omitempty"`
}

// RegularHours is one opening period on a weekday, in the Location's local
// time: weekday 1 (Monday) to 7 (Sunday), "HH:MM" begin and end.
type RegularHours struct {
	Weekday     int    `json:"weekday"`
	PeriodBegin string `json:"period_begin"`
	PeriodEnd   string `json:"period_end"`
}

// ExceptionalPeriod is an exceptional opening or closing, in UTC.
type ExceptionalPeriod struct {
	PeriodBegin DateTime `json:"period_begin"`
	PeriodEnd   DateTime `json:"period_end"`
}

// EnergyMix describes the energy supplied at a Location.
type EnergyMix struct {
	// IsGreenEnergy is required: true when 100% comes from regenerative
	// sources.
	IsGreenEnergy     bool                  `json:"is_green_energy"`
	EnergySources     []EnergySource        `json:"energy_sources,omitempty"`
	EnvironImpact     []EnvironmentalImpact `json:"environ_impact,omitempty"`
	SupplierName      string                `json:"supplier_name,omitempty"`
	EnergyProductName string                `json:"energy_product_name,omitempty"`
}

// EnergySource is one source's share (0–100 %) of an energy mix.
type EnergySource struct {
	Source     EnergySourceCategory `json:"source"`
	Percentage Number               `json:"percentage"`
}

// EnergySourceCategory is a kind of energy source.
type EnergySourceCategory string

// The energy source categories of 2.2.1.
const (
	EnergyNuclear       EnergySourceCategory = "NUCLEAR"
	EnergyGeneralFossil EnergySourceCategory = "GENERAL_FOSSIL"
	EnergyCoal          EnergySourceCategory = "COAL"
	EnergyGas           EnergySourceCategory = "GAS"
	EnergyGeneralGreen  EnergySourceCategory = "GENERAL_GREEN"
	EnergySolar         EnergySourceCategory = "SOLAR"
	EnergyWind          EnergySourceCategory = "WIND"
	EnergyWater         EnergySourceCategory = "WATER"
)

// Valid reports whether c is a 2.2.1 EnergySourceCategory.
func (c EnergySourceCategory) Valid() bool {
	switch c {
	case EnergyNuclear, EnergyGeneralFossil, EnergyCoal, EnergyGas, EnergyGeneralGreen, EnergySolar, EnergyWind, EnergyWater:
		return true
	}
	return false
}

// EnvironmentalImpact is an amount (g/kWh) of one impact category.
type EnvironmentalImpact struct {
	Category EnvironmentalImpactCategory `json:"category"`
	Amount   Number                      `json:"amount"`
}

// EnvironmentalImpactCategory is a kind of environmental impact.
type EnvironmentalImpactCategory string

// The environmental impact categories of 2.2.1.
const (
	ImpactNuclearWaste  EnvironmentalImpactCategory = "NUCLEAR_WASTE"
	ImpactCarbonDioxide EnvironmentalImpactCategory = "CARBON_DIOXIDE"
)

// Valid reports whether c is a 2.2.1 EnvironmentalImpactCategory.
func (c EnvironmentalImpactCategory) Valid() bool {
	return c == ImpactNuclearWaste || c == ImpactCarbonDioxide
}

// TokenType is the kind of a Token (mod_tokens.asciidoc); the Locations
// module uses it in PublishTokenType.
type TokenType string

// The token types of 2.2.1.
const (
	TokenAdHocUser TokenType = "AD_HOC_USER"
	TokenAppUser   TokenType = "APP_USER"
	TokenOther     TokenType = "OTHER"
	TokenRFID      TokenType = "RFID"
)

// Valid reports whether t is a 2.2.1 TokenType.
func (t TokenType) Valid() bool {
	switch t {
	case TokenAdHocUser, TokenAppUser, TokenOther, TokenRFID:
		return true
	}
	return false
}

// PublishTokenType identifies tokens allowed to see an unpublished
// Location. At least one of UID, VisualNumber and GroupID is set; Type
// goes with UID and Issuer with VisualNumber.
type PublishTokenType struct {
	UID          string    `json:"uid,omitempty"`
	Type         TokenType `json:"type,omitempty"`
	VisualNumber string    `json:"visual_number,omitempty"`
	Issuer       string    `json:"issuer,omitempty"`
	GroupID      string    `json:"group_id,omitempty"`
}

// StatusSchedule is a planned status of an EVSE.
type StatusSchedule struct {
	PeriodBegin DateTime  `json:"period_begin"`
	PeriodEnd   *DateTime `json:"period_end,omitempty"`
	Status      Status    `json:"status"`
}
