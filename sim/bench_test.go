package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// benchServerEnv makes the test binary a plain CSMS (see TestMain), so that
// BenchmarkIdleStations can measure the stations' memory without the
// server's in the same heap.
const benchServerEnv = "SIM_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) == "1" {
		serveBenchCSMS()
		return
	}
	os.Exit(m.Run())
}

// serveBenchCSMS answers BootNotification, Heartbeat and StatusNotification
// in both versions, prints its URL and serves until stdin closes.
func serveBenchCSMS() {
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.BootNotificationRequest) (*v16.BootNotificationResponse, error) {
		return &v16.BootNotificationResponse{Status: v16.RegistrationStatusAccepted, CurrentTime: time.Now().UTC(), Interval: 300}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.StatusNotificationRequest) (*v16.StatusNotificationResponse, error) {
		return &v16.StatusNotificationResponse{}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
		return &v201.BootNotificationResponse{Status: v201.RegistrationStatusEnumAccepted, CurrentTime: time.Now().UTC(), Interval: 300}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.StatusNotificationRequest) (*v201.StatusNotificationResponse, error) {
		return &v201.StatusNotificationResponse{}, nil
	})
	srv := &ocpp.Server{Handler: r, Options: ocpp.Options{Logger: discard}}
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	go http.Serve(l, mux)
	fmt.Printf("URL ws://%s/ocpp\n", l.Addr())
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startBenchCSMS runs the test binary as a CSMS in another process.
func startBenchCSMS(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "URL ") {
		b.Fatalf("bench CSMS: %q %v", line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "URL "))
}

// BenchmarkIdleStations connects and boots stations of each version to a
// CSMS in another process and reports the heap and stack that each idle
// station holds (B/station) and its goroutines (goroutines/station). The
// figure is the slope between 500 and 1500 stations, so that one-time costs
// (schemas, pools, the runtime's own tables) do not count. Run with
// -benchtime=1x.
func BenchmarkIdleStations(b *testing.B) {
	url := startBenchCSMS(b)
	for _, v := range []ocpp.Version{ocpp.V16, ocpp.V201} {
		b.Run("ocpp"+v.String(), func(b *testing.B) {
			for range b.N {
				var stations []*Station
				connect := func(n int) {
					for range n {
						stations = append(stations, idleStation(b, url, v, len(stations)))
					}
					time.Sleep(200 * time.Millisecond) // transient goroutines of handshakes and boots end
				}
				connect(500)
				m0, g0 := memInUse(), runtime.NumGoroutine()
				h0 := heapInUse()
				connect(1000)
				m1, g1 := memInUse(), runtime.NumGoroutine()
				h1 := heapInUse()
				b.ReportMetric(float64(int64(m1)-int64(m0))/1000, "B/station")
				b.ReportMetric(float64(int64(h1)-int64(h0))/1000, "heapB/station")
				b.ReportMetric(float64(g1-g0)/1000, "goroutines/station")
				for _, s := range stations {
					s.Close()
				}
				// Let the closed connections go before another measurement.
				time.Sleep(time.Second)
			}
		})
	}
}

func idleStation(b *testing.B, url string, v ocpp.Version, i int) *Station {
	s, err := New(Config{URL: url, Identity: fmt.Sprintf("IDLE%s-%05d", v, i), Version: v})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Boot(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// memInUse is the live heap (what the last full collection kept, without
// free space in spans) plus the goroutine stacks, after a full collection.
func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	return heapInUse() + stackInUse()
}

// heapInUse is the live heap alone.
func heapInUse() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func stackInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}
