// Command ocpi-location-sender is the CPO half of the seed's OCPI example
// on the public ocpi package: an OCPI 2.2.1 node that registers with an
// eMSP (examples/ocpi-location-receiver) using the versions URL and token A
// the eMSP gave out, then pushes its location "myLocation" to it.
//
//	go run ./examples/ocpi-location-sender -versions-url http://127.0.0.1:9090/ocpi/versions -token-a token-a-for-the-sender
//
// The flow, all over real HTTP:
//
//  1. With token A we GET the receiver's versions and its 2.2.1 endpoints.
//  2. We POST our credentials to the receiver: our versions URL and a fresh
//     token B. Before answering, the receiver GETs our versions with token
//     B, so we must already be serving.
//  3. The answer carries token C: from now on we call the receiver with C,
//     it calls us with B, and token A is dead.
//  4. We PUT our location to the receiver's Locations endpoint (a push),
//     and GET it back from there to see that it arrived.
//
// Node.Register does 1 to 3, Locations.PutLocation does 4.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openev/openev/ocpi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ocpi-location-sender:", err)
		os.Exit(1)
	}
}

// run registers with the receiver, pushes myLocation and then serves until
// ctx ends (or returns at once with -once).
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("ocpi-location-sender", flag.ContinueOnError)
	fl.SetOutput(stdout)
	addr := fl.String("addr", "127.0.0.1:9091", "address to listen on (the receiver calls us back here)")
	publicURL := fl.String("public-url", "", "base URL the receiver reaches us at (default http://<addr>)")
	partyFlag := fl.String("party", "NL-CPO", "our CPO party: country code and party id")
	versionsURL := fl.String("versions-url", "http://127.0.0.1:9090/ocpi/versions", "the receiver's versions URL")
	tokenA := fl.String("token-a", "token-a-for-the-sender", "the token A the receiver gave us")
	once := fl.Bool("once", false, "exit after the push instead of serving until Ctrl-C")
	if err := fl.Parse(args); err != nil {
		return err
	}
	party, err := ocpi.ParsePartyID(*partyFlag)
	if err != nil {
		return fmt.Errorf("-party: %w", err)
	}
	if u, err := url.Parse(*versionsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-versions-url %q: want the receiver's http(s) versions URL, e.g. http://127.0.0.1:9090/ocpi/versions", *versionsURL)
	}
	if !ocpi.ValidToken(*tokenA) {
		return errors.New("-token-a: want 1 to 64 printable ASCII characters without spaces")
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (-addr): %w", *addr, err)
	}
	if *publicURL == "" {
		*publicURL = "http://" + ln.Addr().String()
	}
	node, err := ocpi.NewNode(ocpi.Config{
		PublicURL: *publicURL,
		Parties: []ocpi.CredentialsRole{{Role: ocpi.RoleCPO, CountryCode: party.CountryCode, PartyID: party.PartyID,
			BusinessDetails: ocpi.BusinessDetails{Name: "openEV example location sender"}}},
		Store:  ocpi.NewMemoryStore(),
		Logger: log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	locations := ocpi.NewLocations(node, ocpi.LocationsOptions{})
	node.Handle(locations.Sender()) // eMSPs may GET our locations here

	// Serve before registering: the receiver calls our versions (step 2).
	mux := http.NewServeMux()
	mux.Handle("/ocpi/", node)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("OCPI location sender (CPO) listening", "party", party, "versions_url", node.VersionsURL())

	// Steps 1 to 3.
	peer, err := node.Register(ctx, *versionsURL, *tokenA)
	if err != nil {
		return explainRegisterError(ctx, *versionsURL, node.VersionsURL(), err)
	}
	log.Info("registered: we call the receiver with its token C, it calls us with our token B",
		"receiver", peer.Name, "party", peer.Roles[0].Party(), "version", peer.Version)

	// Step 4: store our location; the module pushes it to every registered
	// eMSP in the background. Wait until that push is done.
	loc, err := locations.PutLocation(ctx, party, myLocation(party, time.Now()))
	if err != nil {
		return fmt.Errorf("storing myLocation: %w", err)
	}
	locations.Wait()

	// A failed push is only logged (the receiver would get the location
	// when it pulls), so ask the receiver what it has.
	endpoint, ok := node.Endpoint(peer, ocpi.ModuleLocations, ocpi.Receiver)
	if !ok {
		return errors.New("the receiver lists no Locations Receiver endpoint: it cannot take pushed locations")
	}
	var got ocpi.Location
	mine := endpoint + "/" + loc.CountryCode + "/" + loc.PartyID + "/" + loc.ID
	if err := node.Client(peer).Get(ctx, mine, &got, ocpi.ForModule(ocpi.ModuleLocations)); err != nil {
		return fmt.Errorf("the push of myLocation did not arrive (see the log above): %w", err)
	}
	log.Info("pushed: the receiver has our location", "id", got.ID, "name", got.Name, "address", got.Address,
		"city", got.City, "last_updated", got.LastUpdated)

	if *once {
		return nil
	}
	log.Info("serving until Ctrl-C: the receiver may GET our locations", "versions_url", node.VersionsURL())
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
}

// explainRegisterError says which step failed and what to do, from what
// Node.Register's error holds: the receiver's answer (an *ocpi.Error, or
// an *ocpi.HTTPError without envelope) or the network error.
func explainRegisterError(ctx context.Context, versionsURL, ourVersionsURL string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("registering with the receiver at %s: stopped: %w", versionsURL, err)
	}
	call := failedCall(err)
	var oe *ocpi.Error
	var he *ocpi.HTTPError
	var ne net.Error
	switch {
	case errors.As(call, &oe) && oe.HTTPStatus == http.StatusUnauthorized,
		errors.As(call, &he) && he.HTTPStatus == http.StatusUnauthorized:
		return fmt.Errorf("the receiver at %s refused token A (HTTP 401): give -token-a the token the receiver printed; "+
			"a token A registers once, so after a registration restart the receiver (%w)", versionsURL, call)
	case errors.As(call, &ne):
		return fmt.Errorf("cannot reach the receiver at %s: is it running (go run ./examples/ocpi-location-receiver) and is -versions-url right? %w", versionsURL, call)
	case errors.As(call, &oe) && oe.Code == ocpi.StatusUnableToUseClientAPI:
		// The receiver's answer to our POST: it could not read our versions.
		return fmt.Errorf("the receiver could not call us back at %s: give -public-url a URL it reaches (and -addr to listen there): %w", ourVersionsURL, err)
	}
	return fmt.Errorf("registering with the receiver at %s: %w", versionsURL, err)
}

