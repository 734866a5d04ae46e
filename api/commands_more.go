package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

func init() {
	for name, cmd := range map[string]command{
		"set-charging-profile":   setChargingProfile,
		"clear-charging-profile": clearChargingProfile,
		"get-composite-schedule": getCompositeSchedule,
		"reserve-now":            reserveNow,
		"cancel-reservation":     cancelReservation,
		"update-firmware":        updateFirmware,
		"get-log":                getLog,
		"send-local-list":        sendLocalList,
		"get-local-list-version": getLocalListVersion,
	} {
		commands[name] = cmd
	}
}

// requestIDs numbers the requests (logs, firmware) whose later status
// notifications refer back to them.
var requestIDs atomic.Int64

// chargingProfile is a charging profile in the API's own words; the two
// versions' shapes are built from it.
type chargingProfile struct {
	ID         int `json:"id"`
	StackLevel int `json:"stack_level"`
	// Purpose: station-max (1.6 ChargePointMaxProfile, 2.0.1
	// ChargingStationMaxProfile), tx-default or tx.
	Purpose    string     `json:"purpose"`
	Kind       string     `json:"kind"`       // Absolute (default), Recurring, Relative
	Recurrency string     `json:"recurrency"` // Daily, Weekly (Recurring only)
	ValidFrom  *time.Time `json:"valid_from"`
	ValidTo    *time.Time `json:"valid_to"`
	// TransactionID is the CSMS's transaction id, for purpose tx.
	TransactionID int64 `json:"transaction_id"`
	Schedule      struct {
		Unit     string     `json:"unit"` // W or A
		Start    *time.Time `json:"start"`
		Duration *int       `json:"duration"` // seconds
		MinRate  *float64   `json:"min_rate"`
		Periods  []struct {
			Start  int     `json:"start"` // seconds from the schedule's start
			Limit  float64 `json:"limit"`
			Phases *int    `json:"phases"`
		} `json:"periods"`
	} `json:"schedule"`
}

