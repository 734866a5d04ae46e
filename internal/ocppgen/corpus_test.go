package ocppgen

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
)

// A corpus case is a payload and whether the schema accepts it.
type corpusCase struct {
	name  string
	doc   any // map[string]any, []any, string, json.Number, bool, nil
	valid bool
}

// The canonical values of the instances. Date-times are UTC with seconds
// so that time.Time gives them back unchanged.
const (
	sampleDateTime = "2024-01-02T03:04:05Z"
	sampleURI      = "https://example.com/firmware.bin"
	extraProperty  = "unexpectedProperty"
)

// instance builds a valid payload for n: with only the required properties
// (full false), or with every property (full true), where CustomData-like
// objects also get an extra property. Arrays get their minimum number of
// elements, at least one.
func instance(n *node, full bool) any {
	switch n.Kind {
	case kindObject:
		m := map[string]any{}
		for _, p := range n.Props {
			if p.Required || full {
				m[p.Name] = instance(p.Node, full)
			}
		}
		if full && n.Additional {
			m[extraProperty] = map[string]any{"nested": []any{json.Number("1"), "two", nil}}
		}
		return m
	case kindArray:
		count := 1
		if n.MinItems != nil {
			count = max(count, *n.MinItems)
		}
		list := make([]any, count)
		for i := range list {
			list[i] = instance(n.Items, full)
		}
		return list
	case kindString:
		return sampleString(n, full)
	case kindInteger:
		return sampleNumber(n, "1")
	case kindNumber:
		return sampleNumber(n, "1.5")
	case kindBoolean:
		return true
	}
	if full {
		return map[string]any{"any": []any{json.Number("1"), "json"}}
	}
	return "any JSON"
}

// sampleString is a valid string for n: short, to keep the documents small
// (the mutations try the longest strings), with a multi-byte character.
func sampleString(n *node, full bool) string {
	switch {
	case len(n.Enum) > 0:
		if full {
			return n.Enum[len(n.Enum)-1]
		}
		return n.Enum[0]
	case n.Format == "date-time":
		return sampleDateTime
	case n.Format == "uri":
		return sampleURI
	}
	s := []rune("éxy")
	if n.MaxLength != nil && len(s) > *n.MaxLength {
		s = s[:*n.MaxLength]
	}
	for n.MinLength != nil && len(s) < *n.MinLength {
		s = append(s, 'z')
	}
	return string(s)
}

// sampleNumber returns preferred if it is within n's bounds, else a bound.
func sampleNumber(n *node, preferred string) json.Number {
	if !inRange(n, preferred) {
		if n.Minimum != "" {
			return json.Number(n.Minimum)
		}
		return json.Number(n.Maximum)
	}
	return json.Number(preferred)
}

// numberValid says whether the number text s satisfies n, computed with
// math/big independently of ocpp/schema.
func numberValid(n *node, s string) bool {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	if n.Kind == kindInteger && !r.IsInt() {
		return false
	}
	if n.MultipleOf != "" {
		m, _ := new(big.Rat).SetString(n.MultipleOf)
		if !new(big.Rat).Quo(r, m).IsInt() {
			return false
		}
	}
	return inRange(n, s)
}

func inRange(n *node, s string) bool {
	r, _ := new(big.Rat).SetString(s)
	if n.Minimum != "" {
		if lo, _ := new(big.Rat).SetString(n.Minimum); r.Cmp(lo) < 0 {
			return false
		}
	}
	if n.Maximum != "" {
		if hi, _ := new(big.Rat).SetString(n.Maximum); r.Cmp(hi) > 0 {
			return false
		}
	}
	return true
}

// mutations returns the valid instance doc of n and variations of it, each
// breaking or keeping one rule at one place.
func mutations(n *node, doc any) []corpusCase {
	cases := []corpusCase{{name: "instance", doc: doc, valid: true}}
	mutate(n, doc, "", func(path string, valid bool, replace any) {
		cases = append(cases, corpusCase{name: path, doc: replace, valid: valid})
	}, func(v any) any { return v })
	return cases
}

