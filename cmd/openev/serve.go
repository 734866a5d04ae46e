package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/openev/openev/api"
	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/metrics"
	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/store/sqlite"
)

// serveFlags are the flags of `openev serve`.
type serveFlags struct {
	addr, db, dataDir, apiKey             string
	unknownStations, validation, logLevel string
	acceptUnknownTokens                   bool
	heartbeat                             time.Duration
	tlsAddr, tlsCert, tlsKey, clientCA    string
	debugAddr                             string
	config                                string
	publicURL, ocpiName                   string
	ocpiParties, ocpiRoles                []string
	changed                               func(name string) bool // whether a flag was given
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the CSMS: OCPP 1.6/2.0.1/2.1 for stations, the admin API, metrics",
		Long: `Run the charging station management system.

One listener (--addr) serves OCPP at /ocpp/{identity} and /cso/ocpp/{identity},
the admin API at /api/v1 (OpenAPI document at /api/v1/openapi.json), /healthz
and /metrics. With --tls-cert and --tls-key a TLS listener (--tls-addr) serves
the same, for security profiles 2 and 3 (--client-ca for client certificates).

With no setup at all it stores everything in SQLite under --data-dir;
--db postgres://... runs it on PostgreSQL (add ?schema=NAME to keep openEV's
tables in a schema of their own, created if missing). The admin API needs an
API key (--api-key or OPENEV_API_KEY); without one a key is generated and
printed.

OCPI 2.2.1 is off until a party is given: --ocpi-party NL-ABC (repeatable, or
a comma list) with --ocpi-roles CPO, EMSP or CPO,EMSP serves the OCPI node at
/ocpi/ on the same listeners (versions at <public-url>/ocpi/versions) and its
peers and locations in the admin API. --config FILE (YAML or JSON) holds the
same settings; flags given on the command line win. See docs/ocpi.md.`,
		Example: `  openev serve
  openev serve --addr 0.0.0.0:8080 --db sqlite:///var/lib/openev/openev.db --unknown-stations pending
  OPENEV_API_KEY=... openev serve --tls-addr :8443 --tls-cert csms.pem --tls-key csms.key --client-ca ca.pem
  openev serve --ocpi-party NL-ABC --ocpi-roles CPO --ocpi-name "ABC Charging" --public-url https://ocpi.abc.example
  openev serve --config openev.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), &f, stderr) },
	}
	fl := cmd.Flags()
	f.changed = fl.Changed
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "plain listener for OCPP, the API and metrics")
	fl.StringVar(&f.db, "db", "", "database: sqlite://PATH or postgres://... (default sqlite://<data-dir>/openev.db)")
	fl.StringVar(&f.dataDir, "data-dir", "data", "directory for the default SQLite database")
	fl.StringVar(&f.apiKey, "api-key", "", "admin API key (default $OPENEV_API_KEY; generated and printed if neither is set)")
	fl.StringVar(&f.unknownStations, "unknown-stations", "accept", "stations not registered: accept, pending or reject")
	fl.BoolVar(&f.acceptUnknownTokens, "accept-unknown-tokens", false, "authorize id tokens that are not registered (development only)")
	fl.DurationVar(&f.heartbeat, "heartbeat-interval", 300*time.Second, "heartbeat interval sent to stations at boot")
	fl.StringVar(&f.validation, "validation", "strict", "OCPP schema validation: strict, lenient or off")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.tlsAddr, "tls-addr", "127.0.0.1:8443", "TLS listener, used when --tls-cert and --tls-key are set")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "server certificate (PEM) for the TLS listener")
	fl.StringVar(&f.tlsKey, "tls-key", "", "server private key (PEM) for the TLS listener")
	fl.StringVar(&f.clientCA, "client-ca", "", "CA certificates (PEM) that sign station client certificates (security profile 3)")
	fl.StringVar(&f.config, "config", "", "settings file (YAML or JSON) with public_url and ocpi: {parties, roles, name, website}")
	fl.StringVar(&f.publicURL, "public-url", "", "base URL OCPI peers reach this server at (default http://<--addr>)")
	fl.StringSliceVar(&f.ocpiParties, "ocpi-party", nil, "our OCPI party as COUNTRY-PARTY, e.g. NL-ABC (repeatable or comma list); none: OCPI off")
	fl.StringSliceVar(&f.ocpiRoles, "ocpi-roles", nil, "roles every --ocpi-party plays: CPO, EMSP or CPO,EMSP (default CPO)")
	fl.StringVar(&f.ocpiName, "ocpi-name", "", "business name sent to OCPI peers (default openEV)")
	fl.StringVar(&f.debugAddr, "debug-addr", "", "listener for Go's profiler at /debug/pprof/ (e.g. 127.0.0.1:6060; default off: keep it private)")
	_ = stdout
	return cmd
}

func runServe(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageErr("--log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Libraries that log through slog's default (nbio's warnings) follow
	// --log-level and this format too.
	slog.SetDefault(log)
	policy, err := csms.ParseStationPolicy(f.unknownStations)
	if err != nil {
		return usageErr("--unknown-stations: %v", err)
	}
	validation, err := ocpp.ParseValidation(f.validation)
	if err != nil {
		return usageErr("--validation: %v", err)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	if f.clientCA != "" && f.tlsCert == "" {
		// Client certificates need the TLS listener; ignoring the flag would
		// leave profile-3 stations refused with no hint why.
		return usageErr("--client-ca needs the TLS listener: give --tls-cert and --tls-key too")
	}
	ocpiSettings, err := loadOCPISettings(f)
	if err != nil {
		return err
	}
	key := f.apiKey
	if key == "" {
		key = os.Getenv("OPENEV_API_KEY")
	}
	if key == "" {
		key = newAPIKey()
		// Printed once to the terminal, never to the logs.
		fmt.Fprintf(stderr, "\n  No API key was given (--api-key or OPENEV_API_KEY); this run's key is:\n\n      %s\n\n", key)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, where, err := openStore(ctx, f)
	var usage *exitError
	if errors.As(err, &usage) {
		return err
	}
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	defer store.Close()

	// The CSMS answers OCPP 1.6 and 2.0.1; a station that also offers 2.1
	// gets 2.0.1 rather than a version whose calls would all be refused.
	srv := &ocpp.Server{Options: ocpp.Options{Logger: log, Validation: validation}, Versions: []ocpp.Version{ocpp.V201, ocpp.V16}}
	m := metrics.New(srv)
	// Everything goes through the timed store, so /metrics shows the
	// database's share of each answer (openev_store_duration_seconds).
	timed := m.Store(store)
	svc := csms.New(timed, csms.Config{
		HeartbeatInterval: f.heartbeat, UnknownStations: policy, AcceptUnknownTokens: f.acceptUnknownTokens, Logger: log,
	})
	svc.Mount(srv)
	srv.Handler = m.WrapHandler(srv.Handler)
	mux := http.NewServeMux()
	ocpiAPI, err := mountOCPI(mux, ocpiSettings, store, log)
	if err != nil {
		return err
	}
	adminAPI, err := api.New(timed, srv, api.Options{APIKey: key, Logger: log, ObserveCall: m.Observe, OCPI: ocpiAPI})
	if err != nil {
		return err
	}
	mux.Handle("/ocpp/", srv)
	mux.Handle("/cso/ocpp/", srv)
	mux.Handle("/api/", adminAPI)
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","stations_connected":%d}`+"\n", srv.Len())
	})

	servers, err := listen(f, mux, log)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if f.debugAddr != "" {
		debug, err := listenDebug(f.debugAddr, log)
		if err != nil {
			for _, hs := range servers {
				hs.Close()
			}
			return &exitError{code: exitFailed, err: err}
		}
		servers = append(servers, debug)
	}
	log.Info("openev serving", "db", where, "unknown_stations", policy, "validation", validation)
	<-ctx.Done()
	log.Info("shutting down: letting calls in flight finish")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	for _, hs := range servers {
		hs.Shutdown(shutdown)
	}
	if ocpiAPI != nil {
		waitPushes(shutdown, ocpiAPI.Locations, log)
	}
	return nil
}

