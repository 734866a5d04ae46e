package ocpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/openev/openev/ocpp/internal/jsonscan"
)

// MessageType is the first element of every OCPP-J frame.
type MessageType int

// Message types. CallResultError and Send exist from OCPP 2.1 on.
const (
	TypeCall            MessageType = 2
	TypeCallResult      MessageType = 3
	TypeCallError       MessageType = 4
	TypeCallResultError MessageType = 5
	TypeSend            MessageType = 6
)

// MaxMessageIDLength is the longest message id OCPP-J allows.
const MaxMessageIDLength = 36

// unreadableID is the message id of a CALLERROR that answers a frame whose
// own id could not be read (OCPP-J 2.0.1 §4.2.3).
const unreadableID = "-1"

// Frame is one decoded OCPP-J message.
type Frame struct {
	Type MessageType
	ID   string
	// Action is set for Call and Send.
	Action string
	// Payload is set for Call, CallResult and Send.
	Payload json.RawMessage
	// Error is set for CallError and CallResultError.
	Error *Error
}

// FrameError says why a frame could not be decoded. ID is the frame's message
// id when it could be read, "-1" otherwise; Code is the CALLERROR code that
// answers it.
type FrameError struct {
	ID     string
	Type   MessageType // 0 when unreadable
	Code   ErrorCode
	Reason string
}

func (e *FrameError) Error() string { return "ocpp: bad frame: " + e.Reason }

// DecodeFrame parses one OCPP-J text frame. It never panics; every malformed
// input yields a *FrameError that says how to answer it.
func DecodeFrame(data []byte) (Frame, *FrameError) {
	if f, ok := decodeFrameFast(data); ok {
		return f, nil
	}
	return decodeFrameSlow(data)
}

// decodeFrameSlow decodes any frame with encoding/json and finds out what
// is wrong with a malformed one.
func decodeFrameSlow(data []byte) (Frame, *FrameError) {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		if json.Valid(data) {
			return Frame{}, frameErr(unreadableID, 0, RPCFrameworkError, "message is not a JSON array")
		}
		return Frame{}, frameErr(unreadableID, 0, RPCFrameworkError, "message is not valid JSON: "+err.Error())
	}
	if len(parts) < 3 {
		return Frame{}, frameErr(readID(parts), 0, RPCFrameworkError,
			fmt.Sprintf("message has %d elements; the shortest OCPP-J frame has 3", len(parts)))
	}
	var typ int
	if err := json.Unmarshal(parts[0], &typ); err != nil {
		return Frame{}, frameErr(readID(parts), 0, RPCFrameworkError, "message type id is not an integer")
	}
	mt := MessageType(typ)
	id, ok := stringValue(parts[1])
	if !ok {
		return Frame{}, frameErr(unreadableID, mt, RPCFrameworkError, "message id is not a string")
	}
	if id == "" || len(id) > MaxMessageIDLength {
		return Frame{}, frameErr(unreadableID, mt, RPCFrameworkError,
			fmt.Sprintf("message id must be 1 to %d characters long", MaxMessageIDLength))
	}
	f := Frame{Type: mt, ID: id}
	switch mt {
	case TypeCall, TypeSend:
		if len(parts) != 4 {
			return f, frameErr(id, mt, RPCFrameworkError,
				fmt.Sprintf("a CALL has 4 elements, this one has %d", len(parts)))
		}
		action, ok := stringValue(parts[2])
		if !ok || action == "" {
			return f, frameErr(id, mt, RPCFrameworkError, "action is not a non-empty string")
		}
		f.Action = action
		if !isObject(parts[3]) {
			return f, frameErr(id, mt, FormatViolation, "payload is not a JSON object")
		}
		f.Payload = parts[3]
	case TypeCallResult:
		if len(parts) != 3 {
			return f, frameErr(id, mt, RPCFrameworkError,
				fmt.Sprintf("a CALLRESULT has 3 elements, this one has %d", len(parts)))
		}
		if !isObject(parts[2]) {
			return f, frameErr(id, mt, FormatViolation, "payload is not a JSON object")
		}
		f.Payload = parts[2]
	case TypeCallError, TypeCallResultError:
		if len(parts) != 5 {
			return f, frameErr(id, mt, RPCFrameworkError,
				fmt.Sprintf("a CALLERROR has 5 elements, this one has %d", len(parts)))
		}
		code, ok1 := stringValue(parts[2])
		desc, ok2 := stringValue(parts[3])
		var details map[string]any
		err := json.Unmarshal(parts[4], &details)
		if !ok1 || !ok2 || err != nil || details == nil {
			return f, frameErr(id, mt, RPCFrameworkError, "CALLERROR needs a string code, a string description and a details object")
		}
		f.Error = &Error{Code: parseErrorCode(code), Description: desc, Details: details}
	default:
		return f, frameErr(id, mt, MessageTypeNotSupported, fmt.Sprintf("message type %d is not supported", typ))
	}
	return f, nil
}

