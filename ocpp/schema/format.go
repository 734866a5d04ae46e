package schema

// isDateTime reports whether s is an RFC 3339 date-time:
//
//	YYYY-MM-DD "T" hh:mm:ss [.fraction] ("Z" | ("+"|"-") hh:mm)
//
// T and Z may be lowercase, as RFC 3339 allows. A leap second (ss = 60) is
// accepted only at 23:59 UTC, as in other JSON Schema validators.
func isDateTime(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return false
	}
	year, ok1 := num(s, 0, 4)
	month, ok2 := num(s, 5, 2)
	day, ok3 := num(s, 8, 2)
	hour, ok4 := num(s, 11, 2)
	minute, ok5 := num(s, 14, 2)
	second, ok6 := num(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || second > 60 {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	offset := 0 // minutes east of UTC
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest, 1, 2)
		om, ok2 := num(rest, 4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return false
		}
		offset = oh*60 + om
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return false
	}
	if second == 60 {
		utc := ((hour*60+minute-offset)%1440 + 1440) % 1440
		return utc == 23*60+59
	}
	return true
}

// num parses the n decimal digits of s at i. Callers check that s is long
// enough.
func num(s string, i, n int) (int, bool) {
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isURI reports whether s is an absolute URI by RFC 3986:
// scheme ":" followed only by URI characters (unreserved, reserved or
// percent-encoded), at most one "#", and square brackets only around an IP
// literal host. It checks the character-level grammar, not each component.
func isURI(s string) bool {
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			colon = i
			break
		}
		if !isAlpha(c) && (i == 0 || !(isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	if colon < 1 {
		return false
	}
	rest := s[colon+1:]
	// Brackets may appear only in the authority: "//" host-part up to the
	// next "/", "?" or "#".
	authorityEnd := 0
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		authorityEnd = 2
		for authorityEnd < len(rest) && rest[authorityEnd] != '/' && rest[authorityEnd] != '?' && rest[authorityEnd] != '#' {
			authorityEnd++
		}
	}
	hashes := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~':
		case c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' ||
			c == '*' || c == '+' || c == ',' || c == ';' || c == '=':
		case c == ':' || c == '@' || c == '/' || c == '?':
		case c == '#':
			hashes++
			if hashes > 1 {
				return false
			}
		case c == '[' || c == ']':
			if i >= authorityEnd {
				return false
			}
		case c == '%':
			if i+2 >= len(rest) || !isHex(rest[i+1]) || !isHex(rest[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
