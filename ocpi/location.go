package ocpi

import "strings"

// Location is a charging location (mod_locations.asciidoc): one or more
// EVSEs at one address, owned by a CPO. Optional fields are omitted from
// JSON when unset; lists with cardinality * are omitted when empty.
//
// EVSEs are never deleted: a removed EVSE gets status REMOVED, and a
// Location without a valid EVSE has expired.
type Location struct {
	CountryCode string `json:"country_code"`
	PartyID     string `json:"party_id"`
	ID          string `json:"id"`
	Publish     bool   `json:"publish"`
	// PublishAllowedTo may only be set when Publish is false.
	PublishAllowedTo   []PublishTokenType      `json:"publish_allowed_to,omitempty"`
	Name               string                  `json:"name,omitempty"`
	Address            string                  `json:"address"`
	City               string                  `json:"city"`
	PostalCode         string                  `json:"postal_code,omitempty"`
	State              string                  `json:"state,omitempty"`
	Country            string                  `json:"country"`
	Coordinates        GeoLocation             `json:"coordinates"`
	RelatedLocations   []AdditionalGeoLocation `json:"related_locations,omitempty"`
	ParkingType        ParkingType             `json:"parking_type,omitempty"`
	EVSEs              []EVSE                  `json:"evses,omitempty"`
	Directions         []DisplayText           `json:"directions,omitempty"`
	Operator           *BusinessDetails        `json:"operator,omitempty"`
	Suboperator        *BusinessDetails        `json:"suboperator,omitempty"`
	Owner              *BusinessDetails        `json:"owner,omitempty"`
	Facilities         []Facility              `json:"facilities,omitempty"`
	TimeZone           string                  `json:"time_zone"`
	OpeningTimes       *Hours                  `json:"opening_times,omitempty"`
	ChargingWhenClosed *bool                   `json:"charging_when_closed,omitempty"`
	Images             []Image                 `json:"images,omitempty"`
	EnergyMix          *EnergyMix              `json:"energy_mix,omitempty"`
	// LastUpdated is when the Location or one of its EVSEs or Connectors
	// last changed.
	LastUpdated DateTime `json:"last_updated"`
}

// Party returns the Location's owner.
func (l Location) Party() PartyID { return PartyID{CountryCode: l.CountryCode, PartyID: l.PartyID} }

// EVSE is one charge point socket group: the unit that has a status and
// starts sessions. UID is the CPO's immutable technical id, not the
// hardware id (that is EVSEID).
type EVSE struct {
	UID                 string               `json:"uid"`
	EVSEID              string               `json:"evse_id,omitempty"`
	Status              Status               `json:"status"`
	StatusSchedule      []StatusSchedule     `json:"status_schedule,omitempty"`
	Capabilities        []Capability         `json:"capabilities,omitempty"`
	Connectors          []Connector          `json:"connectors"`
	FloorLevel          string               `json:"floor_level,omitempty"`
	Coordinates         *GeoLocation         `json:"coordinates,omitempty"`
	PhysicalReference   string               `json:"physical_reference,omitempty"`
	Directions          []DisplayText        `json:"directions,omitempty"`
	ParkingRestrictions []ParkingRestriction `json:"parking_restrictions,omitempty"`
	Images              []Image              `json:"images,omitempty"`
	// LastUpdated is when the EVSE or one of its Connectors last changed.
	LastUpdated DateTime `json:"last_updated"`
}

// Connector is one plug or socket of an EVSE. Its ID is unique within the
// EVSE only.
type Connector struct {
	ID          string          `json:"id"`
	Standard    ConnectorType   `json:"standard"`
	Format      ConnectorFormat `json:"format"`
	PowerType   PowerType       `json:"power_type"`
	MaxVoltage  int             `json:"max_voltage"`
	MaxAmperage int             `json:"max_amperage"`
	// MaxElectricPower (W) is set when the power is lower than voltage ×
	// amperage suggests.
	MaxElectricPower   *int     `json:"max_electric_power,omitempty"`
	TariffIDs          []string `json:"tariff_ids,omitempty"`
	TermsAndConditions string   `json:"terms_and_conditions,omitempty"`
	LastUpdated        DateTime `json:"last_updated"`
}

