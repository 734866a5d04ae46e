package schema

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// nested is a schema that recurses as deep as the data does.
var nested = func() *Node {
	n := &Node{Type: Array, MaxItems: Limit(3)}
	n.Items = n
	return n
}()

// FuzzValidate feeds arbitrary JSON to Validate. It must not panic, must be
// deterministic, must respect skip, and must report a path that exists.
func FuzzValidate(f *testing.F) {
	seeds := []string{
		`{}`, `[]`, `null`, `1`, `"x"`, `true`,
		`{"status":"Accepted","idTag":"ab"}`,
		`{"status":"Accepted","idTag":"abcdefghijklmnopqrstu","connectorId":1e999999999999999999999}`,
		`{"status":"Accepted","idTag":"ab","connectorId":-0.0e-99999,"limit":123456789.123456789}`,
		`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2016-12-31T23:59:60Z"},{"timestamp":"x","value":1}]}`,
		`{"status":"Accepted","idTag":"ab","customData":{"vendorId":"v","a/b":{"~":[]}},"location":"urn:%41"}`,
		`{"a":1,"b":2,"c":3,"status":null}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		`{"idTag":"` + strings.Repeat("é", 100) + `"}`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint32(i*0x9e3779b9))
	}
	f.Fuzz(func(t *testing.T, data []byte, skipBits uint32) {
		skip := KindSet(skipBits) & AllKinds
		for _, useNumber := range []bool{true, false} {
			dec := json.NewDecoder(bytes.NewReader(data))
			if useNumber {
				dec.UseNumber()
			}
			var v any
			if dec.Decode(&v) != nil {
				return
			}
			for _, n := range []*Node{testSchema, nested, {}, {Type: Number, MultipleOf: MustDecimal("0.1"), Minimum: MustDecimal("-1e10")}} {
				checkValidate(t, n, v, skip)
			}
		}
	})
}

func checkValidate(t *testing.T, n *Node, v any, skip KindSet) {
	strict := n.Validate(v, 0)
	lenient := n.Validate(v, skip)
	if again := n.Validate(v, skip); !sameViolation(lenient, again) {
		t.Fatalf("not deterministic: %v, then %v", lenient, again)
	}
	if strict == nil && lenient != nil {
		t.Fatalf("valid, but with skip %v: %v", skip, lenient)
	}
	if lenient == nil {
		return
	}
	if skip.Has(lenient.Kind) || lenient.Kind == 0 || lenient.Error() == "" {
		t.Fatalf("bad violation %+v with skip %v", lenient, skip)
	}
	// The path resolves, except for its last step when a property is
	// missing.
	path := lenient.Path
	if lenient.Kind == KindRequired {
		path = path[:strings.LastIndexByte(path, '/')]
	}
	if _, ok := resolve(v, path); !ok {
		t.Fatalf("path %q of %v does not resolve", lenient.Path, lenient)
	}
}

func sameViolation(a, b *Violation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// resolve follows a JSON pointer.
func resolve(v any, pointer string) (any, bool) {
	if pointer == "" {
		return v, true
	}
	if pointer[0] != '/' {
		return nil, false
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// FuzzAcceptsAgrees checks the fast path against Validate: whatever Accepts
// takes, encoding/json decodes and Validate finds nothing wrong with.
func FuzzAcceptsAgrees(f *testing.F) {
	for i, s := range []string{
		`{}`, `{"status":"Accepted","idTag":"ab"}`, `{"status":"Accepted","idTag":"ab","connectorId":3}`,
		`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2016-12-31T23:59:59Z"}]}`,
		`{"status":"Accepted","idTag":"ab","status":"Blocked"}`, `{"idTag":"a\u0062","status":"Accepted"}`,
		`[[[]]]`, `[[[[]]]]`, `1.50`, `-0`, ` {"a":1} `, `{"customData":{"vendorId":"v","x":[1,{}]}}`,
	} {
		f.Add([]byte(s), uint32(i*0x9e3779b9))
	}
	f.Fuzz(func(t *testing.T, data []byte, skipBits uint32) {
		skip := KindSet(skipBits) & AllKinds
		for _, n := range []*Node{testSchema, nested, {}, {Type: Number, MultipleOf: MustDecimal("0.1"), Minimum: MustDecimal("-1e10")}} {
			for _, s := range []KindSet{0, skip} {
				if !n.Accepts(data, s) {
					continue
				}
				dec := json.NewDecoder(bytes.NewReader(data))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil || dec.More() {
					t.Fatalf("Accepts(%q) but encoding/json says: %v (more: %v)", data, err, dec.More())
				}
				if viol := n.Validate(v, s); viol != nil {
					t.Fatalf("Accepts(%q, %v) but Validate: %v", data, s, viol)
				}
			}
		}
	})
}

func TestAcceptsDoesNotAllocate(t *testing.T) {
	data := []byte(`{"status":"Accepted","idTag":"ab","connectorId":3,"meterValue":[{"timestamp":"2016-12-31T23:59:59Z"}]}`)
	if !testSchema.Accepts(data, 0) {
		t.Fatal("valid payload not accepted")
	}
	if n := testing.AllocsPerRun(100, func() { testSchema.Accepts(data, 0) }); n != 0 {
		t.Errorf("Accepts allocates %.0f times per run", n)
	}
}
