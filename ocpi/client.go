package ocpi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultClientTimeout bounds one request of a Client whose HTTPClient is
// nil: connecting, sending and reading the whole answer.
const DefaultClientTimeout = 30 * time.Second

// DefaultMaxBodyBytes is the largest answer a Client reads when
// Client.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 32 << 20

// defaultHTTPClient is shared by every Client without an HTTPClient, so
// they share one connection pool.
var defaultHTTPClient = &http.Client{Timeout: DefaultClientTimeout}

// Client calls one peer's OCPI endpoints: it sets the Authorization,
// request-id, correlation-id and (for functional modules) routing headers,
// unwraps the response envelope and turns failures into errors that say
// what went wrong. The zero value works for unauthenticated calls; set
// Token for everything else. A Client is safe for concurrent use once its
// fields are set.
type Client struct {
	// HTTPClient sends the requests. Default: a shared http.Client with a
	// DefaultClientTimeout (30 s) timeout.
	HTTPClient *http.Client
	// Token is the credentials token the peer gave us (token B or C; token
	// A during registration). Empty sends no Authorization header. It is
	// never logged nor put in an error.
	Token string
	// RawToken sends Token unencoded ("Token abc") for peers that expect
	// what 2.1.1 and 2.2 sent. Default false: base64, as 2.2.1 requires.
	RawToken bool
	// From is our party, sent as OCPI-from-country-code/-party-id on
	// requests to functional modules (see ForModule). Default: none.
	From PartyID
	// To is the peer's party, sent as OCPI-to-country-code/-party-id on
	// requests to functional modules. Default: none (open routing).
	To PartyID
	// UserAgent is the User-Agent header. Default "openev-ocpi".
	UserAgent string
	// Logger gets one debug line per request (method, URL, HTTP status,
	// request and correlation ids, duration). Default: no logging.
	Logger *slog.Logger
	// MaxBodyBytes bounds how much of an answer is read; a longer answer is
	// an error. Default DefaultMaxBodyBytes (32 MiB).
	MaxBodyBytes int64
}

// Reply is a peer's successful answer: the envelope (embedded, so
// reply.Data and reply.StatusCode work) with the HTTP status and headers
// (X-Total-Count, Link, Location, ...).
type Reply struct {
	Response
	// HTTPStatus is the HTTP status code (200 or 201).
	HTTPStatus int
	// Header holds the response headers.
	Header http.Header
}

// HTTPError is an answer that carries no OCPI envelope: a 401 without a
// body, a proxy's HTML 502, a 404 page, or a 2xx whose body is not an
// envelope (a 204 No Content is taken as success). It says the request
// and the beginning of the body.
type HTTPError struct {
	// Method and URL are the request's.
	Method, URL string
	// HTTPStatus is the HTTP status code of the answer.
	HTTPStatus int
	// Body is the beginning of the answer (at most 200 bytes, control
	// characters replaced), empty when there was none.
	Body string
	// Reason says why the answer is not usable when the HTTP status alone
	// does not (e.g. "no OCPI envelope").
	Reason string
}

// Error says the request, the HTTP status, why the answer is unusable and
// the beginning of the body.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ocpi: %s %s: HTTP %d", e.Method, e.URL, e.HTTPStatus)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Body == "" {
		b.WriteString(" (empty body)")
	} else {
		fmt.Fprintf(&b, ": body %q", e.Body)
	}
	return b.String()
}

// RequestOption changes one request of a Client.
type RequestOption func(*requestOptions)

type requestOptions struct {
	module       ModuleID
	from, to     PartyID
	routeSet     bool
	extraHeaders http.Header
}

// ForModule says which module the request is for. Requests to functional
// modules (Module.Functional: all but credentials and hubclientinfo) carry
// the OCPI-from/OCPI-to routing headers; requests without this option, to
// versions or to configuration modules, carry none, as the spec requires.
func ForModule(m ModuleID) RequestOption {
	return func(o *requestOptions) { o.module = m }
}

// WithRouting sends from and to as the routing headers of this request
// instead of the Client's From and To (a zero party is left out). It only
// has an effect together with ForModule of a functional module.
func WithRouting(from, to PartyID) RequestOption {
	return func(o *requestOptions) { o.from, o.to, o.routeSet = from, to, true }
}

// WithHeader adds a header to this request (e.g. a peer-specific one).
func WithHeader(name, value string) RequestOption {
	return func(o *requestOptions) {
		if o.extraHeaders == nil {
			o.extraHeaders = http.Header{}
		}
		o.extraHeaders.Add(name, value)
	}
}

type correlationKey struct{}

