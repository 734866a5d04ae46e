package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ClientOptions configures StartClient.
type ClientOptions struct {
	// URL of the CSMS endpoint without the identity, e.g. ws://127.0.0.1:8080/ocpp;
	// ocpp-rpc appends "/" + the URL-encoded identity.
	URL      string
	Identity string
	// Protocols offered in the WebSocket handshake, in order. Default: ocpp2.0.1.
	Protocols []string
	// Password for HTTP Basic auth (security profile 1), username = Identity.
	Password string
	// NonStrict turns ocpp-rpc's strict schema validation off, e.g. to send
	// an invalid CALL and see how our CSMS answers it.
	NonStrict bool
	// PingInterval between WebSocket pings to the server; 0 keeps ocpp-rpc's
	// 30 s, negative disables pings.
	PingInterval time.Duration
	// Stderr, if set, gets a copy of the process's stderr.
	Stderr io.Writer
}

// Client is an ocpp-rpc RPCClient (a charging station) in a node process. It
// does not reconnect: when the connection closes it reports a "close" event
// and stays idle until Close.
type Client struct {
	*Peer
	protocol string
}

// ConnectError is returned by StartClient when the WebSocket connection could
// not be opened (the process has been closed).
type ConnectError struct {
	Status  int    // HTTP status of a refused upgrade (e.g. 401), or 0
	Message string // as ocpp-rpc / ws reported it, e.g. "Server sent no subprotocol"
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("peer: client could not connect: %s (HTTP status %d)", e.Message, e.Status)
}

// StartClient starts a client peer and waits, at most until ctx ends, until
// its connection is open. The process outlives ctx: call Close.
func StartClient(ctx context.Context, opts ClientOptions) (*Client, error) {
	if opts.URL == "" || opts.Identity == "" {
		return nil, errors.New("peer: StartClient needs URL and Identity")
	}
	protocols := opts.Protocols
	if len(protocols) == 0 {
		protocols = []string{"ocpp2.0.1"}
	}
	args := []string{"client", "--url", opts.URL, "--identity", opts.Identity,
		"--protocols", strings.Join(protocols, ","), "--strict", strconv.FormatBool(!opts.NonStrict)}
	if opts.Password != "" {
		args = append(args, "--password", opts.Password)
	}
	args = append(args, pingArgs(opts.PingInterval)...)
	p, err := start(args, opts.Stderr)
	if err != nil {
		return nil, err
	}
	ev, err := p.awaitStart(ctx, func(ev Event) bool { return ev.Type == "open" || ev.Type == "connect_error" })
	if err != nil {
		return nil, err
	}
	if ev.Type == "connect_error" {
		_ = p.Close()
		return nil, &ConnectError{Status: ev.Status, Message: ev.Message}
	}
	return &Client{Peer: p, protocol: ev.Protocol}, nil
}

// Protocol is the subprotocol the server chose.
func (c *Client) Protocol() string { return c.protocol }

// Call sends a CALL to the server and returns its result, or the RPC error
// ocpp-rpc reported (a CALLERROR from the server, or a strict-mode failure of
// the request or of the server's response). err is for everything else.
func (c *Client) Call(ctx context.Context, action string, payload any) (json.RawMessage, *RPCError, error) {
	return c.call(ctx, "", action, payload)
}

// Raw sends text as one WebSocket text frame, bypassing ocpp-rpc's checks.
// Answers to it arrive as "bad_message" events.
func (c *Client) Raw(ctx context.Context, text string) error {
	_, err := c.request(ctx, command{Cmd: "raw", Text: &text})
	return err
}

// Disconnect closes the connection with a WebSocket close code (0 means 1000)
// and reason, and waits for the close handshake.
func (c *Client) Disconnect(ctx context.Context, code int, reason string) error {
	_, err := c.request(ctx, command{Cmd: "close", Code: code, Reason: reason})
	return err
}
