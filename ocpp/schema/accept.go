package schema

import (
	"unicode/utf8"
	"unsafe"

	"github.com/openev/openev/ocpp/internal/jsonscan"
)

// Accepts reports whether the JSON text data certainly satisfies n, not
// counting the rules in skip. It reads data in place and does not allocate,
// which makes it the fast path for valid payloads, the common case.
//
// false means "breaks a rule, or not sure": Accepts leaves to Validate what
// only a full decode settles exactly — escaped strings under a length, enum
// or format rule, escaped property names, nesting deeper than
// jsonscan.MaxDepth, more than 64 required properties, invalid JSON. So when
// it returns false, decode data (encoding/json with UseNumber) and call
// Validate for the violation, if there is one. Whenever Accepts returns
// true, Validate on the decoded value returns nil; FuzzAcceptsAgrees checks it.
func (n *Node) Accepts(data []byte, skip KindSet) bool {
	end, ok := n.accept(data, jsonscan.SkipSpace(data, 0), skip, 0)
	return ok && jsonscan.SkipSpace(data, end) == len(data)
}

func (n *Node) accept(b []byte, i int, skip KindSet, depth int) (int, bool) {
	if n == nil || n.Type == Any {
		return jsonscan.Value(b, i)
	}
	if i >= len(b) || depth >= jsonscan.MaxDepth {
		return i, false
	}
	c := b[i]
	switch n.Type {
	case Object:
		if c == '{' {
			return n.acceptObject(b, i, skip, depth)
		}
	case Array:
		if c == '[' {
			return n.acceptArray(b, i, skip, depth)
		}
	case String:
		if c == '"' {
			return n.acceptString(b, i, skip)
		}
	case Integer, Number:
		if c == '-' || c >= '0' && c <= '9' {
			return n.acceptNumber(b, i, skip)
		}
	case Boolean:
		if c == 't' || c == 'f' {
			return jsonscan.Literal(b, i)
		}
	default:
		return i, false
	}
	// The type is wrong: fine only if type rules are skipped, and then the
	// value is not looked into, as in Validate.
	if skip.Has(KindType) {
		return jsonscan.Value(b, i)
	}
	return i, false
}

func (n *Node) acceptObject(b []byte, i int, skip KindSet, depth int) (int, bool) {
	if len(n.Required) > 64 {
		return i, false
	}
	var seen uint64
	end, ok := jsonscan.Object(b, i, func(b []byte, keyStart, keyEnd, valStart int) (int, bool) {
		_, plain, _ := jsonscan.String(b, keyStart)
		if !plain {
			return keyStart, false
		}
		key := b[keyStart+1 : keyEnd-1]
		for r, name := range n.Required {
			if name == string(key) {
				seen |= 1 << r
			}
		}
		if p := n.property(key); p != nil {
			return p.Node.accept(b, valStart, skip, depth+1)
		}
		if !n.AdditionalProperties && !skip.Has(KindAdditionalProperty) {
			return keyStart, false
		}
		return jsonscan.Value(b, valStart)
	})
	if !ok {
		return end, false
	}
	if !skip.Has(KindRequired) && seen != 1<<len(n.Required)-1 {
		return end, false
	}
	return end, true
}

// property finds the known property named key (Properties are sorted).
func (n *Node) property(key []byte) *Property {
	lo, hi := 0, len(n.Properties)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if n.Properties[mid].Name < string(key) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(n.Properties) && n.Properties[lo].Name == string(key) {
		return &n.Properties[lo]
	}
	return nil
}

func (n *Node) acceptArray(b []byte, i int, skip KindSet, depth int) (int, bool) {
	count := 0
	end, ok := jsonscan.Array(b, i, func(b []byte, valStart int) (int, bool) {
		count++
		return n.Items.accept(b, valStart, skip, depth+1)
	})
	if !ok {
		return end, false
	}
	if n.MinItems != nil && count < *n.MinItems && !skip.Has(KindMinItems) ||
		n.MaxItems != nil && count > *n.MaxItems && !skip.Has(KindMaxItems) {
		return end, false
	}
	return end, true
}

func (n *Node) acceptString(b []byte, i int, skip KindSet) (int, bool) {
	end, plain, ok := jsonscan.String(b, i)
	if !ok {
		return end, false
	}
	minLen := n.MinLength != nil && !skip.Has(KindMinLength)
	maxLen := n.MaxLength != nil && !skip.Has(KindMaxLength)
	enum := len(n.Enum) > 0 && !skip.Has(KindEnum)
	format := n.Format != NoFormat && !skip.Has(KindFormat)
	if !minLen && !maxLen && !enum && !format {
		return end, true
	}
	if !plain {
		return end, false // the decoded text differs from the raw bytes
	}
	raw := b[i+1 : end-1]
	if minLen || maxLen {
		l := utf8.RuneCount(raw)
		if minLen && l < *n.MinLength || maxLen && l > *n.MaxLength {
			return end, false
		}
	}
	s := unsafeString(raw)
	if enum && !contains(n.Enum, s) || format && !formatOK(n.Format, s) {
		return end, false
	}
	if format && n.Format == DateTime && !canonicalDateTime(s) {
		return end, false // valid, but Lenient mode would repair it: not sure
	}
	return end, true
}

// canonicalDateTime reports whether a date-time that isDateTime accepts is
// also one Go's time package parses (RFC3339Nano): upper-case T and Z and
// no leap second. The others are valid date-times that Lenient mode rewrites
// (see RepairDateTimes), so Accepts leaves them to the slow path.
func canonicalDateTime(s string) bool {
	return len(s) >= 20 && s[10] == 'T' && s[len(s)-1] != 'z' && s[17:19] != "60"
}

func (n *Node) acceptNumber(b []byte, i int, skip KindSet) (int, bool) {
	end, ok := jsonscan.Number(b, i)
	if !ok {
		return end, false
	}
	if n.Type == Number && n.Minimum == nil && n.Maximum == nil && n.MultipleOf == nil {
		return end, true
	}
	d, ok := parseDecimal(unsafeString(b[i:end]))
	switch {
	case !ok || n.Type == Integer && !d.isInteger():
		return end, skip.Has(KindType) && ok
	case n.Minimum != nil && d.cmp(n.Minimum.d) < 0 && !skip.Has(KindMinimum),
		n.Maximum != nil && d.cmp(n.Maximum.d) > 0 && !skip.Has(KindMaximum),
		n.MultipleOf != nil && !d.isMultipleOf(n.MultipleOf.d) && !skip.Has(KindMultipleOf):
		return end, false
	}
	return end, true
}

// unsafeString views b as a string without copying. The result must not
// outlive the call it is passed to, nor b be modified meanwhile: Accepts
// only reads the payload it was given.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
