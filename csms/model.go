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
	StationID string `json:"station_id"`
	EVSE      int    `json:"evse"`
	Connector int    `json:"connector"`
	// Status is the version-neutral status: Available, Occupied, Reserved,
	// Unavailable, Faulted (1.6's Preparing, Charging, SuspendedEV,
	// SuspendedEVSE and Finishing count as Occupied; Raw keeps the original).
	Status    string    `json:"status"`
	Raw       string    `json:"raw"`                  // the status as the station sent it
	ErrorCode string    `json:"error_code,omitempty"` // 1.6 only; "NoError" when there is none
	Info      string    `json:"info,omitempty"`
	Timestamp time.Time `json:"timestamp"` // the station's time
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
	ID        int64  `json:"id"`
	StationID string `json:"station_id"`
	// StationTxID is the transaction id on the wire: the station's own in
	// 2.0.1, the decimal form of ID in 1.6.
	StationTxID string            `json:"station_tx_id"`
	EVSE        int               `json:"evse"`
	Connector   int               `json:"connector"`
	IDToken     string            `json:"id_token"`
	Status      TransactionStatus `json:"status"`
	StartedAt   time.Time         `json:"started_at"`
	StoppedAt   *time.Time        `json:"stopped_at,omitempty"`
	// MeterStartWh and MeterStopWh are register readings; EnergyWh is
	// their difference (or the best the meter values tell).
	MeterStartWh float64  `json:"meter_start_wh"`
	MeterStopWh  *float64 `json:"meter_stop_wh,omitempty"`
	EnergyWh     float64  `json:"energy_wh"`
	StopReason   string   `json:"stop_reason,omitempty"`
	// LastSeqNo is the highest 2.0.1 seqNo applied; -1 for none (and in 1.6).
	LastSeqNo int       `json:"last_seq_no"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Duration is how long a finished transaction lasted, from its start to
// its stop; ok is false while it is active.
func (t Transaction) Duration() (d time.Duration, ok bool) {
	if t.Status != TransactionFinished || t.StoppedAt == nil {
		return 0, false
	}
	return t.StoppedAt.Sub(t.StartedAt), true
}

// TransactionEvent is one message about a transaction as it arrived (2.0.1
// TransactionEvent, or 1.6 StartTransaction/StopTransaction mapped to
// Started/Ended), kept so that replays can be recognised and events placed
// by seqNo and time.
type TransactionEvent struct {
	TransactionID int64           `json:"transaction_id"`
	EventType     string          `json:"event_type"` // Started, Updated, Ended
	SeqNo         int             `json:"seq_no"`     // 2.0.1 seqNo; 1.6: 0 for the start, Unix ms for meter values, 1<<62 for the stop
	Timestamp     time.Time       `json:"timestamp"`
	TriggerReason string          `json:"trigger_reason,omitempty"`
	Offline       bool            `json:"offline"`
	Raw           json.RawMessage `json:"raw"`
}

// MeterValue is one sampled value, normalised: Wh for energy, W for power,
// A for current, V for voltage (other units are kept as they came), with the
// reading exactly as sent kept beside it.
type MeterValue struct {
	StationID     string    `json:"station_id"`
	TransactionID *int64    `json:"transaction_id,omitempty"` // nil for values outside a transaction
	EVSE          int       `json:"evse"`
	Timestamp     time.Time `json:"timestamp"`
	Measurand     string    `json:"measurand"` // default Energy.Active.Import.Register
	Phase         string    `json:"phase,omitempty"`
	Context       string    `json:"context"`  // default Sample.Periodic
	Location      string    `json:"location"` // default Outlet
	Value         float64   `json:"value"`
	Unit          string    `json:"unit,omitempty"`
	RawValue      string    `json:"raw_value"`
	RawUnit       string    `json:"raw_unit,omitempty"`
}

// StationEvent is a notice a station sent that the CSMS logs: NotifyEvent,
// SecurityEventNotification, DataTransfer and the like.
type StationEvent struct {
	ID        int64           `json:"id"`
	StationID string          `json:"station_id"`
	Kind      string          `json:"kind"` // the OCPP action
	Timestamp time.Time       `json:"timestamp"`
	Payload   json.RawMessage `json:"payload"`
}
