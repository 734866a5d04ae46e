package peer

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one unsolicited line from a peer: a connection opened or closed, an
// incoming CALL, a bad frame, a strict-mode validation failure, ...
type Event struct {
	Type      string          // "connect", "call", "disconnect", "open", "close", ...
	Identity  string          // charging station identity the event is about
	Protocol  string          // negotiated subprotocol ("" if none) for connect/open
	Action    string          // call, validation_failure
	MessageID string          // call, validation_failure
	Payload   json.RawMessage // call: the CALL's payload
	CloseCode int             // disconnect, close: WebSocket close code
	Reason    string          // disconnect, close: WebSocket close reason
	ErrorCode string          // bad_message, validation_failure, ...: RPC error code as ocpp-rpc reports it
	Message   string          // error text, for events about errors
	Status    int             // connect_error, upgrade_aborted: HTTP status, if any
	Endpoint  string          // connect: URL path before the identity
	Offered   []string        // connect: subprotocols the client offered
	Password  string          // connect: Basic auth password, if the username matched the identity
	Raw       json.RawMessage // the whole line, for fields not listed here
}

// RPCError is an RPC error exactly as ocpp-rpc reported it: a CALLERROR the
// other side sent, or a strict-mode validation failure on this side (an
// invalid request it refused to send or an invalid response it received).
type RPCError struct {
	Code    string          `json:"code"`
	Message string          `json:"message,omitempty"`
	Details json.RawMessage `json:"details,omitempty"`
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("ocpp-rpc error %s: %s", e.Code, e.Message)
}

// Stats is the peer process's own view of its load and resource usage.
type Stats struct {
	Connected          int    // open connections
	Calls              int64  // incoming CALLs since start
	BadMessages        int64  // frames ocpp-rpc rejected as malformed
	ValidationFailures int64  // strict-mode failures, both directions
	MemoryRSS          uint64 // bytes (process.memoryUsage().rss)
	HeapUsed           uint64 // bytes
	CPUUser            time.Duration
	CPUSystem          time.Duration
}

// command is one stdin line; zero fields are left out.
type command struct {
	ID        string          `json:"id"`
	Cmd       string          `json:"cmd"`
	Identity  string          `json:"identity,omitempty"`
	Action    string          `json:"action,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	TimeoutMS int64           `json:"timeout_ms,omitempty"`
	Text      *string         `json:"text,omitempty"`
	Code      int             `json:"code,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Error     *RPCError       `json:"error,omitempty"`
	DelayMS   int64           `json:"delay_ms,omitempty"`
	NoReply   bool            `json:"noreply,omitempty"`
	Reset     bool            `json:"reset,omitempty"`
}

// line is any stdout line. "code" is a string for RPC errors and a number for
// close codes, so it is kept raw.
type line struct {
	Event     string          `json:"event"`
	ID        *string         `json:"id"`
	Identity  string          `json:"identity"`
	Protocol  string          `json:"protocol"`
	Action    string          `json:"action"`
	MessageID string          `json:"message_id"`
	Payload   json.RawMessage `json:"payload"`
	Code      json.RawMessage `json:"code"`
	Reason    string          `json:"reason"`
	Message   string          `json:"message"`
	Name      string          `json:"name"`
	Details   json.RawMessage `json:"details"`
	Status    int             `json:"status"`
	Port      int             `json:"port"`
	Endpoint  string          `json:"endpoint"`
	Offered   []string        `json:"offered"`
	Password  string          `json:"password"`

	Connected          int     `json:"connected"`
	Calls              int64   `json:"calls"`
	BadMessages        int64   `json:"bad_messages"`
	ValidationFailures int64   `json:"validation_failures"`
	MemoryRSS          uint64  `json:"memory_rss"`
	HeapUsed           uint64  `json:"heap_used"`
	CPUUserMS          float64 `json:"cpu_user_ms"`
	CPUSystemMS        float64 `json:"cpu_system_ms"`

	raw json.RawMessage
}

func (l *line) errorCode() string {
	var s string
	_ = json.Unmarshal(l.Code, &s) // a number (close code) leaves s empty
	return s
}

func (l *line) closeCode() int {
	var n int
	_ = json.Unmarshal(l.Code, &n) // a string (error code) leaves n zero
	return n
}

func (l *line) event() Event {
	return Event{
		Type: l.Event, Identity: l.Identity, Protocol: l.Protocol, Action: l.Action,
		MessageID: l.MessageID, Payload: l.Payload, CloseCode: l.closeCode(), Reason: l.Reason,
		ErrorCode: l.errorCode(), Message: l.Message, Status: l.Status, Endpoint: l.Endpoint,
		Offered: l.Offered, Password: l.Password, Raw: l.raw,
	}
}

func (l *line) stats() Stats {
	return Stats{
		Connected: l.Connected, Calls: l.Calls, BadMessages: l.BadMessages,
		ValidationFailures: l.ValidationFailures, MemoryRSS: l.MemoryRSS, HeapUsed: l.HeapUsed,
		CPUUser:   time.Duration(l.CPUUserMS * float64(time.Millisecond)),
		CPUSystem: time.Duration(l.CPUSystemMS * float64(time.Millisecond)),
	}
}
