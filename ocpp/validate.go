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

// lenientSkips are the rules Lenient mode does not enforce: the ones whose
// breach still decodes into the typed message.
var lenientSkips = schema.Kinds(
	schema.KindAdditionalProperty, schema.KindEnum, schema.KindMinLength, schema.KindMaxLength,
	schema.KindMinimum, schema.KindMaximum, schema.KindMultipleOf, schema.KindFormat,
)

// checkIncoming validates a payload the peer sent: a CALL's request, or (with
// response set) a CALLRESULT's payload. An unknown action is NotImplemented.
func checkIncoming(v Version, mode Validation, action string, payload json.RawMessage, response bool) *Error {
	a, ok := actions(v)[action]
	if !ok {
		if mode == Off && response {
			return nil
		}
		return NewError(NotImplemented, "%s is not an OCPP %s action", action, v)
	}
	return validatePayload(v, mode, a, payload, response)
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
	return validatePayload(v, mode, a, payload, response)
}

func validatePayload(v Version, mode Validation, a schema.Action, payload json.RawMessage, response bool) *Error {
	if mode == Off {
		return nil
	}
	node := a.Request
	if response {
		node = a.Response
	}
	var value any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return NewError(FormatViolation, "payload is not valid JSON: %v", err)
	}
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