// openStore opens the database that --db names.
func openStore(ctx context.Context, f *serveFlags) (csms.Store, string, error) {
	db := f.db
	if db == "" {
		if err := os.MkdirAll(f.dataDir, 0o750); err != nil {
			return nil, "", fmt.Errorf("creating the data directory %s: %w", f.dataDir, err)
		}
		db = "sqlite://" + filepath.Join(f.dataDir, "openev.db")
	}
	switch {
	case strings.HasPrefix(db, "sqlite://"):
		path, query, _ := strings.Cut(strings.TrimPrefix(db, "sqlite://"), "?")
		params, err := url.ParseQuery(query)
		if err != nil {
			return nil, "", usageErr("--db: the parameters after ? do not parse (%v)", err)
		}
		batch, err := takeBatchParams(params)
		if err != nil {
			return nil, "", err
		}
		if len(params) > 0 {
			return nil, "", usageErr("--db: unknown SQLite parameter(s) %s: only batching=off and max_batch=N are known", paramNames(params))
		}
		st, err := sqlite.Open(ctx, path, sqlite.Options{MaxBatch: batch.max, NoBatching: batch.off})
		if err != nil {
			return nil, "", fmt.Errorf("opening SQLite database %s: %w", path, err)
		}
		return st, "sqlite://" + path + batch.String(), nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		u, err := url.Parse(db)
		if err != nil {
			return nil, "", usageErr("--db: the PostgreSQL URL does not parse (%v): want postgres://user:password@host:5432/db?sslmode=disable", redactedErr(err))
		}
		params := u.Query()
		schema := params.Get("schema")
		if params.Has("schema") && schema == "" {
			return nil, "", usageErr("--db: schema= is empty: give a schema name or leave the parameter out")
		}
		params.Del("schema")
		batch, err := takeBatchParams(params)
		if err != nil {
			return nil, "", err
		}
		u.RawQuery = params.Encode() // the rest (sslmode, ...) is for the driver
		return openPostgres(ctx, u.String(), schema, batch)
	}
	return nil, "", usageErr("--db %q: want sqlite://PATH or postgres://...", db)
}

