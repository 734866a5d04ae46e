package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/api"
	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpp"
)

// ocpiEnv is one server with an OCPI node at /ocpi/ and the admin API at
// /api/, on a real database.
type ocpiEnv struct {
	*env
	srv  *httptest.Server
	node *ocpi.Node
	locs *ocpi.Locations
}

// newOCPIEnv starts a server whose OCPI node has the given parties (each
// "NL-CPO:CPO"); none means OCPI is off.
func newOCPIEnv(t *testing.T, b testdb.Backend, parties ...string) *ocpiEnv {
	t.Helper()
	st := b.Open(t)
	srv := &ocpp.Server{Options: ocpp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	opts := api.Options{APIKey: key, Now: skippingClock()}
	e := &ocpiEnv{env: &env{t: t, base: hs.URL}, srv: hs}
	if len(parties) > 0 {
		var roles []ocpi.CredentialsRole
		for _, p := range parties {
			party, role, _ := strings.Cut(p, ":")
			id, err := ocpi.ParsePartyID(party)
			if err != nil {
				t.Fatal(err)
			}
			roles = append(roles, ocpi.CredentialsRole{Role: ocpi.Role(role), CountryCode: id.CountryCode, PartyID: id.PartyID,
				BusinessDetails: ocpi.BusinessDetails{Name: "Test " + party}})
		}
		node, err := ocpi.NewNode(ocpi.Config{PublicURL: hs.URL, Parties: roles, Store: st.(ocpi.Store)})
		if err != nil {
			t.Fatal(err)
		}
		locs := ocpi.NewLocations(node, ocpi.LocationsOptions{PushBackoff: 10 * time.Millisecond})
		for _, r := range roles {
			if r.Role == ocpi.RoleCPO {
				node.Handle(locs.Sender())
				break
			}
		}
		for _, r := range roles {
			if r.Role == ocpi.RoleEMSP {
				node.Handle(locs.Receiver())
				break
			}
		}
		mux.Handle("/ocpi/", node)
		e.node, e.locs = node, locs
		opts.OCPI = &api.OCPI{Node: node, Locations: locs}
		t.Cleanup(locs.Wait)
	}
	a, err := api.New(st, srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/", a)
	return e
}

// forBoth runs test once on SQLite and once on PostgreSQL.
func forBoth(t *testing.T, test func(t *testing.T, b testdb.Backend)) {
	for _, b := range testdb.Backends {
		t.Run(b.Name, func(t *testing.T) { test(t, b) })
	}
}

// locationJSON is a valid OCPI Location with one EVSE of that status.
func locationJSON(id, status string) string {
	return fmt.Sprintf(`{"id":%q,"publish":true,"name":"Stationsplein","address":"Stationsplein 1","city":"Utrecht",
 "country":"NLD","coordinates":{"latitude":"52.090284","longitude":"5.110943"},"time_zone":"Europe/Amsterdam",
 "evses":[{"uid":"E1","evse_id":"NL*CPO*E1","status":%q,"connectors":[{"id":"1","standard":"IEC_62196_T2",
 "format":"SOCKET","power_type":"AC_3_PHASE","max_voltage":230,"max_amperage":32,"last_updated":"2026-11-02T10:00:00Z"}],
 "last_updated":"2026-11-02T10:00:00Z"}],"last_updated":"2026-11-02T10:00:00Z"}`, id, status)
}

type errorAnswer struct{ Error string }

// wantError checks the status and that the message says want.
func (e *ocpiEnv) wantError(method, path, body string, status int, want string) {
	e.t.Helper()
	var got errorAnswer
	if code := e.do(method, path, body, &got); code != status || !strings.Contains(got.Error, want) {
		e.t.Errorf("%s %s %s: got %d %q, want %d with %q", method, path, body, code, got.Error, status, want)
	}
}

func TestOCPIEndpointsNeedTheAPIKey(t *testing.T) {
	e := newOCPIEnv(t, testdb.Backend{Name: "sqlite", Open: testdb.SQLite}, "NL-CPO:CPO")
	for _, ep := range []string{"GET /api/v1/ocpi/peers", "POST /api/v1/ocpi/peers", "POST /api/v1/ocpi/peers/register",
		"GET /api/v1/ocpi/peers/x", "PATCH /api/v1/ocpi/peers/x", "DELETE /api/v1/ocpi/peers/x", "POST /api/v1/ocpi/peers/x/rotate",
		"POST /api/v1/ocpi/peers/x/pull/locations", "GET /api/v1/locations", "GET /api/v1/locations/L1",
		"PUT /api/v1/locations/L1", "PATCH /api/v1/locations/L1", "PATCH /api/v1/locations/L1/evses/E1", "DELETE /api/v1/locations/L1", "GET /api/v1/ocpi/received/locations",
		"GET /api/v1/ocpi/received/locations/NL/CPO/L1"} {
		method, path, _ := strings.Cut(ep, " ")
		req, _ := http.NewRequest(method, e.base+path, strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body errorAnswer
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body.Error, "API key") {
			t.Errorf("%s with a wrong key: %d %q, want 401", ep, resp.StatusCode, body.Error)
		}
	}
	peers, _ := e.node.Config().Store.Peers(t.Context())
	if len(peers) != 0 {
		t.Fatalf("a refused request created peers: %+v", peers)
	}
}

func TestOCPIEndpointsSayHowToEnableOCPIWhenItIsOff(t *testing.T) {
	e := newOCPIEnv(t, testdb.Backend{Name: "sqlite", Open: testdb.SQLite})
	e.wantError("GET", "/api/v1/ocpi/peers", "", http.StatusNotFound, "--ocpi-party")
	e.wantError("PUT", "/api/v1/locations/L1", locationJSON("L1", "AVAILABLE"), http.StatusNotFound, "--ocpi-party")
}

func TestIssuedTokenAIsShownOnceAndWorksAtOurVersions(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		e := newOCPIEnv(t, b, "NL-CPO:CPO")
		var issued struct {
			Peer        struct{ ID, Name, Status string }
			Token       string
			VersionsURL string `json:"versions_url"`
		}
		if code := e.do("POST", "/api/v1/ocpi/peers", `{"name":"Example eMSP"}`, &issued); code != http.StatusCreated {
			t.Fatalf("POST peers: %d", code)
		}
		if issued.Peer.Status != "PENDING" || issued.Peer.Name != "Example eMSP" || issued.Token == "" || issued.VersionsURL != e.base+"/ocpi/versions" {
			t.Fatalf("issued: %+v", issued)
		}
		// The token A opens our versions, as the peer will use it.
		versions, err := (&ocpi.Client{Token: issued.Token}).Versions(t.Context(), issued.VersionsURL)
		if err != nil || len(versions) != 1 || versions[0].Version != ocpi.Version221 {
			t.Fatalf("token A at our versions: %v %+v", err, versions)
		}
		for _, path := range []string{"/api/v1/ocpi/peers", "/api/v1/ocpi/peers/" + issued.Peer.ID} {
			req, _ := http.NewRequest("GET", e.base+path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(raw), issued.Peer.ID) || strings.Contains(string(raw), issued.Token) {
				t.Errorf("GET %s: %d %s (must list the peer and never its token)", path, resp.StatusCode, raw)
			}
		}
	})
}

