package ocpi_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/openev/openev/ocpi"
)

// startNode serves a Node for one party on a local HTTP server, mounted
// the way a real server mounts it: mux.Handle("/ocpi/", node).
func startNode(party ocpi.CredentialsRole) (*ocpi.Node, ocpi.Store, func()) {
	srv := httptest.NewUnstartedServer(nil)
	store := ocpi.NewMemoryStore()
	node, err := ocpi.NewNode(ocpi.Config{
		PublicURL: "http://" + srv.Listener.Addr().String(),
		Parties:   []ocpi.CredentialsRole{party},
		Store:     store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ocpi/", node)
	srv.Config.Handler = mux
	srv.Start()
	return node, store, srv.Close
}

// A CPO hands a token A to an eMSP, which registers with it; both sides
// then hold each other's tokens and endpoints.
func ExampleNode_Register() {
	ctx := context.Background()
	cpo, cpoStore, stopCPO := startNode(ocpi.CredentialsRole{Role: ocpi.RoleCPO, CountryCode: "NL", PartyID: "CPO",
		BusinessDetails: ocpi.BusinessDetails{Name: "Example CPO"}})
	defer stopCPO()
	emsp, _, stopEMSP := startNode(ocpi.CredentialsRole{Role: ocpi.RoleEMSP, CountryCode: "DE", PartyID: "MSP",
		BusinessDetails: ocpi.BusinessDetails{Name: "Example eMSP"}})
	defer stopEMSP()

	// At the CPO: a token A for the eMSP, given out of band with the URL.
	pending, err := cpo.IssueTokenA(ctx, "Example eMSP")
	if err != nil {
		log.Fatal(err)
	}
	// At the eMSP: register with it.
	cpoPeer, err := emsp.Register(ctx, cpo.VersionsURL(), pending.IncomingToken)
	if err != nil {
		log.Fatal(err)
	}
	emspPeer, _ := cpoStore.Peer(ctx, pending.ID)
	fmt.Println("at the eMSP:", cpoPeer.Name, cpoPeer.Status, cpoPeer.Version)
	fmt.Println("at the CPO:", emspPeer.Name, emspPeer.Status, emspPeer.Roles[0].Party())
	fmt.Println("tokens pair up:", cpoPeer.OutgoingToken == emspPeer.IncomingToken && emspPeer.OutgoingToken == cpoPeer.IncomingToken)

	// The eMSP calls the CPO with the token C it got.
	versions, err := emsp.Client(cpoPeer).Versions(ctx, cpoPeer.VersionsURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("CPO speaks:", versions[0].Version)
	// Output:
	// at the eMSP: Example CPO REGISTERED 2.2.1
	// at the CPO: Example eMSP REGISTERED DE-MSP
	// tokens pair up: true
	// CPO speaks: 2.2.1
}
