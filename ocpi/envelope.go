package ocpi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Response is the OCPI envelope every answer is wrapped in.
type Response struct {
	// Data is the payload; absent for errors and for answers the spec
	// gives no data.
	Data json.RawMessage `json:"data,omitempty"`
	// StatusCode is the OCPI status code (1000 for success).
	StatusCode int `json:"status_code"`
	// StatusMessage is an optional human-readable message.
	StatusMessage string `json:"status_message,omitempty"`
	// Timestamp is when the answer was generated.
	Timestamp DateTime `json:"timestamp"`
}

// WriteData answers with HTTP status httpStatus (200 or 201) and OCPI
// status 1000 around data; a nil data writes no data field.
func WriteData(w http.ResponseWriter, httpStatus int, data any) {
	resp := Response{StatusCode: StatusSuccess, Timestamp: NewDateTime(time.Now())}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			WriteError(w, err)
			return
		}
		resp.Data = b
	}
	writeEnvelope(w, httpStatus, resp)
}

// WriteError answers with the error's HTTP status and OCPI code. Any error
// that is not an *Error becomes 3000 / HTTP 500 with a generic message: its
// text (a store's or driver's) is for the operator's log, not for the peer.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Errorf(http.StatusInternalServerError, StatusServerError, "internal error; try again later")
	}
	writeEnvelope(w, e.HTTPStatus, Response{StatusCode: e.Code, StatusMessage: e.Message, Timestamp: NewDateTime(time.Now())})
}

func writeEnvelope(w http.ResponseWriter, httpStatus int, resp Response) {
	b, _ := json.Marshal(resp) // cannot fail: Data is already JSON
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(b)
}
