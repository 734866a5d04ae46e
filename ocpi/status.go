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
type Error struct {
	// HTTPStatus is the HTTP status code (200 when the request reached the
	// OCPI layer, as the spec requires for most client errors).
	HTTPStatus int
	// Code is the OCPI status_code (2001, 3001, ...).
	Code int
	// Message is the status_message.
	Message string
}

// Error says the OCPI status, the HTTP status and the message.
func (e *Error) Error() string {
	return fmt.Sprintf("ocpi: status %d (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(httpStatus, code int, format string, args ...any) *Error {
	return &Error{HTTPStatus: httpStatus, Code: code, Message: fmt.Sprintf(format, args...)}
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
