package csms

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
)

// stopSeqNo orders a 1.6 stop after every meter value of its transaction
// (whose sequence numbers are their times in Unix milliseconds).
const stopSeqNo = 1 << 62

// route16 registers the CSMS's answers to OCPP 1.6 stations.
func (s *Service) route16(r *ocpp.Router) {
	ocpp.Handle(r, s.boot16)
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, _ *v16.HeartbeatRequest) (*v16.HeartbeatResponse, error) {
		s.seen(ctx, c)
		return &v16.HeartbeatResponse{CurrentTime: s.now()}, nil
	})
	ocpp.Handle(r, s.status16)
	ocpp.Handle(r, s.authorize16)
	ocpp.Handle(r, s.startTransaction16)
	ocpp.Handle(r, s.stopTransaction16)
	ocpp.Handle(r, s.meterValues16)
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.DataTransferRequest) (*v16.DataTransferResponse, error) {
		if err := s.logEvent(ctx, c, "DataTransfer", s.now(), req); err != nil {
			return nil, err
		}
		// Stored for the operator; no vendor extension is known to the CSMS.
		return &v16.DataTransferResponse{Status: "UnknownVendorId"}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.SecurityEventNotificationRequest) (*v16.SecurityEventNotificationResponse, error) {
		return &v16.SecurityEventNotificationResponse{}, s.logEvent(ctx, c, "SecurityEventNotification", req.Timestamp, req)
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.FirmwareStatusNotificationRequest) (*v16.FirmwareStatusNotificationResponse, error) {
		return &v16.FirmwareStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.FirmwareStatus = string(req.Status) })
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.SignedFirmwareStatusNotificationRequest) (*v16.SignedFirmwareStatusNotificationResponse, error) {
		return &v16.SignedFirmwareStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.FirmwareStatus = string(req.Status) })
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.DiagnosticsStatusNotificationRequest) (*v16.DiagnosticsStatusNotificationResponse, error) {
		return &v16.DiagnosticsStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.DiagnosticsStatus = string(req.Status) })
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.LogStatusNotificationRequest) (*v16.LogStatusNotificationResponse, error) {
		return &v16.LogStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.LogStatus = string(req.Status) })
	})
}

func (s *Service) boot16(ctx context.Context, c *ocpp.Conn, req *v16.BootNotificationRequest) (*v16.BootNotificationResponse, error) {
	reg, err := s.boot(ctx, c, req.ChargePointVendor, req.ChargePointModel, req.ChargePointSerialNumber, req.FirmwareVersion)
	if err != nil {
		return nil, s.storeError(c, "BootNotification", err)
	}
	return &v16.BootNotificationResponse{
		Status: v16.RegistrationStatus(reg), CurrentTime: s.now(), Interval: int(s.cfg.HeartbeatInterval / time.Second),
	}, nil
}

// status16 maps 1.6's connector statuses onto the version-neutral ones.
func (s *Service) status16(ctx context.Context, c *ocpp.Conn, req *v16.StatusNotificationRequest) (*v16.StatusNotificationResponse, error) {
	ts := s.now()
	if req.Timestamp != nil {
		ts = req.Timestamp.UTC()
	}
	st := ConnectorStatus{
		StationID: c.ID(), EVSE: req.ConnectorID, Connector: 1, Raw: string(req.Status),
		Status: neutralStatus16(string(req.Status)), ErrorCode: string(req.ErrorCode), Info: req.Info, Timestamp: ts,
	}
	if req.ConnectorID == 0 { // the charge point as a whole
		st.Connector = 0
	}
	if err := s.store.RecordStatus(ctx, st); err != nil {
		return nil, s.storeError(c, "StatusNotification", err)
	}
	return &v16.StatusNotificationResponse{}, nil
}

// neutralStatus16 folds 1.6's detailed statuses into 2.0.1's five.
func neutralStatus16(status string) string {
	switch status {
	case "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing":
		return "Occupied"
	}
	return status
}

func (s *Service) idTagInfo16(ctx context.Context, c *ocpp.Conn, idTag string) (v16.IDTagInfo, error) {
	status, expiry, group, err := s.authorize(ctx, c.ID(), idTag)
	if err != nil {
		return v16.IDTagInfo{}, s.storeError(c, "Authorize", err)
	}
	return v16.IDTagInfo{Status: v16.AuthorizationStatus(status), ExpiryDate: expiry, ParentIDTag: group}, nil
}

func (s *Service) authorize16(ctx context.Context, c *ocpp.Conn, req *v16.AuthorizeRequest) (*v16.AuthorizeResponse, error) {
	info, err := s.idTagInfo16(ctx, c, req.IDTag)
	if err != nil {
		return nil, err
	}
	return &v16.AuthorizeResponse{IDTagInfo: info}, nil
}

// startTransaction16 issues our transactionId; a replayed start (offline
// queue, reconnect) gets the same id back.
func (s *Service) startTransaction16(ctx context.Context, c *ocpp.Conn, req *v16.StartTransactionRequest) (*v16.StartTransactionResponse, error) {
	info, err := s.idTagInfo16(ctx, c, req.IDTag)
	if err != nil {
		return nil, err
	}
	raw := rawPayload(ctx, req)
	meter := float64(req.MeterStart)
	tx, _, err := s.store.RecordTransactionEvent(ctx, TxEvent{
		StationID: c.ID(), EVSE: req.ConnectorID, Connector: 1, IDToken: req.IDTag, MeterWh: &meter,
		Event: TransactionEvent{EventType: "Started", SeqNo: 0, Timestamp: req.Timestamp.UTC(), TriggerReason: "Authorized", Raw: raw},
	})
	if err != nil {
		return nil, s.storeError(c, "StartTransaction", err)
	}
	return &v16.StartTransactionResponse{IDTagInfo: info, TransactionID: int(tx.ID)}, nil
}

