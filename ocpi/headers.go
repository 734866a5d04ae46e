package ocpi

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
)

// The OCPI request headers (transport_and_format.asciidoc).
const (
	HeaderRequestID       = "X-Request-ID"
	HeaderCorrelationID   = "X-Correlation-ID"
	HeaderFromCountryCode = "OCPI-from-country-code"
	HeaderFromPartyID     = "OCPI-from-party-id"
	HeaderToCountryCode   = "OCPI-to-country-code"
	HeaderToPartyID       = "OCPI-to-party-id"
	HeaderTotalCount      = "X-Total-Count"
	HeaderLimit           = "X-Limit"
)

// NewRequestID returns a random UUID (version 4), the form the official
// OpenAPI document declares for X-Request-ID and X-Correlation-ID.
func NewRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("ocpi: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// SetRoutingHeaders sets the OCPI-from/OCPI-to headers; a zero party is
// left out (open routing).
func SetRoutingHeaders(h http.Header, from, to PartyID) {
	if !from.IsZero() {
		h.Set(HeaderFromCountryCode, from.CountryCode)
		h.Set(HeaderFromPartyID, from.PartyID)
	}
	if !to.IsZero() {
		h.Set(HeaderToCountryCode, to.CountryCode)
		h.Set(HeaderToPartyID, to.PartyID)
	}
}

// RoutingHeaders reads the OCPI-from/OCPI-to headers. A pair that is absent
// gives the zero PartyID; a pair that is half present or malformed is an
// error naming the header.
func RoutingHeaders(h http.Header) (from, to PartyID, err error) {
	if from, err = routingPair(h, HeaderFromCountryCode, HeaderFromPartyID); err != nil {
		return
	}
	to, err = routingPair(h, HeaderToCountryCode, HeaderToPartyID)
	return
}

func routingPair(h http.Header, ccName, pidName string) (PartyID, error) {
	p := PartyID{CountryCode: strings.TrimSpace(h.Get(ccName)), PartyID: strings.TrimSpace(h.Get(pidName))}
	switch {
	case p.IsZero():
		return PartyID{}, nil
	case p.CountryCode == "":
		return PartyID{}, fmt.Errorf("header %s is missing (%s is set)", ccName, pidName)
	case p.PartyID == "":
		return PartyID{}, fmt.Errorf("header %s is missing (%s is set)", pidName, ccName)
	case !p.Valid():
		return PartyID{}, fmt.Errorf("headers %s/%s: %q is not a country code (2 letters) and party id (3 characters)", ccName, pidName, p.String())
	}
	return p, nil
}
