package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// locNode is a Node with its Locations module on a real HTTP server that
// a test can make fail, and whose PUTs of whole locations it records.
type locNode struct {
	*Node
	loc   *Locations
	srv   *httptest.Server
	store *MemoryStore

	// fail, when not 0, is the HTTP status every locations request gets
	// (without an envelope, as from a proxy before a stopped node).
	fail atomic.Int32
	hits atomic.Int32 // requests answered with fail

	mu   sync.Mutex
	puts []string // last_updated of every PUT of a whole location, in arrival order
}

func newLocNode(t *testing.T, opts LocationsOptions, parties ...CredentialsRole) *locNode {
	t.Helper()
	n := &locNode{store: NewMemoryStore()}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(n.serve))
	node, err := NewNode(Config{PublicURL: "http://" + n.srv.Listener.Addr().String(), Parties: parties, Store: n.store})
	if err != nil {
		t.Fatal(err)
	}
	n.Node = node
	n.loc = NewLocations(node, opts)
	if len(partiesServing(parties, ModuleLocations, Sender)) > 0 {
		node.Handle(n.loc.Sender())
	}
	if len(partiesServing(parties, ModuleLocations, Receiver)) > 0 {
		node.Handle(n.loc.Receiver())
	}
	n.srv.Start()
	t.Cleanup(n.srv.Close)
	t.Cleanup(n.loc.Close) // no push outlives its test
	return n
}

func (n *locNode) serve(w http.ResponseWriter, r *http.Request) {
	if status := int(n.fail.Load()); status != 0 && strings.Contains(r.URL.Path, "/locations") {
		n.hits.Add(1)
		http.Error(w, "<html>"+http.StatusText(status)+"</html>", status)
		return
	}
	if r.Method == http.MethodPut && strings.Count(strings.TrimPrefix(r.URL.Path, "/ocpi/2.2.1/receiver/locations/"), "/") == 2 {
		body, _ := io.ReadAll(r.Body)
		var l struct {
			LastUpdated string `json:"last_updated"`
		}
		_ = json.Unmarshal(body, &l)
		n.mu.Lock()
		n.puts = append(n.puts, l.LastUpdated)
		n.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	n.ServeHTTP(w, r)
}

func (n *locNode) recordedPuts() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.puts...)
}

// locPair is a CPO node (cpoA) and an eMSP node (emspB).
type locPair struct {
	cpo, emsp *locNode
	// emspAtCPO is the eMSP as the CPO's peer (its OutgoingToken calls
	// the eMSP); cpoAtEMSP the other way round.
	emspAtCPO, cpoAtEMSP Peer
}

func newLocPair(t *testing.T, opts LocationsOptions) *locPair {
	t.Helper()
	return &locPair{cpo: newLocNode(t, opts, cpoA), emsp: newLocNode(t, LocationsOptions{}, emspB)}
}

