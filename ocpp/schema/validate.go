package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate checks v against n and returns the first violation whose Kind is
// not in skip, or nil if there is none. A nil Node accepts any value.
//
// v is a value as decoded by encoding/json: map[string]any, []any, string,
// bool, nil, and json.Number (with Decoder.UseNumber) or float64. Other Go
// types are reported as type violations. Validate never panics and does not
// allocate unless it finds a violation (or meets a float64 with a numeric
// constraint).
//
// The order of checks, and so which violation is reported, is fixed: the
// type first; for objects the required properties in schema order, then the
// unknown property with the smallest name, then the properties in name
// order, depth first; for arrays minItems, maxItems, then the elements in
// order; for strings minLength, maxLength, enum, format; for numbers
// minimum, maximum, multipleOf. A skipped rule is not reported, and when the
// type is wrong (and skipped) the value is not checked further.
func (n *Node) Validate(v any, skip KindSet) *Violation {
	return n.validate(v, skip)
}

func (n *Node) validate(v any, skip KindSet) *Violation {
	if n == nil {
		return nil
	}
	switch n.Type {
	case Any:
		return nil
	case Object:
		m, ok := v.(map[string]any)
		if !ok {
			return n.typeViolation(v, skip)
		}
		return n.validateObject(m, skip)
	case Array:
		a, ok := v.([]any)
		if !ok {
			return n.typeViolation(v, skip)
		}
		return n.validateArray(a, skip)
	case String:
		s, ok := v.(string)
		if !ok {
			return n.typeViolation(v, skip)
		}
		return n.validateString(s, skip)
	case Integer, Number:
		return n.validateNumber(v, skip)
	case Boolean:
		if _, ok := v.(bool); !ok {
			return n.typeViolation(v, skip)
		}
		return nil
	}
	// An unknown Type is a broken schema: accept nothing rather than panic.
	return n.typeViolation(v, skip)
}

func (n *Node) typeViolation(v any, skip KindSet) *Violation {
	if skip.Has(KindType) {
		return nil
	}
	return &Violation{Kind: KindType, Message: "expected " + n.Type.String() + ", got " + jsonType(v)}
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number " + truncate(string(v))
	case float64:
		return "number " + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("unsupported Go type %T", v)
}

func (n *Node) validateObject(m map[string]any, skip KindSet) *Violation {
	if !skip.Has(KindRequired) {
		for _, name := range n.Required {
			if _, ok := m[name]; !ok {
				return &Violation{Kind: KindRequired, Path: "/" + escapePointer(name), Message: "required property is missing"}
			}
		}
	}
	if !n.AdditionalProperties && !skip.Has(KindAdditionalProperty) && len(m) > 0 {
		// Map order is random; report the smallest unknown name so the
		// result is deterministic.
		unknown, found := "", false
		for name := range m {
			if !n.hasProperty(name) && (!found || name < unknown) {
				unknown, found = name, true
			}
		}
		if found {
			return &Violation{Kind: KindAdditionalProperty, Path: "/" + escapePointer(unknown), Message: "property is not allowed"}
		}
	}
	for i := range n.Properties {
		p := &n.Properties[i]
		if v, ok := m[p.Name]; ok {
			if viol := p.Node.validate(v, skip); viol != nil {
				viol.Path = "/" + escapePointer(p.Name) + viol.Path
				return viol
			}
		}
	}
	return nil
}

