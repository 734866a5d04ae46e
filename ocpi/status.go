package ocpi

import (
	"errors"
	"fmt"
	"net/http"
)

// OCPI status codes (status_codes.asciidoc). 1xxx is success, 2xxx a client
// error, 3xxx a server error, 4xxx a hub error.
const (
	StatusSuccess              = 1000
	StatusClientError          = 2000
	StatusInvalidParameters    = 2001
	StatusNotEnoughInformation = 2002
	StatusUnknownLocation      = 2003
	StatusUnknownToken         = 2004
	StatusServerError          = 3000
	StatusUnableToUseClientAPI = 3001
	StatusUnsupportedVersion   = 3002
	StatusNoMatchingEndpoints  = 3003
	StatusHubError             = 4000
	StatusHubUnknownReceiver   = 4001
	StatusHubTimeout           = 4002
	StatusHubConnectionProblem = 4003
)

// Error is an OCPI failure: the HTTP status to answer with, the OCPI
// status_code in the envelope and a status_message that names what is wrong
// (for bad input, the field). Handlers return it; the Node writes it in the
// envelope. A Client returns it when a peer answers with a non-1xxx code.
//
// An *Error the node builds from a failed call to a peer (3001: the peer's
// API could not be used) keeps that failure as its cause, for errors.Is
// and errors.As: the peer's own *Error or *HTTPError answer, or the
// transport error (a net.Error) when there was no answer. errors.As stops
// at the first *Error, ours; to reach the peer's, call errors.As again on
// its Unwrap().
type Error struct {
	// HTTPStatus is the HTTP status code (200 when the request reached the
	// OCPI layer, as the spec requires for most client errors).
	HTTPStatus int
	// Code is the OCPI status_code (2001, 3001, ...).
	Code int
	// Message is the status_message.
	Message string

	cause error // what made us answer so (see Unwrap); never sent to peers
}

// Error says the OCPI status, the HTTP status and the message.
func (e *Error) Error() string {
	return fmt.Sprintf("ocpi: status %d (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
}

// Unwrap returns the failure behind e (see Error), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an *Error with a formatted message.
func Errorf(httpStatus, code int, format string, args ...any) *Error {
	return &Error{HTTPStatus: httpStatus, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorCausedBy is Errorf keeping cause for Unwrap; the message should
// say the cause too, as it alone reaches the peer.
func errorCausedBy(cause error, httpStatus, code int, format string, args ...any) *Error {
	e := Errorf(httpStatus, code, format, args...)
	e.cause = cause
	return e
}

// InvalidParams is the common 2001 answer (HTTP 200: the request reached the
// OCPI layer but a parameter or field is missing or wrong).
func InvalidParams(format string, args ...any) *Error {
	return Errorf(http.StatusOK, StatusInvalidParameters, format, args...)
}

// AsError returns err as an *Error; anything that is not one becomes a
// generic 3000 server error with HTTP 500.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{HTTPStatus: http.StatusInternalServerError, Code: StatusServerError, Message: err.Error()}
}
