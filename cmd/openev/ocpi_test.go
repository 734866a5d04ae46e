package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpi"
)

// ocpiSeenRequest is one request a module under test received.
type ocpiSeenRequest struct {
	Method string
	Path   []string
	Query  url.Values
	Header http.Header
	Body   string
	From   ocpi.PartyID
	To     ocpi.PartyID
}

// ocpiRequestLog records the requests a module gets.
type ocpiRequestLog struct {
	mu       sync.Mutex
	requests []ocpiSeenRequest
}

// record reads r's body, logs the request and leaves the body readable
// again for the module.
func (l *ocpiRequestLog) record(r *ocpi.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, ocpiSeenRequest{Method: r.Method, Path: r.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: string(body), From: r.From, To: r.To})
	return body
}

func (l *ocpiRequestLog) seen() []ocpiSeenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

// ocpiRecordedModule is a real module (ocpi.Locations' Sender, say) whose
// requests are recorded before it serves them.
type ocpiRecordedModule struct {
	ocpi.Module
	ocpiRequestLog
}

func (m *ocpiRecordedModule) ServeOCPI(w http.ResponseWriter, r *ocpi.Request) {
	m.record(r)
	m.Module.ServeOCPI(w, r)
}

// ocpiFakeModule is a small OCPI module for the modules openEV does not
// implement yet (tokens), keeping objects in memory by their path under the
// module: GET without a path is the paginated list (ordered by
// last_updated, written with ocpi.WritePage), GET/PUT/PATCH/DELETE with a
// path read, replace, merge or remove one object. It records every request
// it gets. Like a real module it refuses a path of the wrong shape for its
// role: a Sender's objects are {url}/{id}[/{id}[/{id}]], a Receiver's
// {url}/{country_code}/{party_id}/{id}, so a test using the other form
// fails.
type ocpiFakeModule struct {
	id       ocpi.ModuleID
	role     ocpi.InterfaceRole
	maxLimit int
	endpoint *url.URL

	ocpiRequestLog
	objects map[string]json.RawMessage // guarded by ocpiRequestLog.mu
}

func (m *ocpiFakeModule) Identifier() ocpi.ModuleID         { return m.id }
func (m *ocpiFakeModule) InterfaceRole() ocpi.InterfaceRole { return m.role }

func (m *ocpiFakeModule) ServeOCPI(w http.ResponseWriter, r *ocpi.Request) {
	body := m.record(r)
	if m.role == ocpi.Sender && len(r.Path) > 3 {
		ocpi.WriteError(w, ocpi.Errorf(http.StatusNotFound, ocpi.StatusClientError, "no such %s resource: a Sender's objects are {url}/{id}[/{id}[/{id}]], got %d segments", m.id, len(r.Path)))
		return
	}
	if m.role == ocpi.Receiver && len(r.Path) != 3 {
		ocpi.WriteError(w, ocpi.Errorf(http.StatusNotFound, ocpi.StatusClientError, "no such %s resource: a Receiver's objects are {url}/{country_code}/{party_id}/{id}, got %d segments", m.id, len(r.Path)))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.Join(r.Path, "/")
	switch {
	case r.Method == http.MethodGet && key == "":
		m.serveList(w, r)
	case r.Method == http.MethodGet:
		obj, ok := m.objects[key]
		if !ok {
			ocpi.WriteError(w, ocpi.Errorf(http.StatusNotFound, ocpi.StatusUnknownLocation, "no object %s here", key))
			return
		}
		ocpi.WriteData(w, http.StatusOK, obj)
	case r.Method == http.MethodPut:
		m.objects[key] = json.RawMessage(body)
		ocpi.WriteData(w, http.StatusOK, nil)
	case r.Method == http.MethodPatch:
		old, ok := m.objects[key]
		if !ok {
			ocpi.WriteError(w, ocpi.Errorf(http.StatusNotFound, ocpi.StatusClientError, "no object %s to patch: PUT it first", key))
			return
		}
		var merged, patch map[string]json.RawMessage
		_ = json.Unmarshal(old, &merged)
		if err := json.Unmarshal(body, &patch); err != nil {
			ocpi.WriteError(w, ocpi.InvalidParams("body: %v", err))
			return
		}
		for k, v := range patch {
			merged[k] = v
		}
		b, _ := json.Marshal(merged)
		m.objects[key] = b
		ocpi.WriteData(w, http.StatusOK, nil)
	case r.Method == http.MethodDelete:
		delete(m.objects, key)
		ocpi.WriteData(w, http.StatusOK, nil)
	default:
		ocpi.WriteError(w, ocpi.Errorf(http.StatusMethodNotAllowed, ocpi.StatusClientError, "method %s not allowed", r.Method))
	}
}

func (m *ocpiFakeModule) serveList(w http.ResponseWriter, r *ocpi.Request) {
	p, err := ocpi.ParsePage(r.Request, m.maxLimit)
	if err != nil {
		ocpi.WriteError(w, err)
		return
	}
	type entry struct {
		key string
		at  time.Time
		obj json.RawMessage
	}
	var all []entry
	for k, o := range m.objects {
		var v struct {
			LastUpdated ocpi.DateTime `json:"last_updated"`
		}
		_ = json.Unmarshal(o, &v)
		if (!p.From.IsZero() && v.LastUpdated.Before(p.From)) || (!p.To.IsZero() && !v.LastUpdated.Before(p.To)) {
			continue
		}
		all = append(all, entry{k, v.LastUpdated.Time, o})
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].at.Equal(all[j].at) {
			return all[i].at.Before(all[j].at)
		}
		return all[i].key < all[j].key
	})
	var page []json.RawMessage
	for i := p.Offset; i < len(all) && len(page) < p.Limit; i++ {
		page = append(page, all[i].obj)
	}
	ocpi.WritePage(w, r.Request, m.endpoint, p, len(all), page)
}

