// Command ocpi-location-receiver is the eMSP half of the seed's OCPI
// example on the public ocpi package: an OCPI 2.2.1 node with the
// versions, credentials and Locations (Receiver) endpoints that waits for
// a CPO to register with a token A and logs every location the CPO pushes.
//
//	go run ./examples/ocpi-location-receiver -token-a token-a-for-the-sender
//
// The other half is examples/ocpi-location-sender. The flow:
//
//  1. We create a token A (here: -token-a) and give it, with our versions
//     URL, to the CPO's operator out of band.
//  2. The CPO reads our versions and endpoints with token A, then POSTs its
//     credentials to us: its versions URL and a token B to call it with.
//  3. We read the CPO's versions with token B and answer the POST with a
//     token C: token A is dead, the CPO calls us with token C from now on.
//  4. The CPO pushes its locations: PUT /ocpi/2.2.1/receiver/locations/
//     {country_code}/{party_id}/{location_id}.
//
// The ocpi.Node does 2 to 4; this file sets it up and logs what arrives.
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
		fmt.Fprintln(os.Stderr, "ocpi-location-receiver:", err)
		os.Exit(1)
	}
}

// run starts the receiver and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	r, err := newReceiver(ctx, args, stdout)
	if err != nil {
		return err
	}
	return r.serve(ctx)
}

// receiver is a running eMSP node: listening, not yet serving.
type receiver struct {
	locations *ocpi.Locations // the received locations are in here
	server    *http.Server
	listener  net.Listener
	log       *slog.Logger
}

// newReceiver reads the flags, sets the node up, saves the pending peer
// with token A and opens the listener.
func newReceiver(ctx context.Context, args []string, stdout io.Writer) (*receiver, error) {
	fl := flag.NewFlagSet("ocpi-location-receiver", flag.ContinueOnError)
	fl.SetOutput(stdout)
	addr := fl.String("addr", "127.0.0.1:9090", "address to listen on")
	publicURL := fl.String("public-url", "", "base URL the sender reaches us at (default http://<addr>)")
	partyFlag := fl.String("party", "DE-EMS", "our eMSP party: country code and party id")
	tokenA := fl.String("token-a", "token-a-for-the-sender", "the token A the sender registers with (once)")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	party, err := ocpi.ParsePartyID(*partyFlag)
	if err != nil {
		return nil, fmt.Errorf("-party: %w", err)
	}
	if !ocpi.ValidToken(*tokenA) {
		return nil, errors.New("-token-a: want 1 to 64 printable ASCII characters without spaces")
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	// Listen first: with -addr 127.0.0.1:0 the port is known only now.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (-addr): %w", *addr, err)
	}
	if *publicURL == "" {
		*publicURL = "http://" + ln.Addr().String()
	}

	// The node: versions, version details and credentials come with it;
	// its Store (in memory here) keeps peers and received locations.
	node, err := ocpi.NewNode(ocpi.Config{
		PublicURL: *publicURL,
		Parties: []ocpi.CredentialsRole{{Role: ocpi.RoleEMSP, CountryCode: party.CountryCode, PartyID: party.PartyID,
			BusinessDetails: ocpi.BusinessDetails{Name: "openEV example location receiver"}}},
		Store:  ocpi.NewMemoryStore(),
		Logger: log,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	locations := ocpi.NewLocations(node, ocpi.LocationsOptions{
		// Called with the whole location each time one is stored: a PUT
		// or PATCH from the CPO, of the location, an EVSE or a connector.
		OnReceived: func(ctx context.Context, owner ocpi.PartyID, loc ocpi.Location) {
			log.InfoContext(ctx, "received a location", "from", owner, "id", loc.ID, "name", loc.Name,
				"address", loc.Address, "city", loc.City, "country", loc.Country, "evses", len(loc.EVSEs))
		},
	})
	node.Handle(locations.Receiver()) // CPOs PUT and PATCH their locations here

	// Step 1: the pending peer. Node.IssueTokenA would generate a random
	// token A; the example takes it from a flag.
	if _, err := node.AddPendingPeer(ctx, "the location sender", *tokenA); err != nil {
		ln.Close()
		return nil, fmt.Errorf("-token-a: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("/ocpi/", node)
	log.Info("OCPI location receiver (eMSP) listening: give the sender the versions URL and token A",
		"party", party, "versions_url", node.VersionsURL(), "token_a", *tokenA)
	return &receiver{
		locations: locations,
		server:    &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		listener:  ln,
		log:       log,
	}, nil
}

// serve answers requests until ctx ends, then shuts down.
func (r *receiver) serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.server.Shutdown(shutdown)
	}()
	if err := r.server.Serve(r.listener); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
