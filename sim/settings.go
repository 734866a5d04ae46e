package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// settings are the station's configuration values that the server may read
// and change: 1.6 configuration keys and 2.0.1 device-model variables are two
// names for the same values. Only values with an effect get a typed field;
// the rest live in extra, which stays nil until the server writes one, so an
// idle station carries no map.
type settings struct {
	heartbeat       time.Duration
	meterInterval   time.Duration
	measurands      []string
	authorizeRemote bool
	stopOnUnplug    bool
	aligned         time.Duration // clock-aligned meter values; 0 = off
	alignedData     []string
	extra           map[string]string
}

func newSettings(cfg Config) settings {
	return settings{
		heartbeat:     300 * time.Second,
		meterInterval: cfg.MeterInterval,
		measurands:    cfg.Measurands,
		stopOnUnplug:  true,
		alignedData:   []string{MeasurandEnergy},
	}
}

// valueKind says how a setting's value is checked before it is accepted.
type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindBool
	kindMeasurands
)

// setting is one configuration value under its 1.6 key and its 2.0.1
// component/variable (either may be empty).
type setting struct {
	key        string // 1.6 configuration key
	comp, name string // 2.0.1 component and variable
	readonly   bool
	kind       valueKind
	def        string                                   // value of a setting kept in extra
	get        func(s *Station) string                  // nil: extra, else def
	set        func(s *Station, v string) (reboot bool) // nil: stored in extra; the value is already checked
}

// settingTable lists every setting the station knows. s.mu is held when get
// and set run.
var settingTable = []setting{
	{key: "HeartbeatInterval", comp: "OCPPCommCtrlr", name: "HeartbeatInterval", kind: kindInt,
		get: func(s *Station) string { return secs(s.settings.heartbeat) },
		set: func(s *Station, v string) bool { s.setHeartbeatLocked(atoiSecs(v)); return false }},
	{key: "MeterValueSampleInterval", comp: "SampledDataCtrlr", name: "TxUpdatedInterval", kind: kindInt,
		get: func(s *Station) string { return secs(s.settings.meterInterval) },
		set: func(s *Station, v string) bool { s.settings.meterInterval = atoiSecs(v); return false }},
	{key: "MeterValuesSampledData", comp: "SampledDataCtrlr", name: "TxUpdatedMeasurands", kind: kindMeasurands,
		get: func(s *Station) string { return strings.Join(s.settings.measurands, ",") },
		set: func(s *Station, v string) bool { s.settings.measurands = splitCSL(v); return false }},
	{key: "StopTxnSampledData", comp: "SampledDataCtrlr", name: "TxEndedMeasurands", kind: kindMeasurands, def: MeasurandEnergy},
	{key: "MeterValuesAlignedData", comp: "AlignedDataCtrlr", name: "Measurands", kind: kindMeasurands,
		get: func(s *Station) string { return strings.Join(s.settings.alignedData, ",") },
		set: func(s *Station, v string) bool { s.settings.alignedData = splitCSL(v); return false }},
	{key: "ClockAlignedDataInterval", comp: "AlignedDataCtrlr", name: "Interval", kind: kindInt,
		get: func(s *Station) string { return secs(s.settings.aligned) },
		set: func(s *Station, v string) bool {
			s.settings.aligned = atoiSecs(v)
			s.restartAlignedLocked()
			return false
		}},
	{key: "AuthorizeRemoteTxRequests", comp: "AuthCtrlr", name: "AuthorizeRemoteStart", kind: kindBool,
		get: func(s *Station) string { return strconv.FormatBool(s.settings.authorizeRemote) },
		set: func(s *Station, v string) bool { s.settings.authorizeRemote = v == "true"; return false }},
	{key: "LocalAuthorizeOffline", comp: "AuthCtrlr", name: "LocalAuthorizeOffline", kind: kindBool, def: "true"},
	{key: "LocalPreAuthorize", comp: "AuthCtrlr", name: "LocalPreAuthorize", kind: kindBool, def: "false"},
	{comp: "AuthCtrlr", name: "Enabled", kind: kindBool, def: "true"},
	{key: "ConnectionTimeOut", comp: "TxCtrlr", name: "EVConnectionTimeOut", kind: kindInt, def: "60"},
	{key: "StopTransactionOnEVSideDisconnect", comp: "TxCtrlr", name: "StopTxOnEVSideDisconnect", kind: kindBool,
		get: func(s *Station) string { return strconv.FormatBool(s.settings.stopOnUnplug) },
		set: func(s *Station, v string) bool { s.settings.stopOnUnplug = v == "true"; return false }},
	{comp: "TxCtrlr", name: "TxStartPoint", def: "Authorized"},
	{comp: "TxCtrlr", name: "TxStopPoint", def: "Authorized,EVConnected"},
	{key: "UnlockConnectorOnEVSideDisconnect", kind: kindBool, def: "true"},
	{key: "TransactionMessageAttempts", comp: "OCPPCommCtrlr", name: "MessageAttempts", kind: kindInt, def: "3"},
	{key: "TransactionMessageRetryInterval", comp: "OCPPCommCtrlr", name: "MessageAttemptInterval", kind: kindInt, def: "60"},
	{key: "WebSocketPingInterval", comp: "OCPPCommCtrlr", name: "WebSocketPingInterval", kind: kindInt, def: "30"},
	{key: "ResetRetries", comp: "OCPPCommCtrlr", name: "ResetRetries", kind: kindInt, def: "3"},
	{key: "NumberOfConnectors", readonly: true,
		get: func(s *Station) string { return strconv.Itoa(len(s.evses)) }},
	{key: "GetConfigurationMaxKeys", readonly: true, def: "50"},
	{key: "SupportedFeatureProfiles", readonly: true, def: "Core,SmartCharging,RemoteTrigger"},
	{key: "ChargeProfileMaxStackLevel", comp: "SmartChargingCtrlr", name: "ProfileStackLevel", readonly: true, def: "10"},
	{key: "ChargingScheduleAllowedChargingRateUnit", readonly: true, def: "Current,Power"},
	{comp: "SmartChargingCtrlr", name: "RateUnit", readonly: true, def: "A,W"},
	{key: "ChargingScheduleMaxPeriods", comp: "SmartChargingCtrlr", name: "PeriodsPerSchedule", readonly: true, def: "24"},
	{key: "MaxChargingProfilesInstalled", readonly: true, def: "10"},
	{comp: "SmartChargingCtrlr", name: "Enabled", kind: kindBool, def: "true"},
	{comp: "SampledDataCtrlr", name: "Enabled", kind: kindBool, def: "true"},
	{comp: "DeviceDataCtrlr", name: "ItemsPerMessage", readonly: true, def: "20"},
	{comp: "DeviceDataCtrlr", name: "BytesPerMessage", readonly: true, def: "65536"},
}