// listen starts the plain listener and, when configured, the TLS one.
func listen(f *serveFlags, h http.Handler, log *slog.Logger) ([]*http.Server, error) {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (is another server running there? use --addr)", f.addr, err)
	}
	plain := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go plain.Serve(ln)
	log.Info("listening", "addr", ln.Addr().String(), "ocpp", "ws://"+ln.Addr().String()+"/ocpp/{identity}")
	servers := []*http.Server{plain}
	if f.tlsCert == "" {
		return servers, nil
	}
	cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		plain.Close()
		return nil, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			plain.Close()
			return nil, fmt.Errorf("reading --client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			plain.Close()
			return nil, errors.New("--client-ca holds no PEM certificate")
		}
		// Profile 3 stations present a certificate; profile 2 stations do
		// not, and are checked by password instead.
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	tln, err := tls.Listen("tcp", f.tlsAddr, cfg)
	if err != nil {
		plain.Close()
		return nil, fmt.Errorf("listening on %s: %w", f.tlsAddr, err)
	}
	secure := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go secure.Serve(tln)
	log.Info("listening with TLS", "addr", tln.Addr().String(), "ocpp", "wss://"+tln.Addr().String()+"/ocpp/{identity}")
	return append(servers, secure), nil
}

// listenDebug serves Go's profiler on a listener of its own, so that it is
// never reachable where stations and API clients are.
func listenDebug(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (use another --debug-addr)", addr, err)
	}
	mux := http.NewServeMux()
	// No /debug/pprof/cmdline: the command line may hold --api-key or a
	// database password.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	log.Info("profiler listening", "addr", ln.Addr().String(), "pprof", "http://"+ln.Addr().String()+"/debug/pprof/")
	return hs, nil
}

func newAPIKey() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serveConfig is the --config file: the OCPI settings, with the names of
// their flags. Flags given on the command line override it.
type serveConfig struct {
	PublicURL string `yaml:"public_url"`
	OCPI      struct {
		Parties []string `yaml:"parties"`
		Roles   []string `yaml:"roles"`
		Name    string   `yaml:"name"`
		Website string   `yaml:"website"`
	} `yaml:"ocpi"`
}

