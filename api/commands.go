package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// A command turns a version-neutral request body into the OCPP message of
// the station's version. It returns errVersion when that version cannot do it.
type command func(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error)

// errVersion says a command has no equivalent in the station's version.
type errVersion struct{ hint string }

func (e errVersion) Error() string { return e.hint }

// commands are the version-neutral commands of POST /stations/{id}/commands/{name}.
var commands = map[string]command{
	"remote-start":         remoteStart,
	"remote-stop":          remoteStop,
	"reset":                reset,
	"change-availability":  changeAvailability,
	"unlock-connector":     unlockConnector,
	"trigger-message":      triggerMessage,
	"clear-cache":          clearCache,
	"data-transfer":        dataTransfer,
	"get-configuration":    getConfiguration,
	"change-configuration": changeConfiguration,
	"get-variables":        getVariables,
	"set-variables":        setVariables,
}

// CommandNames lists the version-neutral commands, sorted.
func CommandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// commandResult is what a command returns: the station's answer as sent.
type commandResult struct {
	Station  string          `json:"station"`
	Protocol string          `json:"protocol"`
	Action   string          `json:"action"`
	Response json.RawMessage `json:"response"`
}

// ocppErrorBody is the answer when the station replied with a CALLERROR.
type ocppErrorBody struct {
	Error     string      `json:"error"`
	OCPPError *ocpp.Error `json:"ocpp_error"`
}

func (a *API) command(w http.ResponseWriter, r *http.Request) {
	cmd, ok := commands[r.PathValue("name")]
	if !ok {
		writeError(w, http.StatusNotFound, "unknown command %q; commands: %s; for any other action POST /api/v1/stations/{id}/ocpp/{Action}",
			r.PathValue("name"), strings.Join(CommandNames(), ", "))
		return
	}
	c, ok := a.connected(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	msg, err := cmd(r.Context(), a, c, body)
	var ev errVersion
	switch {
	case errors.As(err, &ev):
		writeError(w, http.StatusUnprocessableEntity, "%s cannot be sent to %s, which speaks OCPP %s: %s", r.PathValue("name"), c.ID(), c.Version(), ev.hint)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "%s: %v", r.PathValue("name"), err)
		return
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%s: %v", r.PathValue("name"), err)
		return
	}
	a.send(w, r, c, msg.Action(), payload)
}

// rawCall sends the body as the payload of any action in the station's version.
func (a *API) rawCall(w http.ResponseWriter, r *http.Request) {
	c, ok := a.connected(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(body) == 0 {
		body = json.RawMessage(`{}`)
	}
	if !ocpp.IsAction(c.Version(), r.PathValue("action")) {
		writeError(w, http.StatusBadRequest, "%s is not an OCPP %s action", r.PathValue("action"), c.Version())
		return
	}
	a.send(w, r, c, r.PathValue("action"), body)
}

// send makes the call and writes the station's answer, or why there is none.
func (a *API) send(w http.ResponseWriter, r *http.Request, c *ocpp.Conn, action string, payload json.RawMessage) {
	if c.Validation() == ocpp.Strict {
		if err := ocpp.ValidateRequest(c.Version(), action, payload); err != nil {
			writeError(w, http.StatusBadRequest, "%s payload breaks the OCPP %s schema: %v", action, c.Version(), err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.commandTimeout)
	defer cancel()
	start := time.Now()
	resp, err := c.CallRaw(ctx, action, payload)
	a.observe("to_station", action, err, time.Since(start))
	var oe *ocpp.Error
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, commandResult{Station: c.ID(), Protocol: c.Version().Subprotocol(), Action: action, Response: resp})
	case errors.Is(err, ocpp.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "%s did not answer %s within %s", c.ID(), action, a.commandTimeout)
	case errors.Is(err, ocpp.ErrQueueFull):
		writeError(w, http.StatusTooManyRequests, "too many calls are waiting for %s; retry later", c.ID())
	case errors.Is(err, ocpp.ErrClosed):
		writeError(w, http.StatusConflict, "%s disconnected before answering %s", c.ID(), action)
	case errors.As(err, &oe):
		// The station answered with a CALLERROR (or its answer broke the schema).
		writeJSON(w, http.StatusBadGateway, ocppErrorBody{Error: err.Error(), OCPPError: oe})
	default:
		a.log.Error("command failed", "station", c.ID(), "action", action, "err", err)
		writeError(w, http.StatusBadGateway, "%s: %v", action, err)
	}
}

func (a *API) connected(w http.ResponseWriter, r *http.Request) (*ocpp.Conn, bool) {
	c, ok := a.stations.Conn(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusConflict, "station %s is not connected", r.PathValue("id"))
	}
	return c, ok
}

func readBody(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	var body json.RawMessage
	if r.ContentLength == 0 {
		return nil, true
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not JSON: %v", err)
		return nil, false
	}
	return body, true
}

