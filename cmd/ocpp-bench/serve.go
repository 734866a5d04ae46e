package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/ocpp/v21"
)

// serveEnv switches the binary into the hidden server mode, naming the
// server to serve (openev, openev-gorilla, bare or bare-nbio): the bench re-executes itself with it so
// that the server has a process, and so an RSS and a CPU time, of its own.
const serveEnv = "OCPP_BENCH_SERVE"

// pingEnv gives the openev server its ping interval (Options.PingInterval;
// negative: off).
const pingEnv = "OCPP_BENCH_PING"

// serve is the hidden server mode. It serves the named server on a free port
// of 127.0.0.1, prints "listening PORT" on stdout, then answers one-line
// commands from stdin with one JSON line each:
//
//	conns            -> {"conns":N}                   stations the server holds
//	memstats         -> goMem                         Go runtime memory, no GC
//	memstats-gc      -> goMem                         the same after a full GC
//	gcstats          -> gcStats                       allocation and GC counters
//	heapprofile PATH -> {"ok":true}                   writes a pprof heap profile
//	cpuprofile PATH  -> {"ok":true}                   starts a pprof CPU profile
//	cpuprofile-stop  -> {"ok":true}                   ends it
//
// It exits when stdin closes, so it never outlives the bench.
func serve(name string) error {
	var h http.Handler
	var conns func() int
	var shutdown func(context.Context) error
	switch name {
	case openevName, openevGorillaName:
		srv, err := newOpenEVServer(name)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/ocpp/", srv)
		h, conns, shutdown = mux, srv.Len, srv.Shutdown
	case bareName:
		b := &bareServer{}
		h, conns, shutdown = b, b.len, func(context.Context) error { return nil }
	case bareNbioName:
		b := &bareNbioServer{}
		port, err := b.start()
		if err != nil {
			return err
		}
		conns, shutdown = b.len, b.engine.Shutdown
		fmt.Printf("listening %d\n", port)
	default:
		return fmt.Errorf("%s=%q: unknown server", serveEnv, name)
	}
	closeHTTP := func() {}
	if h != nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// net/http logs accept errors (EMFILE, say) to stderr, which the bench shows.
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		go hs.Serve(ln)
		closeHTTP = func() { hs.Close() }
		fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	}

	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		var reply any
		switch cmd {
		case "conns":
			reply = map[string]int{"conns": conns()}
		case "memstats":
			reply = readGoMem()
		case "memstats-gc":
			debug.FreeOSMemory() // a full GC, then everything free goes back to the OS
			reply = readGoMem()
		case "gcstats":
			reply = readGCStats()
		case "heapprofile":
			reply = map[string]any{"ok": true}
			if err := writeHeapProfile(arg); err != nil {
				reply = map[string]any{"error": err.Error()}
			}
		case "cpuprofile":
			reply = map[string]any{"ok": true}
			if err := startCPUProfile(arg); err != nil {
				reply = map[string]any{"error": err.Error()}
			}
		case "cpuprofile-stop":
			pprof.StopCPUProfile()
			reply = map[string]any{"ok": true}
		default:
			reply = map[string]any{"error": "unknown command " + cmd}
		}
		if err := out.Encode(reply); err != nil {
			return err
		}
	}
	// stdin closed: the bench is done (or gone).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	closeHTTP()
	shutdown(ctx)
	return nil
}

// newOpenEVServer is ocpp.Server with the library's defaults (strict
// validation, pings every 30 s unless OCPP_BENCH_PING says otherwise, its
// default transport unless name asks for gorilla) and its logs discarded.
func newOpenEVServer(name string) (*ocpp.Server, error) {
	opts := ocpp.Options{Logger: discardLogger()}
	if v := os.Getenv(pingEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pingEnv, err)
		}
		opts.PingInterval = d
	}
	srv := &ocpp.Server{Handler: benchRouter(), Options: opts}
	if name == openevGorillaName {
		srv.Transport = ocpp.TransportGorilla
	}
	return srv, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// benchRouter answers BootNotification and Heartbeat in every version, with
