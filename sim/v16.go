package sim

import (
	"context"
	"strconv"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
)

// This file is the station's OCPP 1.6 side: the messages it sends and the
// router that answers the Central System's requests.

func (s *Station) boot16(ctx context.Context) (BootResult, error) {
	req := &v16.BootNotificationRequest{
		ChargePointVendor:       s.overlong(truncate(s.cfg.Vendor, 20), 20),
		ChargePointModel:        s.overlong(truncate(s.cfg.Model, 20), 20),
		ChargePointSerialNumber: s.overlong(truncate(s.cfg.SerialNumber, 25), 25),
		FirmwareVersion:         truncate(s.cfg.FirmwareVersion, 50),
		MeterType:               "SimMeter",
	}
	var resp v16.BootNotificationResponse
	if err := s.call(ctx, req, &resp); err != nil {
		return BootResult{}, err
	}
	return BootResult{Status: string(resp.Status), Interval: time.Duration(resp.Interval) * time.Second, CurrentTime: resp.CurrentTime}, nil
}

func (s *Station) heartbeat16(ctx context.Context) error {
	var resp v16.HeartbeatResponse
	return s.call(ctx, &v16.HeartbeatRequest{}, &resp)
}

func (s *Station) status16(ctx context.Context, connector int, status string) error {
	now := time.Now().UTC()
	req := &v16.StatusNotificationRequest{
		ConnectorID: connector,
		ErrorCode:   v16.ChargePointErrorCodeNoError,
		Status:      v16.ChargePointStatus(s.enum(status)),
		Timestamp:   &now,
	}
	return s.call(ctx, req, &v16.StatusNotificationResponse{})
}

func (s *Station) authorize16(ctx context.Context, idTag string) (string, error) {
	var resp v16.AuthorizeResponse
	if err := s.call(ctx, &v16.AuthorizeRequest{IDTag: idTag}, &resp); err != nil {
		return "", err
	}
	return string(resp.IDTagInfo.Status), nil
}

// start16 sends (or queues) StartTransaction and returns the idTag status
// ("" when queued).
func (s *Station) start16(ctx context.Context, e *evse, tx *transaction, sm Sample) (string, error) {
	req := &v16.StartTransactionRequest{
		ConnectorID: e.id,
		IDTag:       tx.idToken,
		MeterStart:  s.energyInt(sm.EnergyWh),
		Timestamp:   tx.started.UTC(),
	}
	var auth string
	send := func(ctx context.Context, c *ocpp.Conn) error {
		var resp v16.StartTransactionResponse
		if err := s.callOn(ctx, c, req, &resp); err != nil {
			return err
		}
		s.mu.Lock()
		tx.id16 = resp.TransactionID
		tx.id = strconv.Itoa(resp.TransactionID)
		auth = string(resp.IDTagInfo.Status)
		s.mu.Unlock()
		return nil
	}
	queued, err := s.txSend(ctx, req.Action(), nil, send)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if queued && tx.id16 == 0 {
		s.nextLocalTx++
		tx.id = "local-" + strconv.Itoa(s.nextLocalTx)
		return "", nil
	}
	return auth, nil
}

// meterValue16 turns a sample into a 1.6 MeterValue.
func (s *Station) meterValue16(sm Sample, measurands []string, readingCtx string) v16.MeterValue {
	mv := v16.MeterValue{Timestamp: time.Now().UTC()}
	for _, r := range readings(sm, measurands, s.wrongUnits()) {
		sv := v16.SampledValue{
			Value:     strconv.FormatFloat(r.value, 'f', -1, 64),
			Context:   v16.ReadingContext(readingCtx),
			Measurand: v16.Measurand(r.measurand),
			Unit:      v16.UnitOfMeasure(r.unit),
			Phase:     v16.Phase(r.phase),
			Location:  v16.LocationOutlet,
		}
		if r.measurand == MeasurandSoC {
			sv.Location = v16.LocationEV
		}
		mv.SampledValue = append(mv.SampledValue, sv)
	}
	return mv
}

// meter16 sends MeterValues; those of a transaction (tx != nil) are queued
// while offline.
func (s *Station) meter16(ctx context.Context, e *evse, tx *transaction, r reading) error {
	s.mu.Lock()
	mv := s.meterValue16(r.sm, s.measurandsOf(r), r.context)
	s.mu.Unlock()
	if len(mv.SampledValue) == 0 {
		return nil // no measurands configured: nothing to report
	}
	send := func(ctx context.Context, c *ocpp.Conn) error {
		req := &v16.MeterValuesRequest{ConnectorID: e.id, MeterValue: []v16.MeterValue{mv}}
		s.mu.Lock()
		if tx != nil && tx.id16 != 0 {
			id := tx.id16
			req.TransactionID = &id
		}
		s.mu.Unlock()
		return s.callOn(ctx, c, req, &v16.MeterValuesResponse{})
	}
	if tx == nil { // a triggered reading outside a transaction is not queued
		c := s.Conn()
		if c == nil {
			return ErrOffline
		}
		return send(ctx, c)
	}
	_, err := s.txSend(ctx, "MeterValues", nil, send)
	return err
}

