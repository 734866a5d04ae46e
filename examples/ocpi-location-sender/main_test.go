package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpi"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can check the real exit code and stderr.
const runMainEnv = "OCPI_SENDER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// logBuffer collects output written from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls out until it contains want.
func waitFor(t *testing.T, out *logBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(out.String(), want) {
			return
		}
	}
	t.Fatalf("output lacks %q:\n%s", want, out.String())
}

var (
	buildOnce     sync.Once
	buildDir      string // removed by TestMain
	receiverBin   string
	receiverBuild error
)

// startReceiverProgram builds examples/ocpi-location-receiver and runs it
// on a free port, as a user does in a second terminal. It returns the
// versions URL it printed and its output.
func startReceiverProgram(t *testing.T, tokenA string) (versionsURL string, out *logBuffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the receiver program")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the receiver with")
	}
	buildOnce.Do(func() {
		buildDir, receiverBuild = os.MkdirTemp("", "ocpi-location-receiver")
		if receiverBuild != nil {
			return
		}
		receiverBin = filepath.Join(buildDir, "ocpi-location-receiver")
		b, err := exec.Command(gobin, "build", "-o", receiverBin, "../ocpi-location-receiver").CombinedOutput()
		if err != nil {
			receiverBuild = errors.New(string(b))
		}
	})
	if receiverBuild != nil {
		t.Fatalf("building the receiver: %v", receiverBuild)
	}
	cmd := exec.Command(receiverBin, "-addr", "127.0.0.1:0", "-token-a", tokenA)
	out = &logBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			out.Write(append(s.Bytes(), '\n'))
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-copied
		if err := cmd.Wait(); err != nil {
			t.Errorf("the receiver did not stop cleanly on Ctrl-C: %v\n%s", err, out.String())
		}
	})
	waitFor(t, out, "versions_url=")
	m := regexp.MustCompile(`versions_url=(\S+)`).FindStringSubmatch(out.String())
	return m[1], out
}

// The two terminals of the README: the receiver runs, the sender registers
// with it and pushes myLocation, and the receiver logs what it got.
func TestSenderRegistersAndPushesMyLocationToTheReceiverProgram(t *testing.T) {
	versionsURL, recvOut := startReceiverProgram(t, "token-e2e")
	var out logBuffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-versions-url", versionsURL, "-token-a", "token-e2e", "-once"}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`msg="registered: we call the receiver with its token C, it calls us with our token B" receiver="openEV example location receiver" party=DE-EMS version=2.2.1`,
		`msg="pushed: the receiver has our location" id=myLocation name="openEV example location" address="Stationsplein 1" city=Amsterdam`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sender output lacks %s:\n%s", want, out.String())
		}
	}
	waitFor(t, recvOut, `msg="received a location" from=NL-CPO id=myLocation name="openEV example location" address="Stationsplein 1" city=Amsterdam country=NLD evses=1`)
}

func TestWrongTokenAExitsNonZeroSayingTheReceiverRefusedIt(t *testing.T) {
	versionsURL, _ := startReceiverProgram(t, "the-right-token")
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-versions-url", versionsURL, "-token-a", "a-wrong-token", "-once")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit code 1, got %v", err)
	}
	want := "ocpi-location-sender: the receiver at " + versionsURL + " refused token A (HTTP 401): give -token-a the token the receiver printed"
	if !strings.HasPrefix(stderr.String(), want) {
		t.Fatalf("stderr: want %q..., got %q", want, stderr.String())
	}
	// The refusal lost nothing: the right token still registers.
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-versions-url", versionsURL, "-token-a", "the-right-token", "-once"}, &logBuffer{}); err != nil {
		t.Fatalf("the right token after a wrong one: %v", err)
	}
}

func TestReceiverNotRunningIsAConnectionError(t *testing.T) {
	// A port nobody listens on: open one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	versionsURL := "http://" + ln.Addr().String() + "/ocpi/versions"
	ln.Close()
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-versions-url", versionsURL, "-once"}, &logBuffer{})
	want := "cannot reach the receiver at " + versionsURL + ": is it running (go run ./examples/ocpi-location-receiver)"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want %q ... connection refused, got %v", want, err)
	}
}

