package peer

import (
	"strings"
	"testing"
)

// The error codes below are asserted exactly as ocpp-rpc 2.2.1 produces them,
// misspellings included: our Go side must cope with what real peers send.

func TestStrictClientRefusesInvalidCall(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp2.0.1", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)
	_, rpcErr, err := c.Call(ctx, "BootNotification", map[string]any{"reason": "PowerUp"})
	if err != nil || rpcErr == nil || rpcErr.Code != "OccurenceConstraintViolation" ||
		rpcErr.Message != "data must have required property 'chargingStation'" {
		t.Fatalf("got %v %v", rpcErr, err)
	}
	ev, err := c.WaitEvent(ctx, isEvent("validation_failure", "BootNotification"))
	if err != nil || ev.ErrorCode != "OccurenceConstraintViolation" {
		t.Fatalf("validation_failure event %s, %v", ev.Raw, err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Calls != 0 {
		t.Fatalf("the invalid call reached the server: %+v %v", st, err)
	}
	// An action the schema lacks cannot even be sent in strict mode.
	if _, rpcErr, _ := c.Call(ctx, "Custom", map[string]any{}); rpcErr == nil || rpcErr.Code != "ProtocolError" ||
		rpcErr.Message != "Schema 'urn:Custom.req' is missing from subprotocol schema 'ocpp2.0.1'" {
		t.Fatalf("Custom: %v", rpcErr)
	}
}

// What a strict ocpp-rpc server answers to invalid calls (sent by a
// non-strict client, as our Go client might send them).
func TestStrictServerAnswersInvalidCall(t *testing.T) {
	t.Parallel()
	s := startServer(t, ServerOptions{})
	clients := map[string]*Client{} // one non-strict client per protocol
	for _, p := range []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"} {
		clients[p] = startClient(t, ClientOptions{URL: s.URL(), Identity: p, Protocols: []string{p}, NonStrict: true})
	}
	for _, tc := range []struct {
		name, protocol, action string
		payload                map[string]any
		code                   string
	}{
		{"missing 2.0.1", "ocpp2.0.1", "BootNotification", map[string]any{"reason": "PowerUp"}, "OccurenceConstraintViolation"},
		{"missing 1.6", "ocpp1.6", "BootNotification", map[string]any{"chargePointVendor": "x"}, "OccurrenceConstraintViolation"},
		{"type 2.0.1", "ocpp2.0.1", "Heartbeat", map[string]any{"customData": "x"}, "TypeConstraintViolation"},
		{"too long 2.0.1", "ocpp2.0.1", "Authorize", map[string]any{"idToken": map[string]any{"idToken": strings.Repeat("x", 99), "type": "Central"}}, "FormatViolation"},
		{"too long 1.6", "ocpp1.6", "Authorize", map[string]any{"idTag": strings.Repeat("x", 21)}, "FormationViolation"},
		{"bad enum 2.1", "ocpp2.1", "Reset", map[string]any{"type": "Bogus"}, "FormatViolation"}, // no mapping for "enum"
		{"extra property 1.6", "ocpp1.6", "Heartbeat", map[string]any{"extra": 1}, "PropertyConstraintViolation"},
		{"unknown action", "ocpp2.0.1", "Custom", map[string]any{}, "NotImplemented"},
		{"other version's action", "ocpp2.0.1", "StartTransaction", map[string]any{}, "NotImplemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rpcErr, err := clients[tc.protocol].Call(testCtx(t), tc.action, tc.payload)
			if err != nil || rpcErr == nil || rpcErr.Code != tc.code {
				t.Fatalf("got %v %v, want code %s", rpcErr, err, tc.code)
			}
			if tc.code == "NotImplemented" && rpcErr.Message != "Unable to handle '"+tc.action+"' calls" {
				t.Fatalf("message %q", rpcErr.Message)
			}
		})
	}
}

// This is how interop tests catch schema-invalid responses from our side: the
// strict peer rejects the response and reports the validation error code.
func TestStrictCallerRejectsInvalidResponse(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp2.0.1", ServerOptions{NonStrict: true}, ClientOptions{})
	ctx := testCtx(t)
	if err := s.Respond(ctx, "BootNotification", map[string]any{"status": "Accepted"}); err != nil {
		t.Fatal(err)
	}
	_, rpcErr, err := c.Call(ctx, "BootNotification", boot201)
	if err != nil || rpcErr == nil || rpcErr.Code != "OccurenceConstraintViolation" ||
		rpcErr.Message != "data must have required property 'currentTime'" {
		t.Fatalf("got %v %v", rpcErr, err)
	}
}

// A strict peer never sends an invalid response: ocpp-rpc replaces it.
func TestStrictCalleeReplacesInvalidResponse(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp1.6", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)
	if err := s.Respond(ctx, "Heartbeat", map[string]any{"currentTime": "yesterday"}); err != nil {
		t.Fatal(err)
	}
	if _, rpcErr, err := c.Call(ctx, "Heartbeat", map[string]any{}); err != nil || rpcErr == nil || rpcErr.Code != "InternalError" {
		t.Fatalf("got %v %v", rpcErr, err)
	}
	if ev, err := s.WaitEvent(ctx, isEvent("validation_failure", "Heartbeat")); err != nil || ev.ErrorCode != "FormatViolation" {
		t.Fatalf("validation_failure %s %v", ev.Raw, err)
	}
}

func TestRawFrames(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp2.0.1", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)

	// A hand-made CALL is processed normally; its answer is unknown to the
	// sender's ocpp-rpc, so it surfaces as a bad_message there.
	if err := c.Raw(ctx, `[2,"abc","Heartbeat",{}]`); err != nil {
		t.Fatal(err)
	}
	if ev, err := s.WaitEvent(ctx, isEvent("call", "Heartbeat")); err != nil || ev.MessageID != "abc" {
		t.Fatalf("server saw %s %v", ev.Raw, err)
	}
	ev, err := c.WaitEvent(ctx, isEvent("bad_message", ""))
	if err != nil || !strings.HasPrefix(field(t, ev.Raw, "text"), `[3,"abc",{"currentTime":"`) {
		t.Fatalf("client saw %s %v", ev.Raw, err)
	}

	// Malformed frames: ocpp-rpc answers with a CALLERROR with message id "-1".
	if err := s.Raw(ctx, "CS1", "not json"); err != nil {
		t.Fatal(err)
	}
	if ev, err := c.WaitEvent(ctx, isEvent("bad_message", "")); err != nil || ev.ErrorCode != "RpcFrameworkError" {
		t.Fatalf("client saw %s %v", ev.Raw, err)
	}
	ev, err = s.WaitEvent(ctx, isEvent("bad_message", ""))
	if want := `[4,"-1","RpcFrameworkError","Message must be a JSON structure",{}]`; err != nil || field(t, ev.Raw, "text") != want {
		t.Fatalf("server saw %s %v, want text %s", ev.Raw, err, want)
	}
}
