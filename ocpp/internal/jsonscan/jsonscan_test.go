package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// valueAgreesWithEncodingJSON checks Value against json.Valid: whatever
// Value accepts as one whole document, encoding/json accepts too, and the
// reverse holds for documents within MaxDepth.
func valueAgreesWithEncodingJSON(t *testing.T, doc string) {
	t.Helper()
	b := []byte(doc)
	i := SkipSpace(b, 0)
	end, ok := Value(b, i)
	whole := ok && SkipSpace(b, end) == len(b)
	if whole != json.Valid(b) {
		if !whole && strings.Count(doc, "[")+strings.Count(doc, "{") > MaxDepth {
			return // too deep for us, left to encoding/json
		}
		t.Errorf("Value(%q) whole=%v, json.Valid=%v", doc, whole, !whole)
	}
}

func TestValueAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, ` {"a" : [1, -2.5e+3, true, false, null, "x\"y\u00e9"]} `, `"\ud800"`, `{"a":{}}`,
		`{"a":1,}`, `[1,]`, `{"a"}`, `{"a":}`, `01`, `-`, `1.`, `1e`, `"\x"`, `"\u12"`, "\"a\tb\"",
		`tru`, `nul`, `{"a":1}x`, `[`, `{`, `"abc`, `{"a":1 "b":2}`, `[1 2]`, "\"\xff\"", `{1:2}`,
		strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	} {
		valueAgreesWithEncodingJSON(t, doc)
	}
}

func TestStringPlainMeansDecodedEqualsRaw(t *testing.T) {
	for _, tc := range []struct {
		in    string
		plain bool
	}{{`"abc"`, true}, {`"é"`, true}, {`"a\/b"`, false}, {"\"\xff\"", false}, {`""`, true}} {
		end, plain, ok := String([]byte(tc.in), 0)
		if !ok || end != len(tc.in) || plain != tc.plain {
			t.Errorf("String(%q) = %d, plain %v, ok %v; want %d, %v, true", tc.in, end, plain, ok, len(tc.in), tc.plain)
		}
	}
}

func TestScanningDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"chargingStation":{"model":"X","vendorName":"Y"},"reason":"PowerUp","n":[1,2.5,true,null]}`)
	if n := testing.AllocsPerRun(100, func() { Value(doc, 0) }); n != 0 {
		t.Errorf("Value allocates %.0f times per run", n)
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{`{}`, `[1,"a",{"b":null}]`, `"\u0041"`, `-0.5e-3`, `{"a":[}`} {
		f.Add(s)
	}
	f.Fuzz(valueAgreesWithEncodingJSON)
}
