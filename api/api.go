// Package api is the admin REST API of the CSMS under /api/v1: stations,
// id tokens, transactions, remote commands in one version-neutral language,
// and a raw "send this OCPP action" for everything else. Every response is
// JSON; every request needs the API key as "Authorization: Bearer <key>".
package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/throttle"
	"github.com/openev/openev/ocpp"
)

// Stations is what the API needs of the OCPP server: the open connection of
// a station. *ocpp.Server implements it.
type Stations interface {
	Conn(identity string) (*ocpp.Conn, bool)
}

// API serves /api/v1. Create it with New.
type API struct {
	store    csms.Store
	stations Stations
	key      string
	log      *slog.Logger
	// CommandTimeout bounds how long a command waits for the station's
	// answer. Default 30s.
	commandTimeout time.Duration
	observe        func(direction, action string, err error, took time.Duration)
	ocpi           *OCPI
	mux            *http.ServeMux
	guessing       *throttle.Throttle // wrong API keys, per remote address
	now            func() time.Time
}

// Options tune an API.
type Options struct {
	// APIKey is the bearer token every request must carry. Required.
	APIKey string
	// CommandTimeout bounds the wait for a station's answer. Default 30s.
	CommandTimeout time.Duration
	// Logger; default discards.
	Logger *slog.Logger
	// ObserveCall, when set, is told of every call the API makes to a
	// station (for metrics).
	ObserveCall func(direction, action string, err error, took time.Duration)
	// OCPI, when set, is the OCPI node whose peers and locations the API
	// manages (/api/v1/ocpi/..., /api/v1/locations). Default: none, and
	// those endpoints answer 404 saying how to enable OCPI.
	OCPI *OCPI
	// KeyBackoff is how long an address must wait after a request with a
	// missing or wrong API key; the delay doubles with each further one, up
	// to a minute. Default 1s.
	KeyBackoff time.Duration
	// Now is the clock of those delays. Default time.Now.
	Now func() time.Time
}

// New returns the API on a store and the OCPP server's connections.
func New(store csms.Store, stations Stations, opts Options) (*API, error) {
	if opts.APIKey == "" {
		return nil, errors.New("api: an API key is required")
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.ObserveCall == nil {
		opts.ObserveCall = func(string, string, error, time.Duration) {}
	}
	if opts.KeyBackoff <= 0 {
		opts.KeyBackoff = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{store: store, stations: stations, key: opts.APIKey, log: opts.Logger, commandTimeout: opts.CommandTimeout, observe: opts.ObserveCall, ocpi: opts.OCPI,
		guessing: throttle.New(opts.KeyBackoff, time.Minute), now: opts.Now}
	a.routes()
	return a, nil
}

func (a *API) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/openapi.json", a.openAPI)
	m.HandleFunc("GET /api/v1/stations", a.listStations)
	m.HandleFunc("POST /api/v1/stations", a.createStation)
	m.HandleFunc("GET /api/v1/stations/{id}", a.getStation)
	m.HandleFunc("PATCH /api/v1/stations/{id}", a.patchStation)
	m.HandleFunc("DELETE /api/v1/stations/{id}", a.deleteStation)
	m.HandleFunc("GET /api/v1/stations/{id}/status", a.stationStatus)
	m.HandleFunc("GET /api/v1/stations/{id}/status/history", a.stationStatusHistory)
	m.HandleFunc("GET /api/v1/stations/{id}/events", a.stationEvents)
	m.HandleFunc("POST /api/v1/stations/{id}/commands/{name}", a.command)
	m.HandleFunc("POST /api/v1/stations/{id}/ocpp/{action}", a.rawCall)
	m.HandleFunc("GET /api/v1/tokens", a.listTokens)
	m.HandleFunc("POST /api/v1/tokens", a.createToken)
	m.HandleFunc("GET /api/v1/tokens/{id}", a.getToken)
	m.HandleFunc("PUT /api/v1/tokens/{id}", a.putToken)
	m.HandleFunc("DELETE /api/v1/tokens/{id}", a.deleteToken)
	m.HandleFunc("GET /api/v1/transactions", a.listTransactions)
	m.HandleFunc("GET /api/v1/transactions/{id}", a.getTransaction)
	m.HandleFunc("GET /api/v1/transactions/{id}/events", a.transactionEvents)
	a.ocpiRoutes(m)
	m.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path)
	})
	a.mux = m
}

// ServeHTTP checks the API key and dispatches. Key guessing is slowed down
// per remote address: after a wrong key the address waits (429) before its
// next request, however right its key then is. Behind a reverse proxy every
// client shares the proxy's address.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/openapi.json" {
		a.mux.ServeHTTP(w, r)
		return
	}
	addr := throttle.RemoteHost(r)
	now := a.now()
	if wait := a.guessing.Wait(addr, now); wait > 0 {
		secs := int(wait.Round(time.Second)/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "too many requests with a wrong API key from this address: retry in %d s", secs)
		return
	}
	if !a.authorized(r) {
		delay := a.guessing.Fail(addr, now)
		a.log.Warn("admin API request with a missing or wrong API key", "remote", addr, "next_attempt_in", delay)
		w.Header().Set("WWW-Authenticate", `Bearer realm="openev"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong API key: send Authorization: Bearer <key>")
		return
	}
	a.guessing.Succeed(addr)
	a.mux.ServeHTTP(w, r)
}

func (a *API) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(a.key)) == 1
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote <placeholders> for people reading them
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, errorBody{Error: fmt.Sprintf(format, args...)})
}

// storeError answers a store failure: 404 for ErrNotFound, 400 with the
// store's explanation for ErrInvalid (the request was at fault), 500
// otherwise (with the detail logged, not shown).
func (a *API) storeError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, csms.ErrNotFound) {
		writeError(w, http.StatusNotFound, "%s not found", what)
		return
	}
	if errors.Is(err, csms.ErrInvalid) {
		writeError(w, http.StatusBadRequest, "%s: %v", what, err)
		return
	}
	a.log.Error("store failed", "what", what, "err", err)
	writeError(w, http.StatusInternalServerError, "could not read or write %s; see the server log", what)
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// readJSON decodes the request body strictly: unknown fields and trailing
// data are errors that name what is wrong.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body: %v", err)
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "request body: more than one JSON value")
		return false
	}
	return true
}

// page reads limit and offset query parameters.
func page(w http.ResponseWriter, r *http.Request) (csms.Page, bool) {
	var p csms.Page
	for name, dst := range map[string]*int{"limit": &p.Limit, "offset": &p.Offset} {
		if s := r.URL.Query().Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "query parameter %s must be a non-negative integer, got %q", name, s)
				return p, false
			}
			*dst = n
		}
	}
	return p, true
}

// totalCount sets X-Total-Count, how many items the list's filters select
// over all pages; on failure it answers the error and returns false.
func (a *API) totalCount(w http.ResponseWriter, what string, count func() (int, error)) bool {
	n, err := count()
	if err != nil {
		a.storeError(w, "count "+what, err)
		return false
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(n))
	return true
}

// linkNext tells a client that a list may go on: when a page came back
// full (n items), a Link header names the next one (rel="next"), with
// every other query parameter kept. Offsets count from the list as it is
// then: rows that arrive meanwhile may shift a newest-first list by as many.
func linkNext(w http.ResponseWriter, r *http.Request, p csms.Page, n int) {
	limit, _ := p.Bounds()
	if n < limit {
		return
	}
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(p.Offset+n))
	next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Set("Link", "<"+next.String()+`>; rel="next"`)
}