// mutate walks doc along n. For every variation of the value at a place it
// calls emit with a description, the expected verdict and the whole
// document with that variation (built by wrap, which puts a replacement
// value back into a copy of the document).
func mutate(n *node, doc any, path string, emit func(string, bool, any), wrap func(any) any) {
	variant := func(what string, valid bool, v any) {
		emit(fmt.Sprintf("%s: %s", pathOrRoot(path), what), valid, wrap(v))
	}
	wrongType := "wrong type"
	switch n.Kind {
	case kindObject:
		m := doc.(map[string]any)
		variant("array instead of object", false, []any{})
		variant("null instead of object", false, nil)
		if n.Additional {
			variant("extra property (allowed)", true, with(m, extraProperty+"2", "x"))
		} else {
			variant("extra property", false, with(m, extraProperty, json.Number("1")))
		}
		for _, p := range n.Props {
			if _, ok := m[p.Name]; !ok {
				continue
			}
			variant("without "+p.Name, !p.Required, without(m, p.Name))
			variant(p.Name+" null", p.Node.Kind == kindAny, with(m, p.Name, nil))
			mutate(p.Node, m[p.Name], path+"/"+p.Name, emit, func(v any) any {
				return wrap(with(m, p.Name, v))
			})
		}
	case kindArray:
		list := doc.([]any)
		variant("object instead of array", false, map[string]any{})
		variant("string instead of array", false, "[]")
		empty := n.MinItems == nil || *n.MinItems == 0
		variant("empty array", empty, []any{})
		if n.MaxItems != nil && len(list) > 0 {
			full := slices.Repeat(list[:1], *n.MaxItems)
			variant("maxItems elements", true, full)
			variant("maxItems+1 elements", false, append(full, list[0]))
		} else if len(list) > 0 {
			variant("many elements", true, slices.Repeat(list[:1], 5))
		}
		if len(list) > 0 {
			variant("element of wrong type", n.Items.Kind == kindAny, append(slices.Clone(list), wrongTypeFor(n.Items)))
			mutate(n.Items, list[0], path+"/0", emit, func(v any) any {
				c := slices.Clone(list)
				c[0] = v
				return wrap(c)
			})
		}
	case kindString:
		s := doc.(string)
		variant(wrongType, false, json.Number("42"))
		variant("boolean", false, true)
		switch {
		case len(n.Enum) > 0:
			variant("unknown enum value", false, "NotAnEnumValue")
			if lower := strings.ToLower(s); lower != s && !slices.Contains(n.Enum, lower) {
				variant("lowercase enum value", false, lower)
			}
			variant("empty enum value", slices.Contains(n.Enum, ""), "")
		case n.Format == "date-time":
			for _, good := range []string{"2024-01-02t03:04:05z", "2024-01-02T03:04:05.123+05:30", "2024-02-29T23:59:59-01:00"} {
				variant("date-time "+good, true, good)
			}
			for _, bad := range []string{"2024-01-02 03:04:05Z", "2024-13-02T03:04:05Z", "2024-01-02T03:04:05", "2023-02-29T03:04:05Z", "02/01/2024", "2024-01-02T25:00:00Z"} {
				variant("date-time "+bad, false, bad)
			}
		case n.Format == "uri":
			variant("urn", true, "urn:example:firmware")
			variant("relative uri", false, "firmware/v2.bin")
			variant("not a uri", false, "not a uri")
		}
		if n.MaxLength != nil {
			variant("maxLength runes", true, strings.Repeat("é", *n.MaxLength))
			variant("maxLength+1 runes", false, strings.Repeat("é", *n.MaxLength+1))
			variant("maxLength+1 ascii", false, strings.Repeat("x", *n.MaxLength+1))
		}
		if n.MinLength != nil && *n.MinLength > 0 {
			variant("minLength-1", false, strings.Repeat("x", *n.MinLength-1))
		}
	case kindInteger, kindNumber:
		variant("string", false, "1")
		variant("boolean", false, false)
		candidates := []string{"0", "-1", "1.5", "2.0", "1e2", "0.3", "0.15", "-2.5", "1e30", "-1e30", "1e400"}
		for _, b := range []string{n.Minimum, n.Maximum} {
			if b != "" {
				candidates = append(candidates, b, addTo(b, "1"), addTo(b, "-1"), addTo(b, "0.5"), addTo(b, "-0.5"))
			}
		}
		for _, c := range candidates {
			variant("number "+c, numberValid(n, c), json.Number(c))
		}
	case kindBoolean:
		variant("string", false, "true")
		variant("number", false, json.Number("1"))
		variant("false", true, false)
	case kindAny:
		for _, v := range []any{nil, map[string]any{}, []any{"x"}, json.Number("-1.5"), false} {
			variant(fmt.Sprintf("any value %v", v), true, v)
		}
	}
}

func pathOrRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func wrongTypeFor(n *node) any {
	if n.Kind == kindString {
		return json.Number("7")
	}
	return "wrong"
}

// addTo adds delta to the number text s.
func addTo(s, delta string) string {
	r, _ := new(big.Rat).SetString(s)
	d, _ := new(big.Rat).SetString(delta)
	return r.Add(r, d).FloatString(1)
}

func with(m map[string]any, key string, v any) map[string]any {
	c := maps.Clone(m)
	c[key] = v
	return c
}

func without(m map[string]any, key string) map[string]any {
	c := maps.Clone(m)
	delete(c, key)
	return c
}