func (m *ocpiFakeModule) object(key string) (json.RawMessage, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	return o, ok
}

// startOCPINode runs a Node with the modules on a real HTTP server.
func startOCPINode(t *testing.T, party ocpi.CredentialsRole, modules ...*ocpiFakeModule) *ocpi.Node {
	t.Helper()
	return startOCPINodeWith(t, party, ocpi.NewMemoryStore(), func(node *ocpi.Node, base string) {
		for _, m := range modules {
			ep, err := url.Parse(base + "/ocpi/2.2.1/" + strings.ToLower(string(m.role)) + "/" + string(m.id))
			if err != nil {
				t.Fatal(err)
			}
			m.endpoint = ep
			node.Handle(m)
		}
	})
}

// startOCPINodeWith runs a Node (pages of at most 3) on a real HTTP
// server; setup adds its modules before it starts serving.
func startOCPINodeWith(t *testing.T, party ocpi.CredentialsRole, store ocpi.Store, setup func(node *ocpi.Node, base string)) *ocpi.Node {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	node, err := ocpi.NewNode(ocpi.Config{PublicURL: base, Parties: []ocpi.CredentialsRole{party}, Store: store, MaxLimit: 3})
	if err != nil {
		t.Fatal(err)
	}
	setup(node, base)
	srv.Config.Handler = node
	srv.Start()
	t.Cleanup(srv.Close)
	return node
}

// ocpiPeer is a CPO node (ES-CPO) with the real locations Sender
// (ocpi.Locations, recorded) holding seven locations and a tokens Receiver,
// at which an eMSP node (NL-EMS) has registered: token is what the eMSP
// calls the CPO with.
type ocpiPeer struct {
	cpo                *ocpi.Node
	versionsURL, base  string
	token              string
	cpoLocations       *ocpi.Locations
	locations          *ocpiRecordedModule
	tokens             *ocpiFakeModule
	firstLocationTimes []time.Time
}

var ocpiLocationsEpoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

var ocpiCPOParty = ocpi.CredentialsRole{Role: ocpi.RoleCPO, CountryCode: "ES", PartyID: "CPO", BusinessDetails: ocpi.BusinessDetails{Name: "Spain CPO"}}

// ocpiTestLocation is location LOCn of ES-CPO, changed at, with one EVSE E1
// with connector 1.
func ocpiTestLocation(n int, at time.Time) string {
	stamp := ocpi.NewDateTime(at).String()
	return fmt.Sprintf(`{"country_code":"ES","party_id":"CPO","id":"LOC%d","publish":true,"name":"Estación %d","address":"Calle %d","city":"Madrid","country":"ESP","coordinates":{"latitude":"40.41680","longitude":"-3.70380"},"time_zone":"Europe/Madrid",`+
		`"evses":[{"uid":"E1","evse_id":"ES*CPO*E%d","status":"AVAILABLE","connectors":[{"id":"1","standard":"IEC_62196_T2","format":"SOCKET","power_type":"AC_3_PHASE","max_voltage":230,"max_amperage":32,"last_updated":%q}],"last_updated":%q}],"last_updated":%q}`,
		n, n, n, n, stamp, stamp, stamp)
}