// WithCorrelationID returns a context whose Client requests carry id as
// X-Correlation-ID. Without it each request gets a new one. A node that
// calls a peer while serving a request passes that request's correlation
// id on, so both hops can be traced together.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the id set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// Do sends one request and returns the peer's answer when its status_code
// is 1xxx. body, when not nil, is sent as JSON (a json.RawMessage or []byte
// as it is). The error is an *Error (wrapped, find it with errors.As or
// AsError) when the peer answered with an envelope and a non-1xxx
// status_code; an *HTTPError when the answer has no envelope; another
// error when the request could not be sent or the answer not read.
func (c *Client) Do(ctx context.Context, method, rawURL string, body any, opts ...RequestOption) (*Reply, error) {
	var o requestOptions
	for _, opt := range opts {
		opt(&o)
	}
	shown := redactURL(rawURL)

	var reqBody io.Reader
	if body != nil {
		var b []byte
		switch v := body.(type) {
		case json.RawMessage:
			b = v
		case []byte:
			b = v
		default:
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("ocpi: %s %s: encoding the request body: %w", method, shown, err)
			}
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reqBody)
	if err != nil {
		return nil, fmt.Errorf("ocpi: %s %s: %w", method, shown, err)
	}
	requestID := NewRequestID()
	correlationID := CorrelationID(ctx)
	if correlationID == "" {
		correlationID = NewRequestID()
	}
	h := req.Header
	for name, values := range o.extraHeaders {
		h[name] = values
	}
	if c.Token != "" {
		h.Set("Authorization", AuthorizationHeader(c.Token, c.RawToken))
	}
	h.Set(HeaderRequestID, requestID)
	h.Set(HeaderCorrelationID, correlationID)
	h.Set("Accept", "application/json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "openev-ocpi"
	}
	h.Set("User-Agent", ua)
	if o.module.Functional() {
		from, to := c.From, c.To
		if o.routeSet {
			from, to = o.from, o.to
		}
		SetRoutingHeaders(h, from, to)
	}

	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		c.log(ctx, method, shown, 0, requestID, correlationID, start, err)
		return nil, fmt.Errorf("ocpi: %s %s: %w", method, shown, c.scrub(err))
	}
	defer resp.Body.Close()
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(raw)) > limit {
		err = fmt.Errorf("answer is longer than %d bytes (Client.MaxBodyBytes)", limit)
	}
	if err != nil {
		c.log(ctx, method, shown, resp.StatusCode, requestID, correlationID, start, err)
		return nil, fmt.Errorf("ocpi: %s %s: HTTP %d: reading the answer: %w", method, shown, resp.StatusCode, err)
	}
	reply, err := c.decode(method, shown, resp, raw)
	c.log(ctx, method, shown, resp.StatusCode, requestID, correlationID, start, err)
	return reply, err
}

// envelopeProbe tells an envelope without status_code from one with 0.
type envelopeProbe struct {
	Data          json.RawMessage `json:"data"`
	StatusCode    *int            `json:"status_code"`
	StatusMessage string          `json:"status_message"`
	Timestamp     *DateTime       `json:"timestamp"`
}

func (c *Client) decode(method, shown string, resp *http.Response, raw []byte) (*Reply, error) {
	httpErr := func(reason string) error {
		return &HTTPError{Method: method, URL: shown, HTTPStatus: resp.StatusCode, Body: c.snippet(raw), Reason: reason}
	}
	var probe envelopeProbe
	trimmed := bytes.TrimSpace(raw)
	if resp.StatusCode == http.StatusNoContent && len(trimmed) == 0 {
		// Not OCPI, but some peers answer a DELETE so; nothing is lost.
		return &Reply{Response: Response{StatusCode: StatusSuccess}, HTTPStatus: resp.StatusCode, Header: resp.Header}, nil
	}
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &probe) != nil {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil, httpErr("the answer is not an OCPI envelope (JSON object with status_code)")
		}
		return nil, httpErr("")
	}
	if probe.StatusCode == nil {
		return nil, httpErr("the answer is JSON but has no status_code, so it is not an OCPI envelope")
	}
	code := *probe.StatusCode
	if code < 1000 || code > 1999 {
		return nil, fmt.Errorf("ocpi: %s %s: %w", method, shown,
			&Error{HTTPStatus: resp.StatusCode, Code: code, Message: c.scrubString(probe.StatusMessage)})
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, httpErr(fmt.Sprintf("an HTTP error with OCPI status_code %d", code))
	}
	reply := &Reply{HTTPStatus: resp.StatusCode, Header: resp.Header}
	reply.StatusCode = code
	reply.StatusMessage = probe.StatusMessage
	if probe.Timestamp != nil {
		reply.Timestamp = *probe.Timestamp
	}
	if d := bytes.TrimSpace(probe.Data); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		reply.Data = d
	}
	return reply, nil
}

