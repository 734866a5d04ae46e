package ocpi

import (
	"fmt"
	"strings"
)

// PartyID names an OCPI party: an ISO 3166-1 alpha-2 country code and a
// three-character party id (both CiStrings). The zero value is "no party".
type PartyID struct {
	CountryCode string `json:"country_code"`
	PartyID     string `json:"party_id"`
}

// ParsePartyID parses "ES-CPO" (or "ESCPO").
func ParsePartyID(s string) (PartyID, error) {
	s = strings.TrimSpace(s)
	cc, pid, ok := strings.Cut(s, "-")
	if !ok && len(s) == 5 {
		cc, pid, ok = s[:2], s[2:], true
	}
	p := PartyID{CountryCode: strings.ToUpper(cc), PartyID: strings.ToUpper(pid)}
	if !ok || !p.Valid() {
		return PartyID{}, fmt.Errorf("party %q: want COUNTRY-PARTY, e.g. NL-ABC (2 letters, 3 characters)", s)
	}
	return p, nil
}

// Valid reports whether the country code has 2 letters and the party id 3
// printable characters.
func (p PartyID) Valid() bool {
	if len(p.CountryCode) != 2 || len(p.PartyID) != 3 {
		return false
	}
	for _, c := range p.CountryCode {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	for _, c := range p.PartyID {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// Is compares two parties case-insensitively, as CiStrings are compared.
func (p PartyID) Is(q PartyID) bool {
	return strings.EqualFold(p.CountryCode, q.CountryCode) && strings.EqualFold(p.PartyID, q.PartyID)
}

// Key is the normalised (upper-case) form used for storage and map keys.
func (p PartyID) Key() PartyID {
	return PartyID{CountryCode: strings.ToUpper(p.CountryCode), PartyID: strings.ToUpper(p.PartyID)}
}

// IsZero reports whether p is the zero value.
func (p PartyID) IsZero() bool { return p.CountryCode == "" && p.PartyID == "" }

// String is the party as COUNTRY-PARTY, e.g. NL-CPA.
func (p PartyID) String() string { return p.CountryCode + "-" + p.PartyID }

// Role is a party's role in OCPI.
type Role string

// The roles of 2.2.1 (types.asciidoc).
const (
	RoleCPO   Role = "CPO"
	RoleEMSP  Role = "EMSP"
	RoleHub   Role = "HUB"
	RoleNAP   Role = "NAP"
	RoleNSP   Role = "NSP"
	RoleOther Role = "OTHER"
	RoleSCSP  Role = "SCSP"
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool {
	switch r {
	case RoleCPO, RoleEMSP, RoleHub, RoleNAP, RoleNSP, RoleOther, RoleSCSP:
		return true
	}
	return false
}

// ModuleID identifies a module in version details.
type ModuleID string

// The modules of 2.2.1. "versions" is not a module.
const (
	ModuleCDRs             ModuleID = "cdrs"
	ModuleChargingProfiles ModuleID = "chargingprofiles"
	ModuleCommands         ModuleID = "commands"
	ModuleCredentials      ModuleID = "credentials"
	ModuleHubClientInfo    ModuleID = "hubclientinfo"
	ModuleLocations        ModuleID = "locations"
	ModuleSessions         ModuleID = "sessions"
	ModuleTariffs          ModuleID = "tariffs"
	ModuleTokens           ModuleID = "tokens"
)

// Functional reports whether requests to the module carry the OCPI-from/to
// routing headers (all modules but credentials and hubclientinfo).
func (m ModuleID) Functional() bool {
	return m != ModuleCredentials && m != ModuleHubClientInfo && m != ""
}

// InterfaceRole says which side of a module an endpoint implements.
type InterfaceRole string

// The interface roles.
const (
	Sender   InterfaceRole = "SENDER"
	Receiver InterfaceRole = "RECEIVER"
)

// VersionNumber is an OCPI version.
type VersionNumber string

// The version numbers; this package implements 2.2.1.
const (
	Version20  VersionNumber = "2.0"
	Version21  VersionNumber = "2.1"
	Version211 VersionNumber = "2.1.1"
	Version22  VersionNumber = "2.2"
	Version221 VersionNumber = "2.2.1"
)
