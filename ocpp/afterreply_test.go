package ocpp

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A handler that wants to call the station (a TriggerMessage after a boot)
// registers the call with AfterReply: the station sees the CALLRESULT first
// and the CSMS's CALL after it, even when the handler takes its time.
func TestAfterReplyCallGoesOutAfterTheHandlersAnswer(t *testing.T) {
	answered := make(chan error, 1)
	r := NewRouter()
	HandleRaw(r, V201, "Heartbeat", func(ctx context.Context, c *Conn, _ string, _ json.RawMessage) (any, error) {
		c.AfterReply(func() {
			_, err := c.CallRaw(context.Background(), "Reset", resetPayload)
			answered <- err
		})
		time.Sleep(50 * time.Millisecond) // the follow-up call must still wait for the answer
		return map[string]string{"currentTime": "2026-01-01T00:00:00Z"}, nil
	})
	base, _ := startServer(t, &Server{Handler: r})
	rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
	rc.send(`[2,"hb-1","Heartbeat",{}]`)
	first := rc.next()
	if first[0] != float64(TypeCallResult) || first[1] != "hb-1" {
		t.Fatalf("first frame after the Heartbeat must be its CALLRESULT, got %v", first)
	}
	second := rc.next()
	if second[0] != float64(TypeCall) || second[2] != "Reset" {
		t.Fatalf("second frame must be the CSMS's Reset CALL, got %v", second)
	}
	rc.send(`[3,"` + second[1].(string) + `",{"status":"Accepted"}]`)
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the follow-up call failed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follow-up call never got its answer")
	}
}

// Outside a handler there is no answer to wait for: fn runs at once.
func TestAfterReplyOutsideAHandlerRunsAtOnce(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	dial(t, base, "CS1", nil, nil)
	waitFor(t, "station registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	c, _ := srv.Conn("CS1")
	ran := make(chan struct{})
	c.AfterReply(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterReply outside a handler never ran")
	}
}