// Get sends a GET and decodes the answer's data into out (skipped when out
// is nil). An answer without data is an error.
func (c *Client) Get(ctx context.Context, rawURL string, out any, opts ...RequestOption) error {
	reply, err := c.Do(ctx, http.MethodGet, rawURL, nil, opts...)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if reply.Data == nil {
		return fmt.Errorf("ocpi: GET %s: the answer has no data", redactURL(rawURL))
	}
	return decodeData(http.MethodGet, rawURL, reply.Data, out)
}

// Put sends body with PUT and decodes the answer's data, if any, into out
// (skipped when out is nil).
func (c *Client) Put(ctx context.Context, rawURL string, body, out any, opts ...RequestOption) error {
	return c.send(ctx, http.MethodPut, rawURL, body, out, opts)
}

// Patch sends body with PATCH and decodes the answer's data, if any, into
// out (skipped when out is nil).
func (c *Client) Patch(ctx context.Context, rawURL string, body, out any, opts ...RequestOption) error {
	return c.send(ctx, http.MethodPatch, rawURL, body, out, opts)
}

// Post sends body with POST and decodes the answer's data, if any, into out
// (skipped when out is nil). Use Do to read headers such as Location.
func (c *Client) Post(ctx context.Context, rawURL string, body, out any, opts ...RequestOption) error {
	return c.send(ctx, http.MethodPost, rawURL, body, out, opts)
}

// Delete sends a DELETE; any data in the answer is ignored (use Do to read
// it).
func (c *Client) Delete(ctx context.Context, rawURL string, opts ...RequestOption) error {
	_, err := c.Do(ctx, http.MethodDelete, rawURL, nil, opts...)
	return err
}

func (c *Client) send(ctx context.Context, method, rawURL string, body, out any, opts []RequestOption) error {
	reply, err := c.Do(ctx, method, rawURL, body, opts...)
	if err != nil || out == nil || reply.Data == nil {
		return err
	}
	return decodeData(method, rawURL, reply.Data, out)
}

func decodeData(method, rawURL string, data json.RawMessage, out any) error {
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ocpi: %s %s: decoding data: %w", method, redactURL(rawURL), err)
	}
	return nil
}

// Versions fetches a peer's versions list.
func (c *Client) Versions(ctx context.Context, versionsURL string) ([]Version, error) {
	var vs []Version
	if err := c.Get(ctx, versionsURL, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// VersionDetails fetches one version's endpoints. A peer that wraps the
// object in a one-element list (seen in the wild) is accepted.
func (c *Client) VersionDetails(ctx context.Context, detailsURL string) (VersionDetails, error) {
	var raw json.RawMessage
	if err := c.Get(ctx, detailsURL, &raw); err != nil {
		return VersionDetails{}, err
	}
	var d VersionDetails
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var list []VersionDetails
		if err := json.Unmarshal(t, &list); err != nil || len(list) != 1 {
			return VersionDetails{}, fmt.Errorf("ocpi: GET %s: version details must be one object, got %.100s", redactURL(detailsURL), t)
		}
		return list[0], nil
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return VersionDetails{}, fmt.Errorf("ocpi: GET %s: decoding version details: %w", redactURL(detailsURL), err)
	}
	return d, nil
}

func (c *Client) log(ctx context.Context, method, shown string, status int, requestID, correlationID string, start time.Time, err error) {
	if c.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method), slog.String("url", shown), slog.Int("status", status),
		slog.String("request_id", requestID), slog.String("correlation_id", correlationID),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.scrubString(err.Error())))
	}
	c.Logger.LogAttrs(ctx, slog.LevelDebug, "ocpi request", attrs...)
}

// snippet is the beginning of a body, safe to show in an error.
func (c *Client) snippet(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return c.scrubString(s)
}

// scrubString removes the token (raw or base64) from s, should a peer echo
// it back. Tokens shorter than 8 characters (test tokens) are left: they
// would mangle ordinary words.
func (c *Client) scrubString(s string) string {
	if len(c.Token) < 8 {
		return s
	}
	s = strings.ReplaceAll(s, c.Token, "[token]")
	return strings.ReplaceAll(s, base64.StdEncoding.EncodeToString([]byte(c.Token)), "[token]")
}

func (c *Client) scrub(err error) error {
	if s := err.Error(); c.scrubString(s) == s {
		return err
	}
	return scrubbedError{msg: c.scrubString(err.Error()), err: err}
}

// scrubbedError is an error whose text had our token taken out; it still
// unwraps to the original, so errors.As finds e.g. the net.Error.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

// redactURL hides a password in the URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}
