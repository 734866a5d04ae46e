package csms

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// Defaults OCPP gives to a sampled value's optional fields.
const (
	defaultMeasurand = "Energy.Active.Import.Register"
	defaultContext   = "Sample.Periodic"
	defaultLocation  = "Outlet"
)

// normalize converts a value to the base unit of its quantity: Wh for
// energy, W for power, var/VA for reactive/apparent power, A, V. Units it
// does not scale (Celsius, Percent, ...) pass through unchanged.
func normalize(value float64, unit string, measurand string) (float64, string) {
	switch strings.ToLower(unit) {
	case "wh":
		return value, "Wh"
	case "kwh":
		return value * 1000, "Wh"
	case "w":
		return value, "W"
	case "kw":
		return value * 1000, "W"
	case "varh":
		return value, "varh"
	case "kvarh":
		return value * 1000, "varh"
	case "var":
		return value, "var"
	case "kvar":
		return value * 1000, "var"
	case "va":
		return value, "VA"
	case "kva":
		return value * 1000, "VA"
	case "a":
		return value, "A"
	case "v":
		return value, "V"
	case "":
		return value, defaultUnit(measurand)
	}
	return value, unit
}

// defaultUnit is the unit OCPP assumes when a sampled value names none.
func defaultUnit(measurand string) string {
	switch {
	case strings.HasPrefix(measurand, "Energy.Reactive"):
		return "varh"
	case strings.HasPrefix(measurand, "Energy"):
		return "Wh"
	case strings.HasPrefix(measurand, "Power.Reactive"):
		return "var"
	case strings.HasPrefix(measurand, "Power.Offered"), strings.HasPrefix(measurand, "Power.Active"):
		return "W"
	case strings.HasPrefix(measurand, "Current"):
		return "A"
	case strings.HasPrefix(measurand, "Voltage"):
		return "V"
	case measurand == "SoC":
		return "Percent"
	case measurand == "Temperature":
		return "Celsius"
	case measurand == "Frequency":
		return "Hz"
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// meterValues16 flattens 1.6 meter values into normalised MeterValues. A
// value that is not a finite number (signed data, "n/a", "NaN") is kept as
// its raw text with Value 0 and no unit, so that it is never taken for a
// reading (registerWh wants Wh).
func meterValues16(stationID string, txID *int64, evse int, in []v16.MeterValue) []MeterValue {
	var out []MeterValue
	for _, mv := range in {
		for _, sv := range mv.SampledValue {
			measurand := orDefault(string(sv.Measurand), defaultMeasurand)
			raw, err := strconv.ParseFloat(strings.TrimSpace(sv.Value), 64)
			value, unit := normalize(raw, string(sv.Unit), measurand)
			if err != nil || math.IsNaN(raw) || math.IsInf(raw, 0) || sv.Format == "SignedData" {
				value, unit = 0, ""
			}
			out = append(out, MeterValue{
				StationID: stationID, TransactionID: txID, EVSE: evse, Timestamp: mv.Timestamp.UTC(),
				Measurand: measurand, Phase: string(sv.Phase),
				Context: orDefault(string(sv.Context), defaultContext), Location: orDefault(string(sv.Location), defaultLocation),
				Value: value, Unit: unit, RawValue: sv.Value, RawUnit: string(sv.Unit),
			})
		}
	}
	return out
}

// meterValues201 flattens 2.0.1 meter values into normalised MeterValues,
// applying the unit's power-of-ten multiplier.
func meterValues201(stationID string, txID *int64, evse int, in []v201.MeterValue) []MeterValue {
	var out []MeterValue
	for _, mv := range in {
		for _, sv := range mv.SampledValue {
			measurand := orDefault(string(sv.Measurand), defaultMeasurand)
			unit, multiplier := "", 0
			if sv.UnitOfMeasure != nil {
				unit = sv.UnitOfMeasure.Unit
				if sv.UnitOfMeasure.Multiplier != nil {
					multiplier = *sv.UnitOfMeasure.Multiplier
				}
			}
			scaled := sv.Value * math.Pow10(multiplier)
			value, normUnit := normalize(scaled, unit, measurand)
			rawUnit := unit
			if multiplier != 0 {
				rawUnit += "e" + strconv.Itoa(multiplier)
			}
			out = append(out, MeterValue{
				StationID: stationID, TransactionID: txID, EVSE: evse, Timestamp: mv.Timestamp.UTC(),
				Measurand: measurand, Phase: string(sv.Phase),
				Context: orDefault(string(sv.Context), defaultContext), Location: orDefault(string(sv.Location), defaultLocation),
				Value: value, Unit: normUnit, RawValue: strconv.FormatFloat(sv.Value, 'f', -1, 64), RawUnit: rawUnit,
			})
		}
	}
	return out
}

// registerWh returns the latest energy register reading (Wh) among values,
// preferring the Outlet location, or nil if there is none.
func registerWh(values []MeterValue) *float64 {
	var best *MeterValue
	for i := range values {
		v := &values[i]
		if v.Measurand != defaultMeasurand || v.Unit != "Wh" || v.Phase != "" {
			continue
		}
		if best == nil || v.Timestamp.After(best.Timestamp) ||
			v.Timestamp.Equal(best.Timestamp) && v.Location == defaultLocation {
			best = v
		}
	}
	if best == nil {
		return nil
	}
	wh := best.Value
	return &wh
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