func TestPeerEndpointsRejectBadInputAndUnknownPeers(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		e := newOCPIEnv(t, b, "NL-CPO:CPO")
		e.wantError("POST", "/api/v1/ocpi/peers", `{"name":`, 400, "request body")
		e.wantError("POST", "/api/v1/ocpi/peers", `{}`, 400, "name is required")
		e.wantError("POST", "/api/v1/ocpi/peers", `{"name":"x","token":"mine"}`, 400, "unknown field")
		e.wantError("POST", "/api/v1/ocpi/peers/register", `not json`, 400, "request body")
		e.wantError("POST", "/api/v1/ocpi/peers/register", `{"token":"abc"}`, 400, "versions_url is required")
		e.wantError("POST", "/api/v1/ocpi/peers/register", `{"versions_url":"ftp://x/ocpi/versions","token":"abc"}`, 400, "http(s)")
		e.wantError("POST", "/api/v1/ocpi/peers/register", `{"versions_url":"http://127.0.0.1:1/ocpi/versions"}`, 400, "token is required")
		e.wantError("POST", "/api/v1/ocpi/peers/register", `{"versions_url":"http://127.0.0.1:1/ocpi/versions","token":"has space"}`, 400, "token")
		e.wantError("GET", "/api/v1/ocpi/peers/nope", "", 404, "peer nope not found")
		e.wantError("PATCH", "/api/v1/ocpi/peers/nope", `{"raw_token":true}`, 404, "peer nope not found")
		e.wantError("POST", "/api/v1/ocpi/peers/nope/rotate", "", 404, "peer nope not found")
		e.wantError("DELETE", "/api/v1/ocpi/peers/nope", "", 404, "peer nope not found")
		e.wantError("POST", "/api/v1/ocpi/peers/nope/pull/locations", "", 404, "peer nope not found")
		// A peer that does not answer, and one that refuses our token A.
		e.wantError("POST", "/api/v1/ocpi/peers/register", `{"versions_url":"http://127.0.0.1:1/ocpi/versions","token":"abc"}`, 502, "registering at")
		e.wantError("POST", "/api/v1/ocpi/peers/register", fmt.Sprintf(`{"versions_url":%q,"token":"not-issued"}`, e.base+"/ocpi/versions"), 502, "unknown credentials token")
		var pending struct{ Peer struct{ ID string } }
		e.do("POST", "/api/v1/ocpi/peers", `{"name":"later"}`, &pending)
		e.wantError("POST", "/api/v1/ocpi/peers/"+pending.Peer.ID+"/rotate", "", 409, "PENDING")
		e.wantError("PATCH", "/api/v1/ocpi/peers/"+pending.Peer.ID, `{}`, 400, "raw_token is required")
		e.wantError("PATCH", "/api/v1/ocpi/peers/"+pending.Peer.ID, `{"raw_token":"yes"}`, 400, "raw_token")
		var raw ocpi.Peer
		if code := e.do("PATCH", "/api/v1/ocpi/peers/"+pending.Peer.ID, `{"raw_token":true}`, &raw); code != 200 || !raw.RawToken {
			t.Fatalf("PATCH raw_token: %d %+v", code, raw)
		}
		if stored, _ := e.node.Config().Store.Peer(t.Context(), pending.Peer.ID); !stored.RawToken {
			t.Fatalf("raw_token not stored: %+v", stored)
		}
		peers, _ := e.node.Config().Store.Peers(t.Context())
		if len(peers) != 1 {
			t.Fatalf("failed registrations must keep nothing; peers: %+v", peers)
		}
	})
}

