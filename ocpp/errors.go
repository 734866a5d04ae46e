package ocpp

import (
	"errors"
	"fmt"
)

// ErrorCode is an OCPP-J CALLERROR code. The constants use the OCPP 2.0.1
// spelling; Conn translates them to each version's own spelling on the wire
// (OCPP 1.6 writes FormationViolation and OccurenceConstraintViolation) and
// back when they arrive, so code can compare against one set of names.
type ErrorCode string

// Error codes of OCPP-J 1.6, 2.0.1 and 2.1.
const (
	FormatViolation               ErrorCode = "FormatViolation"
	GenericError                  ErrorCode = "GenericError"
	InternalError                 ErrorCode = "InternalError"
	MessageTypeNotSupported       ErrorCode = "MessageTypeNotSupported"
	NotImplemented                ErrorCode = "NotImplemented"
	NotSupported                  ErrorCode = "NotSupported"
	OccurrenceConstraintViolation ErrorCode = "OccurrenceConstraintViolation"
	PropertyConstraintViolation   ErrorCode = "PropertyConstraintViolation"
	ProtocolError                 ErrorCode = "ProtocolError"
	RPCFrameworkError             ErrorCode = "RpcFrameworkError"
	SecurityError                 ErrorCode = "SecurityError"
	TypeConstraintViolation       ErrorCode = "TypeConstraintViolation"
)

// wireCode is the spelling of code in version v.
func (code ErrorCode) wireCode(v Version) string {
	if v != V16 {
		return string(code)
	}
	switch code {
	case FormatViolation:
		return "FormationViolation"
	case OccurrenceConstraintViolation:
		return "OccurenceConstraintViolation"
	case RPCFrameworkError:
		// 1.6 has no framework error; a frame that does not parse is
		// "syntactically incorrect", which 1.6 calls FormationViolation.
		return "FormationViolation"
	case MessageTypeNotSupported:
		return string(GenericError)
	}
	return string(code)
}

// parseErrorCode maps either version's spelling to the ErrorCode constant.
// Unknown codes are kept as they came.
func parseErrorCode(s string) ErrorCode {
	switch s {
	case "FormationViolation":
		return FormatViolation
	case "OccurenceConstraintViolation":
		return OccurrenceConstraintViolation
	}
	return ErrorCode(s)
}

// Error is an OCPP-J error: a CALLERROR received from the peer, or one that a
// handler returns to choose the CALLERROR that goes back. A handler that
// returns any other error answers with InternalError.
type Error struct {
	Code        ErrorCode
	Description string
	// Details is the CALLERROR's details object; nil is sent as {}.
	Details map[string]any
}

// NewError returns an *Error with the given code and a formatted description.
func NewError(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "ocpp: " + string(e.Code)
	}
	return "ocpp: " + string(e.Code) + ": " + e.Description
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &ocpp.Error{Code: ocpp.NotSupported}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errors returned by Conn.Call besides a CALLERROR from the peer.
var (
	// ErrTimeout: the peer did not answer before the call's deadline.
	ErrTimeout = errors.New("ocpp: call timed out waiting for the peer's answer")
	// ErrQueueFull: too many calls are already waiting for this connection.
	ErrQueueFull = errors.New("ocpp: call queue for this connection is full")
	// ErrClosed: the connection closed before the call was answered.
	ErrClosed = errors.New("ocpp: connection closed")
	// ErrNotConnected: no station with that identity is connected.
	ErrNotConnected = errors.New("ocpp: station not connected")
)