// connect registers the eMSP at the CPO with the real credentials handshake.
func (p *locPair) connect(t *testing.T) *locPair {
	t.Helper()
	ctx := context.Background()
	pending, err := p.cpo.IssueTokenA(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if p.cpoAtEMSP, err = p.emsp.Register(ctx, p.cpo.VersionsURL(), pending.IncomingToken); err != nil {
		t.Fatalf("register: %v", err)
	}
	if p.emspAtCPO, err = p.cpo.store.Peer(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *locPair) receiverURL(segments ...string) string {
	return JoinURL(p.emsp.srv.URL+"/ocpi/2.2.1/receiver/locations", segments...)
}

func (p *locPair) senderURL(segments ...string) string {
	return JoinURL(p.cpo.srv.URL+"/ocpi/2.2.1/sender/locations", segments...)
}

var (
	partyA = cpoA.Party()
	locT0  = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
)

func testConnector(id string) Connector {
	return Connector{ID: id, Standard: ConnectorIEC62196T2, Format: FormatSocket, PowerType: PowerAC3Phase, MaxVoltage: 230, MaxAmperage: 32}
}

func testEVSE(uid string) EVSE {
	return EVSE{UID: uid, EVSEID: "NL*CPA*E" + uid, Status: StatusAvailable, Connectors: []Connector{testConnector("1")}}
}

// testLocation is a valid location of cpoA with one EVSE per uid.
func testLocation(id string, at time.Time, uids ...string) Location {
	l := Location{
		ID: id, Publish: true, Name: "Stationsplein " + id, Address: "Stationsplein 1", City: "Utrecht",
		Country: "NLD", Coordinates: GeoLocation{Latitude: "52.090284", Longitude: "5.110943"},
		TimeZone: "Europe/Amsterdam", LastUpdated: NewDateTime(at),
	}
	for _, uid := range uids {
		e := testEVSE(uid)
		e.LastUpdated, e.Connectors[0].LastUpdated = l.LastUpdated, l.LastUpdated
		l.EVSEs = append(l.EVSEs, e)
	}
	return l
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (p *locPair) received(t *testing.T, id string) Location {
	t.Helper()
	got, err := p.emsp.loc.ReceivedLocation(context.Background(), partyA, id)
	if err != nil {
		t.Fatalf("the eMSP has no location %q: %v", id, err)
	}
	return got
}

func TestPutLocationIsPushedToTheRegisteredEMSP(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	stored, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1", "E2"))
	if err != nil {
		t.Fatal(err)
	}
	if stored.CountryCode != "NL" || stored.PartyID != "CPA" || stored.EVSEs[1].LastUpdated.IsZero() || stored.EVSEs[1].Connectors[0].LastUpdated.IsZero() {
		t.Fatalf("owner or children's last_updated not filled in: %+v", stored)
	}
	p.cpo.loc.Wait()
	if got := p.received(t, "loc1"); mustJSON(t, got) != mustJSON(t, stored) {
		t.Fatalf("the eMSP has\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, stored))
	}
	list, total, err := p.emsp.loc.Received(ctx, ObjectFilter{})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != "LOC1" {
		t.Fatalf("Received = %v, %d, %v", list, total, err)
	}
	// The CPO's own store has it as Owned, the eMSP's as Received only.
	if own, _, _ := p.emsp.loc.List(ctx, ObjectFilter{}); len(own) != 0 {
		t.Fatalf("the eMSP lists the pushed location as its own: %v", own)
	}
	if _, err := p.cpo.loc.Location(ctx, partyA, "Loc1"); err != nil {
		t.Fatal(err)
	}
}

func TestEVSEStatusChangeIsPushedWithLastUpdatedPropagated(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1", "E2")); err != nil {
		t.Fatal(err)
	}
	t1 := locT0.Add(time.Hour)
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "loc1", "e2", StatusCharging, t1); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	got := p.received(t, "LOC1")
	e, _ := got.EVSE("E2")
	if e.Status != StatusCharging || !e.LastUpdated.Equal(t1) || !got.LastUpdated.Equal(t1) {
		t.Fatalf("eMSP sees EVSE %s at %s, location at %s; want CHARGING at %s for both", e.Status, e.LastUpdated, got.LastUpdated, t1)
	}
	if other, _ := got.EVSE("E1"); other.Status != StatusAvailable || !other.LastUpdated.Equal(locT0) {
		t.Fatalf("the other EVSE changed: %+v", other)
	}

	// The same status again, or a late notification, changes nothing.
	puts := len(p.emsp.recordedPuts())
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E2", StatusCharging, t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	late, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E2", StatusAvailable, t1.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	if e, _ := late.EVSE("E2"); e.Status != StatusCharging || len(p.emsp.recordedPuts()) != puts {
		t.Fatalf("a repeated or late status was stored or pushed: %s, %d pushes after %d", e.Status, len(p.emsp.recordedPuts()), puts)
	}
}

func TestConnectorAndEVSEChangesArePushed(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	t1 := locT0.Add(time.Hour)
	e2 := testEVSE("E2")
	e2.LastUpdated = NewDateTime(t1)
	if _, err := p.cpo.loc.PutEVSE(ctx, partyA, "LOC1", e2); err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(time.Hour)
	c := testConnector("2")
	c.LastUpdated = NewDateTime(t2)
	if _, err := p.cpo.loc.PutConnector(ctx, partyA, "LOC1", "E2", c); err != nil {
		t.Fatal(err)
	}
	t3 := t2.Add(time.Hour)
	if _, err := p.cpo.loc.PatchConnector(ctx, partyA, "LOC1", "e2", "2", []byte(`{"max_amperage": 16, "last_updated": "`+NewDateTime(t3).String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.PatchEVSE(ctx, partyA, "LOC1", "E1", []byte(`{"floor_level": "-1"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.PatchLocation(ctx, partyA, "LOC1", []byte(`{"name": "Renamed"}`)); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	got := p.received(t, "LOC1")
	e, ok := got.EVSE("E2")
	if !ok || len(e.Connectors) != 2 || e.Connectors[1].MaxAmperage != 16 || !e.LastUpdated.Equal(t3) {
		t.Fatalf("eMSP has EVSE E2 %+v", e)
	}
	if e1, _ := got.EVSE("E1"); e1.FloorLevel != "-1" || got.Name != "Renamed" || !got.LastUpdated.After(t3) {
		t.Fatalf("eMSP has %+v", got)
	}
}

func TestRemoveLocationMarksEveryEVSERemovedAtTheEMSP(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1", "E2")); err != nil {
		t.Fatal(err)
	}
	removed, err := p.cpo.loc.RemoveLocation(ctx, partyA, "LOC1")
	if err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	got := p.received(t, "LOC1")
	if len(got.EVSEs) != 2 || !got.LastUpdated.Equal(removed.LastUpdated.Time) || !got.LastUpdated.After(locT0) {
		t.Fatalf("eMSP has %+v", got)
	}
	for _, e := range got.EVSEs {
		if e.Status != StatusRemoved || !e.LastUpdated.Equal(got.LastUpdated.Time) {
			t.Fatalf("EVSE %s is %s at %s", e.UID, e.Status, e.LastUpdated)
		}
	}
	// It stays in the CPO's list, so a pulling eMSP learns of it too.
	if _, total, _ := p.cpo.loc.List(ctx, ObjectFilter{}); total != 1 {
		t.Fatalf("the CPO lists %d locations after removal", total)
	}
	if _, err := p.cpo.loc.RemoveLocation(ctx, partyA, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing an unknown location: %v", err)
	}
}

func TestOwnedChangesAreValidatedAndLimitedToOurCPOParties(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	bad := testLocation("LOC1", locT0, "E1")
	bad.EVSEs[0].Connectors[0].MaxVoltage = 0
	_, err := p.cpo.loc.PutLocation(ctx, partyA, bad)
	if e := AsError(err); e.Code != StatusInvalidParameters || !strings.Contains(e.Message, "evses[0].connectors[0].max_voltage") {
		t.Fatalf("invalid location: %v", err)
	}
	if _, err := p.cpo.loc.PutLocation(ctx, emspB.Party(), testLocation("LOC1", locT0, "E1")); err == nil {
		t.Fatal("stored a location for the eMSP's party")
	}
	other := testLocation("LOC1", locT0, "E1")
	other.CountryCode, other.PartyID = "DE", "XYZ"
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, other); AsError(err).Code != StatusInvalidParameters {
		t.Fatalf("location of another party: %v", err)
	}
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E9", StatusCharging, locT0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("status of an unknown EVSE: %v", err)
	}
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E1", "PARKED", locT0); AsError(err).Code != StatusInvalidParameters {
		t.Fatalf("unknown status: %v", err)
	}
	if _, err := p.cpo.loc.PatchEVSE(ctx, partyA, "LOC1", "E1", []byte(`{"status": "SLEEPING"}`)); AsError(err).Code != StatusInvalidParameters {
		t.Fatalf("patch to an invalid status: %v", err)
	}
	p.cpo.loc.Wait()
	if got := p.received(t, "LOC1"); got.EVSEs[0].Status != StatusAvailable || len(p.emsp.recordedPuts()) != 1 {
		t.Fatalf("a rejected change reached the eMSP: %+v, %d pushes", got.EVSEs[0], len(p.emsp.recordedPuts()))
	}
}

func TestSenderGetsOneLocationEVSEOrConnectorIgnoringCase(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	auth := tok(p.cpoAtEMSP.OutgoingToken)

	var loc Location
	r := get(t, p.senderURL("loc1"), auth)
	r.want(t, http.StatusOK, StatusSuccess)
	r.decode(t, &loc)
	if loc.ID != "LOC1" || len(loc.EVSEs) != 1 {
		t.Fatalf("GET location = %+v", loc)
	}
	var e EVSE
	r = get(t, p.senderURL("LOC1", "e1"), auth)
	r.want(t, http.StatusOK, StatusSuccess)
	r.decode(t, &e)
	if e.UID != "E1" || e.EVSEID != "NL*CPA*EE1" {
		t.Fatalf("GET EVSE = %+v", e)
	}
	var c Connector
	r = get(t, p.senderURL("Loc1", "E1", "1"), auth)
	r.want(t, http.StatusOK, StatusSuccess)
	r.decode(t, &c)
	if c.ID != "1" || c.Standard != ConnectorIEC62196T2 {
		t.Fatalf("GET connector = %+v", c)
	}

	for _, path := range [][]string{{"LOC2"}, {"LOC1", "E2"}, {"LOC1", "E1", "2"}} {
		r := get(t, p.senderURL(path...), auth)
		r.want(t, http.StatusNotFound, StatusUnknownLocation)
		if !strings.Contains(r.StatusMessage, path[len(path)-1]) {
			t.Fatalf("GET %v: message %q does not name what is unknown", path, r.StatusMessage)
		}
	}
	get(t, p.senderURL("LOC1", "E1", "1", "x"), auth).want(t, http.StatusNotFound, StatusClientError)
	call(t, http.MethodPut, p.senderURL("LOC1"), auth, loc).want(t, http.StatusMethodNotAllowed, StatusClientError)
}

// Pull follows every page of the CPO's list, with the date window.
func TestEMSPPullsTheCPOsListOverSeveralPagesWithDateFilters(t *testing.T) {
	p := newLocPair(t, LocationsOptions{})
	ctx := context.Background()
	// Stored before the eMSP registers, so nothing is pushed.
	for i, id := range []string{"L0", "L1", "L2", "L3", "L4", "L5"} {
		if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation(id, locT0.Add(time.Duration(i)*time.Minute), "E1")); err != nil {
			t.Fatal(err)
		}
	}
	p.connect(t)
	if _, total, _ := p.emsp.loc.Received(ctx, ObjectFilter{}); total != 0 {
		t.Fatalf("pushed before registration: %d", total)
	}

	// What the sender answers: a page, its total and the next link.
	auth := tok(p.cpoAtEMSP.OutgoingToken)
	r := get(t, p.senderURL()+"?limit=2&date_from=2026-11-02T10:01:00Z&date_to=2026-11-02T10:05:00Z", auth)
	r.want(t, http.StatusOK, StatusSuccess)
	var page []Location
	r.decode(t, &page)
	if len(page) != 2 || page[0].ID != "L1" || page[1].ID != "L2" || r.Header.Get(HeaderTotalCount) != "4" || r.Header.Get(HeaderLimit) != "2" {
		t.Fatalf("first page: %d items, total %q, limit %q", len(page), r.Header.Get(HeaderTotalCount), r.Header.Get(HeaderLimit))
	}
	if link := r.Header.Get("Link"); !strings.HasPrefix(link, "<"+p.senderURL()+"?") || !strings.Contains(link, "offset=2") || !strings.Contains(link, "date_to=") {
		t.Fatalf("Link %q", link)
	}

	n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{From: locT0.Add(time.Minute), To: locT0.Add(5 * time.Minute), Limit: 2})
	if err != nil || n != 4 {
		t.Fatalf("Pull = %d, %v; want 4", n, err)
	}
	got, total, err := p.emsp.loc.Received(ctx, ObjectFilter{})
	if err != nil || total != 4 || got[0].ID != "L1" || got[3].ID != "L4" {
		t.Fatalf("Received = %v, %d, %v", got, total, err)
	}
	// A full pull adds the rest.
	if n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{Limit: 4}); err != nil || n != 6 {
		t.Fatalf("full Pull = %d, %v", n, err)
	}
}

func TestPullKeepsANewerPushedVersion(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	// The eMSP got a newer version pushed than the CPO's list has (as when a
	// push overtakes a pull in progress).
	newer := testLocation("LOC1", locT0.Add(time.Hour), "E1")
	newer.CountryCode, newer.PartyID, newer.Name = "NL", "CPA", "Newer"
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), tok(p.emspAtCPO.OutgoingToken), newer).want(t, http.StatusOK, StatusSuccess)
	if n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err != nil || n != 0 {
		t.Fatalf("Pull = %d, %v; want 0 stored", n, err)
	}
	if got := p.received(t, "LOC1"); got.Name != "Newer" {
		t.Fatalf("the pull replaced a newer version: %q", got.Name)
	}
}

func TestReceiverRejectsBadPushesAndStoresNothing(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	auth := tok(p.emspAtCPO.OutgoingToken)
	good := testLocation("LOC1", locT0, "E1")
	good.CountryCode, good.PartyID = "NL", "CPA"
	withoutAddress := strings.Replace(mustJSON(t, good), `"address":"Stationsplein 1",`, "", 1)
	otherParty := good
	otherParty.PartyID = "XYZ"

	for _, c := range []struct {
		name       string
		method     string
		path       []string
		body       any
		httpStatus int
		code       int
		mention    string
	}{
		{"invalid JSON", http.MethodPut, []string{"NL", "CPA", "LOC1"}, `{"id": "LOC1",`, 400, StatusClientError, "JSON"},
		{"missing field", http.MethodPut, []string{"NL", "CPA", "LOC1"}, withoutAddress, 200, StatusInvalidParameters, "address"},
		{"id mismatch", http.MethodPut, []string{"NL", "CPA", "LOC2"}, good, 200, StatusInvalidParameters, "location_id"},
		{"body party differs from URL", http.MethodPut, []string{"NL", "CPA", "LOC1"}, otherParty, 200, StatusInvalidParameters, "party_id"},
		{"party not the pusher's", http.MethodPut, []string{"NL", "XYZ", "LOC1"}, otherParty, 404, StatusInvalidParameters, "NL-XYZ"},
		{"malformed party", http.MethodPut, []string{"NLD", "CPA", "LOC1"}, good, 200, StatusInvalidParameters, "country_code"},
		{"EVSE for unknown location", http.MethodPut, []string{"NL", "CPA", "LOC1", "E1"}, testEVSE("E1"), 404, StatusUnknownLocation, "LOC1"},
		{"PATCH of unknown location", http.MethodPatch, []string{"NL", "CPA", "LOC1"}, `{"name": "x", "last_updated": "2026-11-02T10:00:00Z"}`, 404, StatusUnknownLocation, "LOC1"},
		{"empty body", http.MethodPut, []string{"NL", "CPA", "LOC1"}, "", 400, StatusClientError, "empty"},
		{"no location id", http.MethodPut, []string{"NL", "CPA"}, good, 404, StatusClientError, "location_id"},
		{"DELETE", http.MethodDelete, []string{"NL", "CPA", "LOC1"}, nil, 405, StatusClientError, "PATCH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, c.method, p.receiverURL(c.path...), auth, c.body)
			r.want(t, c.httpStatus, c.code)
			if !strings.Contains(r.StatusMessage, c.mention) {
				t.Fatalf("message %q does not mention %q", r.StatusMessage, c.mention)
			}
		})
	}
	if _, total, _ := p.emsp.loc.Received(context.Background(), ObjectFilter{}); total != 0 {
		t.Fatalf("a rejected push was stored: %d locations", total)
	}
}

func TestReceiverPutAndPatchOfEachLevel(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	auth := tok(p.emspAtCPO.OutgoingToken)
	loc := testLocation("LOC1", locT0, "E1")
	loc.CountryCode, loc.PartyID = "NL", "CPA"
	// Spec: 201 for a new object, 200 for a replaced one.
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, loc).want(t, http.StatusCreated, StatusSuccess)
	call(t, http.MethodPut, p.receiverURL("nl", "cpa", "loc1"), auth, loc).want(t, http.StatusOK, StatusSuccess)

	t1 := NewDateTime(locT0.Add(time.Hour))
	e2 := testEVSE("E2")
	e2.Connectors[0].LastUpdated, e2.LastUpdated = t1, t1
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1", "E2"), auth, e2).want(t, http.StatusCreated, StatusSuccess)
	if got := p.received(t, "LOC1"); !got.LastUpdated.Equal(t1.Time) || len(got.EVSEs) != 2 {
		t.Fatalf("after PUT EVSE: location at %s with %d EVSEs", got.LastUpdated, len(got.EVSEs))
	}
	wrongUID := testEVSE("E3")
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1", "E2"), auth, wrongUID).want(t, http.StatusOK, StatusInvalidParameters)

	// The spec's status update example, then a connector's tariff.
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "CHARGING", "last_updated": "2026-11-02T12:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1", "1"), auth, `{"tariff_ids": ["T1"], "last_updated": "2026-11-02T13:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	got := p.received(t, "LOC1")
	e1, _ := got.EVSE("E1")
	t3 := time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)
	if e1.Status != StatusCharging || e1.Connectors[0].TariffIDs[0] != "T1" || !e1.LastUpdated.Equal(t3) || !got.LastUpdated.Equal(t3) {
		t.Fatalf("after PATCHes: EVSE %s at %s, tariffs %v, location at %s", e1.Status, e1.LastUpdated, e1.Connectors[0].TariffIDs, got.LastUpdated)
	}

	r := call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "AVAILABLE"}`)
	r.want(t, http.StatusOK, StatusInvalidParameters)
	if !strings.Contains(r.StatusMessage, "last_updated") {
		t.Fatalf("PATCH without last_updated: %q", r.StatusMessage)
	}
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "SLEEPING", "last_updated": "2026-11-02T14:00:00Z"}`).want(t, http.StatusOK, StatusInvalidParameters)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E9"), auth, `{"status": "AVAILABLE", "last_updated": "2026-11-02T14:00:00Z"}`).want(t, http.StatusNotFound, StatusUnknownLocation)
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1", "E9", "1"), auth, testConnector("1")).want(t, http.StatusNotFound, StatusUnknownLocation)
	after := p.received(t, "LOC1")
	if e1, _ := after.EVSE("E1"); e1.Status != StatusCharging {
		t.Fatalf("a rejected PATCH changed the EVSE: %s", e1.Status)
	}

	// The CPO may read back what the eMSP holds.
	var e EVSE
	r = get(t, p.receiverURL("NL", "CPA", "LOC1", "e1"), auth)
	r.want(t, http.StatusOK, StatusSuccess)
	r.decode(t, &e)
	if e.Status != StatusCharging {
		t.Fatalf("GET EVSE at the eMSP = %+v", e)
	}
	get(t, p.receiverURL("NL", "CPA", "LOC2"), auth).want(t, http.StatusNotFound, StatusUnknownLocation)
}

func TestPushToADownEMSPIsRetriedBoundedThenThePullGetsIt(t *testing.T) {
	p := newLocPair(t, LocationsOptions{PushRetries: 2, PushBackoff: 5 * time.Millisecond}).connect(t)
	ctx := context.Background()
	p.emsp.fail.Store(http.StatusServiceUnavailable)
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	if hits := p.emsp.hits.Load(); hits != 3 {
		t.Fatalf("%d push attempts; want 1 + 2 retries", hits)
	}
	if _, err := p.emsp.loc.ReceivedLocation(ctx, partyA, "LOC1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the eMSP has the location although it was down: %v", err)
	}
	p.emsp.fail.Store(0)
	if n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err != nil || n != 1 {
		t.Fatalf("Pull = %d, %v", n, err)
	}
	p.received(t, "LOC1")
}

func TestPushRefusedByTheEMSPIsNotRetried(t *testing.T) {
	p := newLocPair(t, LocationsOptions{PushRetries: 3, PushBackoff: time.Millisecond}).connect(t)
	p.emsp.fail.Store(http.StatusUnauthorized)
	if _, err := p.cpo.loc.PutLocation(context.Background(), partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	if hits := p.emsp.hits.Load(); hits != 1 {
		t.Fatalf("%d attempts after a 401; want 1 (the same request meets the same refusal)", hits)
	}
}

func TestPushesOfOneLocationArriveInOrder(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	statuses := []Status{StatusCharging, StatusAvailable}
	var last Location
	for i := 1; i <= 30; i++ {
		var err error
		if last, err = p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E1", statuses[i%2], locT0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	p.cpo.loc.Wait()
	puts := p.emsp.recordedPuts()
	for i := 1; i < len(puts); i++ {
		if puts[i] <= puts[i-1] {
			t.Fatalf("push %d (%s) arrived after push %d (%s): %v", i, puts[i], i-1, puts[i-1], puts)
		}
	}
	if len(puts) == 0 || puts[len(puts)-1] != last.LastUpdated.String() {
		t.Fatalf("last push %v; want %s", puts, last.LastUpdated)
	}
	if got := p.received(t, "LOC1"); got.EVSEs[0].Status != last.EVSEs[0].Status {
		t.Fatalf("eMSP ends with %s, CPO with %s", got.EVSEs[0].Status, last.EVSEs[0].Status)
	}
}

// A push waiting to retry gives way to a newer version at once: the older
// one is never sent after it, and nobody waits for the backoff.
func TestNewerChangeSupersedesAPushWaitingToRetry(t *testing.T) {
	p := newLocPair(t, LocationsOptions{PushRetries: 5, PushBackoff: time.Hour}).connect(t)
	ctx := context.Background()
	p.emsp.fail.Store(http.StatusServiceUnavailable)
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.emsp.hits.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first push never came")
		}
		time.Sleep(time.Millisecond)
	}
	p.emsp.fail.Store(0)
	newer, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E1", StatusCharging, locT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.cpo.loc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait is stuck in the backoff of the superseded push")
	}
	if puts := p.emsp.recordedPuts(); len(puts) != 1 || puts[0] != newer.LastUpdated.String() {
		t.Fatalf("pushes that arrived: %v; want only %s", puts, newer.LastUpdated)
	}
}

func TestPushGoesOnlyToRegisteredReceivers(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	// A second CPO registered at our CPO has no locations receiver and is
	// no eMSP: it gets nothing. An unregistered eMSP gets nothing either.
	other := newLocNode(t, LocationsOptions{}, role(RoleCPO, "BE", "CPB", "Other CPO"))
	pending, err := p.cpo.IssueTokenA(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Register(ctx, p.cpo.VersionsURL(), pending.IncomingToken); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	p.received(t, "LOC1")
	if _, total, _ := other.loc.Received(ctx, ObjectFilter{}); total != 0 {
		t.Fatal("a CPO peer received our location")
	}
	if _, err := p.cpo.Unregister(ctx, p.emspAtCPO.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E1", StatusCharging, locT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	got := p.received(t, "LOC1")
	if e, _ := got.EVSE("E1"); e.Status != StatusAvailable {
		t.Fatalf("an unregistered eMSP got a push: %s", e.Status)
	}
}

// A platform with two CPO parties serves each party's locations to
// requests addressed to it (OCPI-to), and pushes each from its owner.
func TestSenderOfTwoCPOPartiesAnswersForTheAddressedOne(t *testing.T) {
	cpoC := role(RoleCPO, "NL", "CPC", "Gamma CPO")
	p := &locPair{cpo: newLocNode(t, LocationsOptions{}, cpoA, cpoC), emsp: newLocNode(t, LocationsOptions{}, emspB)}
	p.connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpo.loc.PutLocation(ctx, cpoC.Party(), testLocation("LOC2", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	if _, err := p.emsp.loc.ReceivedLocation(ctx, cpoC.Party(), "LOC2"); err != nil {
		t.Fatalf("the push of the second party's location: %v", err)
	}

	auth := tok(p.cpoAtEMSP.OutgoingToken)
	r := get(t, p.senderURL(), auth, HeaderToCountryCode, "NL", HeaderToPartyID, "CPC")
	r.want(t, http.StatusOK, StatusSuccess)
	var list []Location
	r.decode(t, &list)
	if len(list) != 1 || list[0].ID != "LOC2" || list[0].PartyID != "CPC" {
		t.Fatalf("list for NL-CPC = %+v", list)
	}
	get(t, p.senderURL("LOC1"), auth, HeaderToCountryCode, "NL", HeaderToPartyID, "CPC").want(t, http.StatusNotFound, StatusUnknownLocation)
	get(t, p.senderURL("LOC1"), auth, HeaderToCountryCode, "NL", HeaderToPartyID, "CPA").want(t, http.StatusOK, StatusSuccess)

	// Pull asks once per CPO party of the peer and gets both.
	if n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err != nil || n != 2 {
		t.Fatalf("Pull = %d, %v", n, err)
	}
}

func TestCloseAbandonsRetriesAndStopsPushing(t *testing.T) {
	p := newLocPair(t, LocationsOptions{PushRetries: 5, PushBackoff: time.Hour}).connect(t)
	ctx := context.Background()
	p.emsp.fail.Store(http.StatusBadGateway)
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); p.emsp.hits.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first push never came")
		}
	}
	done := make(chan struct{})
	go func() { p.cpo.loc.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the backoff of a retry")
	}
	p.emsp.fail.Store(0)
	if _, err := p.cpo.loc.SetEVSEStatus(ctx, partyA, "LOC1", "E1", StatusCharging, locT0.Add(time.Minute)); err != nil {
		t.Fatalf("a change after Close is still stored: %v", err)
	}
	p.cpo.loc.Wait()
	if hits, puts := p.emsp.hits.Load(), len(p.emsp.recordedPuts()); hits != 1 || puts != 0 {
		t.Fatalf("after Close: %d failed and %d delivered pushes; want 1 and 0", hits, puts)
	}
	// No push goroutine outlives Close.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "(*Locations).sendPushes") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a push goroutine is still running after Close:\n%s", stacks)
		}
	}
}

// A location the CPO serves that fails validation is skipped and named;
// the others of the list are stored all the same.
func TestPullSkipsAnInvalidLocationAndStoresTheRest(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	for i, id := range []string{"L1", "L2"} {
		if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation(id, locT0.Add(time.Duration(i)*time.Minute), "E1")); err != nil {
			t.Fatal(err)
		}
	}
	p.cpo.loc.Wait()
	// Written behind the module's back, as a buggy CPO would serve it.
	bad := testLocation("BAD", locT0.Add(time.Hour), "E1")
	bad.CountryCode, bad.PartyID, bad.EVSEs[0].Status = "NL", "CPA", "PARKED"
	if err := p.cpo.store.PutObject(ctx, Object{Kind: Owned, Module: ModuleLocations, Owner: partyA, ID: "BAD", LastUpdated: locT0.Add(time.Hour), Data: []byte(mustJSON(t, bad))}); err != nil {
		t.Fatal(err)
	}
	n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{Limit: 1})
	if n != 2 || err == nil || !strings.Contains(err.Error(), "BAD") || !strings.Contains(err.Error(), "evses[0].status") {
		t.Fatalf("Pull = %d, %v; want 2 stored and an error naming BAD's evses[0].status", n, err)
	}
	if _, err := p.emsp.loc.ReceivedLocation(ctx, partyA, "BAD"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the invalid location was stored: %v", err)
	}
	if _, err := p.emsp.loc.Pull(ctx, "no-such-peer", ListQuery{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pull from an unknown peer: %v", err)
	}
}

