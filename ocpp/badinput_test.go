package ocpp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Every malformed frame gets its CALLERROR and the connection lives on: after
// each one a valid Heartbeat must still be answered.
func TestServerAnswersMalformedFramesAndKeepsTheConnection(t *testing.T) {
	for _, v := range []Version{V16, V201, V21} {
		t.Run(v.String(), func(t *testing.T) {
			base, _ := startServer(t, &Server{Handler: heartbeatRouter()})
			rc := dialRaw(t, base+"/CS1", v.Subprotocol())
			fw := RPCFrameworkError.wireCode(v)
			cases := []struct {
				name, frame, id, code string
			}{
				{"not JSON", `this is not json`, "-1", fw},
				{"object, not array", `{"hello":1}`, "-1", fw},
				{"too short", `[2,"5"]`, "5", fw},
				{"id is a number", `[2,5,"Heartbeat",{}]`, "-1", fw},
				{"id too long", `[2,"` + strings.Repeat("a", 37) + `","Heartbeat",{}]`, "-1", fw},
				{"message type unknown", `[9,"6","Heartbeat",{}]`, "6", MessageTypeNotSupported.wireCode(v)},
				{"message type a string", `["2","7","Heartbeat",{}]`, "7", fw},
				{"payload an array", `[2,"8","Heartbeat",[]]`, "8", FormatViolation.wireCode(v)},
				{"payload null", `[2,"9","Heartbeat",null]`, "9", FormatViolation.wireCode(v)},
				{"unknown action", `[2,"10","FlyToTheMoon",{}]`, "10", "NotImplemented"},
				{"known action, no handler", `[2,"11","Authorize",{"idTag":"x"}]`, "11", "NotSupported"},
				{"deeply nested JSON", `[2,"12","Heartbeat",` + strings.Repeat(`[`, 12000) + strings.Repeat(`]`, 12000) + `]`, "-1", fw},
				{"huge string in payload", `[2,"13","Heartbeat",{"x":"` + strings.Repeat("y", 50000) + `"}]`, "13", PropertyConstraintViolation.wireCode(v)},
			}
			if v != V16 {
				cases[10].frame = `[2,"11","ClearedChargingLimit",{"chargingLimitSource":"EMS"}]`
			}
			for _, c := range cases {
				rc.send(c.frame)
				rc.expectError(c.id, c.code)
				rc.send(`[2,"ok","Heartbeat",{}]`)
				if f := rc.next(); f[0] != float64(3) || f[1] != "ok" {
					t.Fatalf("%s: connection did not survive; got %v", c.name, f)
				}
			}
			// A binary frame is answered, not obeyed, and the connection lives.
			if err := rc.ws.WriteMessage(websocket.BinaryMessage, []byte(`[2,"b","Heartbeat",{}]`)); err != nil {
				t.Fatal(err)
			}
			rc.expectError("-1", fw)
			// Broken answers are never answered back (that could loop); they are dropped.
			rc.send(`[3,"nobody-asked",{}]`)
			rc.send(`[4,"nobody-asked","GenericError","",{}]`)
			rc.send(`[3,"x",5]`)
			rc.send(`[2,"still","Heartbeat",{}]`)
			if f := rc.next(); f[0] != float64(3) || f[1] != "still" {
				t.Fatalf("after stray answers: got %v", f)
			}
		})
	}
}

func TestSendAndCallResultErrorNeedOCPP21(t *testing.T) {
	base, _ := startServer(t, &Server{Handler: heartbeatRouter()})
	rc := dialRaw(t, base+"/CS1", "ocpp2.0.1")
	rc.send(`[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2026-01-01T00:00:00Z","data":[]}]`)
	rc.expectError("s1", "MessageTypeNotSupported")
}

func TestOversizedFrameClosesWith1009(t *testing.T) {
	base, _ := startServer(t, &Server{Handler: heartbeatRouter(), Options: Options{MaxMessageSize: 1024}})
	rc := dialRaw(t, base+"/CS1", "ocpp1.6")
	rc.send(`[2,"1","Heartbeat",{"pad":"` + strings.Repeat("x", 2000) + `"}]`)
	rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := rc.ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("want close 1009, got %v", err)
	}
}

// In OCPP 2.1 a CALLRESULT that breaks the schema is answered with a
// CALLRESULTERROR, and the call fails with the violation.
func TestInvalidCallResultGetsCallResultErrorIn21(t *testing.T) {
	srv := &Server{Handler: heartbeatRouter()}
	base, _ := startServer(t, srv)
	rc := dialRaw(t, base+"/CS1", "ocpp2.1")
	waitFor(t, "registered", func() bool { _, ok := srv.Conn("CS1"); return ok })
	errc := make(chan error, 1)
	go func() {
		_, err := srv.CallRaw(context.Background(), "CS1", "ClearCache", []byte(`{}`))
		errc <- err
	}()
	call := rc.next()
	if call[0] != float64(2) || call[2] != "ClearCache" {
		t.Fatalf("want the ClearCache CALL, got %v", call)
	}
	rc.send(`[3,"` + call[1].(string) + `",{"status":"Maybe"}]`)
	back := rc.next()
	if back[0] != float64(5) || back[1] != call[1] || back[2] != "PropertyConstraintViolation" {
		t.Fatalf("want CALLRESULTERROR, got %v", back)
	}
	var oe *Error
	if err := <-errc; !errors.As(err, &oe) || oe.Code != PropertyConstraintViolation {
		t.Fatalf("call error %v", err)
	}
}
