package sim

import (
	"context"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
)

// This file is the station's OCPP 2.0.1 side: the messages it sends and the
// router that answers the CSMS's requests.

func (s *Station) boot201(ctx context.Context) (BootResult, error) {
	s.mu.Lock()
	reason := s.bootReason
	s.mu.Unlock()
	req := &v201.BootNotificationRequest{
		Reason: v201.BootReasonEnum(reason),
		ChargingStation: v201.ChargingStation{
			VendorName:      s.overlong(truncate(s.cfg.Vendor, 50), 50),
			Model:           s.overlong(truncate(s.cfg.Model, 20), 20),
			SerialNumber:    s.overlong(truncate(s.cfg.SerialNumber, 25), 25),
			FirmwareVersion: truncate(s.cfg.FirmwareVersion, 50),
		},
	}
	var resp v201.BootNotificationResponse
	if err := s.call(ctx, req, &resp); err != nil {
		return BootResult{}, err
	}
	return BootResult{Status: string(resp.Status), Interval: time.Duration(resp.Interval) * time.Second, CurrentTime: resp.CurrentTime}, nil
}

func (s *Station) heartbeat201(ctx context.Context) error {
	return s.call(ctx, &v201.HeartbeatRequest{}, &v201.HeartbeatResponse{})
}

func (s *Station) status201(ctx context.Context, evseID, connector int, status string) error {
	req := &v201.StatusNotificationRequest{
		Timestamp:       time.Now().UTC(),
		ConnectorStatus: v201.ConnectorStatusEnum(s.enum(status)),
		EvseID:          evseID,
		ConnectorID:     connector,
	}
	return s.call(ctx, req, &v201.StatusNotificationResponse{})
}

func idToken201(tok string) v201.IDToken {
	return v201.IDToken{IDToken: tok, Type: v201.IDTokenEnumISO14443}
}

func (s *Station) authorize201(ctx context.Context, tok string) (string, error) {
	var resp v201.AuthorizeResponse
	if err := s.call(ctx, &v201.AuthorizeRequest{IDToken: idToken201(tok)}, &resp); err != nil {
		return "", err
	}
	return string(resp.IDTokenInfo.Status), nil
}

// meterValue201 turns a sample into a 2.0.1 MeterValue.
func (s *Station) meterValue201(sm Sample, measurands []string, readingCtx string) v201.MeterValue {
	mv := v201.MeterValue{Timestamp: time.Now().UTC()}
	for _, r := range readings(sm, measurands, s.wrongUnits()) {
		sv := v201.SampledValue{
			Value:         r.value,
			Context:       v201.ReadingContextEnum(readingCtx),
			Measurand:     v201.MeasurandEnum(r.measurand),
			Phase:         v201.PhaseEnum(r.phase),
			Location:      v201.LocationEnumOutlet,
			UnitOfMeasure: &v201.UnitOfMeasure{Unit: r.unit},
		}
		if r.measurand == MeasurandSoC {
			sv.Location = v201.LocationEnumEV
		}
		mv.SampledValue = append(mv.SampledValue, sv)
	}
	return mv
}

// start201 sends (or queues) TransactionEvent Started and returns the
// token's status ("" when queued or not given).
func (s *Station) start201(ctx context.Context, e *evse, tx *transaction, sm Sample, trigger string) (string, error) {
	var auth string
	err := s.sendEvent201(ctx, e, tx, "Started", trigger, reading{sm: sm, context: "Transaction.Begin"}, "", true, func(r *v201.TransactionEventResponse) {
		if r.IDTokenInfo != nil {
			auth = string(r.IDTokenInfo.Status)
		}
	})
	return auth, err
}

// event201 sends (or queues) a TransactionEvent Updated.
func (s *Station) event201(ctx context.Context, e *evse, tx *transaction, eventType, trigger string, r reading, stoppedReason string, withState bool) error {
	return s.sendEvent201(ctx, e, tx, eventType, trigger, r, stoppedReason, withState, nil)
}

