package scenario

import "github.com/openev/openev/sim"

// ApplyTo returns cfg with the scenario's station and faults settings filled
// in where the scenario sets them. Callers apply command-line overrides after
// it, so that flags win over the file.
func (sc *Scenario) ApplyTo(cfg sim.Config) sim.Config {
	st := sc.Station
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Vendor, st.Vendor)
	set(&cfg.Model, st.Model)
	set(&cfg.SerialNumber, st.SerialNumber)
	set(&cfg.FirmwareVersion, st.FirmwareVersion)
	if st.EVSEs > 0 || st.Connectors > 0 || st.MaxPowerW > 0 {
		cfg.EVSEs = EVSEs(max(st.EVSEs, 1), st.Connectors, st.MaxPowerW)
	}
	if st.MeterInterval > 0 {
		cfg.MeterInterval = st.MeterInterval
	}
	if len(st.Measurands) > 0 {
		cfg.Measurands = st.Measurands
	}
	if len(st.IDTokens) > 0 {
		cfg.IDTokens = st.IDTokens
	}
	if st.EV.MaxPowerW > 0 {
		cfg.EV.MaxPowerW = st.EV.MaxPowerW
	}
	if st.EV.CapacityWh > 0 {
		cfg.EV.CapacityWh = st.EV.CapacityWh
	}
	if st.EV.StartSoC > 0 {
		cfg.EV.StartSoC = st.EV.StartSoC
	}
	if st.Speed > 0 {
		cfg.Speed = st.Speed
	}
	f := sc.Faults
	if len(f.ResponseDelay) > 0 {
		cfg.Faults.ResponseDelay = f.ResponseDelay
	}
	if len(f.NoResponse) > 0 {
		cfg.Faults.NoResponse = make(map[string]bool, len(f.NoResponse))
		for _, a := range f.NoResponse {
			cfg.Faults.NoResponse[a] = true
		}
	}
	if len(f.Quirks) > 0 {
		cfg.Faults.Quirks = f.Quirks
	}
	if f.SkipValidation {
		cfg.Faults.SkipValidation = true
	}
	return cfg
}

// EVSEs returns n identical EVSEs; zero connectors or power keep the
// simulator's defaults.
func EVSEs(n, connectors int, maxPowerW float64) []sim.EVSEConfig {
	out := make([]sim.EVSEConfig, n)
	for i := range out {
		out[i] = sim.EVSEConfig{Connectors: connectors, MaxPowerW: maxPowerW}
	}
	return out
}
