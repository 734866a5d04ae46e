package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/openev/openev/interop/peer"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
)

func startExample(t *testing.T, interval time.Duration) (wsBase string) {
	t.Helper()
	srv := &ocpp.Server{Handler: newAgent(interval), Authenticate: onlyAgent}
	mux := http.NewServeMux()
	mux.Handle("/cso/ocpp/", srv)
	mux.Handle("/ocpp/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// The seed's station script offers no subprotocol, sends a 2.0.1
// BootNotification and waits for the answer.
func TestSeedStationScriptBootsAtCSOPath(t *testing.T) {
	base := startExample(t, 42*time.Second)
	ws, _, err := websocket.DefaultDialer.Dial(base+"/cso/ocpp/CS1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`[2,"boot-1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]`))
	var frame []json.RawMessage
	if err := ws.ReadJSON(&frame); err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Status      string
		Interval    int
		CurrentTime time.Time
	}
	json.Unmarshal(frame[2], &resp)
	if string(frame[0]) != "3" || resp.Status != "Accepted" || resp.Interval != 42 || time.Since(resp.CurrentTime) > time.Minute {
		t.Fatalf("answer %s", frame)
	}
	// Any other action is refused with a CALLERROR.
	ws.WriteMessage(websocket.TextMessage, []byte(`[2,"x","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]`))
	frame = nil
	ws.ReadJSON(&frame)
	if string(frame[0]) != "4" || string(frame[2]) != `"NotSupported"` {
		t.Fatalf("StatusNotification answer %s", frame)
	}
}

func TestOtherIdentitiesAreRefused(t *testing.T) {
	base := startExample(t, time.Minute)
	_, resp, err := websocket.DefaultDialer.Dial(base+"/cso/ocpp/CS2", nil)
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("want 404 for CS2, got %v", err)
	}
}

func TestOCPP16BootAndHeartbeat(t *testing.T) {
	base := startExample(t, time.Minute)
	d := &ocpp.Dialer{Versions: []ocpp.Version{ocpp.V16}}
	ctx := context.Background()
	c, err := d.Dial(ctx, base+"/ocpp", "CS1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(1000, "")
	var boot v16.BootNotificationResponse
	if err := c.Call(ctx, &v16.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"}, &boot); err != nil || boot.Status != "Accepted" || boot.Interval != 60 {
		t.Fatalf("boot: %+v %v", boot, err)
	}
	var hb v16.HeartbeatResponse
	if err := c.Call(ctx, &v16.HeartbeatRequest{}, &hb); err != nil || hb.CurrentTime.IsZero() {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	err = c.Call(ctx, &v16.AuthorizeRequest{IDTag: "T"}, &v16.AuthorizeResponse{})
	var oe *ocpp.Error
	if !errors.As(err, &oe) || oe.Code != ocpp.NotSupported {
		t.Fatalf("Authorize: want NotSupported, got %v", err)
	}
}

// A strict independent station (ocpp-rpc) accepts our answers as schema-valid.
func TestStrictIndependentStationBoots(t *testing.T) {
	peer.Require(t)
	base := startExample(t, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := peer.StartClient(ctx, peer.ClientOptions{URL: base + "/cso/ocpp", Identity: "CS1", Protocols: []string{"ocpp2.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	res, rpcErr, err := cl.Call(ctx, "BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"model": "M", "vendorName": "V"}})
	if err != nil || rpcErr != nil || !strings.Contains(string(res), `"Accepted"`) {
		t.Fatalf("%s %v %v", res, rpcErr, err)
	}
	if _, rpcErr, _ = cl.Call(ctx, "Heartbeat", map[string]any{}); rpcErr != nil {
		t.Fatalf("heartbeat: %v", rpcErr)
	}
}