func (n *Node) hasProperty(name string) bool {
	lo, hi := 0, len(n.Properties)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if n.Properties[mid].Name < name {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo < len(n.Properties) && n.Properties[lo].Name == name
}

func (n *Node) validateArray(a []any, skip KindSet) *Violation {
	if n.MinItems != nil && len(a) < *n.MinItems && !skip.Has(KindMinItems) {
		return &Violation{Kind: KindMinItems, Message: fmt.Sprintf("array length %d is below minItems %d", len(a), *n.MinItems)}
	}
	if n.MaxItems != nil && len(a) > *n.MaxItems && !skip.Has(KindMaxItems) {
		return &Violation{Kind: KindMaxItems, Message: fmt.Sprintf("array length %d exceeds maxItems %d", len(a), *n.MaxItems)}
	}
	if n.Items == nil {
		return nil
	}
	for i, v := range a {
		if viol := n.Items.validate(v, skip); viol != nil {
			viol.Path = "/" + strconv.Itoa(i) + viol.Path
			return viol
		}
	}
	return nil
}

func (n *Node) validateString(s string, skip KindSet) *Violation {
	// Lengths count code points, which is never more than the byte length
	// and at least a quarter of it; count only when that leaves it open.
	if n.MinLength != nil && len(s)/4 < *n.MinLength && !skip.Has(KindMinLength) {
		if l := utf8.RuneCountInString(s); l < *n.MinLength {
			return &Violation{Kind: KindMinLength, Message: fmt.Sprintf("string length %d is below minLength %d", l, *n.MinLength)}
		}
	}
	if n.MaxLength != nil && len(s) > *n.MaxLength && !skip.Has(KindMaxLength) {
		if l := utf8.RuneCountInString(s); l > *n.MaxLength {
			return &Violation{Kind: KindMaxLength, Message: fmt.Sprintf("string length %d exceeds maxLength %d", l, *n.MaxLength)}
		}
	}
	if len(n.Enum) > 0 && !skip.Has(KindEnum) && !contains(n.Enum, s) {
		return &Violation{Kind: KindEnum, Message: quote(s) + " is not one of " + enumList(n.Enum)}
	}
	if n.Format != NoFormat && !skip.Has(KindFormat) && !formatOK(n.Format, s) {
		return &Violation{Kind: KindFormat, Message: quote(s) + " is not a valid " + n.Format.String()}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func enumList(values []string) string {
	const max = 8
	if len(values) > max {
		return fmt.Sprintf("the %d allowed values", len(values))
	}
	return "[" + strings.Join(values, " ") + "]"
}

func formatOK(f Format, s string) bool {
	switch f {
	case DateTime:
		return isDateTime(s)
	case URI:
		return isURI(s)
	}
	return true // unknown formats are annotations only
}

func (n *Node) validateNumber(v any, skip KindSet) *Violation {
	var text string
	switch v := v.(type) {
	case json.Number:
		text = string(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return n.typeViolation(v, skip)
		}
		if n.Type == Number && n.Minimum == nil && n.Maximum == nil && n.MultipleOf == nil {
			return nil
		}
		text = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return n.typeViolation(v, skip)
	}
	d, ok := parseDecimal(text)
	if !ok || (n.Type == Integer && !d.isInteger()) {
		return n.typeViolation(v, skip)
	}
	if n.Minimum != nil && d.cmp(n.Minimum.d) < 0 && !skip.Has(KindMinimum) {
		return &Violation{Kind: KindMinimum, Message: "value " + truncate(text) + " is below minimum " + n.Minimum.text}
	}
	if n.Maximum != nil && d.cmp(n.Maximum.d) > 0 && !skip.Has(KindMaximum) {
		return &Violation{Kind: KindMaximum, Message: "value " + truncate(text) + " exceeds maximum " + n.Maximum.text}
	}
	if n.MultipleOf != nil && !d.isMultipleOf(n.MultipleOf.d) && !skip.Has(KindMultipleOf) {
		return &Violation{Kind: KindMultipleOf, Message: "value " + truncate(text) + " is not a multiple of " + n.MultipleOf.text}
	}
	return nil
}

// truncate shortens s for use in a message, so that a huge payload does not
// make a huge error.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func quote(s string) string { return strconv.Quote(truncate(s)) }

// Check reports a Node tree that Validate cannot use as intended: unsorted or
// duplicate properties, nil property nodes, negative limits, or a
// non-positive multipleOf. Generated trees are checked by their tests.
func (n *Node) Check() error {
	return n.check("", map[*Node]bool{})
}

func (n *Node) check(path string, seen map[*Node]bool) error {
	if n == nil || seen[n] {
		return nil
	}
	seen[n] = true
	for i, p := range n.Properties {
		if p.Node == nil {
			return fmt.Errorf("schema: %s/%s: nil property node", path, p.Name)
		}
		if i > 0 && n.Properties[i-1].Name >= p.Name {
			return fmt.Errorf("schema: %s: properties not sorted or duplicated at %q", path, p.Name)
		}
	}
	for _, l := range []*int{n.MinItems, n.MaxItems, n.MinLength, n.MaxLength} {
		if l != nil && *l < 0 {
			return fmt.Errorf("schema: %s: negative limit %d", path, *l)
		}
	}
	if n.MultipleOf != nil && (n.MultipleOf.d.isZero() || n.MultipleOf.d.neg) {
		return fmt.Errorf("schema: %s: multipleOf %s is not positive", path, n.MultipleOf)
	}
	for _, p := range n.Properties {
		if err := p.Node.check(path+"/"+escapePointer(p.Name), seen); err != nil {
			return err
		}
	}
	return n.Items.check(path+"/*", seen)
}