// typed handlers as an application would write them.
func benchRouter() *ocpp.Router {
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v16.BootNotificationRequest) (*v16.BootNotificationResponse, error) {
		return &v16.BootNotificationResponse{CurrentTime: now(), Interval: 300, Status: v16.RegistrationStatusAccepted}, nil
	})
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v16.HeartbeatRequest) (*v16.HeartbeatResponse, error) {
		return &v16.HeartbeatResponse{CurrentTime: now()}, nil
	})
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
		return &v201.BootNotificationResponse{CurrentTime: now(), Interval: 300, Status: v201.RegistrationStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
		return &v201.HeartbeatResponse{CurrentTime: now()}, nil
	})
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v21.BootNotificationRequest) (*v21.BootNotificationResponse, error) {
		return &v21.BootNotificationResponse{CurrentTime: now(), Interval: 300, Status: v21.RegistrationStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(_ context.Context, _ *ocpp.Conn, _ *v21.HeartbeatRequest) (*v21.HeartbeatResponse, error) {
		return &v21.HeartbeatResponse{CurrentTime: now()}, nil
	})
	return r
}

// now is the time answers carry; ocpp-rpc's server sends milliseconds, and so
// do we, so that both write frames of the same size.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// goMem is the Go runtime's view of the server's memory.
type goMem struct {
	HeapInuse    uint64 `json:"heap_inuse"`    // bytes in spans holding objects
	HeapAlloc    uint64 `json:"heap_alloc"`    // bytes of objects, live or not yet swept
	HeapIdle     uint64 `json:"heap_idle"`     // spans free but not returned to the OS (HeapIdle−HeapReleased counts in RSS)
	HeapReleased uint64 `json:"heap_released"` // spans returned to the OS
	StackInuse   uint64 `json:"stack_inuse"`   // goroutine stacks
	RuntimeMeta  uint64 `json:"runtime_meta"`  // mspans, mcaches, GC metadata, other runtime structures
	Sys          uint64 `json:"sys"`           // all memory mapped from the OS
	Goroutines   int    `json:"goroutines"`
	NumGC        uint32 `json:"num_gc"`
}

func readGoMem() goMem {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return goMem{
		HeapInuse: m.HeapInuse, HeapAlloc: m.HeapAlloc, HeapIdle: m.HeapIdle, HeapReleased: m.HeapReleased,
		StackInuse:  m.StackInuse,
		RuntimeMeta: m.MSpanInuse + m.MCacheInuse + m.GCSys + m.OtherSys + m.BuckHashSys,
		Sys:         m.Sys, Goroutines: runtime.NumGoroutine(), NumGC: m.NumGC,
	}
}

// gcStats are the runtime's allocation and GC counters, read at both ends
// of a load phase.
type gcStats struct {
	TotalAlloc uint64      `json:"total_alloc"` // bytes allocated so far
	Mallocs    uint64      `json:"mallocs"`     // objects allocated so far
	NumGC      uint32      `json:"num_gc"`
	PauseTotal uint64      `json:"pause_total_ns"`
	Pauses     [256]uint64 `json:"pause_ns"` // stop-the-world pauses of the last 256 cycles, by NumGC%256
}

func readGCStats() gcStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return gcStats{TotalAlloc: m.TotalAlloc, Mallocs: m.Mallocs, NumGC: m.NumGC, PauseTotal: m.PauseTotalNs, Pauses: m.PauseNs}
}

// gcLoad is what the server's runtime did during a load phase.
type gcLoad struct {
	AllocPerRT   float64 `json:"alloc_bytes_per_round_trip"`
	MallocsPerRT float64 `json:"mallocs_per_round_trip"`
	Cycles       uint32  `json:"gc_cycles"`
	PauseTotal   float64 `json:"gc_pause_total_ms"`
	PauseMax     float64 `json:"gc_pause_max_ms"` // longest stop-the-world pause of a cycle
}

// gcBetween summarises the counters a and b taken around rts round trips.
func gcBetween(a, b gcStats, rts int64) gcLoad {
	l := gcLoad{Cycles: b.NumGC - a.NumGC, PauseTotal: float64(b.PauseTotal-a.PauseTotal) / 1e6}
	if rts > 0 {
		l.AllocPerRT = float64(b.TotalAlloc-a.TotalAlloc) / float64(rts)
		l.MallocsPerRT = float64(b.Mallocs-a.Mallocs) / float64(rts)
	}
	// Pauses holds the last 256 cycles; older ones of the window are gone.
	for n := b.NumGC; n > a.NumGC && b.NumGC-n < 256; n-- {
		l.PauseMax = max(l.PauseMax, float64(b.Pauses[(n+255)%256])/1e6)
	}
	return l
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows live objects as of the last GC
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func startCPUProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	return nil // the runtime closes nothing; f stays open until the process exits
}
