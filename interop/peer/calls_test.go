package peer

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Every default answer of peer.js must pass strict validation, or tests would
// blame our code for the peer's InternalErrors.
func TestPeerDefaultsSchemaValid(t *testing.T) {
	Require(t)
	node, script, _ := locate()
	out, err := exec.Command(node, filepath.Join(filepath.Dir(script), "selfcheck.js")).CombinedOutput()
	if err != nil {
		t.Fatalf("selfcheck: %v\n%s", err, out)
	}
	var res struct {
		Checked  int
		Failures []json.RawMessage
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Checked < 190 || len(res.Failures) > 0 {
		t.Fatalf("selfcheck: %s", out)
	}
}

func TestBootNotificationAccepted(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		payload  map[string]any
	}{{"ocpp1.6", boot16}, {"ocpp2.0.1", boot201}, {"ocpp2.1", boot201}} {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			s, c := pair(t, tc.protocol, ServerOptions{HeartbeatInterval: 42}, ClientOptions{})
			ctx := testCtx(t)
			res, rpcErr, err := c.Call(ctx, "BootNotification", tc.payload)
			if err != nil || rpcErr != nil {
				t.Fatalf("BootNotification: %v %v", rpcErr, err)
			}
			var conf struct {
				Status      string
				Interval    int
				CurrentTime time.Time
			}
			if err := json.Unmarshal(res, &conf); err != nil || conf.Status != "Accepted" || conf.Interval != 42 || conf.CurrentTime.IsZero() {
				t.Fatalf("BootNotification answer %s (%v)", res, err)
			}
			ev, err := s.WaitEvent(ctx, isEvent("call", "BootNotification"))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Identity != "CS1" || ev.MessageID == "" || len(ev.Payload) == 0 {
				t.Fatalf("server saw %s", ev.Raw)
			}
		})
	}
}

func TestServerCallsClient(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp2.0.1", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)

	res, rpcErr, err := s.Call(ctx, "CS1", "Reset", map[string]any{"type": "Immediate"})
	if err != nil || rpcErr != nil || field(t, res, "status") != "Accepted" {
		t.Fatalf("Reset: %s %v %v", res, rpcErr, err)
	}
	if ev, err := c.WaitEvent(ctx, isEvent("call", "Reset")); err != nil || field(t, ev.Payload, "type") != "Immediate" {
		t.Fatalf("client saw %s, %v", ev.Raw, err)
	}

	// GetVariables answers one result per requested variable.
	res, rpcErr, err = s.Call(ctx, "CS1", "GetVariables", map[string]any{"getVariableData": []any{
		map[string]any{"component": map[string]any{"name": "OCPPCommCtrlr"}, "variable": map[string]any{"name": "HeartbeatInterval"}},
		map[string]any{"component": map[string]any{"name": "Nope"}, "variable": map[string]any{"name": "Nope"}},
	}})
	var gv struct {
		GetVariableResult []struct{ AttributeStatus, AttributeValue string }
	}
	if err != nil || rpcErr != nil || json.Unmarshal(res, &gv) != nil || len(gv.GetVariableResult) != 2 ||
		gv.GetVariableResult[0].AttributeStatus != "Accepted" || gv.GetVariableResult[0].AttributeValue != "300" ||
		gv.GetVariableResult[1].AttributeStatus != "UnknownVariable" {
		t.Fatalf("GetVariables: %s %v %v", res, rpcErr, err)
	}

	// Calls to a station that is not connected are a command error.
	if _, _, err := s.Call(ctx, "nobody", "Reset", map[string]any{"type": "Immediate"}); err == nil {
		t.Fatal("call to unknown identity succeeded")
	}
}

func TestRespondOverrides(t *testing.T) {
	t.Parallel()
	s, c := pair(t, "ocpp1.6", ServerOptions{}, ClientOptions{})
	ctx := testCtx(t)
	reset := map[string]any{"type": "Soft"}

	if err := c.Respond(ctx, "Reset", map[string]any{"status": "Rejected"}); err != nil {
		t.Fatal(err)
	}
	if res, rpcErr, err := s.Call(ctx, "CS1", "Reset", reset); err != nil || rpcErr != nil || field(t, res, "status") != "Rejected" {
		t.Fatalf("overridden Reset: %s %v %v", res, rpcErr, err)
	}

	if err := c.RespondError(ctx, "Reset", "NotSupported", "no resets today"); err != nil {
		t.Fatal(err)
	}
	if _, rpcErr, err := s.Call(ctx, "CS1", "Reset", reset); err != nil || rpcErr == nil ||
		rpcErr.Code != "NotSupported" || rpcErr.Message != "no resets today" {
		t.Fatalf("error override: %v %v", rpcErr, err)
	}

	// A delay longer than the caller's timeout: the caller gets a plain error.
	if err := c.SetResponse(ctx, "Reset", Response{Delay: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, rpcErr, err := s.Call(short, "CS1", "Reset", reset); err == nil || rpcErr != nil {
		t.Fatalf("delayed Reset did not time out: %v %v", rpcErr, err)
	}

	if err := c.ResetResponse(ctx, "Reset"); err != nil {
		t.Fatal(err)
	}
	if res, _, err := s.Call(ctx, "CS1", "Reset", reset); err != nil || field(t, res, "status") != "Accepted" {
		t.Fatalf("default Reset after reset: %s %v", res, err)
	}
}