// VisibleTo reports whether an eMSP or NSP may show the Location to the
// owner of token (described by whatever the user provided of it): always
// when Publish is true, otherwise only when every field set in one entry
// of PublishAllowedTo equals token's (uid and group_id compared
// case-insensitively, as CiStrings). An entry that sets none of uid,
// visual_number and group_id matches no one. Receivers store unpublished
// locations like the others; this is the rule for showing them.
func (l Location) VisibleTo(token PublishTokenType) bool {
	if l.Publish {
		return true
	}
	for _, a := range l.PublishAllowedTo {
		if a.UID == "" && a.VisualNumber == "" && a.GroupID == "" {
			continue
		}
		if (a.UID == "" || strings.EqualFold(a.UID, token.UID)) &&
			(a.Type == "" || a.Type == token.Type) &&
			(a.VisualNumber == "" || a.VisualNumber == token.VisualNumber) &&
			(a.Issuer == "" || a.Issuer == token.Issuer) &&
			(a.GroupID == "" || strings.EqualFold(a.GroupID, token.GroupID)) {
			return true
		}
	}
	return false
}

// EVSE returns the EVSE with the given uid, compared case-insensitively
// (uid is a CiString). The pointer aliases l.EVSEs: changes through it
// change the Location.
func (l *Location) EVSE(uid string) (*EVSE, bool) {
	for i := range l.EVSEs {
		if strings.EqualFold(l.EVSEs[i].UID, uid) {
			return &l.EVSEs[i], true
		}
	}
	return nil, false
}

// PutEVSE adds e or replaces the EVSE with the same uid, and moves the
// Location's last_updated to e's when e's is newer, as a receiver must when
// a child changes. EVSEs are never deleted; to remove one, put it with
// status REMOVED.
func (l *Location) PutEVSE(e EVSE) {
	if old, ok := l.EVSE(e.UID); ok {
		*old = e
	} else {
		l.EVSEs = append(l.EVSEs, e)
	}
	l.bump(e.LastUpdated)
}

// PutConnector adds c to the EVSE evseUID or replaces the connector with the
// same id, and moves the EVSE's and the Location's last_updated to c's when
// c's is newer. It fails with a 2001 *Error when the EVSE does not exist:
// the sender must PUT the EVSE first.
func (l *Location) PutConnector(evseUID string, c Connector) error {
	e, ok := l.EVSE(evseUID)
	if !ok {
		return InvalidParams("evse_uid: %q not found in location %q: PUT the EVSE before its connectors", evseUID, l.ID)
	}
	if old, ok := e.Connector(c.ID); ok {
		*old = c
	} else {
		e.Connectors = append(e.Connectors, c)
	}
	if c.LastUpdated.After(e.LastUpdated.Time) {
		e.LastUpdated = c.LastUpdated
	}
	l.bump(c.LastUpdated)
	return nil
}

func (l *Location) bump(t DateTime) {
	if t.After(l.LastUpdated.Time) {
		l.LastUpdated = t
	}
}

// Connector returns the connector with the given id, compared
// case-insensitively. The pointer aliases e.Connectors.
func (e *EVSE) Connector(id string) (*Connector, bool) {
	for i := range e.Connectors {
		if strings.EqualFold(e.Connectors[i].ID, id) {
			return &e.Connectors[i], true
		}
	}
	return nil, false
}

// Status is the status of an EVSE or Connector.
type Status string

// The statuses of 2.2.1.
const (
	StatusAvailable   Status = "AVAILABLE"
	StatusBlocked     Status = "BLOCKED"
	StatusCharging    Status = "CHARGING"
	StatusInoperative Status = "INOPERATIVE"
	StatusOutOfOrder  Status = "OUTOFORDER"
	StatusPlanned     Status = "PLANNED"
	StatusRemoved     Status = "REMOVED"
	StatusReserved    Status = "RESERVED"
	StatusUnknown     Status = "UNKNOWN"
)