// A hub gets our locations as a Broadcast Push: OCPI-to is the hub's party.
func TestPushToAHubIsABroadcastPush(t *testing.T) {
	hubRole := role(RoleHub, "NL", "HUB", "The Hub")
	p := &locPair{cpo: newLocNode(t, LocationsOptions{}, cpoA), emsp: newLocNode(t, LocationsOptions{}, hubRole)}
	p.connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	p.received(t, "LOC1")
	if got := locationReceivers(p.emspAtCPO.Roles); len(got) != 1 || got[0] != hubRole.Party() {
		t.Fatalf("receivers of a hub peer: %v", got)
	}
}

// failingStore is a MemoryStore whose object reads fail, as a database
// that went away does.
type failingStore struct {
	*MemoryStore
}

func (failingStore) Objects(context.Context, ObjectFilter) ([]Object, int, error) {
	return nil, 0, errors.New("pq: connection to 10.0.0.7:5432 refused")
}

func (failingStore) Object(context.Context, ObjectKind, ModuleID, PartyID, string) (Object, error) {
	return Object{}, errors.New("pq: connection to 10.0.0.7:5432 refused")
}

func TestStoreFailureIs3000WithoutItsTextAndIsLogged(t *testing.T) {
	var logged strings.Builder
	var logMu sync.Mutex
	store := failingStore{NewMemoryStore()}
	srv := httptest.NewUnstartedServer(nil)
	node, err := NewNode(Config{PublicURL: "http://" + srv.Listener.Addr().String(), Parties: []CredentialsRole{cpoA}, Store: store,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logged}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	loc := NewLocations(node, LocationsOptions{})
	t.Cleanup(loc.Close)
	node.Handle(loc.Sender())
	srv.Config.Handler = node
	srv.Start()
	t.Cleanup(srv.Close)
	peer := Peer{ID: "p", Status: PeerRegistered, IncomingToken: "token-c-of-the-emsp", Roles: []CredentialsRole{emspB}}
	if err := store.SavePeer(context.Background(), peer); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"/ocpi/2.2.1/sender/locations", "/ocpi/2.2.1/sender/locations/LOC1"} {
		r := get(t, srv.URL+u, tok(peer.IncomingToken))
		r.want(t, http.StatusInternalServerError, StatusServerError)
		if strings.Contains(r.StatusMessage, "10.0.0.7") || !strings.Contains(r.StatusMessage, "try again") {
			t.Errorf("GET %s: status_message %q; want a retry hint without the store's error", u, r.StatusMessage)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logged.String(), "10.0.0.7") {
		t.Fatalf("the store's error was not logged for the operator: %q", logged.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestPutLocationWithoutAnEVSEKeepsItAsRemoved(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", locT0, "E1", "E2")); err != nil {
		t.Fatal(err)
	}
	t1 := locT0.Add(time.Hour)
	stored, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", t1, "E1"))
	if err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	for who, got := range map[string]Location{"CPO": stored, "eMSP": p.received(t, "LOC1")} {
		e2, ok := got.EVSE("E2")
		if !ok || e2.Status != StatusRemoved || !e2.LastUpdated.Equal(t1) {
			t.Fatalf("%s: EVSE E2 left out of the PUT is %+v (present %v); want it kept, REMOVED at %s", who, e2, ok, t1)
		}
		if e1, _ := got.EVSE("E1"); e1.Status != StatusAvailable || len(got.EVSEs) != 2 {
			t.Fatalf("%s: EVSEs %+v", who, got.EVSEs)
		}
	}
	// Once REMOVED, it stays so without a new stamp.
	again, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation("LOC1", t1.Add(time.Hour), "E1"))
	if err != nil {
		t.Fatal(err)
	}
	if e2, _ := again.EVSE("E2"); e2.Status != StatusRemoved || !e2.LastUpdated.Equal(t1) {
		t.Fatalf("EVSE E2 after a second PUT without it: %+v", e2)
	}
}

func TestUnpublishedLocationIsSharedWithItsVisibilityIntact(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	loc := testLocation("HOME1", locT0, "E1")
	loc.Publish = false
	loc.PublishAllowedTo = []PublishTokenType{{UID: "012345678", Type: TokenRFID}}
	if _, err := p.cpo.loc.PutLocation(ctx, partyA, loc); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	got := p.received(t, "HOME1")
	if got.Publish || len(got.PublishAllowedTo) != 1 || got.PublishAllowedTo[0].UID != "012345678" {
		t.Fatalf("the eMSP got publish=%v publish_allowed_to=%+v; want false and the token", got.Publish, got.PublishAllowedTo)
	}
	if got.VisibleTo(PublishTokenType{UID: "999"}) || !got.VisibleTo(PublishTokenType{UID: "012345678", Type: TokenRFID, Issuer: "Beta"}) {
		t.Fatal("VisibleTo does not follow publish_allowed_to")
	}
	if !testLocation("PUB", locT0).VisibleTo(PublishTokenType{}) {
		t.Fatal("a published location is not visible to everyone")
	}
}

// A complete pull is the new truth: received locations of the CPO that
// its full list lacks are retired; filtered pulls retire nothing.
func TestCompletePullRetiresReceivedLocationsTheListLacks(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	for i, id := range []string{"L1", "L2", "L3"} {
		if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation(id, locT0.Add(time.Duration(i)*time.Minute), "E1")); err != nil {
			t.Fatal(err)
		}
	}
	p.cpo.loc.Wait()
	// What the eMSP holds beyond the CPO's list, written behind the module.
	putReceived := func(owner PartyID, id string, at time.Time) {
		t.Helper()
		l := testLocation(id, at, "E1", "E2")
		l.CountryCode, l.PartyID = owner.CountryCode, owner.PartyID
		if err := p.emsp.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: owner, ID: id, LastUpdated: at, Data: []byte(mustJSON(t, l))}); err != nil {
			t.Fatal(err)
		}
	}
	otherCPO := PartyID{CountryCode: "BE", PartyID: "OTH"}
	putReceived(partyA, "GONE", locT0)
	putReceived(partyA, "FRESH", time.Now()) // created during the pull, say
	putReceived(otherCPO, "ELSEWHERE", locT0)

	wantEVSEs := func(id string, owner PartyID, status Status, at time.Time) {
		t.Helper()
		got, err := p.emsp.loc.ReceivedLocation(ctx, owner, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got.EVSEs {
			if e.Status != status {
				t.Fatalf("location %s: EVSE %s is %s, want %s", id, e.UID, e.Status, status)
			}
		}
		if !got.LastUpdated.Equal(at) {
			t.Fatalf("location %s: last_updated %s, want %s kept", id, got.LastUpdated, at)
		}
	}
	// Filtered pulls are not the whole truth.
	for _, q := range []ListQuery{{From: locT0}, {To: locT0.Add(time.Hour)}, {Offset: 1}} {
		if _, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, q); err != nil {
			t.Fatal(err)
		}
		wantEVSEs("GONE", partyA, StatusAvailable, locT0)
	}
	// The complete list, over several pages.
	if _, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	wantEVSEs("GONE", partyA, StatusRemoved, locT0)
	wantEVSEs("L2", partyA, StatusAvailable, locT0.Add(time.Minute))
	wantEVSEs("ELSEWHERE", otherCPO, StatusAvailable, locT0)
	fresh, _ := p.emsp.loc.ReceivedLocation(ctx, partyA, "FRESH")
	if fresh.EVSEs[0].Status != StatusAvailable {
		t.Fatal("a location newer than PullRetireMargin was retired")
	}
	// The CPO lists it again, unchanged: the next pull restores it.
	gone := testLocation("GONE", locT0, "E1", "E2")
	gone.CountryCode, gone.PartyID = "NL", "CPA"
	if err := p.cpo.store.PutObject(ctx, Object{Kind: Owned, Module: ModuleLocations, Owner: partyA, ID: "GONE", LastUpdated: locT0, Data: []byte(mustJSON(t, gone))}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err != nil {
		t.Fatal(err)
	}
	wantEVSEs("GONE", partyA, StatusAvailable, locT0)
}

