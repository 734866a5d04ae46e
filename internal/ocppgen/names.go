package ocppgen

import (
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"
)

// initialisms spells these words in upper case, as Go names do (idTag →
// IDTag, responderURL → ResponderURL). "evse" stays Evse (evseId → EvseID).
var initialisms = map[string]string{
	"ac": "AC", "apn": "APN", "csr": "CSR", "dc": "DC", "der": "DER",
	"ev": "EV", "http": "HTTP", "id": "ID", "ids": "IDs", "ip": "IP",
	"iso": "ISO", "json": "JSON", "ocpp": "OCPP", "ocsp": "OCSP",
	"tls": "TLS", "uri": "URI", "url": "URL", "urls": "URLs", "vpn": "VPN",
}

// goName turns a camelCase or PascalCase JSON name into an exported Go name:
// idTag → IDTag, evseId → EvseID, v2xBaseline → V2XBaseline,
// limit_L2 → LimitL2.
func goName(s string) string {
	var b strings.Builder
	for _, w := range splitWords(s) {
		if init, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(init)
			continue
		}
		r, size := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[size:])
	}
	return b.String()
}

// splitWords splits a name at case changes, digits and punctuation:
// "prioritizedEMAIDs" → prioritized EMAI Ds, "OCSPRequestData" → OCSP
// Request Data, "iso15118Schema" → iso 15118 Schema.
func splitWords(s string) []string {
	runes := []rune(s)
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, string(runes[start:end]))
		}
		start = -1
	}
	for i, r := range runes {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := runes[i-1]
		switch {
		case unicode.IsDigit(r) != unicode.IsDigit(prev):
			flush(i) // letters|digits
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush(i) // camel|Case
		case unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(runes) && unicode.IsLower(runes[i+1]):
			flush(i) // OCSP|Request
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(runes))
	return words
}

// defTypeName names the Go type of a definition: IdTokenType → IDToken,
// IdTokenEnumType → IDTokenEnum, AuthorizationData → AuthorizationData.
func defTypeName(def string) string {
	if base, ok := strings.CutSuffix(def, "Type"); ok && base != "" {
		def = base
	}
	return goName(def)
}

// enumValueName turns an enum value into the tail of a constant name. Each
// run of letters and digits starts with a capital; punctuation is dropped,
// except that an underscore keeps two numbers apart:
// "Power.Active.Import" → PowerActiveImport, "eMAID" → EMAID,
// "L1-N" → L1N, "s309-1P-16A" → S309_1P16A.
func enumValueName(v string) string {
	var b strings.Builder
	for _, seg := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		first, size := utf8.DecodeRuneInString(seg)
		if last, _ := utf8.DecodeLastRuneInString(b.String()); b.Len() > 0 && unicode.IsDigit(last) && unicode.IsDigit(first) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(first))
		b.WriteString(seg[size:])
	}
	if b.Len() == 0 {
		return "Empty"
	}
	return b.String()
}

// singular turns the name of an array property into the name of one
// element: chargingProfiles → chargingProfile, entries → entry.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && !strings.HasSuffix(s, "us") && !strings.HasSuffix(s, "is") && len(s) > 1:
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// isIdent reports whether s is a Go identifier and not a keyword.
func isIdent(s string) bool { return token.IsIdentifier(s) }

// schemaVar names the package variable holding the schema.Node of a type.
func schemaVar(typeName string) string { return "schema" + typeName }