func newOCPIPeer(t *testing.T) *ocpiPeer {
	t.Helper()
	ctx := context.Background()
	toks := &ocpiFakeModule{id: ocpi.ModuleTokens, role: ocpi.Receiver, maxLimit: 3, objects: map[string]json.RawMessage{}}
	var locs *ocpi.Locations
	var recorded *ocpiRecordedModule
	cpo := startOCPINodeWith(t, ocpiCPOParty, ocpi.NewMemoryStore(), func(node *ocpi.Node, base string) {
		locs = ocpi.NewLocations(node, ocpi.LocationsOptions{})
		recorded = &ocpiRecordedModule{Module: locs.Sender()}
		node.Handle(recorded)
		ep, err := url.Parse(base + "/ocpi/2.2.1/receiver/tokens")
		if err != nil {
			t.Fatal(err)
		}
		toks.endpoint = ep
		node.Handle(toks)
	})
	t.Cleanup(locs.Close)
	var times []time.Time
	for i := 1; i <= 7; i++ {
		at := ocpiLocationsEpoch.Add(time.Duration(i) * time.Hour)
		times = append(times, at)
		loc, err := ocpi.DecodeLocation([]byte(ocpiTestLocation(i, at)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := locs.PutLocation(ctx, ocpiCPOParty.Party(), loc); err != nil {
			t.Fatal(err)
		}
	}
	emsp := startOCPINode(t, ocpi.CredentialsRole{Role: ocpi.RoleEMSP, CountryCode: "NL", PartyID: "EMS", BusinessDetails: ocpi.BusinessDetails{Name: "Dutch eMSP"}})
	pending, err := cpo.IssueTokenA(ctx, "dutch emsp")
	if err != nil {
		t.Fatal(err)
	}
	registered, err := emsp.Register(ctx, cpo.VersionsURL(), pending.IncomingToken)
	if err != nil {
		t.Fatal(err)
	}
	return &ocpiPeer{cpo: cpo, versionsURL: cpo.VersionsURL(), base: strings.TrimSuffix(cpo.VersionsURL(), "/versions") + "/2.2.1",
		token: registered.OutgoingToken, cpoLocations: locs, locations: recorded, tokens: toks, firstLocationTimes: times}
}

// location is the CPO's location id as the Sender serves it, compact.
func (p *ocpiPeer) location(t *testing.T, id string) string {
	t.Helper()
	loc, err := p.cpoLocations.Location(context.Background(), ocpiCPOParty.Party(), id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(loc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run runs `openev ocpi args...` with the peer's token.
func (p *ocpiPeer) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return openev(t, append([]string{"ocpi", "--token", p.token}, args...)...)
}

func wantOCPIExit(t *testing.T, code int, out, errOut string, want int) {
	t.Helper()
	if code != want {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
	}
}

func TestOCPIVersionsPrintsATableOrJSON(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "versions", p.versionsURL)
	wantOCPIExit(t, code, out, errOut, 0)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "VERSION") || strings.Join(strings.Fields(lines[1]), " ") != "2.2.1 "+p.base {
		t.Fatalf("human output:\n%s", out)
	}

	code, out, errOut = p.run(t, "versions", p.versionsURL, "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var vs []ocpi.Version
	if err := json.Unmarshal([]byte(out), &vs); err != nil || len(vs) != 1 || vs[0].Version != ocpi.Version221 || vs[0].URL != p.base {
		t.Fatalf("--json output %q: %v", out, err)
	}
}

func TestOCPIEndpointsFromTheVersionsURLOrTheDetailsURL(t *testing.T) {
	p := newOCPIPeer(t)
	for _, u := range []string{p.versionsURL, p.base} {
		code, out, errOut := p.run(t, "endpoints", u)
		wantOCPIExit(t, code, out, errOut, 0)
		var rows []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
		want := []string{
			"version 2.2.1 (" + p.base + ")",
			"MODULE ROLE URL",
			"credentials SENDER " + p.base + "/credentials",
			"locations SENDER " + p.base + "/sender/locations",
			"tokens RECEIVER " + p.base + "/receiver/tokens",
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("endpoints %s:\n%s\nwant:\n%s", u, strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
	}

	code, out, errOut := p.run(t, "endpoints", p.versionsURL, "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var d ocpi.VersionDetails
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Version != ocpi.Version221 || len(d.Endpoints) != 3 ||
		d.Endpoints[1] != (ocpi.Endpoint{Identifier: ocpi.ModuleLocations, Role: ocpi.Sender, URL: p.base + "/sender/locations"}) {
		t.Fatalf("--json output %q: %v", out, err)
	}
}

func TestOCPIEndpointsOfAVersionThePeerLacksNamesTheOffered(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "endpoints", p.versionsURL, "--version", "2.1.1")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "does not offer version 2.1.1, only 2.2.1: pass --version") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIGetByURLAndByModuleDiscovery(t *testing.T) {
	p := newOCPIPeer(t)
	direct := p.base + "/sender/locations/LOC3"
	code, out, errOut := p.run(t, "get", direct, "--from", "NL-EMS", "--to", "ES-CPO")
	wantOCPIExit(t, code, out, errOut, 0)
	var loc map[string]any
	if err := json.Unmarshal([]byte(out), &loc); err != nil || loc["id"] != "LOC3" || loc["name"] != "Estación 3" {
		t.Fatalf("output %q: %v", out, err)
	}
	if !strings.Contains(out, "\n  \"address\": \"Calle 3\"") {
		t.Errorf("human output is not indented JSON:\n%s", out)
	}

	code, out, errOut = p.run(t, "get", "--versions-url", p.versionsURL, "--module", "locations", "LOC5", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	if want := p.location(t, "LOC5"); strings.TrimSpace(out) != want {
		t.Fatalf("--json output %s, want %s", out, want)
	}
	reqs := p.locations.seen()
	if last := reqs[len(reqs)-1]; last.Method != http.MethodGet || strings.Join(last.Path, "/") != "LOC5" {
		t.Fatalf("the module got %+v", last)
	}
	first := reqs[len(reqs)-2]
	if first.Header.Get(ocpi.HeaderFromCountryCode) != "NL" || first.Header.Get(ocpi.HeaderToPartyID) != "CPO" {
		t.Errorf("routing headers of the get by URL: %v", first.Header)
	}
}

func TestOCPIGetOfAnEVSEAndAConnectorAtTheSender(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "get", "--versions-url", p.versionsURL, "--module", "locations", "LOC2", "E1", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var evse ocpi.EVSE
	if err := json.Unmarshal([]byte(out), &evse); err != nil || evse.UID != "E1" || evse.EVSEID != "ES*CPO*E2" || len(evse.Connectors) != 1 {
		t.Fatalf("EVSE: %v\n%s", err, out)
	}
	code, out, errOut = p.run(t, "get", "--versions-url", p.versionsURL, "--module", "locations", "LOC2", "E1", "1", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var c ocpi.Connector
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID != "1" || c.MaxAmperage != 32 {
		t.Fatalf("connector: %v\n%s", err, out)
	}
	reqs := p.locations.seen()
	if got := strings.Join(reqs[len(reqs)-1].Path, "/"); got != "LOC2/E1/1" {
		t.Errorf("the Sender got path %q, want LOC2/E1/1", got)
	}
}

// The Receiver's {country_code}/{party_id}/{location_id} form sent to a
// Sender names location "ES", EVSE "CPO", connector "LOC1": the CPO answers
// 2003, and the message says which location it looked for.
func TestOCPIGetWithTheReceiverPathAtTheSenderIsUnknown(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "get", "--versions-url", p.versionsURL, "--module", "locations", "ES", "CPO", "LOC1")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	want := "GET " + p.base + "/sender/locations/ES/CPO/LOC1: the peer answered status_code 2003 (unknown location, HTTP 404): location \"ES\" of ES-CPO is unknown"
	if !strings.Contains(errOut, want) || out != "" {
		t.Fatalf("stderr:\n%s\nwant %q", errOut, want)
	}
}

func TestOCPIGetWithModuleAndRoleNotListedSaysWhatIsListed(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "get", "--versions-url", p.versionsURL, "--module", "locations", "--role", "RECEIVER", "ES", "CPO", "LOC1")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "lists no locations RECEIVER endpoint") || !strings.Contains(errOut, "locations SENDER") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIListFollowsEveryPage(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "list", "--versions-url", p.versionsURL, "--module", "locations", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var got []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output is not one array: %v\n%s", err, out)
	}
	var ids []string
	for _, o := range got {
		ids = append(ids, o.ID)
	}
	if want := []string{"LOC1", "LOC2", "LOC3", "LOC4", "LOC5", "LOC6", "LOC7"}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if lists := len(p.locations.seen()); lists != 3 {
		t.Errorf("the module served %d requests, want 3 pages of at most 3", lists)
	}
	if !strings.Contains(errOut, "list: 7 objects in 3 pages (X-Total-Count 7)") {
		t.Errorf("stderr lacks the summary:\n%s", errOut)
	}
}

func TestOCPIListHumanLinesWithDateFilters(t *testing.T) {
	p := newOCPIPeer(t)
	// LOC2 (09:00Z) to LOC5 (12:00Z) exclusive, the bounds in other forms.
	code, out, errOut := p.run(t, "list", p.base+"/sender/locations", "--from", "NL-EMS",
		"--date-from", "2026-03-01T11:00:00+01:00", "--date-to", "2026-03-01T12:00:00.000", "--limit", "2")
	wantOCPIExit(t, code, out, errOut, 0)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		`LOC2  2026-03-01T10:00:00Z  party=ES-CPO  name="Estación 2"  address="Calle 2, Madrid, ESP"  evses=1`,
		`LOC3  2026-03-01T11:00:00Z  party=ES-CPO  name="Estación 3"  address="Calle 3, Madrid, ESP"  evses=1`,
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	reqs := p.locations.seen()
	q := reqs[0].Query
	if q.Get("date_from") != "2026-03-01T10:00:00Z" || q.Get("date_to") != "2026-03-01T12:00:00Z" || q.Get("limit") != "2" {
		t.Errorf("query sent: %v", q)
	}
	if reqs[0].Header.Get(ocpi.HeaderFromPartyID) != "EMS" {
		t.Errorf("routing headers: %v", reqs[0].Header)
	}
}

func TestOCPIListStopsAtMax(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "list", p.base+"/sender/locations", "--max", "4", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	var got []json.RawMessage
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 4 {
		t.Fatalf("%d objects (%v):\n%s", len(got), err, out)
	}
	if n := len(p.locations.seen()); n != 2 {
		t.Errorf("%d pages fetched for 4 objects in pages of 3; want 2", n)
	}
	if !strings.Contains(errOut, "list: stopped after --max 4 objects (X-Total-Count 7)") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestOCPIListRejectsABadDate(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "list", p.base+"/sender/locations", "--date-from", "yesterday")
	wantOCPIExit(t, code, out, errOut, exitUsage)
	if !strings.Contains(errOut, "--date-from") || !strings.Contains(errOut, "not an OCPI DateTime") || len(p.locations.seen()) != 0 {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIPutPatchDeleteReachTheModule(t *testing.T) {
	p := newOCPIPeer(t)
	tokenURL := p.base + "/receiver/tokens/NL/EMS/TOK1"
	put := `{"country_code":"NL","party_id":"EMS","uid":"TOK1","type":"RFID","contract_id":"NL-EMS-C00001","issuer":"Dutch eMSP","valid":true,"whitelist":"ALLOWED","last_updated":"2026-03-01T10:00:00Z"}`
	file := filepath.Join(t.TempDir(), "token.json")
	if err := os.WriteFile(file, []byte(put), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := p.run(t, "put", tokenURL, "--data", "@"+file, "--from", "NL-EMS", "--to", "ES-CPO")
	wantOCPIExit(t, code, out, errOut, 0)
	if !strings.Contains(out, "PUT "+tokenURL+": OK (HTTP 200, status_code 1000)") {
		t.Errorf("stdout:\n%s", out)
	}

	patch := `{"valid":false,"last_updated":"2026-03-01T11:00:00Z"}`
	code, out, errOut = p.run(t, "patch", "--versions-url", p.versionsURL, "--module", "tokens", "NL", "EMS", "TOK1",
		"--data", patch, "--from", "NL-EMS", "--to", "ES-CPO")
	wantOCPIExit(t, code, out, errOut, 0)
	var stored map[string]any
	obj, _ := p.tokens.object("NL/EMS/TOK1")
	if err := json.Unmarshal(obj, &stored); err != nil || stored["valid"] != false || stored["contract_id"] != "NL-EMS-C00001" || stored["last_updated"] != "2026-03-01T11:00:00Z" {
		t.Fatalf("stored after PATCH: %s (%v)", obj, err)
	}

	code, out, errOut = p.run(t, "delete", tokenURL, "--from", "NL-EMS", "--to", "ES-CPO", "--json")
	wantOCPIExit(t, code, out, errOut, 0)
	if strings.TrimSpace(out) != "null" {
		t.Errorf("--json output of a DELETE without data: %q", out)
	}
	if _, ok := p.tokens.object("NL/EMS/TOK1"); ok {
		t.Error("the object is still there after DELETE")
	}

	reqs := p.tokens.seen()
	if len(reqs) != 3 {
		t.Fatalf("the module got %d requests, want 3: %+v", len(reqs), reqs)
	}
	wantBodies := []string{put, patch, ""}
	var correlations []string
	for i, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r := reqs[i]
		if r.Method != m || strings.Join(r.Path, "/") != "NL/EMS/TOK1" || r.Body != wantBodies[i] {
			t.Errorf("request %d: %s %v body %q; want %s NL/EMS/TOK1 body %q", i, r.Method, r.Path, r.Body, m, wantBodies[i])
		}
		if r.From != (ocpi.PartyID{CountryCode: "NL", PartyID: "EMS"}) || r.To != (ocpi.PartyID{CountryCode: "ES", PartyID: "CPO"}) ||
			r.Header.Get(ocpi.HeaderToCountryCode) != "ES" || r.Header.Get(ocpi.HeaderFromPartyID) != "EMS" {
			t.Errorf("%s routing: from %v to %v, headers %v", m, r.From, r.To, r.Header)
		}
		if r.Header.Get("Authorization") != ocpi.AuthorizationHeader(p.token, false) || r.Header.Get(ocpi.HeaderRequestID) == "" {
			t.Errorf("%s: Authorization %q, X-Request-ID %q", m, r.Header.Get("Authorization"), r.Header.Get(ocpi.HeaderRequestID))
		}
		if i < 2 && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s Content-Type %q", m, r.Header.Get("Content-Type"))
		}
		correlations = append(correlations, r.Header.Get(ocpi.HeaderCorrelationID))
	}
	if correlations[0] == "" || correlations[0] == correlations[1] {
		t.Errorf("each command should have its own correlation id: %v", correlations)
	}
}

// A tokens Receiver object is {country_code}/{party_id}/{token_uid}; the
// peer's refusal of a shorter path reaches the user with its status code.
func TestOCPIPutToAReceiverWithoutCountryAndPartyIsRefusedByThePeer(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "put", p.base+"/receiver/tokens/TOK1", "--data", `{"uid":"TOK1","last_updated":"2026-03-01T10:00:00Z"}`)
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "status_code 2000") || !strings.Contains(errOut, "{country_code}/{party_id}/{id}, got 1 segments") {
		t.Fatalf("stderr:\n%s", errOut)
	}
	if _, ok := p.tokens.object("TOK1"); ok {
		t.Fatal("the refused PUT was stored")
	}
}

func TestOCPIPutReadsTheBodyFromStdin(t *testing.T) {
	p := newOCPIPeer(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	body := `{"uid":"TOK2","last_updated":"2026-03-01T10:00:00Z"}`
	go func() {
		_, _ = io.WriteString(w, body+"\n")
		w.Close()
	}()
	stdin := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = stdin; r.Close() })
	code, out, errOut := p.run(t, "put", p.base+"/receiver/tokens/NL/EMS/TOK2")
	wantOCPIExit(t, code, out, errOut, 0)
	if got, _ := p.tokens.object("NL/EMS/TOK2"); string(got) != body {
		t.Fatalf("stored %q, want %q", got, body)
	}
}

func TestOCPIPatchWithoutLastUpdatedIsRefusedUnlessForced(t *testing.T) {
	p := newOCPIPeer(t)
	tokenURL := p.base + "/receiver/tokens/NL/EMS/TOK1"
	code, out, errOut := p.run(t, "put", tokenURL, "--data", `{"uid":"TOK1","valid":true,"last_updated":"2026-03-01T10:00:00Z"}`)
	wantOCPIExit(t, code, out, errOut, 0)

	for _, body := range []string{`{"valid":false}`, `{"valid":false,"last_updated":null}`, `{"valid":false,"last_updated":"today"}`} {
		code, out, errOut = p.run(t, "patch", tokenURL, "--data", body)
		wantOCPIExit(t, code, out, errOut, exitUsage)
		if !strings.Contains(errOut, "last_updated") || !strings.Contains(errOut, "--force") || !strings.Contains(errOut, "nothing was sent") {
			t.Errorf("%s: stderr:\n%s", body, errOut)
		}
	}
	if n := len(p.tokens.seen()); n != 1 {
		t.Fatalf("%d requests reached the module; the refused PATCHes must not", n)
	}

	code, out, errOut = p.run(t, "patch", tokenURL, "--data", `{"valid":false}`, "--force")
	wantOCPIExit(t, code, out, errOut, 0)
	if reqs := p.tokens.seen(); len(reqs) != 2 || reqs[1].Method != http.MethodPatch || reqs[1].Body != `{"valid":false}` {
		t.Fatalf("forced PATCH: %+v", reqs)
	}
}

func TestOCPIBadDataIsRefusedBeforeSending(t *testing.T) {
	p := newOCPIPeer(t)
	tokenURL := p.base + "/receiver/tokens/NL/EMS/TOK1"
	for _, tc := range []struct{ data, want string }{
		{`{"uid":"TOK1",}`, "is not valid JSON (at byte 15"},
		{`[{"uid":"TOK1"}]`, "must be a JSON object ({...}), got an array"},
		{`   `, "is empty"},
		{"@" + filepath.Join(t.TempDir(), "missing.json"), "no such file"},
	} {
		code, out, errOut := p.run(t, "put", tokenURL, "--data", tc.data)
		wantOCPIExit(t, code, out, errOut, exitUsage)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("--data %q: stderr %q; want %q", tc.data, errOut, tc.want)
		}
	}
	if n := len(p.tokens.seen()); n != 0 {
		t.Fatalf("%d requests reached the module", n)
	}
}

func TestOCPIRefusedTokenSaysToCheckIt(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := openev(t, "ocpi", "--token", "not-the-token", "versions", p.versionsURL)
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "GET "+p.versionsURL+": the peer refused the token (HTTP 401: unknown credentials token") ||
		!strings.Contains(errOut, "check --token / --raw-token") {
		t.Fatalf("stderr:\n%s", errOut)
	}

	code, out, errOut = openev(t, "ocpi", "versions", p.versionsURL)
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "no token was given: pass --token or set $OPENEV_OCPI_TOKEN") {
		t.Fatalf("without a token, stderr:\n%s", errOut)
	}

	// Token A works for versions but not for a functional module.
	pending, err := p.cpo.IssueTokenA(context.Background(), "another")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = openev(t, "ocpi", "--token", pending.IncomingToken, "versions", p.versionsURL)
	wantOCPIExit(t, code, out, errOut, 0)
	code, out, errOut = openev(t, "ocpi", "--token", pending.IncomingToken, "get", p.base+"/sender/locations/LOC1")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "the peer refused the token (HTTP 401: this token (token A) may only be used for versions") {
		t.Fatalf("token A on a module, stderr:\n%s", errOut)
	}
}

