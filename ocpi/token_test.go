package ocpi

import (
	"encoding/base64"
	"slices"
	"testing"
)

func TestAuthorizationHeaderEncodesOrNot(t *testing.T) {
	if got := AuthorizationHeader("example-token", false); got != "Token ZXhhbXBsZS10b2tlbg==" {
		t.Errorf("base64 header = %q", got)
	}
	if got := AuthorizationHeader("example-token", true); got != "Token example-token" {
		t.Errorf("raw header = %q", got)
	}
}

func TestTokenCandidates(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name   string
		header string
		want   []string
		ok     bool
	}{
		{"base64 token", "Token " + b64("abc-123"), []string{"abc-123", b64("abc-123")}, true},
		{"raw token outside the base64 alphabet", "Token abc-123", []string{"abc-123"}, true},
		// "AAAA" is valid base64 of three zero bytes: not a token, so only
		// the raw value is a candidate.
		{"raw token that is base64 of binary", "Token AAAA", []string{"AAAA"}, true},
		// "dGVzdA==" decodes to "test": both are tried, decoded first.
		{"raw token that is base64 of printable", "Token dGVzdA==", []string{"test", "dGVzdA=="}, true},
		// The spec's own example encodes a trailing newline.
		{"spec example with newline", "Token ZXhhbXBsZS10b2tlbgo=", []string{"example-token", "ZXhhbXBsZS10b2tlbgo="}, true},
		{"scheme case-insensitive", "token " + b64("abc"), []string{"abc", b64("abc")}, true},
		{"extra spaces", "  Token   abc-123  ", []string{"abc-123"}, true},
		{"missing scheme", "abc-123", nil, false},
		{"other scheme", "Bearer abc-123", nil, false},
		{"scheme only", "Token", nil, false},
		{"scheme and space", "Token ", nil, false},
		{"empty", "", nil, false},
	} {
		got, ok := TokenCandidates(tc.header)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: TokenCandidates(%q) = %q %v, want %q %v", tc.name, tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTokenCandidatesFindsWhatTheClientSends(t *testing.T) {
	for _, token := range []string{"abc-123", NewToken(), "AAAA", "x"} {
		for _, raw := range []bool{false, true} {
			got, ok := TokenCandidates(AuthorizationHeader(token, raw))
			if !ok || !slices.Contains(got, token) {
				t.Errorf("token %q raw=%v: candidates %q do not contain it", token, raw, got)
			}
		}
	}
}

func TestValidToken(t *testing.T) {
	long := make([]byte, 65)
	for i := range long {
		long[i] = 'a'
	}
	for s, want := range map[string]bool{
		"abc": true, string(long[:64]): true, string(long): false, "": false,
		"a b": false, "a\tb": false, "ü": false, "a\n": false,
	} {
		if ValidToken(s) != want {
			t.Errorf("ValidToken(%q) = %v", s, !want)
		}
	}
}

func TestNewTokenIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok := NewToken()
		if !ValidToken(tok) || len(tok) != 43 {
			t.Fatalf("NewToken() = %q, not a valid 43-character token", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}