// failedCall is the error of the request to the receiver that made
// Register fail. When Register could not use the receiver's versions or
// endpoints it reports its own *ocpi.Error (3001) whose Unwrap is that
// request's error; otherwise err holds it as it is.
func failedCall(err error) error {
	var oe *ocpi.Error
	for errors.As(err, &oe) && oe.Unwrap() != nil {
		err = oe.Unwrap()
	}
	return err
}

// myLocation is the seed's location: one charging location with an
// address, one EVSE with one Type 2 socket, all fields 2.2.1 requires.
func myLocation(party ocpi.PartyID, now time.Time) ocpi.Location {
	at := ocpi.NewDateTime(now)
	return ocpi.Location{
		ID:          "myLocation",
		Publish:     true,
		Name:        "openEV example location",
		Address:     "Stationsplein 1",
		City:        "Amsterdam",
		PostalCode:  "1012 AB",
		Country:     "NLD", // ISO 3166-1 alpha-3
		Coordinates: ocpi.GeoLocation{Latitude: "52.378900", Longitude: "4.900300"},
		ParkingType: ocpi.ParkingOnStreet,
		TimeZone:    "Europe/Amsterdam",
		EVSEs: []ocpi.EVSE{{
			UID:    "myLocation-1",                                     // our technical id; evse_id is the printed one
			EVSEID: party.CountryCode + "*" + party.PartyID + "*E0001", // eMI3
			Status: ocpi.StatusAvailable,
			Connectors: []ocpi.Connector{{
				ID: "1", Standard: ocpi.ConnectorIEC62196T2, Format: ocpi.FormatSocket,
				PowerType: ocpi.PowerAC3Phase, MaxVoltage: 230, MaxAmperage: 32, LastUpdated: at,
			}},
			LastUpdated: at,
		}},
		LastUpdated: at, // country_code and party_id: PutLocation fills in ours
	}
}