// ocpiSettings is the OCPI node serve runs; no parties means OCPI is off.
type ocpiSettings struct {
	publicURL string
	derived   string // why publicURL was derived, "" when it was given
	parties   []ocpi.CredentialsRole
}

// loadOCPISettings merges --config and the OCPI flags and checks them.
// Every mistake is a usage error that says what to write instead.
func loadOCPISettings(f *serveFlags) (ocpiSettings, error) {
	var c serveConfig
	if f.config != "" {
		raw, err := os.ReadFile(f.config)
		if err != nil {
			return ocpiSettings{}, usageErr("--config: %v", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true) // a misspelt key must not silently do nothing
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return ocpiSettings{}, usageErr("--config %s: %v (want public_url and ocpi: {parties, roles, name, website}; see docs/ocpi.md)", f.config, err)
		}
	}
	changed := func(name string) bool { return f.changed != nil && f.changed(name) }
	if changed("public-url") {
		c.PublicURL = f.publicURL
	}
	if changed("ocpi-party") {
		c.OCPI.Parties = f.ocpiParties
	}
	if changed("ocpi-roles") {
		c.OCPI.Roles = f.ocpiRoles
	}
	if changed("ocpi-name") {
		c.OCPI.Name = f.ocpiName
	}
	var s ocpiSettings
	if len(c.OCPI.Parties) == 0 {
		// Settings that would do nothing are a mistake worth saying.
		for _, set := range []struct {
			name string
			set  bool
		}{{"--ocpi-roles (ocpi.roles)", len(c.OCPI.Roles) > 0}, {"--ocpi-name (ocpi.name)", c.OCPI.Name != ""}, {"--public-url (public_url)", c.PublicURL != ""}} {
			if set.set {
				return s, usageErr("%s needs --ocpi-party (OCPI is off without a party): add e.g. --ocpi-party NL-ABC", set.name)
			}
		}
		return s, nil
	}
	roles := c.OCPI.Roles
	if len(roles) == 0 {
		roles = []string{"CPO"}
	}
	name := strings.TrimSpace(c.OCPI.Name)
	if name == "" {
		name = "openEV"
	}
	var ourRoles []ocpi.Role
	for _, r := range roles {
		role := ocpi.Role(strings.ToUpper(strings.TrimSpace(r)))
		if role != ocpi.RoleCPO && role != ocpi.RoleEMSP {
			return s, usageErr("--ocpi-roles: %q is not a role openev plays: want CPO, EMSP or CPO,EMSP", r)
		}
		if !slices.Contains(ourRoles, role) {
			ourRoles = append(ourRoles, role)
		}
	}
	var seen []ocpi.PartyID
	for _, p := range c.OCPI.Parties {
		party, err := ocpi.ParsePartyID(p)
		if err != nil {
			return s, usageErr("--ocpi-party: %v", err)
		}
		if slices.Contains(seen, party) {
			return s, usageErr("--ocpi-party: %s is given twice", party)
		}
		seen = append(seen, party)
		for _, role := range ourRoles {
			s.parties = append(s.parties, ocpi.CredentialsRole{Role: role, CountryCode: party.CountryCode, PartyID: party.PartyID,
				BusinessDetails: ocpi.BusinessDetails{Name: name, Website: c.OCPI.Website}})
		}
	}
	s.publicURL = strings.TrimRight(strings.TrimSpace(c.PublicURL), "/")
	if s.publicURL == "" {
		host, port, err := net.SplitHostPort(f.addr)
		if err != nil || port == "0" {
			return s, usageErr("--public-url is needed: it cannot be derived from --addr %q", f.addr)
		}
		s.derived = "derived from --addr"
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
			s.derived = "derived from --addr, which listens on every interface: peers on other machines need --public-url"
		}
		s.publicURL = "http://" + net.JoinHostPort(host, port)
	}
	if len(s.parties) > 0 {
		// The node's own checks, run now on a throwaway store: a mistake
		// stops start-up before anything else happens (an API key is
		// generated and printed), named by the flag the operator wrote.
		if _, err := ocpi.NewNode(ocpi.Config{PublicURL: s.publicURL, Parties: s.parties, Store: ocpi.NewMemoryStore()}); err != nil {
			msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "ocpi: "), "Config.PublicURL", "--public-url")
			return s, usageErr("%s", msg)
		}
	}
	return s, nil
}