func TestOCPITokenFromTheEnvironmentAndRawToken(t *testing.T) {
	p := newOCPIPeer(t)
	t.Setenv(ocpiTokenEnv, p.token)
	code, out, errOut := openev(t, "ocpi", "get", p.base+"/sender/locations/LOC1", "--raw-token")
	wantOCPIExit(t, code, out, errOut, 0)
	reqs := p.locations.seen()
	if got := reqs[0].Header.Get("Authorization"); got != "Token "+p.token {
		t.Fatalf("--raw-token sent Authorization %q", got)
	}
}

func TestOCPIErrorStatusIsPrintedWithCodeAndMessage(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "get", p.base+"/sender/locations/NOPE")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	want := "GET " + p.base + "/sender/locations/NOPE: the peer answered status_code 2003 (unknown location, HTTP 404): location \"NOPE\" of ES-CPO is unknown"
	if !strings.Contains(errOut, want) || out != "" {
		t.Fatalf("stderr:\n%s\nwant %q", errOut, want)
	}

	// The Node's own 2001 for a bad routing header reaches the user too.
	code, out, errOut = p.run(t, "get", p.base+"/sender/locations/LOC1", "--from", "FR-XYZ")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "status_code 2000") || !strings.Contains(errOut, "FR-XYZ is not one of your parties") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIBadURLsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"versions", "not-a-url"},
		{"endpoints", "ftp://peer.example.com/ocpi/versions"},
		{"get", "/ocpi/2.2.1/locations"},
		{"list", "--versions-url", "peer.example.com/ocpi/versions", "--module", "locations"},
	} {
		code, out, errOut := openev(t, append([]string{"ocpi", "--token", "t0ken"}, args...)...)
		wantOCPIExit(t, code, out, errOut, exitUsage)
		if !strings.Contains(errOut, "is not an http(s) URL") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get"}, "give one URL"},
		{[]string{"get", "--module", "locations", "http://x/y"}, "--module and --role need --versions-url"},
		{[]string{"get", "--versions-url", "http://x/ocpi/versions", "ES"}, "needs --module"},
		{[]string{"get", "--from", "ES/CPO", "http://x/y"}, "--from"},
	} {
		code, out, errOut := openev(t, append([]string{"ocpi", "--token", "t0ken"}, tc.args...)...)
		wantOCPIExit(t, code, out, errOut, exitUsage)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, errOut, tc.want)
		}
	}
}

func TestOCPIUnreachablePeerNamesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/ocpi/versions"
	srv.Close() // nothing listens there any more
	code, out, errOut := openev(t, "ocpi", "--token", "t0ken", "versions", u)
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "could not reach "+u) || !strings.Contains(errOut, "connection refused") || !strings.Contains(errOut, "check the URL") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIVerboseShowsRequestIDsButNeverTheToken(t *testing.T) {
	p := newOCPIPeer(t)
	code, out, errOut := p.run(t, "-v", "list", "--versions-url", p.versionsURL, "--module", "locations", "--from", "NL-EMS", "--to", "ES-CPO")
	wantOCPIExit(t, code, out, errOut, 0)
	if strings.Contains(errOut, p.token) || strings.Contains(errOut, base64.StdEncoding.EncodeToString([]byte(p.token))) {
		t.Fatalf("the token is on stderr:\n%s", errOut)
	}
	reqs := p.locations.seen()
	rid, cid := reqs[0].Header.Get(ocpi.HeaderRequestID), reqs[0].Header.Get(ocpi.HeaderCorrelationID)
	for _, want := range []string{
		"> GET " + p.versionsURL + " (Authorization: Token (hidden, base64), X-Request-ID: ",
		"> GET " + p.base + "/sender/locations (Authorization: Token (hidden, base64), X-Request-ID: " + rid + ", X-Correlation-ID: " + cid +
			", OCPI-from-country-code: NL, OCPI-from-party-id: EMS, OCPI-to-country-code: ES, OCPI-to-party-id: CPO)",
		"< HTTP 200 in ",
		"X-Request-ID: " + rid + ", X-Correlation-ID: " + cid + ", X-Total-Count: 7, X-Limit: 3, Link: <",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// One correlation id for discovery and every page.
	if n := strings.Count(errOut, "X-Correlation-ID: "+cid); n != 2*(2+3) {
		t.Errorf("correlation id %s appears %d times, want on all 5 requests and answers:\n%s", cid, n, errOut)
	}
}

func TestOCPISlowPeerHitsTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	code, out, errOut := openev(t, "ocpi", "--token", "t0ken", "--timeout", "200ms", "versions", srv.URL+"/ocpi/versions")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "GET "+srv.URL+"/ocpi/versions: no answer within --timeout 200ms") || !strings.Contains(errOut, "raise --timeout") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

