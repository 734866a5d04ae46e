package ocpp

import (
	"bytes"
	"encoding/json"

	"github.com/openev/openev/ocpp/schema"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/ocpp/v21"
)

// actions returns the actions of version v with their schemas.
func actions(v Version) map[string]schema.Action {
	switch v {
	case V16:
		return v16.Actions
	case V201:
		return v201.Actions
	case V21:
		return v21.Actions
	}
	return nil
}

// IsAction reports whether action is an action of version v.
func IsAction(v Version, action string) bool {
	_, ok := actions(v)[action]
	return ok
}

// ValidateRequest checks a CALL payload for action against version v's
// schema in Strict mode, as Conn.CallRaw would before sending it. It returns
// the *Error that CallRaw would return, or nil.
func ValidateRequest(v Version, action string, payload []byte) error {
	if err := checkOutgoing(v, Strict, action, payload, false); err != nil {
		return err
	}
	return nil
}

// lenientSkips are the rules Lenient mode does not enforce: the ones whose
// breach still decodes into the typed message.
var lenientSkips = schema.Kinds(
	schema.KindAdditionalProperty, schema.KindEnum, schema.KindMinLength, schema.KindMaxLength,
	schema.KindMinimum, schema.KindMaximum, schema.KindMultipleOf, schema.KindFormat,
)

// checkIncoming validates a payload the peer sent: a CALL's request, or (with
// response set) a CALLRESULT's payload. An unknown action is NotImplemented.
// In Lenient mode it returns the payload with sloppy timestamps repaired
// (see schema.Node.RepairDateTimes); otherwise the payload as it came.
func checkIncoming(v Version, mode Validation, action string, payload json.RawMessage, response bool) (json.RawMessage, *Error) {
	a, ok := actions(v)[action]
	if !ok {
		if mode == Off && response {
			return payload, nil
		}
		return nil, NewError(NotImplemented, "%s is not an OCPP %s action", action, v)
	}
	if mode == Off {
		return payload, nil
	}
	node := a.Request
	if response {
		node = a.Response
	}
	// The common case, a valid payload, needs no decoding. Accepts leaves
	// the date-times Lenient mode would rewrite to the slow path, so an
	// accepted payload has nothing to repair.
	if node.Accepts(payload, 0) {
		return payload, nil
	}
	value, err := decodeValue(payload)
	if err != nil {
		return nil, err
	}
	if mode == Lenient && node.RepairDateTimes(value) > 0 {
		if repaired, err := json.Marshal(value); err == nil {
			payload = repaired
		}
	}
	return payload, validateValue(mode, node, value)
}

// checkOutgoing validates a payload we are about to send. Unknown actions may
// be sent only with validation Off (for vendor extensions).
func checkOutgoing(v Version, mode Validation, action string, payload json.RawMessage, response bool) *Error {
	if mode == Off {
		return nil
	}
	a, ok := actions(v)[action]
	if !ok {
		return NewError(NotImplemented, "%s is not an OCPP %s action", action, v)
	}
	node := a.Request
	if response {
		node = a.Response
	}
	if node.Accepts(payload, 0) {
		return nil
	}
	value, err := decodeValue(payload)
	if err != nil {
		return err
	}
	return validateValue(mode, node, value)
}

// decodeValue decodes a payload the way schema.Node.Validate expects it.
func decodeValue(payload json.RawMessage) (any, *Error) {
	var value any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return nil, NewError(FormatViolation, "payload is not valid JSON: %v", err)
	}
	return value, nil
}

func validateValue(mode Validation, node *schema.Node, value any) *Error {
	var skip schema.KindSet
	if mode == Lenient {
		skip = lenientSkips
	}
	if viol := node.Validate(value, skip); viol != nil {
		return &Error{Code: violationCode(viol.Kind), Description: viol.Error()}
	}
	return nil
}

// violationCode chooses the CALLERROR code for a broken schema rule, after
// the OCPP-J definitions: a wrong JSON type is a TypeConstraintViolation, a
// field or item too few or too many an OccurrenceConstraintViolation, and a
// value that breaks a rule of its field a PropertyConstraintViolation.
func violationCode(k schema.Kind) ErrorCode {
	switch k {
	case schema.KindType:
		return TypeConstraintViolation
	case schema.KindRequired, schema.KindMinItems, schema.KindMaxItems:
		return OccurrenceConstraintViolation
	}
	return PropertyConstraintViolation
}
