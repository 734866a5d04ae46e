package ocpi

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// AuthorizationHeader is the Authorization value for a credentials token:
// "Token " and the token in base64 as 2.2.1 requires, or the raw token for
// peers that still expect what 2.1.1 and 2.2 sent.
func AuthorizationHeader(token string, raw bool) string {
	if raw {
		return "Token " + token
	}
	return "Token " + base64.StdEncoding.EncodeToString([]byte(token))
}

// TokenCandidates returns the tokens an Authorization header may carry, best
// guess first: the base64-decoded value (less a trailing newline) when it
// decodes to printable ASCII, then the raw value. The second result reports
// whether the header has the "Token " scheme at all. A server looks the
// candidates up in order; a raw token that happens to be valid base64 of
// something else is still found by its second candidate.
func TokenCandidates(header string) (candidates []string, ok bool) {
	scheme, value, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Token") {
		return nil, false
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, false
	}
	if b, err := base64.StdEncoding.DecodeString(value); err == nil {
		// The spec's own example (ZXhhbXBsZS10b2tlbgo=) encodes a trailing
		// newline, as `echo token | base64` does; peers copy it.
		if d := strings.TrimRight(string(b), "\r\n"); printableToken(d) {
			candidates = append(candidates, d)
		}
	}
	return append(candidates, value), true
}

// printableToken reports whether s is a valid credentials token:
// 1 to 64 printable non-whitespace ASCII characters.
func printableToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidToken reports whether s can be a credentials token (string(64) of
// printable, non-whitespace ASCII).
func ValidToken(s string) bool { return printableToken(s) }

// NewToken returns a fresh random credentials token (43 URL-safe characters,
// 256 bits).
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("ocpi: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
