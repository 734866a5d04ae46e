package ocpi

import (
	"encoding/json"
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
			WriteError(w, AsError(err))
			return
		}
		resp.Data = b
	}
	writeEnvelope(w, httpStatus, resp)
}

// WriteError answers with the error's HTTP status and OCPI code; any error
// that is not an *Error becomes 3000 / HTTP 500.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	writeEnvelope(w, e.HTTPStatus, Response{StatusCode: e.Code, StatusMessage: e.Message, Timestamp: NewDateTime(time.Now())})
}

func writeEnvelope(w http.ResponseWriter, httpStatus int, resp Response) {
	b, _ := json.Marshal(resp) // cannot fail: Data is already JSON
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(b)
}