// id names a setting in extra.
func (st *setting) id() string {
	if st.key != "" {
		return st.key
	}
	return st.comp + "/" + st.name
}

// value returns the setting's current value. s.mu must be held.
func (st *setting) value(s *Station) string {
	if st.get != nil {
		return st.get(s)
	}
	if v, ok := s.settings.extra[st.id()]; ok {
		return v
	}
	return st.def
}

// check validates v for the setting.
func (st *setting) check(v string) error {
	switch st.kind {
	case kindInt:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", v)
		}
	case kindBool:
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not true or false", v)
		}
	case kindMeasurands:
		if v == "" {
			return nil
		}
		return checkMeasurands(splitCSL(v))
	}
	return nil
}

// store sets the setting to v after check. s.mu must be held.
func (st *setting) store(s *Station, v string) (reboot bool) {
	if st.set != nil {
		return st.set(s, v)
	}
	if s.settings.extra == nil {
		s.settings.extra = make(map[string]string)
	}
	s.settings.extra[st.id()] = v
	return false
}

// setting16 finds a 1.6 configuration key.
func setting16(key string) *setting {
	for i := range settingTable {
		if settingTable[i].key == key {
			return &settingTable[i]
		}
	}
	return nil
}

// variable201 finds a 2.0.1 variable; known reports whether the component exists.
func variable201(comp, name string) (st *setting, known bool) {
	for i := range settingTable {
		t := &settingTable[i]
		if t.comp == comp {
			known = true
			if t.name == name {
				return t, true
			}
		}
	}
	return nil, known
}

// setHeartbeatLocked changes the heartbeat interval and restarts its timer
// so that the change takes effect at once. s.mu must be held.
func (s *Station) setHeartbeatLocked(d time.Duration) {
	s.settings.heartbeat = d
	s.hbInterval = d
	if s.registered {
		s.restartHeartbeatLocked()
	}
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

func atoiSecs(v string) time.Duration {
	n, _ := strconv.Atoi(v)
	return time.Duration(n) * time.Second
}

func splitCSL(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
