package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// decode decodes a JSON document the way OCPP payloads are decoded.
func decode(t testing.TB, doc string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

// idTagInfo is a trimmed OCPP 1.6 Authorize.conf-like schema with one of
// every rule.
var testSchema = &Node{
	Type: Object,
	Properties: []Property{
		{Name: "connectorId", Node: &Node{Type: Integer, Minimum: MustDecimal("0"), Maximum: MustDecimal("10")}},
		{Name: "customData", Node: &Node{
			Type:                 Object,
			Properties:           []Property{{Name: "vendorId", Node: &Node{Type: String, MaxLength: Limit(255)}}},
			Required:             []string{"vendorId"},
			AdditionalProperties: true,
		}},
		{Name: "data", Node: &Node{}},
		{Name: "enabled", Node: &Node{Type: Boolean}},
		{Name: "idTag", Node: &Node{Type: String, MinLength: Limit(2), MaxLength: Limit(20)}},
		{Name: "limit", Node: &Node{Type: Number, MultipleOf: MustDecimal("0.1")}},
		{Name: "location", Node: &Node{Type: String, Format: URI}},
		{Name: "meterValue", Node: &Node{
			Type:     Array,
			MinItems: Limit(1),
			MaxItems: Limit(2),
			Items: &Node{
				Type: Object,
				Properties: []Property{
					{Name: "timestamp", Node: &Node{Type: String, Format: DateTime}},
					{Name: "value", Node: &Node{Type: String}},
				},
				Required: []string{"timestamp"},
			},
		}},
		{Name: "status", Node: &Node{Type: String, Enum: []string{"Accepted", "Blocked", "Invalid"}}},
	},
	Required: []string{"status", "idTag"},
}

func TestValidate(t *testing.T) {
	if err := testSchema.Check(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc  string
		kind Kind   // 0 for valid
		path string // of the violation
	}{
		{`{"status":"Accepted","idTag":"ab"}`, 0, ""},
		{`{"status":"Accepted","idTag":"abcdefghijklmnopqrst","connectorId":10,"limit":0.3,"enabled":false,
		   "data":[1,{"x":null}],"location":"https://example.com/a?b=c#d",
		   "customData":{"vendorId":"v","anything":{"goes":[1]}},
		   "meterValue":[{"timestamp":"2024-01-02T03:04:05Z","value":"1"},{"timestamp":"2024-01-02t03:04:05.123+05:30"}]}`, 0, ""},

		// type
		{`[]`, KindType, ""},
		{`null`, KindType, ""},
		{`"x"`, KindType, ""},
		{`{"status":1,"idTag":"ab"}`, KindType, "/status"},
		{`{"status":"Accepted","idTag":"ab","enabled":"true"}`, KindType, "/enabled"},
		{`{"status":"Accepted","idTag":"ab","connectorId":1.5}`, KindType, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":"1"}`, KindType, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":null}`, KindType, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":1.0}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","connectorId":1e1}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","connectorId":0.5e1}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","connectorId":1e-1}`, KindType, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","limit":"1"}`, KindType, "/limit"},
		{`{"status":"Accepted","idTag":"ab","meterValue":{}}`, KindType, "/meterValue"},
		{`{"status":"Accepted","idTag":"ab","meterValue":[[]]}`, KindType, "/meterValue/0"},
		{`{"status":"Accepted","idTag":"ab","customData":[]}`, KindType, "/customData"},

		// required
		{`{"idTag":"ab"}`, KindRequired, "/status"},
		{`{}`, KindRequired, "/status"},
		{`{"status":"Accepted"}`, KindRequired, "/idTag"},
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"value":"1"}]}`, KindRequired, "/meterValue/0/timestamp"},
		{`{"status":"Accepted","idTag":"ab","customData":{}}`, KindRequired, "/customData/vendorId"},

		// additionalProperties
		{`{"status":"Accepted","idTag":"ab","zzz":1,"extra":1}`, KindAdditionalProperty, "/extra"},
		{`{"status":"Accepted","idTag":"ab","a/b~":1}`, KindAdditionalProperty, "/a~1b~0"},
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2024-01-02T03:04:05Z","x":1}]}`, KindAdditionalProperty, "/meterValue/0/x"},

		// enum
		{`{"status":"accepted","idTag":"ab"}`, KindEnum, "/status"},
		{`{"status":"","idTag":"ab"}`, KindEnum, "/status"},

		// minLength, maxLength (in code points)
		{`{"status":"Accepted","idTag":"a"}`, KindMinLength, "/idTag"},
		{`{"status":"Accepted","idTag":""}`, KindMinLength, "/idTag"},
		{`{"status":"Accepted","idTag":"é"}`, KindMinLength, "/idTag"},
		{`{"status":"Accepted","idTag":"éé"}`, 0, ""},
		{`{"status":"Accepted","idTag":"abcdefghijklmnopqrstu"}`, KindMaxLength, "/idTag"},
		{`{"status":"Accepted","idTag":"éééééééééééééééééééé"}`, 0, ""},
		{`{"status":"Accepted","idTag":"ééééééééééééééééééééé"}`, KindMaxLength, "/idTag"},
		{`{"status":"Accepted","idTag":"ab","customData":{"vendorId":"` + strings.Repeat("v", 256) + `"}}`, KindMaxLength, "/customData/vendorId"},

		// minimum, maximum
		{`{"status":"Accepted","idTag":"ab","connectorId":-1}`, KindMinimum, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":0}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","connectorId":-0}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","connectorId":11}`, KindMaximum, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":1e400}`, KindMaximum, "/connectorId"},
		{`{"status":"Accepted","idTag":"ab","connectorId":-1e400}`, KindMinimum, "/connectorId"},

		// multipleOf
		{`{"status":"Accepted","idTag":"ab","limit":0.15}`, KindMultipleOf, "/limit"},
		{`{"status":"Accepted","idTag":"ab","limit":16.7}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","limit":-16.70}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","limit":1e400}`, 0, ""},
		{`{"status":"Accepted","idTag":"ab","limit":1e-400}`, KindMultipleOf, "/limit"},

		// minItems, maxItems
		{`{"status":"Accepted","idTag":"ab","meterValue":[]}`, KindMinItems, "/meterValue"},
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2024-01-02T03:04:05Z"},{"timestamp":"2024-01-02T03:04:05Z"},{"timestamp":"2024-01-02T03:04:05Z"}]}`, KindMaxItems, "/meterValue"},

		// format
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2024-01-02 03:04:05Z"}]}`, KindFormat, "/meterValue/0/timestamp"},
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"2024-02-30T03:04:05Z"}]}`, KindFormat, "/meterValue/0/timestamp"},
		{`{"status":"Accepted","idTag":"ab","location":"relative/path"}`, KindFormat, "/location"},
		{`{"status":"Accepted","idTag":"ab","location":"http://exa mple.com"}`, KindFormat, "/location"},
	}
	for _, tt := range tests {
		got := testSchema.Validate(decode(t, tt.doc), 0)
		switch {
		case tt.kind == 0 && got != nil:
			t.Errorf("%s: unexpected violation %v (%v)", tt.doc, got, got.Kind)
		case tt.kind != 0 && got == nil:
			t.Errorf("%s: no violation, want %v at %q", tt.doc, tt.kind, tt.path)
		case tt.kind != 0 && (got.Kind != tt.kind || got.Path != tt.path):
			t.Errorf("%s: got %v at %q (%v), want %v at %q", tt.doc, got.Kind, got.Path, got, tt.kind, tt.path)
		}
		// Skipping every kind accepts everything.
		if v := testSchema.Validate(decode(t, tt.doc), AllKinds); v != nil {
			t.Errorf("%s: with every kind skipped: %v", tt.doc, v)
		}
	}
}

func TestValidateSkip(t *testing.T) {
	doc := decode(t, `{"idTag":"abcdefghijklmnopqrstuvw","status":"nope","extra":1,"connectorId":"x","meterValue":[{}]}`)
	// Each skipped kind reveals the next violation in check order:
	// unknown properties, then the properties by name, depth first.
	want := []Kind{KindAdditionalProperty, KindType, KindMaxLength, KindRequired, KindEnum}
	var skip KindSet
	for _, k := range want {
		v := testSchema.Validate(doc, skip)
		if v == nil || v.Kind != k {
			t.Fatalf("skip %v: got %v, want kind %v", skip, v, k)
		}
		skip = skip.With(k)
	}
	if v := testSchema.Validate(doc, skip); v != nil {
		t.Fatalf("skip %v: got %v, want nil", skip, v)
	}
}

func TestViolationError(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{`{"status":"Accepted","idTag":"abcdefghijklmnopqrstuvwxy"}`, `/idTag: string length 25 exceeds maxLength 20`},
		{`{"status":"Rejected","idTag":"ab"}`, `/status: "Rejected" is not one of [Accepted Blocked Invalid]`},
		{`{"idTag":"ab"}`, `/status: required property is missing`},
		{`[1]`, `expected object, got array`},
		{`{"status":"Accepted","idTag":"ab","connectorId":2.5}`, `/connectorId: expected integer, got number 2.5`},
		{`{"status":"Accepted","idTag":"ab","connectorId":12}`, `/connectorId: value 12 exceeds maximum 10`},
		{`{"status":"Accepted","idTag":"ab","limit":0.25}`, `/limit: value 0.25 is not a multiple of 0.1`},
		{`{"status":"Accepted","idTag":"ab","meterValue":[]}`, `/meterValue: array length 0 is below minItems 1`},
		{`{"status":"Accepted","idTag":"ab","meterValue":[{"timestamp":"yesterday"}]}`, `/meterValue/0/timestamp: "yesterday" is not a valid date-time`},
	}
	for _, tt := range tests {
		v := testSchema.Validate(decode(t, tt.doc), 0)
		if v == nil || v.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.doc, v, tt.want)
		}
	}
}

func TestValidateGoValues(t *testing.T) {
	// float64 (a decoder without UseNumber) works too; other Go types are
	// type violations rather than panics.
	n := &Node{Type: Integer, Maximum: MustDecimal("10")}
	for _, tt := range []struct {
		v    any
		kind Kind
	}{
		{float64(3), 0},
		{3.5, KindType},
		{float64(11), KindMaximum},
		{int(3), KindType},
		{json.Number("abc"), KindType},
		{json.Number("01"), KindType},
		{struct{}{}, KindType},
	} {
		got := n.Validate(tt.v, 0)
		if (got == nil) != (tt.kind == 0) || (got != nil && got.Kind != tt.kind) {
			t.Errorf("%#v: got %v, want kind %v", tt.v, got, tt.kind)
		}
	}
	var nilNode *Node
	if v := nilNode.Validate(map[string]any{"a": 1}, 0); v != nil {
		t.Errorf("nil node: %v", v)
	}
	if v := (&Node{Type: Type(200)}).Validate("x", 0); v == nil || v.Kind != KindType {
		t.Errorf("unknown type: %v", v)
	}
}

func TestKindSet(t *testing.T) {
	s := Kinds(KindFormat, KindMaxLength)
	if !s.Has(KindFormat) || !s.Has(KindMaxLength) || s.Has(KindType) {
		t.Fatalf("Kinds: %v", s)
	}
	if got := s.String(); got != "{maxLength,format}" {
		t.Errorf("String: %s", got)
	}
	if s.Without(KindFormat) != Kinds(KindMaxLength) {
		t.Errorf("Without: %v", s.Without(KindFormat))
	}
	for k := KindType; k <= KindFormat; k++ {
		if !AllKinds.Has(k) || k.String() == "unknown" {
			t.Errorf("kind %d: in AllKinds %v, name %s", k, AllKinds.Has(k), k)
		}
	}
	if AllKinds.Has(0) || AllKinds.Has(KindFormat+1) {
		t.Errorf("AllKinds has extra bits: %b", AllKinds)
	}
}

func TestCheck(t *testing.T) {
	bad := []*Node{
		{Type: Object, Properties: []Property{{Name: "b", Node: &Node{}}, {Name: "a", Node: &Node{}}}},
		{Type: Object, Properties: []Property{{Name: "a", Node: &Node{}}, {Name: "a", Node: &Node{}}}},
		{Type: Object, Properties: []Property{{Name: "a"}}},
		{Type: Array, Items: &Node{Type: String, MaxLength: Limit(-1)}},
		{Type: Number, MultipleOf: MustDecimal("0")},
	}
	for i, n := range bad {
		if err := n.Check(); err == nil {
			t.Errorf("bad node %d: Check passed", i)
		}
	}
}

func TestValidateAllocs(t *testing.T) {
	heartbeat := &Node{Type: Object}
	empty := decode(t, `{}`)
	doc := decode(t, `{"status":"Accepted","idTag":"abcdefghijklmnopqrst","connectorId":10,"limit":0.3,
		"customData":{"vendorId":"v","x":1},"location":"https://example.com/",
		"meterValue":[{"timestamp":"2024-01-02T03:04:05Z","value":"1"}]}`)
	for name, f := range map[string]func(){
		"heartbeat": func() { heartbeat.Validate(empty, 0) },
		"full":      func() { testSchema.Validate(doc, 0) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per validation", name, a)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	doc := decode(b, `{"status":"Accepted","idTag":"abcdefghijklmnopqrst","connectorId":10,"limit":0.3,
		"customData":{"vendorId":"v","x":1},"location":"https://example.com/",
		"meterValue":[{"timestamp":"2024-01-02T03:04:05Z","value":"1"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if v := testSchema.Validate(doc, 0); v != nil {
			b.Fatal(v)
		}
	}
}