func TestReceiverThatCannotCallUsBackSaysCheckPublicURL(t *testing.T) {
	versionsURL, _ := startReceiverProgram(t, "token-callback")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close()
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-public-url", unreachable,
		"-versions-url", versionsURL, "-token-a", "token-callback", "-once"}, &logBuffer{})
	want := "the receiver could not call us back at " + unreachable + "/ocpi/versions: give -public-url a URL it reaches"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
	// The failed registration used nothing up: token A still registers.
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-versions-url", versionsURL, "-token-a", "token-callback", "-once"}, &logBuffer{}); err != nil {
		t.Fatalf("token A after a failed callback: %v", err)
	}
}

// Without -once the sender keeps serving: the eMSP can GET our locations
// until the sender is stopped.
func TestSenderServesItsLocationsUntilStopped(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	store := ocpi.NewMemoryStore()
	emsp, err := ocpi.NewNode(ocpi.Config{
		PublicURL: "http://" + srv.Listener.Addr().String(),
		Parties: []ocpi.CredentialsRole{{Role: ocpi.RoleEMSP, CountryCode: "DE", PartyID: "EMS",
			BusinessDetails: ocpi.BusinessDetails{Name: "Test eMSP"}}},
		Store: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	locs := ocpi.NewLocations(emsp, ocpi.LocationsOptions{})
	emsp.Handle(locs.Receiver())
	srv.Config.Handler = emsp
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	pending, err := emsp.AddPendingPeer(ctx, "cpo", "token-a-serve")
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	var out logBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"-addr", "127.0.0.1:0", "-party", "BE-ABC", "-versions-url", emsp.VersionsURL(), "-token-a", "token-a-serve"}, &out)
	}()
	waitFor(t, &out, "serving until Ctrl-C")
	// The push arrived; GET the location from the sender's own endpoint.
	if _, err := locs.ReceivedLocation(ctx, ocpi.PartyID{CountryCode: "BE", PartyID: "ABC"}, "myLocation"); err != nil {
		t.Fatalf("the push did not arrive: %v", err)
	}
	cpo, err := store.Peer(ctx, pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, ok := emsp.Endpoint(cpo, ocpi.ModuleLocations, ocpi.Sender)
	if !ok {
		t.Fatalf("the sender lists no Locations Sender endpoint: %+v", cpo.Endpoints)
	}
	var got ocpi.Location
	if err := emsp.Client(cpo).Get(ctx, endpoint+"/myLocation", &got, ocpi.ForModule(ocpi.ModuleLocations)); err != nil {
		t.Fatalf("GET from the serving sender: %v\n%s", err, out.String())
	}
	if got.EVSEs[0].EVSEID != "BE*ABC*E0001" || got.Address != "Stationsplein 1" {
		t.Fatalf("the sender serves %+v", got)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// myLocation is a complete 2.2.1 Location: what a strict receiver checks.
func TestMyLocationIsAValidLocation(t *testing.T) {
	loc := myLocation(ocpi.PartyID{CountryCode: "NL", PartyID: "CPO"}, time.Now())
	loc.CountryCode, loc.PartyID = "NL", "CPO"
	if err := loc.Validate(); err != nil {
		t.Fatal(err)
	}
	if loc.Address == "" || loc.Coordinates.Latitude == "" || loc.TimeZone == "" || len(loc.EVSEs) != 1 || len(loc.EVSEs[0].Connectors) != 1 {
		t.Fatalf("myLocation misses what the example promises: %+v", loc)
	}
}

func TestBadFlagsSayWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-party", "NETHERLANDS"}, "-party: party \"NETHERLANDS\": want COUNTRY-PARTY"},
		{[]string{"-versions-url", "127.0.0.1:9090"}, "-versions-url \"127.0.0.1:9090\": want the receiver's http(s) versions URL"},
		{[]string{"-token-a", "has space"}, "-token-a: want 1 to 64 printable ASCII characters"},
		{[]string{"-addr", "127.0.0.1:0", "-public-url", "http://x.example/ocpi"}, "ends in /ocpi"},
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
	} {
		err := run(context.Background(), tc.args, &logBuffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error with %q, got %v", tc.args, tc.want, err)
		}
	}
}
