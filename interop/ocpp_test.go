// Package interop_test checks the ocpp package against an independent OCPP-J
// implementation, the npm package ocpp-rpc in strict mode (every message both
// ways is validated against the official schemas on its side): our server
// with its station client, and our station client with its server.
package interop_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/interop/peer"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/ocpp/v21"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// csmsRouter answers the station-initiated actions the tests use, in all
// three versions, with typed handlers.
func csmsRouter() *ocpp.Router {
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.BootNotificationRequest) (*v16.BootNotificationResponse, error) {
		return &v16.BootNotificationResponse{Status: "Accepted", CurrentTime: now(), Interval: 60}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.StartTransactionRequest) (*v16.StartTransactionResponse, error) {
		return &v16.StartTransactionResponse{TransactionID: 7, IDTagInfo: v16.IDTagInfo{Status: "Accepted"}}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
		return &v201.BootNotificationResponse{Status: v201.RegistrationStatusEnumAccepted, CurrentTime: now(), Interval: 60}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
		return &v201.HeartbeatResponse{CurrentTime: now()}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v21.BootNotificationRequest) (*v21.BootNotificationResponse, error) {
		return &v21.BootNotificationResponse{Status: v21.RegistrationStatusEnumAccepted, CurrentTime: now(), Interval: 60}, nil
	})
	return r
}

// startCSMS serves our ocpp.Server on a loopback port; it returns the
// endpoint URL stations connect to (without the identity).
func startCSMS(t *testing.T, srv *ocpp.Server) string {
	t.Helper()
	srv.Options.Logger = quiet
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"
}

func startStrictClient(t *testing.T, url, identity, protocol string) *peer.Client {
	t.Helper()
	peer.Require(t)
	c, err := peer.StartClient(testCtx(t), peer.ClientOptions{URL: url, Identity: identity, Protocols: []string{protocol}})
	if err != nil {
		t.Fatalf("ocpp-rpc client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitConn(t *testing.T, srv *ocpp.Server, id string) *ocpp.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, ok := srv.Conn(id); ok {
			return c
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("station %s never registered", id)
	return nil
}

// Their strict station boots at our server in every version; their
// validation of our answers is the check that our responses are schema-valid.
func TestOurServerWithTheirStrictStation(t *testing.T) {
	boots := map[string]any{
		"ocpp1.6":   map[string]any{"chargePointVendor": "V", "chargePointModel": "M"},
		"ocpp2.0.1": map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}},
		"ocpp2.1":   map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}},
	}
	for protocol, boot := range boots {
		t.Run(protocol, func(t *testing.T) {
			srv := &ocpp.Server{Handler: csmsRouter()}
			url := startCSMS(t, srv)
			cl := startStrictClient(t, url, "CS1", protocol)
			if cl.Protocol() != protocol {
				t.Fatalf("negotiated %q, want %q", cl.Protocol(), protocol)
			}
			res, rpcErr, err := cl.Call(testCtx(t), "BootNotification", boot)
			if err != nil || rpcErr != nil {
				t.Fatalf("BootNotification: %v %v", rpcErr, err)
			}
			var got struct{ Status string }
			json.Unmarshal(res, &got)
			if got.Status != "Accepted" {
				t.Fatalf("BootNotification answer %s", res)
			}
			// An action we have no handler for: NotSupported.
			_, rpcErr, err = cl.Call(testCtx(t), "DataTransfer", map[string]any{"vendorId": "acme"})
			if err != nil || rpcErr == nil || rpcErr.Code != "NotSupported" {
				t.Fatalf("DataTransfer without handler: want NotSupported, got %v %v", rpcErr, err)
			}
		})
	}
}

// We call their strict station: our requests must pass their validation and
// their answers decode into our types.
func TestOurServerCallsTheirStrictStation(t *testing.T) {
	srv := &ocpp.Server{Handler: csmsRouter()}
	url := startCSMS(t, srv)
	ctx := testCtx(t)

	startStrictClient(t, url, "CS201", "ocpp2.0.1")
	c := waitConn(t, srv, "CS201")
	reset, err := ocpp.Call(ctx, c, &v201.ResetRequest{Type: v201.ResetEnumImmediate})
	if err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if reset.Status != v201.ResetStatusEnumAccepted {
		t.Fatalf("Reset status %q", reset.Status)
	}
	var vars v201.GetVariablesResponse
	req := &v201.GetVariablesRequest{GetVariableData: []v201.GetVariableData{{
		Component: v201.Component{Name: "OCPPCommCtrlr"}, Variable: v201.Variable{Name: "HeartbeatInterval"}}}}
	if err := c.Call(ctx, req, &vars); err != nil {
		t.Fatalf("GetVariables: %v", err)
	}
	if len(vars.GetVariableResult) != 1 {
		t.Fatalf("GetVariables result %+v", vars)
	}

	startStrictClient(t, url, "CS16", "ocpp1.6")
	c16 := waitConn(t, srv, "CS16")
	var conf v16.GetConfigurationResponse
	if err := c16.Call(ctx, &v16.GetConfigurationRequest{Key: []string{"HeartbeatInterval"}}, &conf); err != nil {
		t.Fatalf("GetConfiguration: %v", err)
	}
	var rst v16.RemoteStartTransactionResponse
	if err := c16.Call(ctx, &v16.RemoteStartTransactionRequest{IDTag: "TAG1"}, &rst); err != nil {
		t.Fatalf("RemoteStartTransaction: %v", err)
	}
	if rst.Status != "Accepted" {
		t.Fatalf("RemoteStartTransaction status %q", rst.Status)
	}
}