// Valid reports whether s is a 2.2.1 Status.
func (s Status) Valid() bool {
	switch s {
	case StatusAvailable, StatusBlocked, StatusCharging, StatusInoperative, StatusOutOfOrder,
		StatusPlanned, StatusRemoved, StatusReserved, StatusUnknown:
		return true
	}
	return false
}

// Capability is a functionality of an EVSE.
type Capability string

// The capabilities of 2.2.1.
const (
	CapabilityChargingProfileCapable        Capability = "CHARGING_PROFILE_CAPABLE"
	CapabilityChargingPreferencesCapable    Capability = "CHARGING_PREFERENCES_CAPABLE"
	CapabilityChipCardSupport               Capability = "CHIP_CARD_SUPPORT"
	CapabilityContactlessCardSupport        Capability = "CONTACTLESS_CARD_SUPPORT"
	CapabilityCreditCardPayable             Capability = "CREDIT_CARD_PAYABLE"
	CapabilityDebitCardPayable              Capability = "DEBIT_CARD_PAYABLE"
	CapabilityPEDTerminal                   Capability = "PED_TERMINAL"
	CapabilityRemoteStartStopCapable        Capability = "REMOTE_START_STOP_CAPABLE"
	CapabilityReservable                    Capability = "RESERVABLE"
	CapabilityRFIDReader                    Capability = "RFID_READER"
	CapabilityStartSessionConnectorRequired Capability = "START_SESSION_CONNECTOR_REQUIRED"
	CapabilityTokenGroupCapable             Capability = "TOKEN_GROUP_CAPABLE"
	CapabilityUnlockCapable                 Capability = "UNLOCK_CAPABLE"
)

// Valid reports whether c is a 2.2.1 Capability.
func (c Capability) Valid() bool {
	switch c {
	case CapabilityChargingProfileCapable, CapabilityChargingPreferencesCapable, CapabilityChipCardSupport,
		CapabilityContactlessCardSupport, CapabilityCreditCardPayable, CapabilityDebitCardPayable,
		CapabilityPEDTerminal, CapabilityRemoteStartStopCapable, CapabilityReservable, CapabilityRFIDReader,
		CapabilityStartSessionConnectorRequired, CapabilityTokenGroupCapable, CapabilityUnlockCapable:
		return true
	}
	return false
}

// ConnectorFormat says whether a connector is a socket or a fixed cable.
type ConnectorFormat string

// The connector formats.
const (
	FormatSocket ConnectorFormat = "SOCKET"
	FormatCable  ConnectorFormat = "CABLE"
)

// Valid reports whether f is SOCKET or CABLE.
func (f ConnectorFormat) Valid() bool { return f == FormatSocket || f == FormatCable }

// ConnectorType is the standard of a connector. Note the mixed case of the
// IEC 60309 values, which the spec defines that way.
type ConnectorType string