// The whole life of a connection through two admin APIs: token A,
// registration, a pushed location, rotation, pull, unregistration.
func TestTwoNodesConnectPushRotatePullAndUnregisterThroughTheAPI(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		cpo := newOCPIEnv(t, b, "NL-CPO:CPO")
		emsp := newOCPIEnv(t, b, "DE-EMS:EMSP")
		var issued struct {
			Peer        struct{ ID string }
			Token       string
			VersionsURL string `json:"versions_url"`
		}
		emsp.do("POST", "/api/v1/ocpi/peers", `{"name":"NL CPO"}`, &issued)
		var atEMSP ocpi.Peer
		body := fmt.Sprintf(`{"versions_url":%q,"token":%q}`, issued.VersionsURL, issued.Token)
		if code := cpo.do("POST", "/api/v1/ocpi/peers/register", body, &atEMSP); code != 201 || atEMSP.Status != ocpi.PeerRegistered || atEMSP.Name != "Test DE-EMS" {
			t.Fatalf("register: %d %+v", code, atEMSP)
		}
		var emspSide ocpi.Peer
		emsp.do("GET", "/api/v1/ocpi/peers/"+issued.Peer.ID, "", &emspSide)
		if emspSide.Status != ocpi.PeerRegistered {
			t.Fatalf("the eMSP's peer after registration: %+v", emspSide)
		}
		// Token A was replaced by the registration: it cannot register twice.
		cpo.wantError("POST", "/api/v1/ocpi/peers/register", body, 502, "registering at")

		var saved ocpi.Location
		if code := cpo.do("PUT", "/api/v1/locations/L1", locationJSON("L1", "AVAILABLE"), &saved); code != 200 || saved.CountryCode != "NL" || saved.PartyID != "CPO" {
			t.Fatalf("PUT location: %d %+v", code, saved)
		}
		cpo.locs.Wait()
		var got ocpi.Location
		if code := emsp.do("GET", "/api/v1/ocpi/received/locations/NL/CPO/L1", "", &got); code != 200 || got.EVSEs[0].Status != ocpi.StatusAvailable {
			t.Fatalf("received location: %d %+v", code, got)
		}
		// A status change is pushed.
		if code := cpo.do("PATCH", "/api/v1/locations/L1/evses/E1", `{"status":"CHARGING"}`, &saved); code != 200 || saved.EVSEs[0].Status != ocpi.StatusCharging {
			t.Fatalf("PATCH EVSE status: %d %+v", code, saved)
		}
		cpo.locs.Wait()
		emsp.do("GET", "/api/v1/ocpi/received/locations/nl/cpo/l1", "", &got)
		if got.EVSEs[0].Status != ocpi.StatusCharging {
			t.Fatalf("status change not pushed: %+v", got.EVSEs[0])
		}

		var rotated ocpi.Peer
		if code := cpo.do("POST", "/api/v1/ocpi/peers/"+atEMSP.ID+"/rotate", "", &rotated); code != 200 || rotated.Status != ocpi.PeerRegistered {
			t.Fatalf("rotate: %d %+v", code, rotated)
		}
		cpo.do("DELETE", "/api/v1/locations/L1", "", nil)
		cpo.locs.Wait()
		emsp.do("GET", "/api/v1/ocpi/received/locations/NL/CPO/L1", "", &got)
		if got.EVSEs[0].Status != ocpi.StatusRemoved {
			t.Fatalf("after rotation the removal was not pushed: %+v", got.EVSEs[0])
		}
		var pulled struct{ Stored int }
		if code := emsp.do("POST", "/api/v1/ocpi/peers/"+issued.Peer.ID+"/pull/locations", "", &pulled); code != 200 {
			t.Fatalf("pull: %d", code)
		}

		var gone struct {
			ocpi.Peer
			Warning string
		}
		if code := cpo.do("DELETE", "/api/v1/ocpi/peers/"+atEMSP.ID, "", &gone); code != 200 || gone.Status != ocpi.PeerUnregistered || gone.Warning != "" {
			t.Fatalf("unregister: %d %+v", code, gone)
		}
		emsp.do("GET", "/api/v1/ocpi/peers/"+issued.Peer.ID, "", &emspSide)
		if emspSide.Status != ocpi.PeerUnregistered {
			t.Fatalf("the eMSP's peer after unregistration: %+v", emspSide)
		}
		cpo.wantError("POST", "/api/v1/ocpi/peers/"+atEMSP.ID+"/rotate", "", 409, "UNREGISTERED")
		emsp.wantError("POST", "/api/v1/ocpi/peers/"+issued.Peer.ID+"/pull/locations", "", 502, "not registered")
	})
}

