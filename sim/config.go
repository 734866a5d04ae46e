package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/openev/openev/ocpp"
)

// Config describes one simulated charging station. The zero value of every
// field but URL and Identity means its default.
type Config struct {
	// URL is the CSMS endpoint without the identity, e.g. ws://127.0.0.1:8080/ocpp.
	URL string
	// Identity is the station identity, appended to URL as the last path segment.
	Identity string
	// Version is the OCPP version spoken: ocpp.V16 or ocpp.V201. Default V201.
	Version ocpp.Version
	// Password is sent as HTTP Basic auth (security profiles 1 and 2).
	Password string
	// Vendor, Model, SerialNumber and FirmwareVersion go into BootNotification.
	// Defaults "openEV", "Sim", the identity and "0.1".
	Vendor, Model, SerialNumber, FirmwareVersion string
	// EVSEs are the station's EVSEs; default one EVSE with one 22 kW connector.
	EVSEs []EVSEConfig
	// MeterInterval is how often meter values are sent during a transaction
	// (default 60s). The server may change it: 1.6 MeterValueSampleInterval,
	// 2.0.1 SampledDataCtrlr.TxUpdatedInterval.
	MeterInterval time.Duration
	// Measurands are the sampled measurands; default
	// Energy.Active.Import.Register and Power.Active.Import. Supported:
	// Energy.Active.Import.Register, Power.Active.Import, Power.Offered,
	// Current.Import, Current.Offered, Voltage, SoC.
	Measurands []string
	// EV is the car that gets plugged in; default 11 kW, 60 kWh, 20 % SoC.
	EV EVConfig
	// IDTokens are presented, in turn, when a scenario names none; default
	// ["SIMTAG01"].
	IDTokens []string
	// Speed is the simulated-time factor of the meter and charging curve
	// (1 = real time, 60 = a minute of charging per second). Default 1.
	// Message timestamps and timers stay in real time.
	Speed float64
	// DataTransferVendors are the vendorIds whose DataTransfer the station
	// answers Accepted; every other gets UnknownVendorId. (Addition to the
	// contract.)
	DataTransferVendors []string
	// Faults make the station misbehave on purpose.
	Faults Faults
	// Dialer opens the connections; share one across many stations (load
	// mode). Its Versions must offer Version first. nil uses a default
	// dialer shared by all stations of that Version (a private one when
	// Password or Logger is set).
	Dialer *ocpp.Dialer
	// Observer, if set, sees every CALL the station makes and every
	// connection change.
	Observer Observer
	// Logger receives the station's logs; nil discards them.
	Logger *slog.Logger

	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts (with jitter). Defaults 1s and 60s. (Addition to the contract.)
	MinBackoff, MaxBackoff time.Duration
	// RebootDelay is how long a Reset keeps the station offline before it
	// reconnects and boots again. Default 1s. (Addition to the contract.)
	RebootDelay time.Duration
}

// EVSEConfig describes one EVSE.
type EVSEConfig struct {
	// Connectors is the number of connectors; default 1. OCPP 1.6 sees each
	// EVSE as one connector whose connectorId is the EVSE number.
	Connectors int
	// MaxPowerW is the most the EVSE delivers; default 22 000 W.
	MaxPowerW float64
}

// EVConfig describes the car that is plugged in.
type EVConfig struct {
	// MaxPowerW is the most the car draws; default 11 000 W.
	MaxPowerW float64
	// CapacityWh is the battery capacity; default 60 000 Wh.
	CapacityWh float64
	// StartSoC is the state of charge at plug-in, 0..1 (a value above 1 is
	// read as a percentage); default 0.2.
	StartSoC float64
}

// Faults make a station misbehave, for testing servers.
type Faults struct {
	// ResponseDelay delays our answer to the server's CALLs, per action
	// ("*" = every action).
	ResponseDelay map[string]time.Duration
	// NoResponse: we never answer these actions ("*" = every action). As on a
	// real charger that hangs, the server's later CALLs wait behind the
	// unanswered one until the connection is lost.
	NoResponse map[string]bool
	// Quirks are named vendor quirks; see the package documentation.
	Quirks []string
	// SkipValidation turns schema validation of the station's connections
	// off (Call may then send schema-invalid payloads on purpose). Quirks
	// that break the schema turn it off too. (Addition to the contract.)
	SkipValidation bool
}

// Quirk names accepted in Faults.Quirks.
const (
	QuirkOverlongFields = "overlong-fields"
	QuirkWrongUnits     = "wrong-units"
	QuirkLowercaseEnums = "lowercase-enums"
)

var knownQuirks = []string{QuirkOverlongFields, QuirkWrongUnits, QuirkLowercaseEnums}

// Observer sees every CALL the station makes (for load reports). It is called
// from station goroutines, so it must be cheap and safe for concurrent use.
type Observer interface {
	CallDone(action string, latency time.Duration, err error)
	StateChanged(identity string, connected bool)
}