// A pull that skipped an invalid location does not know the whole truth.
func TestPullThatSkippedALocationRetiresNothing(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	ctx := context.Background()
	bad := testLocation("BAD", locT0, "E1")
	bad.CountryCode, bad.PartyID, bad.EVSEs[0].Status = "NL", "CPA", "PARKED"
	if err := p.cpo.store.PutObject(ctx, Object{Kind: Owned, Module: ModuleLocations, Owner: partyA, ID: "BAD", LastUpdated: locT0, Data: []byte(mustJSON(t, bad))}); err != nil {
		t.Fatal(err)
	}
	old := testLocation("OLD", locT0, "E1")
	old.CountryCode, old.PartyID = "NL", "CPA"
	if err := p.emsp.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: partyA, ID: "OLD", LastUpdated: locT0, Data: []byte(mustJSON(t, old))}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err == nil {
		t.Fatal("Pull did not report the invalid location")
	}
	if got, _ := p.emsp.loc.ReceivedLocation(ctx, partyA, "OLD"); got.EVSEs[0].Status != StatusAvailable {
		t.Fatalf("OLD was retired after an incomplete pull: %s", got.EVSEs[0].Status)
	}
}

// Putting the same data again (as a CSMS re-syncing its charge points
// does, without timestamps) must not move last_updated nor push; a change
// of one connector moves only it and its parents.
func TestPutLocationOfUnchangedDataKeepsLastUpdatedAndDoesNotPush(t *testing.T) {
	clk := &clock{t: locT0}
	p := &locPair{cpo: newLocNode(t, LocationsOptions{Now: clk.Now}, cpoA), emsp: newLocNode(t, LocationsOptions{}, emspB)}
	p.connect(t)
	ctx := context.Background()
	unstamped := func() Location {
		l := testLocation("LOC1", locT0, "E1", "E2")
		l.LastUpdated = DateTime{}
		for i := range l.EVSEs {
			l.EVSEs[i].LastUpdated, l.EVSEs[i].Connectors[0].LastUpdated = DateTime{}, DateTime{}
		}
		return l
	}
	first, err := p.cpo.loc.PutLocation(ctx, partyA, unstamped())
	if err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	pushes := len(p.emsp.recordedPuts())
	clk.Advance(time.Hour)
	again, err := p.cpo.loc.PutLocation(ctx, partyA, unstamped())
	if err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	if mustJSON(t, again) != mustJSON(t, first) || len(p.emsp.recordedPuts()) != pushes {
		t.Fatalf("the same data again gave\n%s\n(first %s) and %d pushes after %d", mustJSON(t, again), mustJSON(t, first), len(p.emsp.recordedPuts()), pushes)
	}

	clk.Advance(time.Hour)
	changed := unstamped()
	changed.EVSEs[1].Connectors[0].MaxAmperage = 16
	got, err := p.cpo.loc.PutLocation(ctx, partyA, changed)
	if err != nil {
		t.Fatal(err)
	}
	t2 := locT0.Add(2 * time.Hour)
	e1, _ := got.EVSE("E1")
	e2, _ := got.EVSE("E2")
	if !got.LastUpdated.Equal(t2) || !e2.LastUpdated.Equal(t2) || !e2.Connectors[0].LastUpdated.Equal(t2) ||
		!e1.LastUpdated.Equal(locT0) || !e1.Connectors[0].LastUpdated.Equal(locT0) {
		t.Fatalf("after changing E2's connector: location %s, E1 %s/%s, E2 %s/%s; want E2, its connector and the location at %s, E1 at %s",
			got.LastUpdated, e1.LastUpdated, e1.Connectors[0].LastUpdated, e2.LastUpdated, e2.Connectors[0].LastUpdated, t2, locT0)
	}
	p.cpo.loc.Wait()
	if len(p.emsp.recordedPuts()) != pushes+1 {
		t.Fatalf("%d pushes after the change, want %d", len(p.emsp.recordedPuts()), pushes+1)
	}

	// Leaving out E2 retires it once; leaving it out again is no change.
	clk.Advance(time.Hour)
	without := unstamped()
	without.EVSEs = without.EVSEs[:1]
	retired, err := p.cpo.loc.PutLocation(ctx, partyA, without)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	still, err := p.cpo.loc.PutLocation(ctx, partyA, without)
	if err != nil {
		t.Fatal(err)
	}
	if e2, _ := retired.EVSE("E2"); e2.Status != StatusRemoved || mustJSON(t, still) != mustJSON(t, retired) {
		t.Fatalf("retired %s, then %s", mustJSON(t, retired), mustJSON(t, still))
	}
}