// sendEvent201 builds a TransactionEvent with the transaction's next seqNo
// and sends or queues it (offline=true when queued for being offline).
// The caller holds s.txMu, so seqNos reach the server in order.
func (s *Station) sendEvent201(ctx context.Context, e *evse, tx *transaction, eventType, trigger string, r reading, stoppedReason string, withState bool, onResp func(*v201.TransactionEventResponse)) error {
	s.mu.Lock()
	measurands := s.measurandsOf(r)
	if eventType == "Ended" {
		measurands = []string{MeasurandEnergy}
	}
	req := &v201.TransactionEventRequest{
		EventType:     v201.TransactionEventEnum(eventType),
		Timestamp:     time.Now().UTC(),
		TriggerReason: v201.TriggerReasonEnum(s.enum(trigger)),
		SeqNo:         tx.seq,
		TransactionInfo: v201.Transaction{
			TransactionID: tx.id,
			StoppedReason: v201.ReasonEnum(stoppedReason),
		},
	}
	if mv := s.meterValue201(r.sm, measurands, r.context); len(mv.SampledValue) > 0 {
		req.MeterValue = []v201.MeterValue{mv}
	}
	tx.seq++
	if withState {
		state := tx.state
		if eventType == "Ended" {
			state = "Idle"
			if e.plugged {
				state = "EVConnected"
			}
		}
		req.TransactionInfo.ChargingState = v201.ChargingStateEnum(state)
	}
	if eventType == "Started" {
		one := 1
		req.Evse = &v201.EVSE{ID: e.id, ConnectorID: &one}
		tok := idToken201(tx.idToken)
		req.IDToken = &tok
		req.TransactionInfo.RemoteStartID = tx.remoteStartID
	}
	if trigger == "StopAuthorized" {
		tok := idToken201(tx.idToken)
		req.IDToken = &tok
	}
	s.mu.Unlock()
	markOffline := func() {
		t := true
		req.Offline = &t
	}
	send := func(ctx context.Context, c *ocpp.Conn) error {
		var resp v201.TransactionEventResponse
		if err := s.callOn(ctx, c, req, &resp); err != nil {
			return err
		}
		if onResp != nil {
			onResp(&resp)
		}
		return nil
	}
	_, err := s.txSend(ctx, "TransactionEvent", markOffline, send)
	return err
}

// stopTrigger is the triggerReason of a TransactionEvent Ended for a
// stoppedReason.
func stopTrigger(reason string) string {
	switch reason {
	case "Local":
		return "StopAuthorized"
	case "Remote":
		return "RemoteStop"
	case "EVDisconnected":
		return "EVCommunicationLost"
	case "ImmediateReset", "Reboot":
		return "ResetCommand"
	case "DeAuthorized":
		return "Deauthorized"
	case "EnergyLimitReached":
		return "EnergyLimitReached"
	case "TimeLimitReached":
		return "TimeLimitReached"
	case "StoppedByEV", "SOCLimitReached":
		return "ChargingStateChanged"
	}
	return "AbnormalCondition"
}

// stop201 sends (or queues) TransactionEvent Ended with the final reading.
func (s *Station) stop201(ctx context.Context, e *evse, tx *transaction, sm Sample, reason string) error {
	if reason == "EVDisconnected" {
		// The cable came out: 2.0.1 calls that EVDeparted when it ends the session.
		return s.event201(ctx, e, tx, "Ended", "EVDeparted", reading{sm: sm, context: "Transaction.End"}, reason, true)
	}
	return s.event201(ctx, e, tx, "Ended", stopTrigger(reason), reading{sm: sm, context: "Transaction.End"}, reason, true)
}

// meterValues201 sends a MeterValues outside the transaction flow
// (TriggerMessage, clock-aligned readings without a transaction).
func (s *Station) meterValues201(ctx context.Context, e *evse, r reading) error {
	s.mu.Lock()
	mv := s.meterValue201(r.sm, s.measurandsOf(r), r.context)
	s.mu.Unlock()
	if len(mv.SampledValue) == 0 {
		return nil
	}
	return s.call(ctx, &v201.MeterValuesRequest{EvseID: e.id, MeterValue: []v201.MeterValue{mv}}, &v201.MeterValuesResponse{})
}