// mountOCPI creates the OCPI node on the server's store, with the
// Locations module's Sender for a CPO and Receiver for an eMSP, and mounts
// it under /ocpi/ on mux. It says in one log line whether OCPI is on.
func mountOCPI(mux *http.ServeMux, s ocpiSettings, store csms.Store, log *slog.Logger) (*api.OCPI, error) {
	if len(s.parties) == 0 {
		log.Info("OCPI is off: no --ocpi-party given (add --ocpi-party NL-ABC --ocpi-roles CPO to serve OCPI 2.2.1 at /ocpi/)")
		return nil, nil
	}
	st, ok := store.(ocpi.Store)
	if !ok {
		return nil, &exitError{code: exitFailed, err: fmt.Errorf("the %T database cannot keep OCPI peers and locations", store)}
	}
	node, err := ocpi.NewNode(ocpi.Config{PublicURL: s.publicURL, Parties: s.parties, Store: st, Logger: log})
	if err != nil {
		return nil, usageErr("--public-url / --ocpi-party: %v", err)
	}
	locs := ocpi.NewLocations(node, ocpi.LocationsOptions{})
	var cpo, emsp bool
	var parties []string
	for _, r := range s.parties {
		cpo = cpo || r.Role == ocpi.RoleCPO
		emsp = emsp || r.Role == ocpi.RoleEMSP
		parties = append(parties, r.Party().String()+" "+string(r.Role))
	}
	if cpo {
		node.Handle(locs.Sender())
	}
	if emsp {
		node.Handle(locs.Receiver())
	}
	mux.Handle("/ocpi/", node)
	if u, err := url.Parse(s.publicURL); err == nil && strings.TrimRight(u.Path, "/") != "" {
		// Served with and without the public URL's path, so a proxy may
		// strip it or not.
		mux.Handle(strings.TrimRight(u.Path, "/")+"/ocpi/", node)
	}
	attrs := []any{"versions_url", node.VersionsURL(), "parties", strings.Join(parties, ", ")}
	if s.derived != "" {
		attrs = append(attrs, "public_url", s.derived)
	}
	log.Info("OCPI 2.2.1 on", attrs...)
	return &api.OCPI{Node: node, Locations: locs}, nil
}

// waitPushes lets location pushes in flight finish, until ctx ends.
func waitPushes(ctx context.Context, l *ocpi.Locations, log *slog.Logger) {
	done := make(chan struct{})
	go func() { l.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		log.Warn("OCPI location pushes still in flight at shutdown were dropped; the eMSPs get them when they pull")
	}
}

// batchParams are the group-commit settings a --db URL may carry:
// batching=off (a transaction per write: the baseline group commit is
// measured against) and max_batch=N (writes sharing one commit; the
// store's default when 0).
type batchParams struct {
	off bool
	max int
}

// takeBatchParams reads and removes batching and max_batch from params.
func takeBatchParams(params url.Values) (batchParams, error) {
	var b batchParams
	switch v := params.Get("batching"); v {
	case "", "on":
	case "off":
		b.off = true
	default:
		return b, usageErr("--db: batching=%q: want on or off", v)
	}
	if v := params.Get("max_batch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return b, usageErr("--db: max_batch=%q: want a whole number of writes, at least 1", v)
		}
		b.max = n
	}
	if b.off && b.max > 0 {
		return b, usageErr("--db: batching=off and max_batch=%d contradict each other: give one of them", b.max)
	}
	params.Del("batching")
	params.Del("max_batch")
	return b, nil
}

// String is how the settings show in the start-up line ("" for the defaults).
func (b batchParams) String() string {
	switch {
	case b.off:
		return " (batching off)"
	case b.max > 0:
		return fmt.Sprintf(" (max_batch %d)", b.max)
	}
	return ""
}

func paramNames(params url.Values) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// redactedErr hides a password url.Parse may quote in its error.
func redactedErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
