package ocpi

import "testing"

func TestJoinURLPutsExactlyOneSlash(t *testing.T) {
	for _, tc := range []struct {
		base string
		segs []string
		want string
	}{
		// The spec's {tokens_endpoint_url}{token_uid}/authorize, with and
		// without a trailing slash on the endpoint.
		{"https://emsp/ocpi/2.2.1/tokens", []string{"012345678", "authorize"}, "https://emsp/ocpi/2.2.1/tokens/012345678/authorize"},
		{"https://emsp/ocpi/2.2.1/tokens/", []string{"012345678", "authorize"}, "https://emsp/ocpi/2.2.1/tokens/012345678/authorize"},
		{"https://emsp/ocpi/2.2.1/tokens//", []string{"012345678"}, "https://emsp/ocpi/2.2.1/tokens/012345678"},
		{"https://cpo/locations", nil, "https://cpo/locations"},
		{"https://cpo/locations/", []string{""}, "https://cpo/locations"},
		// Segments are escaped, so an id with a slash stays one segment.
		{"https://cpo/locations", []string{"NL", "CPO", "LOC 1/a?b#c"}, "https://cpo/locations/NL/CPO/LOC%201%2Fa%3Fb%23c"},
		// A query in the base stays after the path.
		{"https://emsp/tokens/?type=RFID", []string{"abc", "authorize"}, "https://emsp/tokens/abc/authorize?type=RFID"},
	} {
		if got := JoinURL(tc.base, tc.segs...); got != tc.want {
			t.Errorf("JoinURL(%q, %q) = %q, want %q", tc.base, tc.segs, got, tc.want)
		}
	}
}
