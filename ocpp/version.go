package ocpp

import (
	"fmt"
	"strings"
)

// Version is an OCPP version spoken over OCPP-J.
type Version uint8

// The versions this package speaks. OCPP 2.0 ("ocpp2.0") is served as 2.0.1,
// whose schemas replaced it.
const (
	V16  Version = 1
	V201 Version = 2
	V21  Version = 3
)

// Versions lists every supported version, oldest first.
var Versions = []Version{V16, V201, V21}

// String returns the version number, e.g. "2.0.1".
func (v Version) String() string {
	switch v {
	case V16:
		return "1.6"
	case V201:
		return "2.0.1"
	case V21:
		return "2.1"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// Subprotocol returns the websocket subprotocol name, e.g. "ocpp2.0.1".
func (v Version) Subprotocol() string { return "ocpp" + v.String() }

// ParseSubprotocol returns the version that a websocket subprotocol names.
// It accepts "ocpp1.6", "ocpp2.0.1", "ocpp2.0" (served as 2.0.1) and "ocpp2.1",
// ignoring case.
func ParseSubprotocol(s string) (Version, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ocpp1.6":
		return V16, true
	case "ocpp2.0.1", "ocpp2.0":
		return V201, true
	case "ocpp2.1":
		return V21, true
	}
	return 0, false
}

// ParseVersion accepts a version number ("1.6", "2.0.1", "2.1") or a
// subprotocol name ("ocpp1.6", ...).
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(strings.ToLower(s), "ocpp") {
		s = "ocpp" + s
	}
	if v, ok := ParseSubprotocol(s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("ocpp: unknown OCPP version %q (want 1.6, 2.0.1 or 2.1)", s)
}

// Validation says how strictly a connection checks payloads against the
// official OCPP JSON schemas.
type Validation uint8

const (
	// Strict checks every rule of the schemas on incoming and outgoing
	// payloads. It is the zero value and the default.
	Strict Validation = iota
	// Lenient rejects only what cannot be decoded into the typed message:
	// wrong JSON types and missing required fields. Over-long strings, unknown
	// enum values, bad formats and extra properties are let through, because
	// real chargers send them and operators need those chargers to keep working.
	Lenient
	// Off checks nothing beyond decoding.
	Off
)

// String returns "strict", "lenient" or "off".
func (m Validation) String() string {
	switch m {
	case Strict:
		return "strict"
	case Lenient:
		return "lenient"
	case Off:
		return "off"
	}
	return fmt.Sprintf("Validation(%d)", uint8(m))
}

// ParseValidation parses "strict", "lenient" or "off".
func ParseValidation(s string) (Validation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "strict":
		return Strict, nil
	case "lenient":
		return Lenient, nil
	case "off":
		return Off, nil
	}
	return 0, fmt.Errorf("ocpp: unknown validation mode %q (want strict, lenient or off)", s)
}
