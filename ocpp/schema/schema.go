// Package schema is a small validator for OCPP-J payloads.
//
// The official OCA JSON schemas of OCPP are turned into Node trees by the
// generator in internal/ocppgen; the generated packages (ocpp/v16, ocpp/v201,
// ocpp/v21) hold them as Go literals. Validate checks a payload decoded with
// encoding/json (ideally with Decoder.UseNumber, so objects are
// map[string]any, arrays []any and numbers json.Number) against such a tree
// and reports the first rule it breaks.
//
// Only the subset of JSON Schema draft-07 that OCPP uses is supported: type,
// properties, required, additionalProperties (true or false), items,
// minItems, maxItems, minLength, maxLength, enum (of strings), minimum,
// maximum, multipleOf and the formats date-time and uri.
package schema

// Type is the JSON type a Node accepts.
type Type uint8

// The JSON types. Any is the zero value so that a Node without a Type, like a
// schema without "type", accepts every value.
const (
	Any Type = iota
	Object
	Array
	String
	Integer
	Number
	Boolean
)

var typeNames = [...]string{
	Any:     "any",
	Object:  "object",
	Array:   "array",
	String:  "string",
	Integer: "integer",
	Number:  "number",
	Boolean: "boolean",
}

// String returns the JSON Schema name of t, e.g. "integer".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Format is a string format a Node asserts.
type Format uint8

// The formats used by the OCPP schemas.
const (
	NoFormat Format = iota
	// DateTime is an RFC 3339 date-time such as 2024-01-02T03:04:05Z.
	DateTime
	// URI is an absolute RFC 3986 URI such as https://example.com/fw.bin.
	URI
)

// String returns the JSON Schema name of f, e.g. "date-time".
func (f Format) String() string {
	switch f {
	case NoFormat:
		return ""
	case DateTime:
		return "date-time"
	case URI:
		return "uri"
	}
	return "unknown"
}

// Node is one schema node. The zero Node accepts any value.
//
// Constraints apply only to values of the matching type, as in JSON Schema:
// MaxLength is checked for strings, MaxItems for arrays and so on.
type Node struct {
	Type Type

	// Properties lists the known properties of an object, sorted by Name.
	// Validate relies on the order; see Check.
	Properties []Property
	// Required names the properties an object must have, in schema order.
	Required []string
	// AdditionalProperties allows properties not in Properties. The OCPP
	// schemas forbid them everywhere except in CustomData.
	AdditionalProperties bool

	// Items is the schema of every array element; nil accepts any element.
	Items *Node
	// MinItems and MaxItems bound the array length; nil means no bound.
	MinItems, MaxItems *int

	// MinLength and MaxLength bound the string length in Unicode code
	// points; nil means no bound.
	MinLength, MaxLength *int
	// Enum lists the allowed string values; empty means any string.
	Enum []string
	// Format is asserted for strings.
	Format Format

	// Minimum and Maximum are inclusive bounds and MultipleOf a divisor of
	// numbers (and integers); nil means no constraint.
	Minimum, Maximum, MultipleOf *Decimal
}

// Property is a named property of an object Node.
type Property struct {
	Name string
	Node *Node
}

// Limit returns a pointer to n, for the length and item bounds of a Node
// literal.
func Limit(n int) *int { return &n }

// Action describes one OCPP action: the validation rules of its payloads and
// constructors of the typed payload structs.
type Action struct {
	// Name is the action name as sent on the wire, e.g. "BootNotification".
	Name string
	// Request is the schema of the CALL payload.
	Request *Node
	// Response is the schema of the CALLRESULT payload. It is nil for
	// messages that have no response (OCPP 2.1 NotifyPeriodicEventStream,
	// which is sent as a SEND).
	Response *Node
	// NewRequest returns a pointer to a new zero request struct, e.g.
	// *v16.BootNotificationRequest, ready for json.Unmarshal.
	NewRequest func() any
	// NewResponse returns a pointer to a new zero response struct; nil when
	// Response is nil.
	NewResponse func() any
}