// decode reads a command body strictly into v; an empty body leaves v zero.
func decode(body json.RawMessage, v any) error {
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

var remoteStartIDs atomic.Int64

func remoteStart(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		IDToken   string `json:"id_token"`
		TokenType string `json:"token_type"`
		EVSE      *int   `json:"evse"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.IDToken == "" {
		return nil, errors.New("id_token is required")
	}
	if c.Version() == ocpp.V16 {
		return &v16.RemoteStartTransactionRequest{IDTag: in.IDToken, ConnectorID: in.EVSE}, nil
	}
	typ := v201.IDTokenEnum(in.TokenType)
	if typ == "" {
		typ = v201.IDTokenEnumCentral
	}
	return &v201.RequestStartTransactionRequest{
		IDToken: v201.IDToken{IDToken: in.IDToken, Type: typ}, EvseID: in.EVSE, RemoteStartID: int(remoteStartIDs.Add(1)),
	}, nil
}

func remoteStop(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		// TransactionID is the CSMS's transaction id, as /transactions lists it.
		TransactionID int64 `json:"transaction_id"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tx, err := a.store.Transaction(ctx, in.TransactionID)
	if errors.Is(err, csms.ErrNotFound) {
		return nil, fmt.Errorf("transaction %d not found", in.TransactionID)
	}
	if err != nil {
		return nil, err
	}
	if tx.StationID != c.ID() {
		return nil, fmt.Errorf("transaction %d runs on %s, not %s", tx.ID, tx.StationID, c.ID())
	}
	if c.Version() == ocpp.V16 {
		return &v16.RemoteStopTransactionRequest{TransactionID: int(tx.ID)}, nil
	}
	return &v201.RequestStopTransactionRequest{TransactionID: tx.StationTxID}, nil
}

func reset(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		// Type: "soft" (finish what is running; 2.0.1 OnIdle) or "hard"
		// (now; 2.0.1 Immediate). Default soft.
		Type string `json:"type"`
		EVSE *int   `json:"evse"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	hard := false
	switch strings.ToLower(in.Type) {
	case "", "soft", "onidle", "on-idle":
	case "hard", "immediate":
		hard = true
	default:
		return nil, fmt.Errorf("type must be soft or hard, got %q", in.Type)
	}
	if c.Version() == ocpp.V16 {
		if in.EVSE != nil {
			return nil, errVersion{"OCPP 1.6 resets the whole charge point; leave out evse"}
		}
		t := v16.ResetType("Soft")
		if hard {
			t = "Hard"
		}
		return &v16.ResetRequest{Type: t}, nil
	}
	t := v201.ResetEnumOnIdle
	if hard {
		t = v201.ResetEnumImmediate
	}
	return &v201.ResetRequest{Type: t, EvseID: in.EVSE}, nil
}

func changeAvailability(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		EVSE      int   `json:"evse"`      // 0: the whole station
		Connector *int  `json:"connector"` // 2.0.1 only
		Available *bool `json:"available"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Available == nil {
		return nil, errors.New("available (true or false) is required")
	}
	if c.Version() == ocpp.V16 {
		if in.Connector != nil {
			return nil, errNoConnector16
		}
		t := v16.AvailabilityType("Inoperative")
		if *in.Available {
			t = "Operative"
		}
		return &v16.ChangeAvailabilityRequest{ConnectorID: in.EVSE, Type: t}, nil
	}
	status := v201.OperationalStatusEnumInoperative
	if *in.Available {
		status = v201.OperationalStatusEnumOperative
	}
	req := &v201.ChangeAvailabilityRequest{OperationalStatus: status}
	if in.EVSE > 0 {
		req.Evse = &v201.EVSE{ID: in.EVSE, ConnectorID: in.Connector}
	}
	return req, nil
}

func unlockConnector(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		EVSE      int `json:"evse"`
		Connector int `json:"connector"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.EVSE < 1 {
		return nil, errors.New("evse (1 or more) is required")
	}
	if c.Version() == ocpp.V16 {
		if in.Connector > 1 {
			return nil, errNoConnector16
		}
		return &v16.UnlockConnectorRequest{ConnectorID: in.EVSE}, nil
	}
	if in.Connector < 1 {
		in.Connector = 1
	}
	return &v201.UnlockConnectorRequest{EvseID: in.EVSE, ConnectorID: in.Connector}, nil
}

// errNoConnector16 refuses a connector within an EVSE on OCPP 1.6, whose
// connectors are what 2.0.1 calls EVSEs.
var errNoConnector16 = errVersion{"OCPP 1.6 has no connectors within an EVSE: give the 1.6 connector id as evse"}

// triggerNames renames the triggerable messages that the two versions name
// differently, so that either name works on either version.
var triggerNames = map[ocpp.Version]map[string]string{
	ocpp.V16:  {"LogStatusNotification": "DiagnosticsStatusNotification"},
	ocpp.V201: {"DiagnosticsStatusNotification": "LogStatusNotification"},
}

func triggerMessage(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Message   string `json:"message"` // e.g. BootNotification, Heartbeat, StatusNotification, MeterValues
		EVSE      *int   `json:"evse"`
		Connector *int   `json:"connector"` // 2.0.1 only
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Message == "" {
		return nil, errors.New("message is required, e.g. Heartbeat")
	}
	if name, ok := triggerNames[c.Version()][in.Message]; ok {
		in.Message = name
	}
	if c.Version() == ocpp.V16 {
		if in.Connector != nil {
			return nil, errNoConnector16
		}
		return &v16.TriggerMessageRequest{RequestedMessage: v16.MessageTrigger(in.Message), ConnectorID: in.EVSE}, nil
	}
	req := &v201.TriggerMessageRequest{RequestedMessage: v201.MessageTriggerEnum(in.Message)}
	if in.EVSE != nil {
		req.Evse = &v201.EVSE{ID: *in.EVSE, ConnectorID: in.Connector}
		if in.Message == "StatusNotification" && in.Connector == nil {
			one := 1 // a status is a connector's: 2.0.1 wants the connector named
			req.Evse.ConnectorID = &one
		}
	}
	return req, nil
}

func clearCache(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	if c.Version() == ocpp.V16 {
		return &v16.ClearCacheRequest{}, nil
	}
	return &v201.ClearCacheRequest{}, nil
}

func dataTransfer(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		VendorID  string          `json:"vendor_id"`
		MessageID string          `json:"message_id"`
		Data      json.RawMessage `json:"data"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.VendorID == "" {
		return nil, errors.New("vendor_id is required")
	}
	if c.Version() == ocpp.V16 {
		// 1.6 carries data as a string: a JSON string is sent as its text,
		// anything else as its JSON.
		var s string
		if err := json.Unmarshal(in.Data, &s); err != nil {
			s = string(in.Data)
		}
		return &v16.DataTransferRequest{VendorID: in.VendorID, MessageID: in.MessageID, Data: s}, nil
	}
	return &v201.DataTransferRequest{VendorID: in.VendorID, MessageID: in.MessageID, Data: in.Data}, nil
}

func getConfiguration(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Keys []string `json:"keys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if c.Version() != ocpp.V16 {
		return nil, errVersion{"configuration keys are OCPP 1.6; use get-variables"}
	}
	return &v16.GetConfigurationRequest{Key: in.Keys}, nil
}

func changeConfiguration(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	var in struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if c.Version() != ocpp.V16 {
		return nil, errVersion{"configuration keys are OCPP 1.6; use set-variables"}
	}
	if in.Key == "" {
		return nil, errors.New("key is required")
	}
	return &v16.ChangeConfigurationRequest{Key: in.Key, Value: in.Value}, nil
}

// variableRef names a 2.0.1 variable: component[/instance] and variable[/instance].
type variableRef struct {
	Component         string `json:"component"`
	ComponentInstance string `json:"component_instance"`
	EVSE              *int   `json:"evse"`
	Variable          string `json:"variable"`
	VariableInstance  string `json:"variable_instance"`
	Attribute         string `json:"attribute"` // Actual (default), Target, MinSet, MaxSet
	Value             string `json:"value"`     // set-variables only
}

func (v variableRef) parts() (v201.Component, v201.Variable, error) {
	if v.Component == "" || v.Variable == "" {
		return v201.Component{}, v201.Variable{}, errors.New("each variable needs component and variable")
	}
	comp := v201.Component{Name: v.Component, Instance: v.ComponentInstance}
	if v.EVSE != nil {
		comp.Evse = &v201.EVSE{ID: *v.EVSE}
	}
	return comp, v201.Variable{Name: v.Variable, Instance: v.VariableInstance}, nil
}

// variables reads the variables of a get- or set-variables body and makes
// each into an item of the 2.0.1 request; use16 names the 1.6 command to
// use instead.
func variables[T any](c *ocpp.Conn, body json.RawMessage, use16 string, item func(variableRef, v201.Component, v201.Variable) T) ([]T, error) {
	var in struct {
		Variables []variableRef `json:"variables"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if c.Version() == ocpp.V16 {
		return nil, errVersion{"device-model variables are OCPP 2.0.1; use " + use16}
	}
	if len(in.Variables) == 0 {
		return nil, errors.New("variables: give at least one {component, variable}")
	}
	items := make([]T, len(in.Variables))
	for i, v := range in.Variables {
		comp, vr, err := v.parts()
		if err != nil {
			return nil, fmt.Errorf("variables[%d]: %w", i, err)
		}
		items[i] = item(v, comp, vr)
	}
	return items, nil
}

func getVariables(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	data, err := variables(c, body, "get-configuration", func(v variableRef, comp v201.Component, vr v201.Variable) v201.GetVariableData {
		return v201.GetVariableData{Component: comp, Variable: vr, AttributeType: v201.AttributeEnum(v.Attribute)}
	})
	if err != nil {
		return nil, err
	}
	return &v201.GetVariablesRequest{GetVariableData: data}, nil
}

func setVariables(ctx context.Context, a *API, c *ocpp.Conn, body json.RawMessage) (ocpp.Message, error) {
	data, err := variables(c, body, "change-configuration", func(v variableRef, comp v201.Component, vr v201.Variable) v201.SetVariableData {
		return v201.SetVariableData{Component: comp, Variable: vr, AttributeType: v201.AttributeEnum(v.Attribute), AttributeValue: v.Value}
	})
	if err != nil {
		return nil, err
	}
	return &v201.SetVariablesRequest{SetVariableData: data}, nil
}