// router201 answers the CSMS's requests for every 2.0.1 station.
var router201 = func() *ocpp.Router {
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.RequestStartTransactionRequest) (*v201.RequestStartTransactionResponse, error) {
		s := stationOf(ctx)
		n := 0
		if req.EvseID != nil {
			n = *req.EvseID
		}
		e := s.freeEVSE(n)
		if e == nil {
			return &v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusEnumRejected}, nil
		}
		if cp := req.ChargingProfile; cp != nil {
			if cp.ChargingProfilePurpose != v201.ChargingProfilePurposeEnumTxProfile {
				return &v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusEnumRejected}, nil
			}
			p := profile201(cp)
			p.txID = ""
			s.mu.Lock()
			s.installProfile(e.id, p)
			s.mu.Unlock()
		}
		id := req.RemoteStartID
		tok := req.IDToken.IDToken
		s.afterAnswer(func() { s.remoteStart(e.id, tok, &id) })
		return &v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.RequestStopTransactionRequest) (*v201.RequestStopTransactionResponse, error) {
		s := stationOf(ctx)
		e := s.evseOfTx(req.TransactionID)
		if e == nil {
			return &v201.RequestStopTransactionResponse{Status: v201.RequestStartStopStatusEnumRejected}, nil
		}
		s.afterAnswer(func() { s.remoteStop(e.id, "Remote") })
		return &v201.RequestStopTransactionResponse{Status: v201.RequestStartStopStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.ResetRequest) (*v201.ResetResponse, error) {
		s := stationOf(ctx)
		if req.EvseID != nil {
			// Resetting one EVSE is optional in 2.0.1; this station does not.
			return &v201.ResetResponse{Status: v201.ResetStatusEnumRejected}, nil
		}
		if req.Type == v201.ResetEnumOnIdle {
			s.mu.Lock()
			busy := false
			for _, e := range s.evses {
				busy = busy || e.tx != nil
			}
			if busy {
				s.pendReset = "ImmediateReset"
			}
			s.mu.Unlock()
			if busy {
				return &v201.ResetResponse{Status: v201.ResetStatusEnumScheduled}, nil
			}
		}
		time.AfterFunc(resetAfter, func() { s.reset("ImmediateReset") })
		return &v201.ResetResponse{Status: v201.ResetStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.ChangeAvailabilityRequest) (*v201.ChangeAvailabilityResponse, error) {
		s := stationOf(ctx)
		id := 0
		if req.Evse != nil {
			id = req.Evse.ID
		}
		st, ok := s.changeAvailability(id, req.OperationalStatus == v201.OperationalStatusEnumOperative)
		if !ok {
			return &v201.ChangeAvailabilityResponse{Status: v201.ChangeAvailabilityStatusEnumRejected}, nil
		}
		return &v201.ChangeAvailabilityResponse{Status: v201.ChangeAvailabilityStatusEnum(st)}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.UnlockConnectorRequest) (*v201.UnlockConnectorResponse, error) {
		s := stationOf(ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		e, err := s.evseAt(req.EvseID)
		switch {
		case err != nil || req.ConnectorID < 1 || req.ConnectorID > e.connectors:
			return &v201.UnlockConnectorResponse{Status: v201.UnlockStatusEnumUnknownConnector}, nil
		case e.tx != nil:
			return &v201.UnlockConnectorResponse{Status: v201.UnlockStatusEnumOngoingAuthorizedTransaction}, nil
		}
		return &v201.UnlockConnectorResponse{Status: v201.UnlockStatusEnumUnlocked}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.TriggerMessageRequest) (*v201.TriggerMessageResponse, error) {
		s := stationOf(ctx)
		evseID := 0
		if req.Evse != nil {
			evseID = req.Evse.ID
			if evseID < 0 || evseID > len(s.evses) {
				return &v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusEnumRejected}, nil
			}
		}
		switch req.RequestedMessage {
		case v201.MessageTriggerEnumBootNotification, v201.MessageTriggerEnumHeartbeat,
			v201.MessageTriggerEnumStatusNotification, v201.MessageTriggerEnumMeterValues,
			v201.MessageTriggerEnumTransactionEvent:
		default:
			return &v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusEnumNotImplemented}, nil
		}
		msg := string(req.RequestedMessage)
		s.afterAnswer(func() { s.trigger(msg, evseID) })
		return &v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.GetVariablesRequest) (*v201.GetVariablesResponse, error) {
		s := stationOf(ctx)
		resp := &v201.GetVariablesResponse{}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, d := range req.GetVariableData {
			res := v201.GetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
			st, known := variable201(d.Component.Name, d.Variable.Name)
			switch {
			case !known:
				res.AttributeStatus = v201.GetVariableStatusEnumUnknownComponent
			case st == nil:
				res.AttributeStatus = v201.GetVariableStatusEnumUnknownVariable
			case d.AttributeType != "" && d.AttributeType != v201.AttributeEnumActual:
				res.AttributeStatus = v201.GetVariableStatusEnumNotSupportedAttributeType
			default:
				res.AttributeStatus = v201.GetVariableStatusEnumAccepted
				res.AttributeValue = st.value(s)
			}
			resp.GetVariableResult = append(resp.GetVariableResult, res)
		}
		return resp, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.SetVariablesRequest) (*v201.SetVariablesResponse, error) {
		s := stationOf(ctx)
		resp := &v201.SetVariablesResponse{}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, d := range req.SetVariableData {
			res := v201.SetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
			st, known := variable201(d.Component.Name, d.Variable.Name)
			switch {
			case !known:
				res.AttributeStatus = v201.SetVariableStatusEnumUnknownComponent
			case st == nil:
				res.AttributeStatus = v201.SetVariableStatusEnumUnknownVariable
			case d.AttributeType != "" && d.AttributeType != v201.AttributeEnumActual:
				res.AttributeStatus = v201.SetVariableStatusEnumNotSupportedAttributeType
			case st.readonly || st.check(d.AttributeValue) != nil:
				res.AttributeStatus = v201.SetVariableStatusEnumRejected
			default:
				res.AttributeStatus = v201.SetVariableStatusEnumAccepted
				if st.store(s, d.AttributeValue) {
					res.AttributeStatus = v201.SetVariableStatusEnumRebootRequired
				}
			}
			resp.SetVariableResult = append(resp.SetVariableResult, res)
		}
		return resp, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.SetChargingProfileRequest) (*v201.SetChargingProfileResponse, error) {
		s := stationOf(ctx)
		cp := &req.ChargingProfile
		rejected := &v201.SetChargingProfileResponse{Status: v201.ChargingProfileStatusEnumRejected}
		if req.EvseID < 0 || req.EvseID > len(s.evses) || len(cp.ChargingSchedule) == 0 {
			return rejected, nil
		}
		p := profile201(cp)
		s.mu.Lock()
		defer s.mu.Unlock()
		switch cp.ChargingProfilePurpose {
		case v201.ChargingProfilePurposeEnumChargingStationMaxProfile:
			if req.EvseID != 0 {
				return rejected, nil
			}
		case v201.ChargingProfilePurposeEnumTxProfile:
			if req.EvseID == 0 {
				return rejected, nil
			}
			tx := s.evses[req.EvseID-1].tx
			if tx == nil || cp.TransactionID != "" && cp.TransactionID != tx.id {
				return rejected, nil
			}
			p.txID = tx.id
		case v201.ChargingProfilePurposeEnumChargingStationExternalConstraints:
			return rejected, nil // set by an energy management system, not by the CSMS
		}
		s.installProfile(req.EvseID, p)
		return &v201.SetChargingProfileResponse{Status: v201.ChargingProfileStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.ClearChargingProfileRequest) (*v201.ClearChargingProfileResponse, error) {
		s := stationOf(ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		crit := req.ChargingProfileCriteria
		any := s.clearProfiles(func(evseID int, p *profile) bool {
			if req.ChargingProfileID != nil {
				return p.id == *req.ChargingProfileID
			}
			if crit == nil {
				return true
			}
			purpose := string(crit.ChargingProfilePurpose)
			if purpose == string(v201.ChargingProfilePurposeEnumChargingStationMaxProfile) {
				purpose = purposeMax
			}
			return (crit.EvseID == nil || *crit.EvseID == evseID) &&
				(purpose == "" || purpose == p.purpose) &&
				(crit.StackLevel == nil || *crit.StackLevel == p.stack)
		})
		if !any {
			return &v201.ClearChargingProfileResponse{Status: v201.ClearChargingProfileStatusEnumUnknown}, nil
		}
		return &v201.ClearChargingProfileResponse{Status: v201.ClearChargingProfileStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.DataTransferRequest) (*v201.DataTransferResponse, error) {
		if contains(stationOf(ctx).cfg.DataTransferVendors, req.VendorID) {
			return &v201.DataTransferResponse{Status: v201.DataTransferStatusEnumAccepted}, nil
		}
		return &v201.DataTransferResponse{Status: v201.DataTransferStatusEnumUnknownVendorId}, nil
	})
	return r
}()

// profile201 converts a 2.0.1 charging profile; the first schedule counts.
func profile201(cp *v201.ChargingProfile) *profile {
	p := &profile{
		id:         cp.ID,
		stack:      cp.StackLevel,
		purpose:    string(cp.ChargingProfilePurpose),
		kind:       string(cp.ChargingProfileKind),
		recurrency: string(cp.RecurrencyKind),
		txID:       cp.TransactionID,
		installed:  time.Now(),
	}
	if cp.ChargingProfilePurpose == v201.ChargingProfilePurposeEnumChargingStationMaxProfile {
		p.purpose = purposeMax
	}
	if cp.ValidFrom != nil {
		p.validFrom = *cp.ValidFrom
	}
	if cp.ValidTo != nil {
		p.validTo = *cp.ValidTo
	}
	if len(cp.ChargingSchedule) == 0 {
		return p
	}
	cs := &cp.ChargingSchedule[0]
	p.unitAmps = cs.ChargingRateUnit == v201.ChargingRateUnitEnumA
	if cs.StartSchedule != nil {
		p.start = *cs.StartSchedule
	}
	if cs.Duration != nil {
		p.duration = time.Duration(*cs.Duration) * time.Second
	}
	for _, sp := range cs.ChargingSchedulePeriod {
		pr := period{start: time.Duration(sp.StartPeriod) * time.Second, limit: sp.Limit}
		if sp.NumberPhases != nil {
			pr.phases = *sp.NumberPhases
		}
		p.periods = append(p.periods, pr)
	}
	return p
}
