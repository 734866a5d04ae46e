package schema

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	valid := []string{"0", "-0", "1", "-1", "10", "1.5", "0.001", "100.100", "1e3", "1E+3", "1e-3", "-0.0e0", "123456789012345678901234567890"}
	for _, s := range valid {
		d, err := ParseDecimal(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if d.String() != s {
			t.Errorf("%s: String() = %s", s, d)
		}
		want, _ := new(big.Rat).SetString(s)
		if got := ratOf(d.d); got.Cmp(want) != 0 {
			t.Errorf("%s: parsed as %s", s, got)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x10", "1.5.5", " 1", "NaN", "Infinity", "1_000"} {
		if _, err := ParseDecimal(s); err == nil {
			t.Errorf("%q: parsed", s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustDecimal did not panic")
		}
	}()
	MustDecimal("x")
}

func TestDecimalCmp(t *testing.T) {
	ordered := []string{"-1e400", "-100", "-99.99", "-1", "-0.1", "-1e-400", "0", "1e-400", "0.1", "0.10000000000000001", "1", "1.5", "10", "99.99", "100", "1e400"}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := MustDecimal(a).Cmp(MustDecimal(b)); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestDecimalMultipleOf(t *testing.T) {
	tests := []struct {
		d, m string
		want bool
	}{
		{"0.3", "0.1", true},
		{"0.7", "0.1", true},
		{"16.7", "0.1", true},
		{"0.15", "0.1", false},
		{"-2.5", "0.5", true},
		{"2.4", "0.5", false},
		{"6", "3", true},
		{"7", "3", false},
		{"1e20", "3", false},
		{"3e20", "3", true},
		{"1e400", "8", true},
		{"0", "7", true},
		{"0.03", "0.01", true},
		{"1e-400", "0.1", false},
		{"1234567890123456789012", "1234567890123456789012", true},
		{"2469135780246913578024", "1234567890123456789012", true},
		{"2469135780246913578025", "1234567890123456789012", false},
	}
	for _, tt := range tests {
		if got := MustDecimal(tt.d).d.isMultipleOf(MustDecimal(tt.m).d); got != tt.want {
			t.Errorf("%s multipleOf %s = %v, want %v", tt.d, tt.m, got, tt.want)
		}
	}
}

// ratOf converts a parsed decimal back to a big.Rat, for comparisons.
func ratOf(d decimal) *big.Rat {
	r := new(big.Rat)
	if d.isZero() {
		return r
	}
	digits := d.a + d.b
	r.SetString(digits)
	if d.exp != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs(d.exp)), nil)
		if d.exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(p))
		} else {
			r.Quo(r, new(big.Rat).SetInt(p))
		}
	}
	if d.neg {
		r.Neg(r)
	}
	return r
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// FuzzDecimal checks parsing, comparison, the integer test and multipleOf
// against math/big.
func FuzzDecimal(f *testing.F) {
	for _, s := range [][2]string{{"0.3", "0.1"}, {"1e3", "7"}, {"-12.50", "2.5"}, {"0", "-0"}, {"1e-5", "0.00001"}, {"99999999999999999999", "3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// Keep exponents small: math/big is slow on huge ones and
		// rejects some.
		if hugeExponent(a) || hugeExponent(b) {
			return
		}
		da, okA := parseDecimal(a)
		db, okB := parseDecimal(b)
		_, ratA := new(big.Rat).SetString(a)
		if okA && !ratA {
			t.Fatalf("%q parsed but big.Rat rejects it", a)
		}
		if !okA || !okB {
			return
		}
		ra, rb := ratOf(da), ratOf(db)
		want, _ := new(big.Rat).SetString(a)
		if ra.Cmp(want) != 0 {
			t.Fatalf("%q parsed as %s", a, ra)
		}
		if got, want := da.cmp(db), ra.Cmp(rb); got != want {
			t.Fatalf("cmp(%q, %q) = %d, want %d", a, b, got, want)
		}
		if got, want := da.isInteger(), ra.IsInt(); got != want {
			t.Fatalf("isInteger(%q) = %v, want %v", a, got, want)
		}
		if rb.Sign() > 0 {
			if got, want := da.isMultipleOf(db), new(big.Rat).Quo(ra, rb).IsInt(); got != want {
				t.Fatalf("%q multipleOf %q = %v, want %v", a, b, got, want)
			}
		}
	})
}

func hugeExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	return i >= 0 && len(s)-i > 5
}