// A CPO that PUTs a Location without one of its EVSEs breaks the rule
// that EVSEs are never deleted; the receiver keeps the EVSE, REMOVED.
func TestReceiverKeepsAnEVSELeftOutOfAPutLocationAsRemoved(t *testing.T) {
	p := newLocPair(t, LocationsOptions{}).connect(t)
	auth := tok(p.emspAtCPO.OutgoingToken)
	loc := testLocation("LOC1", locT0, "E1", "E2")
	loc.CountryCode, loc.PartyID = "NL", "CPA"
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, loc).want(t, http.StatusCreated, StatusSuccess)
	t1 := locT0.Add(time.Hour)
	smaller := testLocation("LOC1", t1, "E1")
	smaller.CountryCode, smaller.PartyID = "NL", "CPA"
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, smaller).want(t, http.StatusOK, StatusSuccess)
	got := p.received(t, "LOC1")
	e2, ok := got.EVSE("E2")
	if !ok || e2.Status != StatusRemoved || !e2.LastUpdated.Equal(t1) || len(got.EVSEs) != 2 {
		t.Fatalf("after a PUT without E2 the eMSP has %s", mustJSON(t, got))
	}
}

// A peer that is CPO and eMSP pushes locations of its CPO party only: its
// eMSP party owns none.
func TestReceiverRefusesLocationsOfAPeersNonCPOParty(t *testing.T) {
	emspX := role(RoleEMSP, "NL", "EMX", "Alpha eMSP")
	p := &locPair{cpo: newLocNode(t, LocationsOptions{}, cpoA, emspX), emsp: newLocNode(t, LocationsOptions{}, emspB)}
	p.connect(t)
	auth := tok(p.emspAtCPO.OutgoingToken)
	loc := testLocation("LOC1", locT0, "E1")
	loc.CountryCode, loc.PartyID = "NL", "EMX"
	r := call(t, http.MethodPut, p.receiverURL("NL", "EMX", "LOC1"), auth, loc, HeaderFromCountryCode, "NL", HeaderFromPartyID, "EMX")
	r.want(t, http.StatusNotFound, StatusInvalidParameters)
	if !strings.Contains(r.StatusMessage, "NL-CPA") {
		t.Fatalf("status_message %q does not name the peer's CPO party", r.StatusMessage)
	}
	if _, err := p.emsp.loc.ReceivedLocation(context.Background(), PartyID{CountryCode: "NL", PartyID: "EMX"}, "LOC1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the location was stored: %v", err)
	}
	loc.CountryCode, loc.PartyID = "NL", "CPA"
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, loc).want(t, http.StatusCreated, StatusSuccess)
}