// Supported measurands, in their OCPP spelling (the same in 1.6 and 2.0.1).
const (
	MeasurandEnergy         = "Energy.Active.Import.Register"
	MeasurandPower          = "Power.Active.Import"
	MeasurandPowerOffered   = "Power.Offered"
	MeasurandCurrent        = "Current.Import"
	MeasurandCurrentOffered = "Current.Offered"
	MeasurandVoltage        = "Voltage"
	MeasurandSoC            = "SoC"
)

var knownMeasurands = []string{MeasurandEnergy, MeasurandPower, MeasurandPowerOffered,
	MeasurandCurrent, MeasurandCurrentOffered, MeasurandVoltage, MeasurandSoC}

// discard is shared by every station without a logger, so that such a
// station allocates no logger of its own.
var discard = slog.New(slog.DiscardHandler)

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("URL is required (e.g. ws://127.0.0.1:8080/ocpp)"))
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q must be a ws:// or wss:// URL with a host", c.URL))
	}
	if c.Identity == "" {
		errs = append(errs, errors.New("Identity is required"))
	} else if strings.ContainsAny(c.Identity, "/?# ") {
		errs = append(errs, fmt.Errorf("Identity %q must not contain '/', '?', '#' or spaces", c.Identity))
	}
	switch c.Version {
	case 0:
		c.Version = ocpp.V201
	case ocpp.V16, ocpp.V201:
	default:
		errs = append(errs, fmt.Errorf("Version %s is not simulated (use 1.6 or 2.0.1)", c.Version))
	}
	c.Vendor = orDefault(c.Vendor, "openEV")
	c.Model = orDefault(c.Model, "Sim")
	c.SerialNumber = orDefault(c.SerialNumber, truncate(c.Identity, 25))
	c.FirmwareVersion = orDefault(c.FirmwareVersion, "0.1")
	if len(c.EVSEs) == 0 {
		c.EVSEs = []EVSEConfig{{}}
	} else {
		c.EVSEs = append([]EVSEConfig(nil), c.EVSEs...)
	}
	for i := range c.EVSEs {
		e := &c.EVSEs[i]
		if e.Connectors < 0 || e.MaxPowerW < 0 {
			errs = append(errs, fmt.Errorf("EVSE %d: Connectors and MaxPowerW must not be negative", i+1))
		}
		if e.Connectors == 0 {
			e.Connectors = 1
		}
		if e.MaxPowerW == 0 {
			e.MaxPowerW = 22000
		}
	}
	if c.MeterInterval < 0 {
		errs = append(errs, errors.New("MeterInterval must not be negative"))
	} else if c.MeterInterval == 0 {
		c.MeterInterval = 60 * time.Second
	}
	if len(c.Measurands) == 0 {
		c.Measurands = []string{MeasurandEnergy, MeasurandPower}
	}
	if err := checkMeasurands(c.Measurands); err != nil {
		errs = append(errs, err)
	}
	if c.EV.MaxPowerW < 0 || c.EV.CapacityWh < 0 || c.EV.StartSoC < 0 {
		errs = append(errs, errors.New("EV values must not be negative"))
	}
	if c.EV.MaxPowerW == 0 {
		c.EV.MaxPowerW = 11000
	}
	if c.EV.CapacityWh == 0 {
		c.EV.CapacityWh = 60000
	}
	if c.EV.StartSoC > 1 {
		c.EV.StartSoC /= 100
	}
	if c.EV.StartSoC == 0 {
		c.EV.StartSoC = 0.2
	}
	if c.EV.StartSoC > 1 {
		errs = append(errs, errors.New("EV.StartSoC must be at most 1 (or 100 %)"))
	}
	if len(c.IDTokens) == 0 {
		c.IDTokens = []string{"SIMTAG01"}
	}
	if c.Speed < 0 {
		errs = append(errs, errors.New("speed must not be negative"))
	} else if c.Speed == 0 {
		c.Speed = 1
	}
	for _, q := range c.Faults.Quirks {
		if !contains(knownQuirks, q) {
			errs = append(errs, fmt.Errorf("unknown quirk %q (known: %s)", q, strings.Join(knownQuirks, ", ")))
		}
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 60 * time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.RebootDelay <= 0 {
		c.RebootDelay = time.Second
	}
	if c.Dialer != nil && len(c.Dialer.Versions) > 0 && c.Dialer.Versions[0] != c.Version {
		errs = append(errs, fmt.Errorf("the Dialer offers %s first but the station speaks %s", c.Dialer.Versions[0], c.Version))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("sim: invalid config for station %q: %w", c.Identity, errors.Join(errs...))
	}
	return c, nil
}

// checkMeasurands rejects measurands the meter cannot produce.
func checkMeasurands(ms []string) error {
	for _, m := range ms {
		if !contains(knownMeasurands, m) {
			return fmt.Errorf("unknown measurand %q (known: %s)", m, strings.Join(knownMeasurands, ", "))
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