// decodeFrameFast decodes the frames that make up nearly all traffic — a
// well-formed CALL, SEND or CALLRESULT whose id and action have no escapes —
// with two allocations (the id and a copy of the payload). Anything else
// (errors, escapes, malformed input) reports false and goes the slow way,
// which also finds the right answer to a bad frame.
func decodeFrameFast(data []byte) (Frame, bool) {
	i := jsonscan.SkipSpace(data, 0)
	if i+2 >= len(data) || data[i] != '[' {
		return Frame{}, false
	}
	if i = jsonscan.SkipSpace(data, i+1); i >= len(data) {
		return Frame{}, false
	}
	mt := MessageType(data[i] - '0')
	if mt != TypeCall && mt != TypeCallResult && mt != TypeSend {
		return Frame{}, false
	}
	i, ok := expectComma(data, i+1)
	if !ok {
		return Frame{}, false
	}
	idEnd, plain, ok := jsonscan.String(data, i)
	if !ok || !plain || idEnd-i-2 < 1 || idEnd-i-2 > MaxMessageIDLength {
		return Frame{}, false
	}
	f := Frame{Type: mt}
	idRaw := data[i+1 : idEnd-1]
	if i, ok = expectComma(data, idEnd); !ok {
		return Frame{}, false
	}
	if mt != TypeCallResult {
		end, plain, ok := jsonscan.String(data, i)
		if !ok || !plain || end-i-2 < 1 {
			return Frame{}, false
		}
		f.Action = actionName(data[i+1 : end-1])
		if i, ok = expectComma(data, end); !ok {
			return Frame{}, false
		}
	}
	if i >= len(data) || data[i] != '{' {
		return Frame{}, false
	}
	end, ok := jsonscan.Value(data, i)
	if !ok {
		return Frame{}, false
	}
	close := jsonscan.SkipSpace(data, end)
	if close >= len(data) || data[close] != ']' || jsonscan.SkipSpace(data, close+1) != len(data) {
		return Frame{}, false
	}
	f.ID = string(idRaw)
	f.Payload = append(json.RawMessage(nil), data[i:end]...)
	return f, true
}

// expectComma skips whitespace, a comma and whitespace from data[i].
func expectComma(data []byte, i int) (int, bool) {
	i = jsonscan.SkipSpace(data, i)
	if i >= len(data) || data[i] != ',' {
		return i, false
	}
	return jsonscan.SkipSpace(data, i+1), true
}

// knownActions holds every action name of every version, so that decoding
// a frame reuses the name instead of allocating it.
var knownActions = func() map[string]string {
	m := map[string]string{}
	for _, v := range []Version{V16, V201, V21} {
		for name := range actions(v) {
			m[name] = name
		}
	}
	return m
}()

func actionName(b []byte) string {
	if name, ok := knownActions[string(b)]; ok {
		return name
	}
	return string(b)
}

func frameErr(id string, mt MessageType, code ErrorCode, reason string) *FrameError {
	return &FrameError{ID: id, Type: mt, Code: code, Reason: reason}
}

// readID returns the message id of a frame too short or odd to decode, or "-1".
func readID(parts []json.RawMessage) string {
	if len(parts) < 2 {
		return unreadableID
	}
	if id, ok := stringValue(parts[1]); ok && id != "" && len(id) <= MaxMessageIDLength {
		return id
	}
	return unreadableID
}

func stringValue(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// appendCall appends the CALL (or SEND) frame [type,"id","action",payload] to b.
func appendCall(b []byte, mt MessageType, id, action string, payload []byte) []byte {
	b = strconv.AppendInt(append(b, '['), int64(mt), 10)
	b = appendString(append(b, ','), id)
	b = appendString(append(b, ','), action)
	b = append(append(b, ','), payload...)
	return append(b, ']')
}

// appendResult appends the CALLRESULT frame [3,"id",payload] to b.
func appendResult(b []byte, id string, payload []byte) []byte {
	b = appendString(append(b, "[3,"...), id)
	b = append(append(b, ','), payload...)
	return append(b, ']')
}

// appendError appends a CALLERROR (or CALLRESULTERROR) frame to b, with the
// error code spelled as version v spells it.
func appendError(b []byte, mt MessageType, id string, e *Error, v Version) []byte {
	details := []byte("{}")
	if len(e.Details) > 0 {
		if d, err := json.Marshal(e.Details); err == nil {
			details = d
		}
	}
	b = strconv.AppendInt(append(b, '['), int64(mt), 10)
	b = appendString(append(b, ','), id)
	b = appendString(append(b, ','), e.Code.wireCode(v))
	b = appendString(append(b, ','), e.Description)
	b = append(append(b, ','), details...)
	return append(b, ']')
}

// appendString appends s as a JSON string. Plain ASCII, the common case for
// ids, actions and codes, is copied as it is; anything else goes through
// encoding/json so that control characters and invalid UTF-8 are escaped.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
