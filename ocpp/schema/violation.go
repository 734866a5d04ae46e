package schema

import "strings"

// Kind names the schema rule a Violation breaks.
type Kind uint8

// The rule kinds. The zero Kind is not a rule.
const (
	// KindType: the value has the wrong JSON type (an integer with a
	// fraction counts as a wrong type).
	KindType Kind = iota + 1
	// KindRequired: a required object property is missing.
	KindRequired
	// KindAdditionalProperty: an object has a property its schema does not
	// know and additional properties are not allowed.
	KindAdditionalProperty
	// KindEnum: a string is not one of the allowed values.
	KindEnum
	// KindMinLength: a string is too short.
	KindMinLength
	// KindMaxLength: a string is too long.
	KindMaxLength
	// KindMinimum: a number is below the minimum.
	KindMinimum
	// KindMaximum: a number is above the maximum.
	KindMaximum
	// KindMultipleOf: a number is not a multiple of the divisor.
	KindMultipleOf
	// KindMinItems: an array has too few elements.
	KindMinItems
	// KindMaxItems: an array has too many elements.
	KindMaxItems
	// KindFormat: a string does not match its format (date-time, uri).
	KindFormat

	kindEnd = iota + 1 // one past the last Kind
)

var kindNames = [...]string{
	KindType:               "type",
	KindRequired:           "required",
	KindAdditionalProperty: "additionalProperties",
	KindEnum:               "enum",
	KindMinLength:          "minLength",
	KindMaxLength:          "maxLength",
	KindMinimum:            "minimum",
	KindMaximum:            "maximum",
	KindMultipleOf:         "multipleOf",
	KindMinItems:           "minItems",
	KindMaxItems:           "maxItems",
	KindFormat:             "format",
}

// String returns the JSON Schema keyword of the rule, e.g. "maxLength".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// KindSet is a set of rule kinds, e.g. the kinds a lenient validation
// ignores. The zero KindSet is empty.
type KindSet uint32

// Kinds returns the set holding kinds.
func Kinds(kinds ...Kind) KindSet {
	var s KindSet
	for _, k := range kinds {
		s = s.With(k)
	}
	return s
}

// AllKinds is the set of every rule kind.
const AllKinds KindSet = (1<<kindEnd - 1) &^ 1

// Has reports whether k is in s.
func (s KindSet) Has(k Kind) bool { return s&(1<<k) != 0 }

// With returns s with k added.
func (s KindSet) With(k Kind) KindSet { return s | 1<<k }

// Without returns s with k removed.
func (s KindSet) Without(k Kind) KindSet { return s &^ (1 << k) }

// String lists the kinds in s, e.g. "{format,maxLength}".
func (s KindSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for k := Kind(1); k < kindEnd; k++ {
		if s.Has(k) {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			b.WriteString(k.String())
		}
	}
	b.WriteByte('}')
	return b.String()
}

// Violation describes the first rule a payload breaks.
type Violation struct {
	// Kind is the rule broken.
	Kind Kind
	// Path is a JSON pointer (RFC 6901) to the offending value, e.g.
	// "/idTagInfo/status" or "/meterValue/0/timestamp"; for a missing or
	// unexpected property it points at that property. It is "" for the
	// payload itself.
	Path string
	// Message says what is wrong, without the path.
	Message string
}

// Error returns the path and the message, e.g.
// "/idTag: string length 25 exceeds maxLength 20".
func (v *Violation) Error() string {
	if v.Path == "" {
		return v.Message
	}
	return v.Path + ": " + v.Message
}

// escapePointer escapes a property name for use in a JSON pointer.
func escapePointer(name string) string {
	if !strings.ContainsAny(name, "~/") {
		return name
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}