// stop16 sends (or queues) StopTransaction with the final reading.
func (s *Station) stop16(ctx context.Context, e *evse, tx *transaction, sm Sample, reason string) error {
	s.mu.Lock()
	end := s.meterValue16(sm, []string{MeasurandEnergy}, "Transaction.End")
	s.mu.Unlock()
	send := func(ctx context.Context, c *ocpp.Conn) error {
		s.mu.Lock()
		id := tx.id16
		s.mu.Unlock()
		req := &v16.StopTransactionRequest{
			IDTag:           tx.idToken,
			MeterStop:       s.energyInt(sm.EnergyWh),
			Timestamp:       time.Now().UTC(),
			TransactionID:   id,
			Reason:          v16.Reason(s.enum(reason)),
			TransactionData: []v16.MeterValue{end},
		}
		req.Timestamp = end.Timestamp
		return s.callOn(ctx, c, req, &v16.StopTransactionResponse{})
	}
	_, err := s.txSend(ctx, "StopTransaction", nil, send)
	return err
}

// router16 answers the Central System's requests for every 1.6 station.
var router16 = func() *ocpp.Router {
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.RemoteStartTransactionRequest) (*v16.RemoteStartTransactionResponse, error) {
		s := stationOf(ctx)
		n := 0
		if req.ConnectorID != nil {
			n = *req.ConnectorID
		}
		e := s.freeEVSE(n)
		if e == nil {
			return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusRejected}, nil
		}
		if req.ChargingProfile != nil {
			if req.ChargingProfile.ChargingProfilePurpose != v16.ChargingProfilePurposeTxProfile {
				return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusRejected}, nil
			}
			p := profile16(req.ChargingProfile)
			p.txID = ""
			s.mu.Lock()
			s.installProfile(e.id, p)
			s.mu.Unlock()
		}
		s.afterAnswer(func() { s.remoteStart(e.id, req.IDTag, nil) })
		return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.RemoteStopTransactionRequest) (*v16.RemoteStopTransactionResponse, error) {
		s := stationOf(ctx)
		e := s.evseOfTx(strconv.Itoa(req.TransactionID))
		if e == nil {
			return &v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusRejected}, nil
		}
		s.afterAnswer(func() { s.remoteStop(e.id, "Remote") })
		return &v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.ResetRequest) (*v16.ResetResponse, error) {
		s := stationOf(ctx)
		reason := "SoftReset"
		if req.Type == v16.ResetTypeHard {
			reason = "HardReset"
		}
		time.AfterFunc(resetAfter, func() { s.reset(reason) })
		return &v16.ResetResponse{Status: v16.ResetStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.ChangeAvailabilityRequest) (*v16.ChangeAvailabilityResponse, error) {
		s := stationOf(ctx)
		st, ok := s.changeAvailability(req.ConnectorID, req.Type == v16.AvailabilityTypeOperative)
		if !ok {
			return &v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatusRejected}, nil
		}
		return &v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatus(st)}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.UnlockConnectorRequest) (*v16.UnlockConnectorResponse, error) {
		s := stationOf(ctx)
		s.mu.Lock()
		e, err := s.evseAt(req.ConnectorID)
		busy := err == nil && e.tx != nil
		s.mu.Unlock()
		if err != nil {
			return &v16.UnlockConnectorResponse{Status: v16.UnlockStatusNotSupported}, nil
		}
		if busy {
			// 1.6: unlocking ends the transaction first.
			s.afterAnswer(func() { s.remoteStop(e.id, "UnlockCommand") })
		}
		return &v16.UnlockConnectorResponse{Status: v16.UnlockStatusUnlocked}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.TriggerMessageRequest) (*v16.TriggerMessageResponse, error) {
		s := stationOf(ctx)
		evseID := 0
		if req.ConnectorID != nil {
			evseID = *req.ConnectorID
			if evseID < 0 || evseID > len(s.evses) {
				return &v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusRejected}, nil
			}
		}
		switch req.RequestedMessage {
		case v16.MessageTriggerBootNotification, v16.MessageTriggerHeartbeat,
			v16.MessageTriggerStatusNotification, v16.MessageTriggerMeterValues:
		default:
			return &v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusNotImplemented}, nil
		}
		s.afterAnswer(func() { s.trigger(string(req.RequestedMessage), evseID) })
		return &v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.GetConfigurationRequest) (*v16.GetConfigurationResponse, error) {
		s := stationOf(ctx)
		resp := &v16.GetConfigurationResponse{}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(req.Key) == 0 {
			for i := range settingTable {
				if st := &settingTable[i]; st.key != "" {
					resp.ConfigurationKey = append(resp.ConfigurationKey, v16.KeyValue{Key: st.key, Readonly: st.readonly, Value: st.value(s)})
				}
			}
			return resp, nil
		}
		for _, k := range req.Key {
			if st := setting16(k); st != nil {
				resp.ConfigurationKey = append(resp.ConfigurationKey, v16.KeyValue{Key: st.key, Readonly: st.readonly, Value: st.value(s)})
			} else {
				resp.UnknownKey = append(resp.UnknownKey, k)
			}
		}
		return resp, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.ChangeConfigurationRequest) (*v16.ChangeConfigurationResponse, error) {
		s := stationOf(ctx)
		st := setting16(req.Key)
		switch {
		case st == nil:
			return &v16.ChangeConfigurationResponse{Status: v16.ConfigurationStatusNotSupported}, nil
		case st.readonly || st.check(req.Value) != nil:
			return &v16.ChangeConfigurationResponse{Status: v16.ConfigurationStatusRejected}, nil
		}
		s.mu.Lock()
		reboot := st.store(s, req.Value)
		s.mu.Unlock()
		if reboot {
			return &v16.ChangeConfigurationResponse{Status: v16.ConfigurationStatusRebootRequired}, nil
		}
		return &v16.ChangeConfigurationResponse{Status: v16.ConfigurationStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.SetChargingProfileRequest) (*v16.SetChargingProfileResponse, error) {
		s := stationOf(ctx)
		cp := &req.CsChargingProfiles
		rejected := &v16.SetChargingProfileResponse{Status: v16.ChargingProfileStatusRejected}
		if req.ConnectorID < 0 || req.ConnectorID > len(s.evses) || len(cp.ChargingSchedule.ChargingSchedulePeriod) == 0 {
			return rejected, nil
		}
		p := profile16(cp)
		s.mu.Lock()
		defer s.mu.Unlock()
		switch cp.ChargingProfilePurpose {
		case v16.ChargingProfilePurposeChargePointMaxProfile:
			if req.ConnectorID != 0 {
				return rejected, nil
			}
		case v16.ChargingProfilePurposeTxProfile:
			// A TxProfile needs a running transaction on the connector.
			if req.ConnectorID == 0 {
				return rejected, nil
			}
			tx := s.evses[req.ConnectorID-1].tx
			if tx == nil || cp.TransactionID != nil && *cp.TransactionID != tx.id16 {
				return rejected, nil
			}
			p.txID = tx.id
		}
		s.installProfile(req.ConnectorID, p)
		return &v16.SetChargingProfileResponse{Status: v16.ChargingProfileStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.ClearChargingProfileRequest) (*v16.ClearChargingProfileResponse, error) {
		s := stationOf(ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		purpose := string(req.ChargingProfilePurpose)
		if purpose == string(v16.ChargingProfilePurposeChargePointMaxProfile) {
			purpose = purposeMax
		}
		any := s.clearProfiles(func(evseID int, p *profile) bool {
			if req.ID != nil {
				return p.id == *req.ID
			}
			return (req.ConnectorID == nil || *req.ConnectorID == evseID) &&
				(purpose == "" || purpose == p.purpose) &&
				(req.StackLevel == nil || *req.StackLevel == p.stack)
		})
		if !any {
			return &v16.ClearChargingProfileResponse{Status: v16.ClearChargingProfileStatusUnknown}, nil
		}
		return &v16.ClearChargingProfileResponse{Status: v16.ClearChargingProfileStatusAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.DataTransferRequest) (*v16.DataTransferResponse, error) {
		if contains(stationOf(ctx).cfg.DataTransferVendors, req.VendorID) {
			return &v16.DataTransferResponse{Status: v16.DataTransferStatusAccepted}, nil
		}
		return &v16.DataTransferResponse{Status: v16.DataTransferStatusUnknownVendorId}, nil
	})
	return r
}()

// profile16 converts a 1.6 charging profile.
func profile16(cp *v16.ChargingProfile) *profile {
	p := &profile{
		id:         cp.ChargingProfileID,
		stack:      cp.StackLevel,
		purpose:    string(cp.ChargingProfilePurpose),
		kind:       string(cp.ChargingProfileKind),
		recurrency: string(cp.RecurrencyKind),
		installed:  time.Now(),
		unitAmps:   cp.ChargingSchedule.ChargingRateUnit == v16.ChargingRateUnitA,
	}
	if p.purpose == string(v16.ChargingProfilePurposeChargePointMaxProfile) {
		p.purpose = purposeMax
	}
	if cp.ValidFrom != nil {
		p.validFrom = *cp.ValidFrom
	}
	if cp.ValidTo != nil {
		p.validTo = *cp.ValidTo
	}
	if cp.ChargingSchedule.StartSchedule != nil {
		p.start = *cp.ChargingSchedule.StartSchedule
	}
	if cp.ChargingSchedule.Duration != nil {
		p.duration = time.Duration(*cp.ChargingSchedule.Duration) * time.Second
	}
	for _, sp := range cp.ChargingSchedule.ChargingSchedulePeriod {
		pr := period{start: time.Duration(sp.StartPeriod) * time.Second, limit: sp.Limit}
		if sp.NumberPhases != nil {
			pr.phases = *sp.NumberPhases
		}
		p.periods = append(p.periods, pr)
	}
	return p
}