// Ending trust is our decision: a peer that cannot be told is
// unregistered all the same, and the answer says it was not told.
func TestUnregisterOfAnUnreachablePeerWarnsAndStillRefusesItsTokens(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		cpo := newOCPIEnv(t, b, "NL-CPO:CPO")
		emsp := newOCPIEnv(t, b, "DE-EMS:EMSP")
		var issued struct {
			Token       string
			VersionsURL string `json:"versions_url"`
		}
		cpo.do("POST", "/api/v1/ocpi/peers", `{"name":"DE eMSP"}`, &issued)
		var atCPO ocpi.Peer
		if code := emsp.do("POST", "/api/v1/ocpi/peers/register", fmt.Sprintf(`{"versions_url":%q,"token":%q}`, issued.VersionsURL, issued.Token), &atCPO); code != 201 {
			t.Fatalf("register: %d", code)
		}
		// The token the CPO calls the eMSP with opens the eMSP until then.
		before, _ := emsp.node.Config().Store.Peer(t.Context(), atCPO.ID)
		cpoClient := &ocpi.Client{Token: before.IncomingToken}
		if _, err := cpoClient.VersionDetails(t.Context(), emsp.base+"/ocpi/2.2.1"); err != nil {
			t.Fatalf("the CPO's token before unregistration: %v", err)
		}
		cpo.srv.Close()
		var gone struct {
			ocpi.Peer
			Warning string
		}
		// The eMSP unregisters the CPO, whose server is gone.
		if code := emsp.do("DELETE", "/api/v1/ocpi/peers/"+atCPO.ID, "", &gone); code != 200 || gone.Status != ocpi.PeerUnregistered || !strings.Contains(gone.Warning, "not told") {
			t.Fatalf("unregister an unreachable peer: %d %+v", code, gone)
		}
		if _, err := cpoClient.VersionDetails(t.Context(), emsp.base+"/ocpi/2.2.1"); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("the CPO's token after unregistration: %v, want HTTP 401", err)
		}
	})
}

