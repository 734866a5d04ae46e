package ocpi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// receivedLog records the OnReceived calls of an eMSP's Locations module,
// each as "owner id status-of-each-EVSE", and whether the module's write
// lock was free during the call.
type receivedLog struct {
	mu     sync.Mutex
	l      *Locations // set once the module exists
	calls  []string
	locked bool
}

func (r *receivedLog) onReceived(ctx context.Context, owner PartyID, loc Location) {
	free := r.l.writeMu.TryLock()
	if free {
		r.l.writeMu.Unlock()
	}
	stored, err := r.l.ReceivedLocation(ctx, owner, loc.ID)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.locked = r.locked || !free
	var st []string
	for _, e := range loc.EVSEs {
		st = append(st, e.UID+"="+string(e.Status))
	}
	call := fmt.Sprintf("%s %s %s", owner, loc.ID, strings.Join(st, ","))
	a, _ := jsonMarshal(stored)
	b, _ := jsonMarshal(loc)
	if err != nil || string(a) != string(b) {
		call += " (not as stored)"
	}
	r.calls = append(r.calls, call)
}

// take returns the calls since the last take.
func (r *receivedLog) take(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.locked {
		t.Fatal("OnReceived was called with the module's write lock held")
	}
	c := r.calls
	r.calls = nil
	return c
}

func wantCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("OnReceived calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// newWatchedPair is a locPair whose eMSP reports to a receivedLog.
func newWatchedPair(t *testing.T) (*locPair, *receivedLog) {
	t.Helper()
	rec := &receivedLog{}
	p := &locPair{cpo: newLocNode(t, LocationsOptions{}, cpoA), emsp: newLocNode(t, LocationsOptions{OnReceived: rec.onReceived}, emspB)}
	rec.l = p.emsp.loc
	return p, rec
}

// watchedPairWithLOC1 is a connected watched pair whose eMSP received
// location NL-CPA LOC1 (one EVSE, E1) by a PUT from the CPO; rec still
// holds that call. auth is the CPO's header at the eMSP.
func watchedPairWithLOC1(t *testing.T) (p *locPair, rec *receivedLog, auth string, loc Location) {
	t.Helper()
	p, rec = newWatchedPair(t)
	p.connect(t)
	auth = tok(p.emspAtCPO.OutgoingToken)
	loc = testLocation("LOC1", locT0, "E1")
	loc.CountryCode, loc.PartyID = "NL", "CPA"
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, loc).want(t, http.StatusCreated, StatusSuccess)
	return p, rec, auth, loc
}

func TestOnReceivedSeesEveryStoredPushAtEachLevelAndNoRefusedOne(t *testing.T) {
	p, rec, auth, loc := watchedPairWithLOC1(t)
	wantCalls(t, rec.take(t), "NL-CPA LOC1 E1=AVAILABLE")

	e2 := testEVSE("E2")
	e2.LastUpdated, e2.Connectors[0].LastUpdated = NewDateTime(locT0.Add(time.Hour)), NewDateTime(locT0.Add(time.Hour))
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1", "E2"), auth, e2).want(t, http.StatusCreated, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "CHARGING", "last_updated": "2026-11-02T12:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1", "1"), auth, `{"tariff_ids": ["T1"], "last_updated": "2026-11-02T13:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("nl", "cpa", "LOC1"), auth, `{"name": "Renamed", "last_updated": "2026-11-02T14:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	wantCalls(t, rec.take(t),
		"NL-CPA LOC1 E1=AVAILABLE,E2=AVAILABLE",
		"NL-CPA LOC1 E1=CHARGING,E2=AVAILABLE",
		"NL-CPA LOC1 E1=CHARGING,E2=AVAILABLE",
		"NL-CPA LOC1 E1=CHARGING,E2=AVAILABLE")
	if got := p.received(t, "LOC1"); got.Name != "Renamed" {
		t.Fatalf("name %q after the PATCH", got.Name)
	}

	// Refused writes store nothing and call nothing.
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "AVAILABLE"}`).want(t, http.StatusOK, StatusInvalidParameters)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E9"), auth, `{"status": "AVAILABLE", "last_updated": "2026-11-02T15:00:00Z"}`).want(t, http.StatusNotFound, StatusUnknownLocation)
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC2"), auth, loc).want(t, http.StatusOK, StatusInvalidParameters)
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, `{"id": "LOC1",`).want(t, http.StatusBadRequest, StatusClientError)
	wantCalls(t, rec.take(t))

	// A push by the CPO's module arrives the same way.
	if _, err := p.cpo.loc.PutLocation(context.Background(), partyA, testLocation("LOC3", locT0, "E1")); err != nil {
		t.Fatal(err)
	}
	p.cpo.loc.Wait()
	wantCalls(t, rec.take(t), "NL-CPA LOC3 E1=AVAILABLE")
}

func TestOnReceivedSeesPulledAndRetiredLocations(t *testing.T) {
	p, rec := newWatchedPair(t)
	ctx := context.Background()
	// Stored at the CPO before the eMSP registers: nothing is pushed.
	for i, id := range []string{"L1", "L2"} {
		if _, err := p.cpo.loc.PutLocation(ctx, partyA, testLocation(id, locT0.Add(time.Duration(i)*time.Minute), "E1")); err != nil {
			t.Fatal(err)
		}
	}
	p.connect(t)
	wantCalls(t, rec.take(t))

	// A location the CPO no longer lists, stored behind the module.
	gone := testLocation("GONE", locT0, "E1")
	gone.CountryCode, gone.PartyID = "NL", "CPA"
	if err := p.emsp.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: partyA, ID: "GONE", LastUpdated: locT0, Data: []byte(mustJSON(t, gone))}); err != nil {
		t.Fatal(err)
	}
	if n, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{}); err != nil || n != 2 {
		t.Fatalf("Pull = %d, %v", n, err)
	}
	wantCalls(t, rec.take(t), "NL-CPA L1 E1=AVAILABLE", "NL-CPA L2 E1=AVAILABLE", "NL-CPA GONE E1=REMOVED")

	// A pulled location older than the one stored is not stored: no call.
	newer := testLocation("L1", locT0.Add(time.Hour), "E1")
	newer.CountryCode, newer.PartyID = "NL", "CPA"
	newer.EVSEs[0].Status = StatusCharging
	if err := p.emsp.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: partyA, ID: "L1", LastUpdated: newer.LastUpdated.Time, Data: []byte(mustJSON(t, newer))}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.emsp.loc.Pull(ctx, p.cpoAtEMSP.ID, ListQuery{From: locT0}); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, rec.take(t), "NL-CPA L2 E1=AVAILABLE")
}
