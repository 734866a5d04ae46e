package ocpp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeFrameAcceptsEveryMessageType(t *testing.T) {
	cases := []struct {
		in   string
		want Frame
	}{
		{`[2,"1","Heartbeat",{}]`, Frame{Type: TypeCall, ID: "1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{`[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]`, Frame{Type: TypeCallResult, ID: "1", Payload: json.RawMessage(`{"currentTime":"2026-01-01T00:00:00Z"}`)}},
		{`[6,"9","NotifyPeriodicEventStream",{"id":1}]`, Frame{Type: TypeSend, ID: "9", Action: "NotifyPeriodicEventStream", Payload: json.RawMessage(`{"id":1}`)}},
		{` [ 2 , "a" , "Authorize" , { } ] `, Frame{Type: TypeCall, ID: "a", Action: "Authorize", Payload: json.RawMessage(`{ }`)}},
	}
	for _, c := range cases {
		got, err := DecodeFrame([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got.Type != c.want.Type || got.ID != c.want.ID || got.Action != c.want.Action || string(got.Payload) != string(c.want.Payload) {
			t.Errorf("%s: got %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestDecodeFrameReadsCallErrorAndNormalisesOCPP16Spelling(t *testing.T) {
	f, err := DecodeFrame([]byte(`[4,"7","OccurenceConstraintViolation","missing idTag",{"field":"idTag"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Error.Code != OccurrenceConstraintViolation || f.Error.Description != "missing idTag" || f.Error.Details["field"] != "idTag" {
		t.Fatalf("got %+v", f.Error)
	}
	f, err = DecodeFrame([]byte(`[5,"8","FormationViolation","bad",{}]`))
	if err != nil || f.Type != TypeCallResultError || f.Error.Code != FormatViolation {
		t.Fatalf("CALLRESULTERROR: %+v %v", f, err)
	}
}

func TestDecodeFrameAnswersEveryMalformedInput(t *testing.T) {
	long := strings.Repeat("x", MaxMessageIDLength+1)
	cases := []struct {
		name, in string
		id       string
		code     ErrorCode
	}{
		{"not JSON", `hello`, "-1", RPCFrameworkError},
		{"truncated JSON", `[2,"1","Heartbeat",{}`, "-1", RPCFrameworkError},
		{"object instead of array", `{"a":1}`, "-1", RPCFrameworkError},
		{"empty array", `[]`, "-1", RPCFrameworkError},
		{"too short, id readable", `[2,"42"]`, "42", RPCFrameworkError},
		{"type not a number", `["2","1","Heartbeat",{}]`, "1", RPCFrameworkError},
		{"id is a number", `[2,1,"Heartbeat",{}]`, "-1", RPCFrameworkError},
		{"id is null", `[2,null,"Heartbeat",{}]`, "-1", RPCFrameworkError},
		{"id too long", `[2,"` + long + `","Heartbeat",{}]`, "-1", RPCFrameworkError},
		{"empty id", `[2,"","Heartbeat",{}]`, "-1", RPCFrameworkError},
		{"unknown message type", `[7,"1","Heartbeat",{}]`, "1", MessageTypeNotSupported},
		{"CALL with 5 elements", `[2,"1","Heartbeat",{},{}]`, "1", RPCFrameworkError},
		{"action not a string", `[2,"1",5,{}]`, "1", RPCFrameworkError},
		{"payload is an array", `[2,"1","Heartbeat",[]]`, "1", FormatViolation},
		{"payload is a string", `[2,"1","Heartbeat","{}"]`, "1", FormatViolation},
		{"payload is null", `[2,"1","Heartbeat",null]`, "1", FormatViolation},
		{"CALLRESULT payload not object", `[3,"1",5]`, "1", FormatViolation},
		{"CALLERROR details not object", `[4,"1","GenericError","x",[]]`, "1", RPCFrameworkError},
		{"CALLERROR code not string", `[4,"1",1,"x",{}]`, "1", RPCFrameworkError},
		{"deeply nested", `[2,"1","Heartbeat",` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `]`, "-1", RPCFrameworkError},
	}
	for _, c := range cases {
		_, err := DecodeFrame([]byte(c.in))
		if err == nil {
			t.Errorf("%s: decoded without error", c.name)
			continue
		}
		if err.ID != c.id || err.Code != c.code {
			t.Errorf("%s: answer id %q code %s (%s), want id %q code %s", c.name, err.ID, err.Code, err.Reason, c.id, c.code)
		}
	}
}

func TestEncodedFramesAreValidJSON(t *testing.T) {
	call := appendCall(nil, TypeCall, "id\x01\"", "Heartbeat", []byte(`{}`))
	var parts []any
	if err := json.Unmarshal(call, &parts); err != nil || parts[1] != "id\x01\"" {
		t.Fatalf("CALL %s: %v %v", call, err, parts)
	}
	e := appendError(nil, TypeCallError, "1", &Error{Code: OccurrenceConstraintViolation, Description: "line\nbreak <tag>"}, V16)
	if err := json.Unmarshal(e, &parts); err != nil {
		t.Fatalf("CALLERROR %s: %v", e, err)
	}
	if parts[2] != "OccurenceConstraintViolation" || parts[3] != "line\nbreak <tag>" {
		t.Fatalf("1.6 CALLERROR %v", parts)
	}
	e = appendError(nil, TypeCallError, "1", &Error{Code: FormatViolation}, V201)
	json.Unmarshal(e, &parts)
	if parts[2] != "FormatViolation" {
		t.Fatalf("2.0.1 CALLERROR %v", parts)
	}
	if got := string(appendResult(nil, "5", []byte(`{"a":1}`))); got != `[3,"5",{"a":1}]` {
		t.Fatalf("CALLRESULT %s", got)
	}
}

func TestErrorCodeSpellingPerVersion(t *testing.T) {
	cases := []struct {
		code ErrorCode
		v    Version
		want string
	}{
		{FormatViolation, V16, "FormationViolation"},
		{OccurrenceConstraintViolation, V16, "OccurenceConstraintViolation"},
		{RPCFrameworkError, V16, "FormationViolation"},
		{MessageTypeNotSupported, V16, "GenericError"},
		{NotImplemented, V16, "NotImplemented"},
		{FormatViolation, V201, "FormatViolation"},
		{OccurrenceConstraintViolation, V21, "OccurrenceConstraintViolation"},
		{RPCFrameworkError, V201, "RpcFrameworkError"},
	}
	for _, c := range cases {
		if got := c.code.wireCode(c.v); got != c.want {
			t.Errorf("%s in %s: got %s, want %s", c.code, c.v, got, c.want)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`[2,"1","Heartbeat",{}]`, `[3,"1",{}]`, `[4,"1","GenericError","",{}]`, `[5,"1","InternalError","",{}]`,
		`[6,"1","NotifyPeriodicEventStream",{}]`, `[]`, `[2]`, `[2,"1"]`, `{}`, `null`, `"x"`, `[9,"1",{}]`,
		`[2,1,"A",{}]`, `[2,"1","A",[]]`, `[4,"1","E","d",null]`, "\xff\xfe", `[2,"1","A",{"a":[{"b":{}}]}]`, ` [ 2 , "x" , "BootNotification" , {"a" : 1} ] `, `[3,"12345678901234567890123456789012345678",{}]`, `[2,"1","A",{}]x`, `[2,"\u0031","A",{}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fast path decodes exactly what the slow one does.
		if fast, ok := decodeFrameFast(data); ok {
			slow, serr := decodeFrameSlow(data)
			if serr != nil || !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast path decodes %q as %+v, slow path as %+v (%v)", data, fast, slow, serr)
			}
		}
		frame, ferr := DecodeFrame(data)
		if ferr != nil {
			if ferr.ID == "" || len(ferr.ID) > MaxMessageIDLength || ferr.Code == "" {
				t.Fatalf("answer for %q has id %q code %q", data, ferr.ID, ferr.Code)
			}
			// The answer itself must be a valid frame.
			if _, err := DecodeFrame(appendError(nil, TypeCallError, ferr.ID, &Error{Code: ferr.Code, Description: ferr.Reason}, V201)); err != nil {
				t.Fatalf("answer to %q does not decode: %v", data, err)
			}
			return
		}
		switch frame.Type {
		case TypeCall, TypeSend:
			if frame.Action == "" || !json.Valid(frame.Payload) {
				t.Fatalf("bad CALL accepted: %q", data)
			}
		case TypeCallResult:
			if !json.Valid(frame.Payload) {
				t.Fatalf("bad CALLRESULT accepted: %q", data)
			}
		case TypeCallError, TypeCallResultError:
			if frame.Error == nil {
				t.Fatalf("CALLERROR without error: %q", data)
			}
		default:
			t.Fatalf("unknown type accepted: %q", data)
		}
	})
}