// stopTransaction16 finishes a transaction; a second stop changes nothing.
func (s *Service) stopTransaction16(ctx context.Context, c *ocpp.Conn, req *v16.StopTransactionRequest) (*v16.StopTransactionResponse, error) {
	txID := int64(req.TransactionID)
	raw := rawPayload(ctx, req)
	meter := float64(req.MeterStop)
	reason := string(req.Reason)
	if reason == "" {
		reason = "Local" // 1.6 §6.50: an absent reason means Local
	}
	tx, err := s.store.Transaction(ctx, txID)
	if err == nil && tx.StationID != c.ID() {
		err = ErrNotFound // another station's transaction is none of this one's
	}
	if errors.Is(err, ErrNotFound) {
		// A stop for a transaction we never issued to this station (the id
		// -1 some chargers send after losing theirs, say): acknowledge it,
		// keep it on record; refusing it would have the station retry it
		// from its queue for ever.
		c.Logger().Warn("StopTransaction for an unknown transaction", "transactionId", req.TransactionID)
		if err := s.logEvent(ctx, c, "StopTransaction", req.Timestamp, req); err != nil {
			return nil, err
		}
		return &v16.StopTransactionResponse{}, nil
	}
	if err != nil {
		return nil, s.storeError(c, "StopTransaction", err)
	}
	_, _, err = s.store.RecordTransactionEvent(ctx, TxEvent{
		StationID: c.ID(), TransactionID: txID, IDToken: req.IDTag, MeterWh: &meter, StopReason: reason,
		Event:       TransactionEvent{EventType: "Ended", SeqNo: stopSeqNo, Timestamp: req.Timestamp.UTC(), TriggerReason: "StopAuthorized", Raw: raw},
		MeterValues: meterValues16(c.ID(), &txID, tx.EVSE, req.TransactionData),
	})
	if err != nil {
		return nil, s.storeError(c, "StopTransaction", err)
	}
	if req.IDTag == "" {
		return &v16.StopTransactionResponse{}, nil
	}
	info, err := s.idTagInfo16(ctx, c, req.IDTag)
	if err != nil {
		return nil, err
	}
	return &v16.StopTransactionResponse{IDTagInfo: &info}, nil
}

// meterValues16 stores meter values; those of a transaction update its
// energy as an Updated event placed by time.
func (s *Service) meterValues16(ctx context.Context, c *ocpp.Conn, req *v16.MeterValuesRequest) (*v16.MeterValuesResponse, error) {
	if req.TransactionID == nil {
		if err := s.store.RecordMeterValues(ctx, meterValues16(c.ID(), nil, req.ConnectorID, req.MeterValue)); err != nil {
			return nil, s.storeError(c, "MeterValues", err)
		}
		return &v16.MeterValuesResponse{}, nil
	}
	txID := int64(*req.TransactionID)
	values := meterValues16(c.ID(), &txID, req.ConnectorID, req.MeterValue)
	at := time.Time{}
	for _, v := range values {
		at = latest(at, v.Timestamp)
	}
	raw := rawPayload(ctx, req)
	_, _, err := s.store.RecordTransactionEvent(ctx, TxEvent{
		StationID: c.ID(), TransactionID: txID, MeterWh: registerWh(values), MeterValues: values,
		// 1.6 meter values have no seqNo; their time orders them.
		Event: TransactionEvent{EventType: "Updated", SeqNo: seqNoFromTime(at), Timestamp: at, TriggerReason: "MeterValuePeriodic", Raw: raw},
	})
	if errors.Is(err, ErrNotFound) {
		c.Logger().Warn("MeterValues for an unknown transaction; stored without it", "transactionId", txID)
		err = s.store.RecordMeterValues(ctx, meterValues16(c.ID(), nil, req.ConnectorID, req.MeterValue))
	}
	if err != nil {
		return nil, s.storeError(c, "MeterValues", err)
	}
	return &v16.MeterValuesResponse{}, nil
}

// seqNoFromTime gives a 1.6 meter-value event, which has no seqNo, one that
// orders it by time between its transaction's start (0) and stop.
func seqNoFromTime(t time.Time) int { return int(max(t.UnixMilli(), 1)) }

// seen records a sign of life without failing the answer: a heartbeat must
// be answered even if the store is slow.
func (s *Service) seen(ctx context.Context, c *ocpp.Conn) {
	if err := s.store.StationSeen(ctx, c.ID(), true, s.now()); err != nil && !errors.Is(err, ErrNotFound) {
		c.Logger().Warn("cannot record heartbeat", "err", err)
	}
}

// logEvent stores a station notice.
func (s *Service) logEvent(ctx context.Context, c *ocpp.Conn, kind string, at time.Time, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = s.now()
	}
	if _, err := s.store.RecordStationEvent(ctx, StationEvent{StationID: c.ID(), Kind: kind, Timestamp: at.UTC(), Payload: raw}); err != nil {
		return s.storeError(c, kind, err)
	}
	return nil
}

// setOperationStatus updates one of a station's firmware/diagnostics/log statuses.
func (s *Service) setOperationStatus(ctx context.Context, c *ocpp.Conn, set func(*Station)) error {
	st, err := s.store.Station(ctx, c.ID())
	if err != nil {
		return s.storeError(c, "status notification", err)
	}
	set(&st)
	st.UpdatedAt = s.now()
	if err := s.store.SaveStation(ctx, st); err != nil {
		return s.storeError(c, "status notification", err)
	}
	return nil
}
