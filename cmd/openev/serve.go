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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openev/openev/api"
	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/metrics"
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
--db postgres://... runs it on PostgreSQL. The admin API needs an API key
(--api-key or OPENEV_API_KEY); without one a key is generated and printed.`,
		Example: `  openev serve
  openev serve --addr 0.0.0.0:8080 --db sqlite:///var/lib/openev/openev.db --unknown-stations pending
  OPENEV_API_KEY=... openev serve --tls-addr :8443 --tls-cert csms.pem --tls-key csms.key --client-ca ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), &f, stderr) },
	}
	fl := cmd.Flags()
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
	_ = stdout
	return cmd
}

func runServe(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageErr("--log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
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

	srv := &ocpp.Server{Options: ocpp.Options{Logger: log, Validation: validation}}
	m := metrics.New(srv)
	// Everything goes through the timed store, so /metrics shows the
	// database's share of each answer (openev_store_duration_seconds).
	timed := m.Store(store)
	svc := csms.New(timed, csms.Config{
		HeartbeatInterval: f.heartbeat, UnknownStations: policy, AcceptUnknownTokens: f.acceptUnknownTokens, Logger: log,
	})
	svc.Mount(srv)
	srv.Handler = m.WrapHandler(srv.Handler)
	adminAPI, err := api.New(timed, srv, api.Options{APIKey: key, Logger: log, ObserveCall: m.Observe})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
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
	log.Info("openev serving", "db", where, "unknown_stations", policy, "validation", validation)
	<-ctx.Done()
	log.Info("shutting down: letting calls in flight finish")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	for _, hs := range servers {
		hs.Shutdown(shutdown)
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
		path := strings.TrimPrefix(db, "sqlite://")
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return nil, "", fmt.Errorf("opening SQLite database %s: %w", path, err)
		}
		return st, "sqlite://" + path, nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return openPostgres(ctx, db)
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

func newAPIKey() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
