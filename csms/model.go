// Package csms is the charging station management domain: stations, their
// EVSEs and connectors, id tokens, transactions and meter values, in one
// version-neutral model that OCPP 1.6 and 2.0.1 both map onto, and the
// storage contract (Store) that store/sqlite and store/postgres implement.
package csms

import (
	"encoding/json"
	"time"
)

// Registration is a station's boot status as the CSMS decided it.
type Registration string

// Registration values, as OCPP spells them.
const (
	RegistrationAccepted Registration = "Accepted"
	RegistrationPending  Registration = "Pending"
	RegistrationRejected Registration = "Rejected"
)

// Station is a charging station known to the CSMS.
type Station struct {
	ID              string // the OCPP identity
	Vendor          string
	Model           string
	SerialNumber    string
	FirmwareVersion string
	// Protocol is the websocket subprotocol of the last connection, e.g. "ocpp2.0.1".
	Protocol string
	// SecurityProfile is 0 (none), 1 (Basic auth), 2 (TLS + Basic) or 3 (mutual TLS).
	SecurityProfile int
	// PasswordHash is the hashed Basic-auth password; never the password.
	PasswordHash string
	Registration Registration
	Online       bool
	LastSeen     time.Time // zero if never seen
	// FirmwareStatus, DiagnosticsStatus and LogStatus are the last status
	// notifications of those operations.
	FirmwareStatus    string
	DiagnosticsStatus string
	LogStatus         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ConnectorStatus is one StatusNotification: the state of one connector
// (Connector 0 is the whole EVSE, EVSE 0 the whole station in OCPP 1.6).
type ConnectorStatus struct {
	StationID string
	EVSE      int
	Connector int
	// Status is the version-neutral status: Available, Occupied, Reserved,
	// Unavailable, Faulted (1.6's Preparing, Charging, SuspendedEV,
	// SuspendedEVSE and Finishing count as Occupied; Raw keeps the original).
	Status    string
	Raw       string // the status as the station sent it
	ErrorCode string // 1.6 only; "NoError" when there is none
	Info      string
	Timestamp time.Time // the station's time
}

// TokenStatus is the authorization status of an id token.
type TokenStatus string

// TokenStatus values, as OCPP spells them.
const (
	TokenAccepted TokenStatus = "Accepted"
	TokenBlocked  TokenStatus = "Blocked"
	TokenExpired  TokenStatus = "Expired"
	TokenInvalid  TokenStatus = "Invalid"
)

// IDToken is an identifier a driver presents (an RFID card, an app user).
type IDToken struct {
	// ID is the token value; lookups ignore case, as OCPP 2.0.1 requires.
	ID string
	// Type is the OCPP 2.0.1 IdTokenEnum (ISO14443, eMAID, Central, ...);
	// empty for 1.6 idTags.
	Type      string
	Status    TokenStatus
	ExpiresAt *time.Time
	GroupID   string
	// Stations limits the token to these station ids; empty means every station.
	Stations  []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TransactionStatus tells whether a transaction is still running.
type TransactionStatus string

// TransactionStatus values.
const (
	TransactionActive   TransactionStatus = "Active"
	TransactionFinished TransactionStatus = "Finished"
)

// Transaction is one charging session on one EVSE.
type Transaction struct {
	// ID is the CSMS's own number for the transaction; for OCPP 1.6 it is
	// also the transactionId the CSMS issues.
	ID        int64
	StationID string
	// StationTxID is the transaction id on the wire: the station's own in
	// 2.0.1, the decimal form of ID in 1.6.
	StationTxID string
	EVSE        int
	Connector   int
	IDToken     string
	Status      TransactionStatus
	StartedAt   time.Time
	StoppedAt   *time.Time
	// MeterStartWh and MeterStopWh are register readings; EnergyWh is
	// their difference (or the best the meter values tell).
	MeterStartWh float64
	MeterStopWh  *float64
	EnergyWh     float64
	StopReason   string
	// LastSeqNo is the highest 2.0.1 seqNo applied; -1 for none (and in 1.6).
	LastSeqNo int
	UpdatedAt time.Time
}

// TransactionEvent is one message about a transaction as it arrived (2.0.1
// TransactionEvent, or 1.6 StartTransaction/StopTransaction mapped to
// Started/Ended), kept so that replays can be recognised and events placed
// by seqNo and time.
type TransactionEvent struct {
	TransactionID int64
	EventType     string // Started, Updated, Ended
	SeqNo         int    // 2.0.1 seqNo; 1.6: 0 for the start, Unix ms for meter values, 1<<62 for the stop
	Timestamp     time.Time
	TriggerReason string
	Offline       bool
	Raw           json.RawMessage
}

// MeterValue is one sampled value, normalised: Wh for energy, W for power,
// A for current, V for voltage (other units are kept as they came), with the
// reading exactly as sent kept beside it.
type MeterValue struct {
	StationID     string
	TransactionID *int64 // nil for values outside a transaction
	EVSE          int
	Timestamp     time.Time
	Measurand     string // default Energy.Active.Import.Register
	Phase         string
	Context       string // default Sample.Periodic
	Location      string // default Outlet
	Value         float64
	Unit          string
	RawValue      string
	RawUnit       string
}

// StationEvent is a notice a station sent that the CSMS logs: NotifyEvent,
// SecurityEventNotification, DataTransfer and the like.
type StationEvent struct {
	ID        int64
	StationID string
	Kind      string // the OCPP action
	Timestamp time.Time
	Payload   json.RawMessage
}
