// Package jsonscan walks JSON text in place, without decoding it and
// without allocating. The OCPP hot path uses it to split frames and to
// validate payloads; anything it is unsure of (escapes, deep nesting) is
// left to encoding/json by the caller.
package jsonscan

import "unicode/utf8"

// MaxDepth is the deepest nesting Value follows; deeper text is reported as
// not ok so that callers fall back to encoding/json and its own limits.
const MaxDepth = 64

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace (len(b) if there is none).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// String scans the JSON string that starts with the quote at b[i]. It
// returns the index just past the closing quote, and plain=true when the
// bytes between the quotes are exactly the decoded string (no escapes and
// valid UTF-8). ok is false when the text is not a valid JSON string.
func String(b []byte, i int) (end int, plain, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false, false
	}
	plain = true
	ascii := true
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			if !ascii && plain && !utf8.Valid(b[i+1:j]) {
				plain = false // encoding/json would replace the bad bytes
			}
			return j + 1, plain, true
		case c == '\\':
			plain = false
			j++
			if j >= len(b) {
				return j, false, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) || !isHex(b[j+1]) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) {
					return j, false, false
				}
				j += 4
			default:
				return j, false, false
			}
		case c < 0x20:
			return j, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return len(b), false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Number scans the JSON number that starts at b[i] and returns the index
// just past it; ok is false when there is no valid number there.
func Number(b []byte, i int) (end int, ok bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return j, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return j, false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return j, false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Literal scans true, false or null at b[i].
func Literal(b []byte, i int) (end int, ok bool) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return i, false
}

// Value scans the JSON value that starts at b[i] (no leading whitespace)
// and returns the index just past it. ok is false when the text is not
// valid JSON or nests deeper than MaxDepth.
func Value(b []byte, i int) (end int, ok bool) {
	return value(b, i, 0)
}

func value(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := String(b, i)
		return end, ok
	case c == '{':
		if depth >= MaxDepth {
			return i, false
		}
		return Object(b, i, func(b []byte, keyStart, keyEnd, valStart int) (int, bool) {
			return value(b, valStart, depth+1)
		})
	case c == '[':
		if depth >= MaxDepth {
			return i, false
		}
		return Array(b, i, func(b []byte, valStart int) (int, bool) {
			return value(b, valStart, depth+1)
		})
	case c == '-' || isDigit(c):
		return Number(b, i)
	default:
		return Literal(b, i)
	}
}

// Object scans the object that starts with '{' at b[i], calling member for
// each member with the bounds of its key (the quoted text, quotes included)
// and the start of its value; member scans the value and returns the index
// just past it. Object returns the index just past the closing brace.
func Object(b []byte, i int, member func(b []byte, keyStart, keyEnd, valStart int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		keyEnd, _, ok := String(b, i)
		if !ok {
			return keyEnd, false
		}
		j := SkipSpace(b, keyEnd)
		if j >= len(b) || b[j] != ':' {
			return j, false
		}
		j = SkipSpace(b, j+1)
		end, ok := member(b, i, keyEnd, j)
		if !ok {
			return end, false
		}
		var more bool
		if i, more, ok = afterItem(b, end, '}'); !more {
			return i, ok
		}
	}
}

// Array scans the array that starts with '[' at b[i], calling elem with
// the start of each element; elem scans it and returns the index just past
// it. Array returns the index just past the closing bracket.
func Array(b []byte, i int, elem func(b []byte, valStart int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return i, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		end, ok := elem(b, i)
		if !ok {
			return end, false
		}
		var more bool
		if i, more, ok = afterItem(b, end, ']'); !more {
			return i, ok
		}
	}
}

// afterItem reads what follows a member or element ending at b[i]: a comma
// (more=true, i at the next item) or the closing byte (more=false, ok=true,
// i just past it); anything else is an error (more=false, ok=false).
func afterItem(b []byte, i int, closing byte) (next int, more, ok bool) {
	i = SkipSpace(b, i)
	switch {
	case i >= len(b):
		return i, false, false
	case b[i] == ',':
		return SkipSpace(b, i+1), true, true
	case b[i] == closing:
		return i + 1, false, true
	}
	return i, false, false
}