func TestLocationEndpointsValidateAndNameTheField(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		e := newOCPIEnv(t, b, "NL-CPO:CPO")
		e.wantError("PUT", "/api/v1/locations/L1", `{"id":`, 400, "not valid JSON")
		e.wantError("PUT", "/api/v1/locations/L1", strings.Replace(locationJSON("L1", "AVAILABLE"), `"address":"Stationsplein 1",`, "", 1), 400, "address")
		e.wantError("PUT", "/api/v1/locations/L1", locationJSON("L1", "SLEEPING"), 400, "evses[0].status")
		e.wantError("PUT", "/api/v1/locations/L1", strings.Replace(locationJSON("L1", "AVAILABLE"), `"max_voltage":230`, `"max_voltage":"230"`, 1), 400, "max_voltage")
		e.wantError("PUT", "/api/v1/locations/L2", locationJSON("L1", "AVAILABLE"), 400, "differs from the id")
		e.wantError("PUT", "/api/v1/locations/L1", strings.Replace(locationJSON("L1", "AVAILABLE"), `{"id"`, `{"country_code":"DE","party_id":"XYZ","id"`, 1), 400, "country_code/party_id")
		e.wantError("PUT", "/api/v1/locations/L1?party=DE-EMS", locationJSON("L1", "AVAILABLE"), 400, "not a CPO party of this node")
		e.wantError("PUT", "/api/v1/locations/L1?party=garbage", locationJSON("L1", "AVAILABLE"), 400, "party")
		e.wantError("GET", "/api/v1/locations/L1", "", 404, "location L1 not found")
		e.wantError("DELETE", "/api/v1/locations/L1", "", 404, "location L1 not found")
		e.wantError("PATCH", "/api/v1/locations/L1/evses/E1", `{"status":"CHARGING"}`, 404, "not found")
		e.wantError("GET", "/api/v1/locations?limit=-1", "", 400, "limit")
		e.wantError("GET", "/api/v1/ocpi/received/locations/NLX/CPO/L1", "", 400, "party")
		e.wantError("GET", "/api/v1/ocpi/received/locations/NL/CPO/L1", "", 404, "not found")
		var list []ocpi.Location
		if e.do("GET", "/api/v1/locations", "", &list); len(list) != 0 {
			t.Fatalf("bad input stored locations: %+v", list)
		}

		for i := range 3 {
			id := fmt.Sprintf("L%d", i)
			if code := e.do("PUT", "/api/v1/locations/"+id+"?party=nl-cpo", locationJSON(id, "AVAILABLE"), nil); code != 200 {
				t.Fatalf("PUT %s: %d", id, code)
			}
		}
		req, _ := http.NewRequest("GET", e.base+"/api/v1/locations?limit=2&offset=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list) != 2 || resp.Header.Get("X-Total-Count") != "3" {
			t.Fatalf("page limit=2 offset=1: %d locations, X-Total-Count %q", len(list), resp.Header.Get("X-Total-Count"))
		}
		var loc ocpi.Location
		if code := e.do("GET", "/api/v1/locations/l2", "", &loc); code != 200 || loc.ID != "L2" {
			t.Fatalf("GET l2: %d %+v", code, loc)
		}
		e.wantError("PATCH", "/api/v1/locations/L2/evses/E9", `{"status":"CHARGING"}`, 404, "not found")
		e.wantError("PATCH", "/api/v1/locations/L2/evses/E1", `{"status":"SLEEPING"}`, 400, "status")
		e.wantError("PATCH", "/api/v1/locations/L2/evses/E1", `["status"]`, 400, "")
		e.wantError("PATCH", "/api/v1/locations/L2", `{"id":"L3"}`, 400, "id")
		if code := e.do("PATCH", "/api/v1/locations/L2", `{"name":"Renamed"}`, &loc); code != 200 || loc.Name != "Renamed" || len(loc.EVSEs) != 1 {
			t.Fatalf("PATCH name: %d %+v", code, loc)
		}
		if code := e.do("DELETE", "/api/v1/locations/L2", "", &loc); code != 200 || loc.EVSEs[0].Status != ocpi.StatusRemoved {
			t.Fatalf("DELETE L2: %d %+v", code, loc)
		}
		e.do("GET", "/api/v1/locations/L2", "", &loc)
		if loc.EVSEs[0].Status != ocpi.StatusRemoved {
			t.Fatalf("the removal was not stored: %+v", loc)
		}
	})
}