// Their station, with its validation off, sends what strict stations cannot;
// our answers carry the right codes in each version's spelling.
func TestOurServerAnswersInvalidCallsWithTheVersionsCodes(t *testing.T) {
	peer.Require(t)
	srv := &ocpp.Server{Handler: csmsRouter()}
	url := startCSMS(t, srv)
	cases := []struct {
		protocol, action string
		payload          any
		code             string // as ocpp-rpc reports it
	}{
		// 1.6 spells it with one r, as its specification does.
		{"ocpp1.6", "BootNotification", map[string]any{"chargePointVendor": "V"}, "OccurenceConstraintViolation"},
		{"ocpp1.6", "BootNotification", map[string]any{"chargePointVendor": 5, "chargePointModel": "M"}, "TypeConstraintViolation"},
		{"ocpp2.0.1", "BootNotification", map[string]any{"reason": "PowerUp"}, "OccurrenceConstraintViolation"},
		{"ocpp2.0.1", "BootNotification", map[string]any{"reason": "Bored", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}}, "PropertyConstraintViolation"},
		{"ocpp2.0.1", "LaunchRocket", map[string]any{}, "NotImplemented"},
	}
	for i, c := range cases {
		id := "BAD" + string(rune('A'+i))
		cl, err := peer.StartClient(testCtx(t), peer.ClientOptions{URL: url, Identity: id, Protocols: []string{c.protocol}, NonStrict: true})
		if err != nil {
			t.Fatal(err)
		}
		_, rpcErr, err := cl.Call(testCtx(t), c.action, c.payload)
		cl.Close()
		if err != nil || rpcErr == nil || rpcErr.Code != c.code {
			t.Errorf("%s %s %v: want %s, got %v %v", c.protocol, c.action, c.payload, c.code, rpcErr, err)
		}
	}
}

// Our station side against their strict server.
func TestOurStationWithTheirStrictServer(t *testing.T) {
	peer.Require(t)
	for _, v := range []ocpp.Version{ocpp.V16, ocpp.V201} {
		t.Run(v.String(), func(t *testing.T) {
			ctx := testCtx(t)
			srv, err := peer.StartServer(ctx, peer.ServerOptions{Protocols: []string{v.Subprotocol()}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			station := ocpp.NewRouter()
			ocpp.Handle(station, func(ctx context.Context, c *ocpp.Conn, req *v16.ResetRequest) (*v16.ResetResponse, error) {
				return &v16.ResetResponse{Status: "Accepted"}, nil
			})
			ocpp.Handle(station, func(ctx context.Context, c *ocpp.Conn, req *v201.ResetRequest) (*v201.ResetResponse, error) {
				return &v201.ResetResponse{Status: v201.ResetStatusEnumScheduled}, nil
			})
			d := &ocpp.Dialer{Versions: []ocpp.Version{v}, Options: ocpp.Options{Logger: quiet}}
			conn, err := d.Dial(ctx, srv.URL()+"/ocpp", "CS1", station)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(1000, "")
			if conn.Version() != v {
				t.Fatalf("negotiated %s", conn.Version())
			}
			switch v {
			case ocpp.V16:
				var resp v16.BootNotificationResponse
				if err := conn.Call(ctx, &v16.BootNotificationRequest{ChargePointVendor: "openev", ChargePointModel: "sim"}, &resp); err != nil {
					t.Fatal(err)
				}
				if resp.Status != "Accepted" || resp.Interval <= 0 || resp.CurrentTime.IsZero() {
					t.Fatalf("boot answer %+v", resp)
				}
				res, rpcErr, err := srv.Call(ctx, "CS1", "Reset", map[string]any{"type": "Soft"})
				if err != nil || rpcErr != nil || !strings.Contains(string(res), `"Accepted"`) {
					t.Fatalf("their Reset on our station: %s %v %v", res, rpcErr, err)
				}
			case ocpp.V201:
				var resp v201.BootNotificationResponse
				req := &v201.BootNotificationRequest{Reason: v201.BootReasonEnumPowerUp, ChargingStation: v201.ChargingStation{VendorName: "openev", Model: "sim"}}
				if err := conn.Call(ctx, req, &resp); err != nil {
					t.Fatal(err)
				}
				if resp.Status != v201.RegistrationStatusEnumAccepted {
					t.Fatalf("boot answer %+v", resp)
				}
				res, rpcErr, err := srv.Call(ctx, "CS1", "Reset", map[string]any{"type": "OnIdle"})
				if err != nil || rpcErr != nil || !strings.Contains(string(res), `"Scheduled"`) {
					t.Fatalf("their Reset on our station: %s %v %v", res, rpcErr, err)
				}
				// An action our station has no handler for.
				_, rpcErr, err = srv.Call(ctx, "CS1", "ClearCache", map[string]any{})
				if err != nil || rpcErr == nil || rpcErr.Code != "NotSupported" {
					t.Fatalf("ClearCache: want NotSupported, got %v %v", rpcErr, err)
				}
			}
		})
	}
}