func setChargingProfile(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		EVSE    int             `json:"evse"` // 0: the whole station
		Profile chargingProfile `json:"profile"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	p := in.Profile
	if len(p.Schedule.Periods) == 0 {
		return nil, errors.New("profile.schedule.periods: give at least one {start, limit}")
	}
	unit := strings.ToUpper(p.Schedule.Unit)
	if unit != "W" && unit != "A" {
		return nil, fmt.Errorf("profile.schedule.unit must be W or A, got %q", p.Schedule.Unit)
	}
	if p.Kind == "" {
		p.Kind = "Absolute"
	}
	var tx *csms.Transaction
	if p.TransactionID != 0 {
		t, err := a.store.Transaction(ctx, p.TransactionID)
		if err != nil {
			return nil, fmt.Errorf("profile.transaction_id %d: %w", p.TransactionID, err)
		}
		if t.StationID != c.ID() {
			return nil, fmt.Errorf("profile.transaction_id: transaction %d runs on %s, not %s", t.ID, t.StationID, c.ID())
		}
		tx = &t
	}
	if c.Version() == ocpp.V16 {
		purpose := map[string]v16.ChargingProfilePurpose{"station-max": "ChargePointMaxProfile", "tx-default": "TxDefaultProfile", "tx": "TxProfile"}[p.Purpose]
		if purpose == "" {
			return nil, fmt.Errorf("profile.purpose must be station-max, tx-default or tx, got %q", p.Purpose)
		}
		prof := v16.ChargingProfile{
			ChargingProfileID: p.ID, StackLevel: p.StackLevel, ChargingProfilePurpose: purpose,
			ChargingProfileKind: v16.ChargingProfileKind(p.Kind), RecurrencyKind: v16.RecurrencyKind(p.Recurrency),
			ValidFrom: p.ValidFrom, ValidTo: p.ValidTo,
			ChargingSchedule: v16.ChargingSchedule{Duration: p.Schedule.Duration, StartSchedule: p.Schedule.Start,
				ChargingRateUnit: v16.ChargingRateUnit(unit), MinChargingRate: p.Schedule.MinRate},
		}
		if tx != nil {
			id := int(tx.ID)
			prof.TransactionID = &id
		}
		for _, per := range p.Schedule.Periods {
			prof.ChargingSchedule.ChargingSchedulePeriod = append(prof.ChargingSchedule.ChargingSchedulePeriod,
				v16.ChargingSchedulePeriod{StartPeriod: per.Start, Limit: per.Limit, NumberPhases: per.Phases})
		}
		return &v16.SetChargingProfileRequest{ConnectorID: in.EVSE, CsChargingProfiles: prof}, nil
	}
	purpose := map[string]v201.ChargingProfilePurposeEnum{"station-max": "ChargingStationMaxProfile", "tx-default": "TxDefaultProfile", "tx": "TxProfile"}[p.Purpose]
	if purpose == "" {
		return nil, fmt.Errorf("profile.purpose must be station-max, tx-default or tx, got %q", p.Purpose)
	}
	sched := v201.ChargingSchedule{ID: p.ID, Duration: p.Schedule.Duration, StartSchedule: p.Schedule.Start,
		ChargingRateUnit: v201.ChargingRateUnitEnum(unit), MinChargingRate: p.Schedule.MinRate}
	for _, per := range p.Schedule.Periods {
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod,
			v201.ChargingSchedulePeriod{StartPeriod: per.Start, Limit: per.Limit, NumberPhases: per.Phases})
	}
	prof := v201.ChargingProfile{
		ID: p.ID, StackLevel: p.StackLevel, ChargingProfilePurpose: purpose,
		ChargingProfileKind: v201.ChargingProfileKindEnum(p.Kind), RecurrencyKind: v201.RecurrencyKindEnum(p.Recurrency),
		ValidFrom: p.ValidFrom, ValidTo: p.ValidTo, ChargingSchedule: []v201.ChargingSchedule{sched},
	}
	if tx != nil {
		prof.TransactionID = tx.StationTxID
	}
	return &v201.SetChargingProfileRequest{EvseID: in.EVSE, ChargingProfile: prof}, nil
}

func clearChargingProfile(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		ID         *int   `json:"id"`
		EVSE       *int   `json:"evse"`
		Purpose    string `json:"purpose"`
		StackLevel *int   `json:"stack_level"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if c.Version() == ocpp.V16 {
		purpose := map[string]v16.ChargingProfilePurpose{"": "", "station-max": "ChargePointMaxProfile", "tx-default": "TxDefaultProfile", "tx": "TxProfile"}[in.Purpose]
		return &v16.ClearChargingProfileRequest{ID: in.ID, ConnectorID: in.EVSE, ChargingProfilePurpose: purpose, StackLevel: in.StackLevel}, nil
	}
	req := &v201.ClearChargingProfileRequest{ChargingProfileID: in.ID}
	if in.EVSE != nil || in.Purpose != "" || in.StackLevel != nil {
		purpose := map[string]v201.ChargingProfilePurposeEnum{"": "", "station-max": "ChargingStationMaxProfile", "tx-default": "TxDefaultProfile", "tx": "TxProfile"}[in.Purpose]
		req.ChargingProfileCriteria = &v201.ClearChargingProfile{EvseID: in.EVSE, ChargingProfilePurpose: purpose, StackLevel: in.StackLevel}
	}
	return req, nil
}

func getCompositeSchedule(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		EVSE     int    `json:"evse"`
		Duration int    `json:"duration"` // seconds
		Unit     string `json:"unit"`     // W or A; empty lets the station choose
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Duration <= 0 {
		return nil, errors.New("duration (seconds, > 0) is required")
	}
	if c.Version() == ocpp.V16 {
		return &v16.GetCompositeScheduleRequest{ConnectorID: in.EVSE, Duration: in.Duration, ChargingRateUnit: v16.ChargingRateUnit(strings.ToUpper(in.Unit))}, nil
	}
	return &v201.GetCompositeScheduleRequest{EvseID: in.EVSE, Duration: in.Duration, ChargingRateUnit: v201.ChargingRateUnitEnum(strings.ToUpper(in.Unit))}, nil
}

