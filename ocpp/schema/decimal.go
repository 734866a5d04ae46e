package schema

import (
	"errors"
	"math/big"
	"strings"
)

// Decimal is an exact decimal number, used for the numeric bounds of a Node.
// Comparing decimals instead of float64 values keeps the checks exact: 0.3 is
// a multiple of 0.1, and 1e400 is a valid (huge) number.
type Decimal struct {
	d    decimal
	text string
}

// ParseDecimal parses a JSON number such as "0", "-1.5" or "1e3".
func ParseDecimal(s string) (*Decimal, error) {
	d, ok := parseDecimal(s)
	if !ok {
		return nil, errors.New("schema: invalid number " + quote(s))
	}
	return &Decimal{d: d, text: s}, nil
}

// MustDecimal is like ParseDecimal but panics on malformed input. It is meant
// for Node literals.
func MustDecimal(s string) *Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the number as it was parsed.
func (d *Decimal) String() string { return d.text }

// Cmp compares d and e and returns -1, 0 or +1.
func (d *Decimal) Cmp(e *Decimal) int { return d.d.cmp(e.d) }

// decimal is a parsed JSON number: (a+b) × 10^exp, where a+b is the
// concatenation of two substrings of the number's text. Keeping substrings
// avoids allocating while validating. The digits have no leading or trailing
// zeros; zero has no digits and neg false.
type decimal struct {
	neg  bool
	a, b string
	exp  int64
}

// maxExp bounds exponents so that exponent arithmetic cannot overflow. It is
// far beyond the number of digits any real input can have, so clamping does
// not change comparisons.
const maxExp = 1 << 50

func (d decimal) isZero() bool { return len(d.a)+len(d.b) == 0 }

func (d decimal) numDigits() int64 { return int64(len(d.a) + len(d.b)) }

func (d decimal) digit(i int64) byte {
	if i < int64(len(d.a)) {
		return d.a[i]
	}
	return d.b[i-int64(len(d.a))]
}

// parseDecimal parses s by the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	if intPart == "" || (len(intPart) > 1 && intPart[0] == '0') {
		return d, false
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
		if frac == "" {
			return d, false
		}
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if exp < maxExp {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return d, false
		}
		exp = min(exp, maxExp)
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, false
	}

	d.a, d.b = intPart, frac
	d.exp = exp - int64(len(frac))
	// Strip leading zeros (they may run from the integer part into the
	// fraction) and trailing zeros (moving them into the exponent).
	d.a = strings.TrimLeft(d.a, "0")
	if d.a == "" {
		d.b = strings.TrimLeft(d.b, "0")
	}
	if t := strings.TrimRight(d.b, "0"); len(t) < len(d.b) || d.b == "" {
		d.exp += int64(len(d.b) - len(t))
		d.b = t
		if d.b == "" {
			t = strings.TrimRight(d.a, "0")
			d.exp += int64(len(d.a) - len(t))
			d.a = t
		}
	}
	if d.isZero() {
		return decimal{}, true
	}
	return d, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isInteger reports whether d has no fractional part.
func (d decimal) isInteger() bool { return d.isZero() || d.exp >= 0 }

// magnitude is the position of the leading digit: d is in
// [10^(m-1), 10^m) for magnitude m.
func (d decimal) magnitude() int64 { return d.numDigits() + d.exp }

func (d decimal) cmp(e decimal) int {
	switch {
	case d.isZero() && e.isZero():
		return 0
	case d.isZero():
		if e.neg {
			return 1
		}
		return -1
	case e.isZero():
		if d.neg {
			return -1
		}
		return 1
	case d.neg != e.neg:
		if d.neg {
			return -1
		}
		return 1
	}
	c := cmpAbs(d, e)
	if d.neg {
		return -c
	}
	return c
}

// cmpAbs compares the absolute values of two non-zero decimals.
func cmpAbs(d, e decimal) int {
	if dm, em := d.magnitude(), e.magnitude(); dm != em {
		if dm < em {
			return -1
		}
		return 1
	}
	// Same magnitude: compare digit by digit, a missing digit being zero.
	n := max(d.numDigits(), e.numDigits())
	for i := range n {
		var x, y byte = '0', '0'
		if i < d.numDigits() {
			x = d.digit(i)
		}
		if i < e.numDigits() {
			y = e.digit(i)
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// isMultipleOf reports whether d is an integer multiple of m (m > 0).
func (d decimal) isMultipleOf(m decimal) bool {
	if d.isZero() {
		return true
	}
	if m.isZero() {
		return false // not a valid divisor; the schema is broken
	}
	// d/m = (D / M) × 10^k with integer digit strings D and M.
	k := d.exp - m.exp
	if k < 0 {
		// D has no trailing zero, so D × 10^k is not even an integer.
		return false
	}
	if m.numDigits() == 1 && m.digit(0) == '1' {
		return true // m is a power of ten
	}
	// M divides D × 10^k iff it divides D × 10^min(k, 64): beyond that the
	// powers of 2 and 5 in M (each below 2^64) are covered by 10^k anyway.
	k = min(k, 64)
	if m.numDigits() <= 18 {
		mod := uint64(0)
		for i := range m.numDigits() {
			mod = mod*10 + uint64(m.digit(i)-'0')
		}
		r := uint64(0)
		for i := range d.numDigits() {
			r = (r*10 + uint64(d.digit(i)-'0')) % mod
		}
		for range k {
			r = r * 10 % mod
		}
		return r == 0
	}
	// Divisors with more digits are not used by OCPP; do it the slow way.
	var dv, mv big.Int
	dv.SetString(d.a+d.b, 10)
	mv.SetString(m.a+m.b, 10)
	dv.Mul(&dv, new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil))
	return new(big.Int).Mod(&dv, &mv).Sign() == 0
}
