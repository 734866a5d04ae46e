package scenario

import (
	"encoding/json"
	"fmt"
	"time"
)

// Scenario is a parsed scenario file: what station to simulate and the steps
// it carries out.
type Scenario struct {
	// Name identifies the scenario in reports; it defaults to the file name.
	Name string
	// Description says what the scenario checks, for humans.
	Description string
	// Station describes the simulated hardware; command-line flags override it.
	Station StationSpec
	// Faults are misbehaviours the station shows for the whole run.
	Faults FaultSpec
	// Steps run in order.
	Steps []Step
}

// StationSpec is the station part of a scenario. Zero fields keep the
// simulator's defaults.
type StationSpec struct {
	Vendor, Model, SerialNumber, FirmwareVersion string
	// EVSEs is the number of EVSEs; Connectors the connectors of each.
	EVSEs, Connectors int
	// MaxPowerW is each EVSE's maximum power.
	MaxPowerW float64
	// MeterInterval is how often a charging EVSE sends meter values.
	MeterInterval time.Duration
	// Measurands sampled in meter values, e.g. Energy.Active.Import.Register.
	Measurands []string
	// IDTokens are the tokens authorize and start pick from when a step
	// names none (picked at random with the run's seed).
	IDTokens []string
	// EV is the simulated vehicle.
	EV EVSpec
	// Speed makes simulated time (energy, state of charge) run this many
	// times faster than the wall clock.
	Speed float64
}

// EVSpec is the simulated electric vehicle.
type EVSpec struct {
	MaxPowerW, CapacityWh, StartSoC float64
}

// FaultSpec lists the faults a station shows for the whole run. Faults that
// happen at one moment (a dropped connection, a malformed frame) are steps.
type FaultSpec struct {
	// ResponseDelay answers the CSMS's CALLs of an action this late.
	ResponseDelay map[string]time.Duration
	// NoResponse lists actions the station never answers.
	NoResponse []string
	// Quirks names vendor quirks the station imitates (see docs/simulator.md).
	Quirks []string
	// SkipValidation turns the station's own schema check off, so that call
	// steps can send schema-invalid payloads on purpose.
	SkipValidation bool
}

// Kind is the type of a step.
type Kind string

// The step kinds.
const (
	KindConnect   Kind = "connect"
	KindBoot      Kind = "boot"
	KindHeartbeat Kind = "heartbeat"
	KindPlug      Kind = "plug"
	KindUnplug    Kind = "unplug"
	KindAuthorize Kind = "authorize"
	KindStart     Kind = "start"
	KindCharge    Kind = "charge"
	KindStop      Kind = "stop"
	KindCall      Kind = "call"
	KindRaw       Kind = "raw"
	KindDrop      Kind = "drop"
	KindWait      Kind = "wait"
	KindIdle      Kind = "idle"
	KindRepeat    Kind = "repeat"
)

// Step is one thing the station does. Which fields matter depends on Kind;
// Parse rejects fields a kind does not have.
type Step struct {
	Kind Kind
	// Num is the step's position for messages: "3", or "4.2" for the second
	// step inside step 4 (a repeat).
	Num string
	// Line is the step's line in the scenario file (0 when unknown).
	Line int

	EVSE    int    // plug, unplug, start, charge, stop; default 1
	IDToken string // authorize, start
	Reason  string // boot (BootReason), stop (stop reason)
	// For is how long charge, idle and repeat last; 0 for idle and repeat
	// means until the run is stopped.
	For time.Duration
	// Wait is the pause of a wait step.
	Wait WaitSpec
	// Times bounds a repeat (0: no bound besides For).
	Times int
	// Steps are the steps a repeat repeats.
	Steps []Step
	// Action and Payload are a call step's CALL.
	Action  string
	Payload json.RawMessage
	// Expect is a JSON object the answer must contain (see Match); for boot
	// and authorize it is matched against {"status": ..., "interval": ...}.
	Expect json.RawMessage
	// ExpectError is the CALLERROR code the step must get instead of an
	// answer (e.g. NotSupported).
	ExpectError string
	// Frame is the text a raw step sends as is.
	Frame string
	// ExpectClosed says the server must close the connection after a raw
	// frame (within the step's timeout, default 5 s).
	ExpectClosed bool
	// OfflineFor is how long a drop step stays disconnected.
	OfflineFor time.Duration
	// Timeout bounds a step that waits for the server (default 30 s).
	Timeout time.Duration
}

// String names the step for messages: `step 3 (authorize)`.
func (s *Step) String() string { return fmt.Sprintf("step %s (%s)", s.Num, s.Kind) }

// WaitSpec is a pause: fixed (Min == Max), random between Min and Max, or the
// heartbeat interval the server gave at boot.
type WaitSpec struct {
	Min, Max time.Duration
	// Interval waits the server's heartbeat interval instead.
	Interval bool
}