func TestOCPIAnswerWithoutEnvelopeShowsStatusAndBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>502 Bad Gateway</html>")
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := openev(t, "ocpi", "--token", "t0ken", "get", srv.URL+"/ocpi/2.2.1/locations/LOC1")
	wantOCPIExit(t, code, out, errOut, exitFailed)
	want := "GET " + srv.URL + "/ocpi/2.2.1/locations/LOC1: HTTP 502: body \"<html>502 Bad Gateway</html>\": the peer (or a proxy in front of it) failed"
	if !strings.Contains(errOut, want) {
		t.Fatalf("stderr:\n%s\nwant %q", errOut, want)
	}
}

func TestOCPIModuleListedWithBothRolesNeedsRole(t *testing.T) {
	both := startOCPINode(t, ocpi.CredentialsRole{Role: ocpi.RoleCPO, CountryCode: "ES", PartyID: "CPO", BusinessDetails: ocpi.BusinessDetails{Name: "Spain CPO"}},
		&ocpiFakeModule{id: ocpi.ModuleLocations, role: ocpi.Sender, objects: map[string]json.RawMessage{}},
		&ocpiFakeModule{id: ocpi.ModuleLocations, role: ocpi.Receiver, objects: map[string]json.RawMessage{}})
	pending, err := both.IssueTokenA(context.Background(), "someone")
	if err != nil {
		t.Fatal(err)
	}
	// Token A may read versions and details, so discovery works with it.
	code, out, errOut := openev(t, "ocpi", "--token", pending.IncomingToken, "get", "--versions-url", both.VersionsURL(), "--module", "locations", "LOC1")
	wantOCPIExit(t, code, out, errOut, exitUsage)
	if !strings.Contains(errOut, "lists locations as both SENDER and RECEIVER: pass --role SENDER or --role RECEIVER") {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

// TestOCPIWithTheRealLocationsModule runs the client against ocpi.Locations
// on both sides: the eMSP pulls the CPO's list, the CPO pushes, patches and
// reads a location at the eMSP's Receiver.
func TestOCPIWithTheRealLocationsModule(t *testing.T) {
	ctx := context.Background()
	cpoParty := ocpi.CredentialsRole{Role: ocpi.RoleCPO, CountryCode: "ES", PartyID: "CPO", BusinessDetails: ocpi.BusinessDetails{Name: "Spain CPO"}}
	emspParty := ocpi.CredentialsRole{Role: ocpi.RoleEMSP, CountryCode: "NL", PartyID: "EMS", BusinessDetails: ocpi.BusinessDetails{Name: "Dutch eMSP"}}
	cpoStore := ocpi.NewMemoryStore()
	var cpoLocs, emspLocs *ocpi.Locations
	cpo := startOCPINodeWith(t, cpoParty, cpoStore, func(n *ocpi.Node, _ string) {
		cpoLocs = ocpi.NewLocations(n, ocpi.LocationsOptions{})
		n.Handle(cpoLocs.Sender())
	})
	emsp := startOCPINodeWith(t, emspParty, ocpi.NewMemoryStore(), func(n *ocpi.Node, _ string) {
		emspLocs = ocpi.NewLocations(n, ocpi.LocationsOptions{})
		n.Handle(emspLocs.Receiver())
	})
	t.Cleanup(cpoLocs.Close)
	t.Cleanup(emspLocs.Close)
	pending, err := cpo.IssueTokenA(ctx, "dutch emsp")
	if err != nil {
		t.Fatal(err)
	}
	atCPO, err := emsp.Register(ctx, cpo.VersionsURL(), pending.IncomingToken)
	if err != nil {
		t.Fatal(err)
	}
	peers, err := cpoStore.Peers(ctx)
	if err != nil || len(peers) != 1 {
		t.Fatalf("the CPO has %d peers (%v)", len(peers), err)
	}
	emspToken, cpoToken := atCPO.OutgoingToken, peers[0].OutgoingToken

	location := func(id, name string, at time.Time) string {
		return fmt.Sprintf(`{"country_code":"ES","party_id":"CPO","id":%q,"publish":true,"name":%q,"address":"Gran Vía 1","city":"Madrid","country":"ESP","coordinates":{"latitude":"40.41999","longitude":"-3.70379"},"time_zone":"Europe/Madrid","last_updated":%q}`,
			id, name, ocpi.NewDateTime(at).String())
	}
	for i := 1; i <= 4; i++ {
		loc, err := ocpi.DecodeLocation([]byte(location(fmt.Sprintf("MAD-%d", i), fmt.Sprintf("Madrid %d", i), ocpiLocationsEpoch.Add(time.Duration(i)*time.Minute))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cpoLocs.PutLocation(ctx, cpoParty.Party(), loc); err != nil {
			t.Fatal(err)
		}
	}
	cpoLocs.Wait()

	// The eMSP pulls the CPO's list, two per page.
	code, out, errOut := openev(t, "ocpi", "--token", emspToken, "list", "--versions-url", cpo.VersionsURL(), "--module", "locations", "--limit", "2", "--from", "NL-EMS", "--to", "ES-CPO")
	wantOCPIExit(t, code, out, errOut, 0)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `MAD-1  2026-03-01T08:01:00Z  party=ES-CPO  name="Madrid 1"  address="Gran Vía 1, Madrid, ESP"`) ||
		!strings.HasPrefix(lines[3], "MAD-4  ") || !strings.Contains(errOut, "list: 4 objects in 2 pages (X-Total-Count 4)") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}

	// The CPO pushes a new location to the eMSP's Receiver, then patches it.
	cpoRun := func(args ...string) (int, string, string) {
		return openev(t, append([]string{"ocpi", "--token", cpoToken, "--from", "ES-CPO", "--to", "NL-EMS"}, args...)...)
	}
	target := []string{"--versions-url", emsp.VersionsURL(), "--module", "locations", "ES", "CPO", "MAD-9"}
	code, out, errOut = cpoRun(append([]string{"put", "--data", location("MAD-9", "Madrid 9", ocpiLocationsEpoch)}, target...)...)
	wantOCPIExit(t, code, out, errOut, 0)
	if !strings.Contains(out, "OK (HTTP 201, status_code 1000)") {
		t.Errorf("a PUT that creates should be answered 201:\n%s", out)
	}
	code, out, errOut = cpoRun(append([]string{"patch", "--data", `{"name":"Madrid nueve","last_updated":"2026-03-01T09:00:00Z"}`}, target...)...)
	wantOCPIExit(t, code, out, errOut, 0)
	got, err := emspLocs.ReceivedLocation(ctx, cpoParty.Party(), "MAD-9")
	if err != nil || got.Name != "Madrid nueve" || got.LastUpdated.String() != "2026-03-01T09:00:00Z" || got.City != "Madrid" {
		t.Fatalf("the eMSP holds %+v (%v)", got, err)
	}

	// Forced past the local check, the receiver's own 2001 comes back.
	code, out, errOut = cpoRun(append([]string{"patch", "--force", "--data", `{"name":"x"}`}, target...)...)
	wantOCPIExit(t, code, out, errOut, exitFailed)
	if !strings.Contains(errOut, "the peer answered status_code 2001 (invalid or missing parameters, HTTP 200)") || !strings.Contains(errOut, "last_updated") {
		t.Fatalf("stderr:\n%s", errOut)
	}

	code, out, errOut = cpoRun(append([]string{"get", "--json"}, target...)...)
	wantOCPIExit(t, code, out, errOut, 0)
	var back ocpi.Location
	if err := json.Unmarshal([]byte(out), &back); err != nil || back.ID != "MAD-9" || back.Name != "Madrid nueve" {
		t.Fatalf("get: %v\n%s", err, out)
	}
}