func TestLocationOwnerMustBeNamedWithSeveralCPOPartiesAndExistForAnEMSP(t *testing.T) {
	forBoth(t, func(t *testing.T, b testdb.Backend) {
		two := newOCPIEnv(t, b, "NL-CPO:CPO", "NL-CP2:CPO")
		two.wantError("PUT", "/api/v1/locations/L1", locationJSON("L1", "AVAILABLE"), 400, "?party=")
		if code := two.do("PUT", "/api/v1/locations/L1?party=NL-CP2", locationJSON("L1", "AVAILABLE"), nil); code != 200 {
			t.Fatalf("PUT with ?party: %d", code)
		}
		var loc ocpi.Location
		if code := two.do("GET", "/api/v1/locations/L1?party=NL-CP2", "", &loc); code != 200 || loc.PartyID != "CP2" {
			t.Fatalf("GET with ?party: %d %+v", code, loc)
		}
		two.wantError("GET", "/api/v1/locations/L1?party=NL-CPO", "", 404, "not found")
		var list []ocpi.Location
		if two.do("GET", "/api/v1/locations?party=NL-CPO", "", &list); len(list) != 0 {
			t.Fatalf("list of NL-CPO shows NL-CP2's: %+v", list)
		}

		emsp := newOCPIEnv(t, b, "DE-EMS:EMSP")
		emsp.wantError("PUT", "/api/v1/locations/L1", locationJSON("L1", "AVAILABLE"), 409, "no CPO party")
	})
}

func TestOpenAPIDocumentListsTheOCPIEndpoints(t *testing.T) {
	e := newOCPIEnv(t, testdb.Backend{Name: "sqlite", Open: testdb.SQLite})
	var doc struct {
		Paths      map[string]map[string]any
		Components struct{ Schemas map[string]any }
	}
	e.do("GET", "/api/v1/openapi.json", "", &doc)
	for path, methods := range map[string][]string{
		"/api/v1/ocpi/peers": {"get", "post"}, "/api/v1/ocpi/peers/register": {"post"},
		"/api/v1/ocpi/peers/{id}": {"get", "patch", "delete"}, "/api/v1/ocpi/peers/{id}/rotate": {"post"},
		"/api/v1/locations": {"get"}, "/api/v1/locations/{id}": {"get", "put", "patch", "delete"}, "/api/v1/locations/{id}/evses/{uid}": {"patch"},
		"/api/v1/ocpi/peers/{id}/pull/locations": {"post"},
		"/api/v1/ocpi/received/locations":        {"get"}, "/api/v1/ocpi/received/locations/{country}/{party}/{id}": {"get"},
	} {
		for _, m := range methods {
			if doc.Paths[path][m] == nil {
				t.Errorf("openapi.json lacks %s %s", m, path)
			}
		}
	}
	if doc.Components.Schemas["OCPIPeer"] == nil || doc.Components.Schemas["OCPILocation"] == nil {
		t.Error("openapi.json lacks the OCPI schemas")
	}
}
