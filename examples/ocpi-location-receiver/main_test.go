package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpi"
)

// logBuffer collects the receiver's log; the server writes from its own
// goroutines.
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

// startReceiver runs the example's receiver on a free port until the test
// ends.
func startReceiver(t *testing.T, args ...string) (*receiver, *logBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &logBuffer{}
	r, err := newReceiver(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return r, out
}

func (r *receiver) versionsURL() string {
	return "http://" + r.listener.Addr().String() + "/ocpi/versions"
}

var cpoParty = ocpi.PartyID{CountryCode: "NL", PartyID: "CPO"}

// startCPO is a CPO built on the library, standing in for the sender.
func startCPO(t *testing.T) (*ocpi.Node, *ocpi.Locations) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	node, err := ocpi.NewNode(ocpi.Config{
		PublicURL: "http://" + srv.Listener.Addr().String(),
		Parties: []ocpi.CredentialsRole{{Role: ocpi.RoleCPO, CountryCode: cpoParty.CountryCode, PartyID: cpoParty.PartyID,
			BusinessDetails: ocpi.BusinessDetails{Name: "Test CPO"}}},
		Store: ocpi.NewMemoryStore(),
	})
	if err != nil {
		t.Fatal(err)
	}
	locs := ocpi.NewLocations(node, ocpi.LocationsOptions{PushRetries: -1})
	node.Handle(locs.Sender())
	srv.Config.Handler = node
	srv.Start()
	t.Cleanup(srv.Close)
	return node, locs
}

func testLocation() ocpi.Location {
	at := ocpi.NewDateTime(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	return ocpi.Location{
		ID: "myLocation", Publish: true, Name: "Test location",
		Address: "Stationsplein 1", City: "Amsterdam", PostalCode: "1012 AB", Country: "NLD",
		Coordinates: ocpi.GeoLocation{Latitude: "52.378900", Longitude: "4.900300"},
		TimeZone:    "Europe/Amsterdam",
		EVSEs: []ocpi.EVSE{{UID: "E1", Status: ocpi.StatusAvailable, LastUpdated: at, Connectors: []ocpi.Connector{{
			ID: "1", Standard: ocpi.ConnectorIEC62196T2, Format: ocpi.FormatSocket, PowerType: ocpi.PowerAC3Phase,
			MaxVoltage: 230, MaxAmperage: 32, LastUpdated: at}}}},
		LastUpdated: at,
	}
}

func TestCPORegistersWithTokenAAndItsPushIsStoredAndLogged(t *testing.T) {
	r, out := startReceiver(t, "-token-a", "tokA-test")
	if log := out.String(); !strings.Contains(log, "versions_url="+r.versionsURL()) || !strings.Contains(log, "token_a=tokA-test") {
		t.Fatalf("the start line must show the versions URL and token A:\n%s", log)
	}
	cpo, locs := startCPO(t)
	ctx := context.Background()
	peer, err := cpo.Register(ctx, r.versionsURL(), "tokA-test")
	if err != nil {
		t.Fatal(err)
	}
	if peer.Status != ocpi.PeerRegistered || peer.Roles[0].Party().String() != "DE-EMS" {
		t.Fatalf("registered peer: %+v", peer)
	}
	if _, err := locs.PutLocation(ctx, cpoParty, testLocation()); err != nil {
		t.Fatal(err)
	}
	locs.Wait()

	got, err := r.locations.ReceivedLocation(ctx, cpoParty, "myLocation")
	if err != nil {
		t.Fatalf("the pushed location is not stored: %v\nlog:\n%s", err, out.String())
	}
	if got.Address != "Stationsplein 1" || got.City != "Amsterdam" || len(got.EVSEs) != 1 {
		t.Fatalf("stored location: %+v", got)
	}
	want := `msg="received a location" from=NL-CPO id=myLocation name="Test location" address="Stationsplein 1" city=Amsterdam country=NLD evses=1`
	if !strings.Contains(out.String(), want) {
		t.Fatalf("log lacks %s:\n%s", want, out.String())
	}

	// A PATCH of one EVSE is logged too, with the whole location.
	endpoint, ok := cpo.Endpoint(peer, ocpi.ModuleLocations, ocpi.Receiver)
	if !ok {
		t.Fatal("the receiver lists no Locations Receiver endpoint")
	}
	patch := json.RawMessage(`{"status": "CHARGING", "last_updated": "2026-11-26T11:00:00Z"}`)
	if _, err := cpo.Client(peer).Do(ctx, http.MethodPatch, endpoint+"/NL/CPO/myLocation/E1", patch, ocpi.ForModule(ocpi.ModuleLocations)); err != nil {
		t.Fatalf("PATCH of the EVSE: %v", err)
	}
	if n := strings.Count(out.String(), want); n != 2 {
		t.Fatalf("%d log lines %s; want one for the PUT and one for the PATCH:\n%s", n, want, out.String())
	}
	if got, _ := r.locations.ReceivedLocation(ctx, cpoParty, "myLocation"); got.EVSEs[0].Status != ocpi.StatusCharging {
		t.Fatalf("the PATCH was not stored: %+v", got.EVSEs)
	}
}

func TestTokenARegistersOnceAndAWrongOneIsRefused(t *testing.T) {
	r, _ := startReceiver(t, "-token-a", "tokA-once")
	cpo, _ := startCPO(t)
	ctx := context.Background()

	_, err := cpo.Register(ctx, r.versionsURL(), "not-the-token")
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("a wrong token A: want a 401 error, got %v", err)
	}
	// The refusal lost nothing: the right token still registers, once.
	if _, err := cpo.Register(ctx, r.versionsURL(), "tokA-once"); err != nil {
		t.Fatalf("after a wrong token, the right one: %v", err)
	}
	other, _ := startCPO(t)
	if _, err := other.Register(ctx, r.versionsURL(), "tokA-once"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("token A used a second time: want a 401 error, got %v", err)
	}
}

func TestLocationsNeedARegisteredToken(t *testing.T) {
	r, _ := startReceiver(t)
	url := strings.TrimSuffix(r.versionsURL(), "versions") + "2.2.1/receiver/locations/NL/CPO/myLocation"
	c := &ocpi.Client{Token: "token-a-for-the-sender"} // the default token A
	err := c.Get(context.Background(), url, &ocpi.Location{}, ocpi.ForModule(ocpi.ModuleLocations))
	var oe *ocpi.Error
	if !errors.As(err, &oe) || oe.HTTPStatus != http.StatusUnauthorized || !strings.Contains(oe.Message, "register") {
		t.Fatalf("token A on the Locations endpoint: want 401 saying to register, got %v", err)
	}
	if _, err := c.Versions(context.Background(), r.versionsURL()); err != nil {
		t.Fatalf("token A on versions: %v", err)
	}
}

func TestBadFlagsSayWhatIsWrong(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-party", "GERMANY"}, "-party: party \"GERMANY\": want COUNTRY-PARTY"},
		{[]string{"-token-a", "has space"}, "-token-a: want 1 to 64 printable ASCII characters"},
		{[]string{"-addr", busy.Addr().String()}, "cannot listen on " + busy.Addr().String() + " (-addr)"},
		{[]string{"-addr", "127.0.0.1:0", "-public-url", "ftp://x"}, "must be an absolute http(s) URL"},
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error with %q, got %v", tc.args, tc.want, err)
		}
	}
}
