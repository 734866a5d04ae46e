package ocpi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestNewRequestIDIsUniqueV4UUID(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewRequestID()
		if !v4.MatchString(id) {
			t.Fatalf("NewRequestID() = %q, not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestRoutingHeadersRoundTrip(t *testing.T) {
	h := http.Header{}
	SetRoutingHeaders(h, PartyID{"NL", "EMS"}, PartyID{"DE", "CPO"})
	from, to, err := RoutingHeaders(h)
	if err != nil || from != (PartyID{"NL", "EMS"}) || to != (PartyID{"DE", "CPO"}) {
		t.Fatalf("from %v to %v err %v", from, to, err)
	}
	// Open routing: no to, and nothing written for it.
	h = http.Header{}
	SetRoutingHeaders(h, PartyID{"NL", "EMS"}, PartyID{})
	if h.Get(HeaderToCountryCode) != "" || h.Get(HeaderToPartyID) != "" {
		t.Fatalf("zero to party written: %v", h)
	}
	from, to, err = RoutingHeaders(h)
	if err != nil || from != (PartyID{"NL", "EMS"}) || !to.IsZero() {
		t.Fatalf("from %v to %v err %v", from, to, err)
	}
	// Header names are case-insensitive on the wire.
	h = http.Header{}
	h.Set("ocpi-from-country-code", "nl")
	h.Set("OCPI-FROM-PARTY-ID", "ems")
	if from, _, err = RoutingHeaders(h); err != nil || !from.Is(PartyID{"NL", "EMS"}) {
		t.Fatalf("lower-case headers: %v %v", from, err)
	}
}

func TestRoutingHeadersErrorsNameTheHeader(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		name string
	}{
		{map[string]string{HeaderFromPartyID: "EMS"}, HeaderFromCountryCode},
		{map[string]string{HeaderFromCountryCode: "NL"}, HeaderFromPartyID},
		{map[string]string{HeaderToPartyID: "CPO"}, HeaderToCountryCode},
		{map[string]string{HeaderToCountryCode: "DE"}, HeaderToPartyID},
		{map[string]string{HeaderFromCountryCode: "NLD", HeaderFromPartyID: "EMS"}, HeaderFromCountryCode},
		{map[string]string{HeaderToCountryCode: "DE", HeaderToPartyID: "CPOX"}, HeaderToPartyID},
		{map[string]string{HeaderToCountryCode: "1E", HeaderToPartyID: "CPO"}, HeaderToCountryCode},
	} {
		h := http.Header{}
		for k, v := range tc.set {
			h.Set(k, v)
		}
		_, _, err := RoutingHeaders(h)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: err = %v, want one naming %s", tc.set, err, tc.name)
		}
	}
}