// The connector types of 2.2.1.
const (
	ConnectorCHAdeMO            ConnectorType = "CHADEMO"
	ConnectorChaoJi             ConnectorType = "CHAOJI"
	ConnectorDomesticA          ConnectorType = "DOMESTIC_A"
	ConnectorDomesticB          ConnectorType = "DOMESTIC_B"
	ConnectorDomesticC          ConnectorType = "DOMESTIC_C"
	ConnectorDomesticD          ConnectorType = "DOMESTIC_D"
	ConnectorDomesticE          ConnectorType = "DOMESTIC_E"
	ConnectorDomesticF          ConnectorType = "DOMESTIC_F"
	ConnectorDomesticG          ConnectorType = "DOMESTIC_G"
	ConnectorDomesticH          ConnectorType = "DOMESTIC_H"
	ConnectorDomesticI          ConnectorType = "DOMESTIC_I"
	ConnectorDomesticJ          ConnectorType = "DOMESTIC_J"
	ConnectorDomesticK          ConnectorType = "DOMESTIC_K"
	ConnectorDomesticL          ConnectorType = "DOMESTIC_L"
	ConnectorDomesticM          ConnectorType = "DOMESTIC_M"
	ConnectorDomesticN          ConnectorType = "DOMESTIC_N"
	ConnectorDomesticO          ConnectorType = "DOMESTIC_O"
	ConnectorGBTAC              ConnectorType = "GBT_AC"
	ConnectorGBTDC              ConnectorType = "GBT_DC"
	ConnectorIEC603092Single16  ConnectorType = "IEC_60309_2_single_16"
	ConnectorIEC603092Three16   ConnectorType = "IEC_60309_2_three_16"
	ConnectorIEC603092Three32   ConnectorType = "IEC_60309_2_three_32"
	ConnectorIEC603092Three64   ConnectorType = "IEC_60309_2_three_64"
	ConnectorIEC62196T1         ConnectorType = "IEC_62196_T1"
	ConnectorIEC62196T1Combo    ConnectorType = "IEC_62196_T1_COMBO"
	ConnectorIEC62196T2         ConnectorType = "IEC_62196_T2"
	ConnectorIEC62196T2Combo    ConnectorType = "IEC_62196_T2_COMBO"
	ConnectorIEC62196T3A        ConnectorType = "IEC_62196_T3A"
	ConnectorIEC62196T3C        ConnectorType = "IEC_62196_T3C"
	ConnectorNEMA520            ConnectorType = "NEMA_5_20"
	ConnectorNEMA630            ConnectorType = "NEMA_6_30"
	ConnectorNEMA650            ConnectorType = "NEMA_6_50"
	ConnectorNEMA1030           ConnectorType = "NEMA_10_30"
	ConnectorNEMA1050           ConnectorType = "NEMA_10_50"
	ConnectorNEMA1430           ConnectorType = "NEMA_14_30"
	ConnectorNEMA1450           ConnectorType = "NEMA_14_50"
	ConnectorPantographBottomUp ConnectorType = "PANTOGRAPH_BOTTOM_UP"
	ConnectorPantographTopDown  ConnectorType = "PANTOGRAPH_TOP_DOWN"
	ConnectorTeslaR             ConnectorType = "TESLA_R"
	ConnectorTeslaS             ConnectorType = "TESLA_S"
)

// ConnectorTypes lists every 2.2.1 ConnectorType.
var ConnectorTypes = []ConnectorType{
	ConnectorCHAdeMO, ConnectorChaoJi, ConnectorDomesticA, ConnectorDomesticB, ConnectorDomesticC,
	ConnectorDomesticD, ConnectorDomesticE, ConnectorDomesticF, ConnectorDomesticG, ConnectorDomesticH,
	ConnectorDomesticI, ConnectorDomesticJ, ConnectorDomesticK, ConnectorDomesticL, ConnectorDomesticM,
	ConnectorDomesticN, ConnectorDomesticO, ConnectorGBTAC, ConnectorGBTDC, ConnectorIEC603092Single16,
	ConnectorIEC603092Three16, ConnectorIEC603092Three32, ConnectorIEC603092Three64, ConnectorIEC62196T1,
	ConnectorIEC62196T1Combo, ConnectorIEC62196T2, ConnectorIEC62196T2Combo, ConnectorIEC62196T3A,
	ConnectorIEC62196T3C, ConnectorNEMA520, ConnectorNEMA630, ConnectorNEMA650, ConnectorNEMA1030,
	ConnectorNEMA1050, ConnectorNEMA1430, ConnectorNEMA1450, ConnectorPantographBottomUp,
	ConnectorPantographTopDown, ConnectorTeslaR, ConnectorTeslaS,
}

// Valid reports whether t is a 2.2.1 ConnectorType (case-sensitive, as
// enum values are).
func (t ConnectorType) Valid() bool {
	for _, c := range ConnectorTypes {
		if t == c {
			return true
		}
	}
	return false
}

// Facility is a facility a Location belongs to.
type Facility string