func reserveNow(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		ReservationID int       `json:"reservation_id"`
		EVSE          *int      `json:"evse"`
		IDToken       string    `json:"id_token"`
		ExpiresAt     time.Time `json:"expires_at"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.IDToken == "" || in.ExpiresAt.IsZero() {
		return nil, errors.New("id_token and expires_at are required")
	}
	if c.Version() == ocpp.V16 {
		connector := 0
		if in.EVSE != nil {
			connector = *in.EVSE
		}
		return &v16.ReserveNowRequest{ConnectorID: connector, ExpiryDate: in.ExpiresAt, IDTag: in.IDToken, ReservationID: in.ReservationID}, nil
	}
	return &v201.ReserveNowRequest{ID: in.ReservationID, ExpiryDateTime: in.ExpiresAt, EvseID: in.EVSE,
		IDToken: v201.IDToken{IDToken: in.IDToken, Type: v201.IDTokenEnumCentral}}, nil
}

func cancelReservation(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		ReservationID int `json:"reservation_id"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if c.Version() == ocpp.V16 {
		return &v16.CancelReservationRequest{ReservationID: in.ReservationID}, nil
	}
	return &v201.CancelReservationRequest{ReservationID: in.ReservationID}, nil
}

func updateFirmware(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Location   string     `json:"location"`
		RetrieveAt *time.Time `json:"retrieve_at"` // default now
		Retries    *int       `json:"retries"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Location == "" {
		return nil, errors.New("location (the firmware's URL) is required")
	}
	at := time.Now().UTC().Truncate(time.Second)
	if in.RetrieveAt != nil {
		at = *in.RetrieveAt
	}
	if c.Version() == ocpp.V16 {
		return &v16.UpdateFirmwareRequest{Location: in.Location, RetrieveDate: at, Retries: in.Retries}, nil
	}
	return &v201.UpdateFirmwareRequest{RequestID: int(requestIDs.Add(1)), Retries: in.Retries,
		Firmware: v201.Firmware{Location: in.Location, RetrieveDateTime: at}}, nil
}

// getLog asks for diagnostics: 1.6 GetDiagnostics, 2.0.1 GetLog.
func getLog(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Location string     `json:"location"` // where the station uploads it
		From     *time.Time `json:"from"`
		To       *time.Time `json:"to"`
		Security bool       `json:"security"` // 2.0.1: the security log instead of diagnostics
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Location == "" {
		return nil, errors.New("location (the upload URL) is required")
	}
	if c.Version() == ocpp.V16 {
		if in.Security {
			return nil, errVersion{"OCPP 1.6 security logs need the security extension's GetLog; send it with POST /ocpp/GetLog"}
		}
		return &v16.GetDiagnosticsRequest{Location: in.Location, StartTime: in.From, StopTime: in.To}, nil
	}
	kind := v201.LogEnumDiagnosticsLog
	if in.Security {
		kind = v201.LogEnumSecurityLog
	}
	return &v201.GetLogRequest{LogType: kind, RequestID: int(requestIDs.Add(1)),
		Log: v201.LogParameters{RemoteLocation: in.Location, OldestTimestamp: in.From, LatestTimestamp: in.To}}, nil
}

// sendLocalList sends the station a local authorization list: the given
// tokens, or with "all": true every token in the store that may use it.
func sendLocalList(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Version int      `json:"version"`
		Update  string   `json:"update"` // Full (default) or Differential
		Tokens  []string `json:"tokens"`
		All     bool     `json:"all"`
		// Remove takes tokens off the station's list (Differential only);
		// they need not be registered any more.
		Remove []string `json:"remove"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Version < 1 {
		return nil, errors.New("version (the list version, 1 or more) is required")
	}
	if in.Update == "" {
		in.Update = "Full"
	}
	if in.Update != "Full" && in.Update != "Differential" {
		return nil, fmt.Errorf("update must be Full or Differential, got %q", in.Update)
	}
	if len(in.Remove) > 0 && in.Update != "Differential" {
		return nil, errors.New("remove is for a Differential update (a Full one replaces the whole list)")
	}
	var tokens []csms.IDToken
	if in.All {
		for off := 0; ; off += 1000 {
			page, err := a.store.Tokens(ctx, csms.Page{Limit: 1000, Offset: off})
			if err != nil {
				return nil, err
			}
			for _, t := range page {
				if len(t.Stations) == 0 || contains(t.Stations, c.ID()) {
					tokens = append(tokens, t)
				}
			}
			if len(page) < 1000 {
				break
			}
		}
	}
	for _, id := range in.Tokens {
		t, err := a.store.Token(ctx, id)
		if errors.Is(err, csms.ErrNotFound) {
			return nil, fmt.Errorf("token %s is not registered", id)
		}
		if err != nil {
			return nil, err
		}
		if len(t.Stations) > 0 && !contains(t.Stations, c.ID()) {
			return nil, fmt.Errorf("token %s may not be used at %s (its stations: %s)", id, c.ID(), strings.Join(t.Stations, ", "))
		}
		tokens = append(tokens, t)
	}
	var removed []csms.IDToken // an entry without info is a removal, in both versions
	for _, id := range in.Remove {
		t, err := a.store.Token(ctx, id)
		if errors.Is(err, csms.ErrNotFound) {
			t, err = csms.IDToken{ID: id}, nil
		}
		if err != nil {
			return nil, err
		}
		removed = append(removed, t)
	}
	if c.Version() == ocpp.V16 {
		req := &v16.SendLocalListRequest{ListVersion: in.Version, UpdateType: v16.UpdateType(in.Update)}
		for _, t := range tokens {
			req.LocalAuthorizationList = append(req.LocalAuthorizationList, v16.AuthorizationData{IDTag: t.ID,
				IDTagInfo: &v16.IDTagInfo{Status: v16.AuthorizationStatus(t.Status), ExpiryDate: t.ExpiresAt, ParentIDTag: t.GroupID}})
		}
		for _, t := range removed {
			req.LocalAuthorizationList = append(req.LocalAuthorizationList, v16.AuthorizationData{IDTag: t.ID})
		}
		return req, nil
	}
	req := &v201.SendLocalListRequest{VersionNumber: in.Version, UpdateType: v201.UpdateEnum(in.Update)}
	idToken := func(t csms.IDToken) v201.IDToken {
		typ := v201.IDTokenEnum(t.Type)
		if typ == "" {
			typ = v201.IDTokenEnumISO14443
		}
		return v201.IDToken{IDToken: t.ID, Type: typ}
	}
	for _, t := range tokens {
		info := &v201.IDTokenInfo{Status: v201.AuthorizationStatusEnum(t.Status), CacheExpiryDateTime: t.ExpiresAt}
		if t.GroupID != "" {
			info.GroupIDToken = &v201.IDToken{IDToken: t.GroupID, Type: v201.IDTokenEnumCentral}
		}
		req.LocalAuthorizationList = append(req.LocalAuthorizationList, v201.AuthorizationData{IDToken: idToken(t), IDTokenInfo: info})
	}
	for _, t := range removed {
		req.LocalAuthorizationList = append(req.LocalAuthorizationList, v201.AuthorizationData{IDToken: idToken(t)})
	}
	return req, nil
}

func getLocalListVersion(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	if c.Version() == ocpp.V16 {
		return &v16.GetLocalListVersionRequest{}, nil
	}
	return &v201.GetLocalListVersionRequest{}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
