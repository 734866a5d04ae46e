package csms

import (
	"context"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
)

// route201 registers the CSMS's answers to OCPP 2.0.1 stations.
func (s *Service) route201(r *ocpp.Router) {
	ocpp.Handle(r, s.boot201)
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, _ *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
		s.seen(ctx, c)
		return &v201.HeartbeatResponse{CurrentTime: s.now()}, nil
	})
	ocpp.Handle(r, s.status201)
	ocpp.Handle(r, s.authorize201)
	ocpp.Handle(r, s.transactionEvent201)
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.MeterValuesRequest) (*v201.MeterValuesResponse, error) {
		if err := s.store.RecordMeterValues(ctx, meterValues201(c.ID(), nil, req.EvseID, req.MeterValue)); err != nil {
			return nil, s.storeError(c, "MeterValues", err)
		}
		return &v201.MeterValuesResponse{}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.DataTransferRequest) (*v201.DataTransferResponse, error) {
		if err := s.logEvent(ctx, c, "DataTransfer", s.now(), req); err != nil {
			return nil, err
		}
		return &v201.DataTransferResponse{Status: v201.DataTransferStatusEnumUnknownVendorId}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.NotifyEventRequest) (*v201.NotifyEventResponse, error) {
		return &v201.NotifyEventResponse{}, s.logEvent(ctx, c, "NotifyEvent", req.GeneratedAt, req)
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.NotifyReportRequest) (*v201.NotifyReportResponse, error) {
		return &v201.NotifyReportResponse{}, s.logEvent(ctx, c, "NotifyReport", req.GeneratedAt, req)
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.SecurityEventNotificationRequest) (*v201.SecurityEventNotificationResponse, error) {
		return &v201.SecurityEventNotificationResponse{}, s.logEvent(ctx, c, "SecurityEventNotification", req.Timestamp, req)
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.FirmwareStatusNotificationRequest) (*v201.FirmwareStatusNotificationResponse, error) {
		return &v201.FirmwareStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.FirmwareStatus = string(req.Status) })
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.LogStatusNotificationRequest) (*v201.LogStatusNotificationResponse, error) {
		return &v201.LogStatusNotificationResponse{}, s.setOperationStatus(ctx, c, func(st *Station) { st.LogStatus = string(req.Status) })
	})
}

func (s *Service) boot201(ctx context.Context, c *ocpp.Conn, req *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
	cs := req.ChargingStation
	reg, err := s.boot(ctx, c, cs.VendorName, cs.Model, cs.SerialNumber, cs.FirmwareVersion)
	if err != nil {
		return nil, s.storeError(c, "BootNotification", err)
	}
	return &v201.BootNotificationResponse{
		Status: v201.RegistrationStatusEnum(reg), CurrentTime: s.now(), Interval: int(s.cfg.HeartbeatInterval / time.Second),
	}, nil
}

func (s *Service) status201(ctx context.Context, c *ocpp.Conn, req *v201.StatusNotificationRequest) (*v201.StatusNotificationResponse, error) {
	st := ConnectorStatus{
		StationID: c.ID(), EVSE: req.EvseID, Connector: req.ConnectorID,
		Status: string(req.ConnectorStatus), Raw: string(req.ConnectorStatus), Timestamp: req.Timestamp.UTC(),
	}
	if err := s.store.RecordStatus(ctx, st); err != nil {
		return nil, s.storeError(c, "StatusNotification", err)
	}
	return &v201.StatusNotificationResponse{}, nil
}

func (s *Service) idTokenInfo201(ctx context.Context, c *ocpp.Conn, tok v201.IDToken) (v201.IDTokenInfo, error) {
	if tok.Type == v201.IDTokenEnumNoAuthorization {
		return v201.IDTokenInfo{Status: v201.AuthorizationStatusEnumAccepted}, nil
	}
	status, expiry, group, err := s.authorize(ctx, c.ID(), tok.IDToken)
	if err != nil {
		return v201.IDTokenInfo{}, s.storeError(c, "Authorize", err)
	}
	info := v201.IDTokenInfo{Status: v201.AuthorizationStatusEnum(status), CacheExpiryDateTime: expiry}
	if group != "" {
		info.GroupIDToken = &v201.IDToken{IDToken: group, Type: v201.IDTokenEnumCentral}
	}
	return info, nil
}

func (s *Service) authorize201(ctx context.Context, c *ocpp.Conn, req *v201.AuthorizeRequest) (*v201.AuthorizeResponse, error) {
	info, err := s.idTokenInfo201(ctx, c, req.IDToken)
	if err != nil {
		return nil, err
	}
	return &v201.AuthorizeResponse{IDTokenInfo: info}, nil
}

// transactionEvent201 records the event; the store places it by seqNo and
// recognises replays. An event with an idToken is answered with its
// authorization, as OCPP 2.0.1 requires.
func (s *Service) transactionEvent201(ctx context.Context, c *ocpp.Conn, req *v201.TransactionEventRequest) (*v201.TransactionEventResponse, error) {
	raw := rawPayload(ctx, req)
	e := TxEvent{
		StationID: c.ID(), StationTxID: req.TransactionInfo.TransactionID, StopReason: string(req.TransactionInfo.StoppedReason),
		Event: TransactionEvent{
			EventType: string(req.EventType), SeqNo: req.SeqNo, Timestamp: req.Timestamp.UTC(),
			TriggerReason: string(req.TriggerReason), Offline: req.Offline != nil && *req.Offline, Raw: raw,
		},
	}
	if req.Evse != nil {
		e.EVSE = req.Evse.ID
		if req.Evse.ConnectorID != nil {
			e.Connector = *req.Evse.ConnectorID
		}
	}
	if req.IDToken != nil {
		e.IDToken = req.IDToken.IDToken
	}
	if req.EventType == v201.TransactionEventEnumEnded && e.StopReason == "" {
		e.StopReason = "Local" // 2.0.1: an absent stoppedReason means Local
	}
	e.MeterValues = meterValues201(c.ID(), nil, e.EVSE, req.MeterValue)
	e.MeterWh = registerWh(e.MeterValues)
	if _, _, err := s.store.RecordTransactionEvent(ctx, e); err != nil {
		return nil, s.storeError(c, "TransactionEvent", err)
	}
	resp := &v201.TransactionEventResponse{}
	if req.IDToken != nil {
		info, err := s.idTokenInfo201(ctx, c, *req.IDToken)
		if err != nil {
			return nil, err
		}
		resp.IDTokenInfo = &info
	}
	return resp, nil
}