// The facilities of 2.2.1.
const (
	FacilityHotel          Facility = "HOTEL"
	FacilityRestaurant     Facility = "RESTAURANT"
	FacilityCafe           Facility = "CAFE"
	FacilityMall           Facility = "MALL"
	FacilitySupermarket    Facility = "SUPERMARKET"
	FacilitySport          Facility = "SPORT"
	FacilityRecreationArea Facility = "RECREATION_AREA"
	FacilityNature         Facility = "NATURE"
	FacilityMuseum         Facility = "MUSEUM"
	FacilityBikeSharing    Facility = "BIKE_SHARING"
	FacilityBusStop        Facility = "BUS_STOP"
	FacilityTaxiStand      Facility = "TAXI_STAND"
	FacilityTramStop       Facility = "TRAM_STOP"
	FacilityMetroStation   Facility = "METRO_STATION"
	FacilityTrainStation   Facility = "TRAIN_STATION"
	FacilityAirport        Facility = "AIRPORT"
	FacilityParkingLot     Facility = "PARKING_LOT"
	FacilityCarpoolParking Facility = "CARPOOL_PARKING"
	FacilityFuelStation    Facility = "FUEL_STATION"
	FacilityWifi           Facility = "WIFI"
)

// Valid reports whether f is a 2.2.1 Facility.
func (f Facility) Valid() bool {
	switch f {
	case FacilityHotel, FacilityRestaurant, FacilityCafe, FacilityMall, FacilitySupermarket, FacilitySport,
		FacilityRecreationArea, FacilityNature, FacilityMuseum, FacilityBikeSharing, FacilityBusStop,
		FacilityTaxiStand, FacilityTramStop, FacilityMetroStation, FacilityTrainStation, FacilityAirport,
		FacilityParkingLot, FacilityCarpoolParking, FacilityFuelStation, FacilityWifi:
		return true
	}
	return false
}

// ParkingRestriction restricts who may park at an EVSE.
type ParkingRestriction string

// The parking restrictions of 2.2.1.
const (
	ParkingEVOnly      ParkingRestriction = "EV_ONLY"
	ParkingPlugged     ParkingRestriction = "PLUGGED"
	ParkingDisabled    ParkingRestriction = "DISABLED"
	ParkingCustomers   ParkingRestriction = "CUSTOMERS"
	ParkingMotorcycles ParkingRestriction = "MOTORCYCLES"
)

// Valid reports whether r is a 2.2.1 ParkingRestriction.
func (r ParkingRestriction) Valid() bool {
	switch r {
	case ParkingEVOnly, ParkingPlugged, ParkingDisabled, ParkingCustomers, ParkingMotorcycles:
		return true
	}
	return false
}

// ParkingType is the general kind of parking at a Location.
type ParkingType string

// The parking types of 2.2.1.
const (
	ParkingAlongMotorway     ParkingType = "ALONG_MOTORWAY"
	ParkingGarage            ParkingType = "PARKING_GARAGE"
	ParkingLot               ParkingType = "PARKING_LOT"
	ParkingOnDriveway        ParkingType = "ON_DRIVEWAY"
	ParkingOnStreet          ParkingType = "ON_STREET"
	ParkingUndergroundGarage ParkingType = "UNDERGROUND_GARAGE"
)

// Valid reports whether t is a 2.2.1 ParkingType.
func (t ParkingType) Valid() bool {
	switch t {
	case ParkingAlongMotorway, ParkingGarage, ParkingLot, ParkingOnDriveway, ParkingOnStreet, ParkingUndergroundGarage:
		return true
	}
	return false
}

// PowerType is the kind of current a connector delivers.
type PowerType string

// The power types of 2.2.1.
const (
	PowerAC1Phase      PowerType = "AC_1_PHASE"
	PowerAC2Phase      PowerType = "AC_2_PHASE"
	PowerAC2PhaseSplit PowerType = "AC_2_PHASE_SPLIT"
	PowerAC3Phase      PowerType = "AC_3_PHASE"
	PowerDC            PowerType = "DC"
)

// Valid reports whether t is a 2.2.1 PowerType.
func (t PowerType) Valid() bool {
	switch t {
	case PowerAC1Phase, PowerAC2Phase, PowerAC2PhaseSplit, PowerAC3Phase, PowerDC:
		return true
	}
	return false
}

// Valid reports whether c is a 2.2.1 ImageCategory.
func (c ImageCategory) Valid() bool {
	switch c {
	case ImageCharger, ImageEntrance, ImageLocation, ImageNetwork, ImageOperator, ImageOther, ImageOwner:
		return true
	}
	return false
}
