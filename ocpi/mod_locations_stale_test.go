package ocpi

import (
	"net/http"
	"testing"
	"time"
)

// A delayed retry must not undo a newer state: a PUT or PATCH older than
// the stored object is answered 1000, stores nothing and calls nothing.
func TestReceiverIgnoresAnOlderPutOrPatchAtEachLevel(t *testing.T) {
	p, rec, auth, _ := watchedPairWithLOC1(t)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "CHARGING", "last_updated": "2026-11-02T12:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1", "1"), auth, `{"tariff_ids": ["T1"], "last_updated": "2026-11-02T13:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1"), auth, `{"name": "Newer", "last_updated": "2026-11-02T14:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	if got := len(rec.take(t)); got != 4 {
		t.Fatalf("%d OnReceived calls for the 4 accepted writes", got)
	}
	newer := mustJSON(t, p.received(t, "LOC1"))

	t11 := NewDateTime(locT0.Add(time.Hour)) // older than every stored stamp
	olderLoc := testLocation("LOC1", locT0, "E1")
	olderLoc.CountryCode, olderLoc.PartyID, olderLoc.Name = "NL", "CPA", "Older"
	olderEVSE := testEVSE("E1")
	olderEVSE.LastUpdated, olderEVSE.Connectors[0].LastUpdated = t11, t11
	olderConnector := testConnector("1")
	olderConnector.LastUpdated = t11
	for _, c := range []struct {
		name, method string
		ids          []string
		body         any
	}{
		{"location PUT", http.MethodPut, []string{"LOC1"}, olderLoc},
		{"location PATCH", http.MethodPatch, []string{"LOC1"}, `{"name": "Older", "last_updated": "2026-11-02T13:59:59Z"}`},
		{"EVSE PUT", http.MethodPut, []string{"LOC1", "E1"}, olderEVSE},
		{"EVSE PATCH", http.MethodPatch, []string{"LOC1", "E1"}, `{"status": "AVAILABLE", "last_updated": "2020-01-01T00:00:00Z"}`},
		{"connector PUT", http.MethodPut, []string{"LOC1", "E1", "1"}, olderConnector},
		{"connector PATCH", http.MethodPatch, []string{"LOC1", "E1", "1"}, `{"tariff_ids": ["T0"], "last_updated": "2026-11-02T12:59:59.999Z"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := p.receiverURL(append([]string{"NL", "CPA"}, c.ids...)...)
			call(t, c.method, url, auth, c.body).want(t, http.StatusOK, StatusSuccess)
			if got := mustJSON(t, p.received(t, "LOC1")); got != newer {
				t.Fatalf("an older %s changed the stored location:\n%s\nwant:\n%s", c.name, got, newer)
			}
			wantCalls(t, rec.take(t))
		})
	}

	// Being older does not excuse a bad write: it is refused with its error.
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "SLEEPING", "last_updated": "2020-01-01T00:00:00Z"}`).want(t, http.StatusOK, StatusInvalidParameters)
	wantCalls(t, rec.take(t))
}

func TestReceiverStoresAReplayWithAnEqualLastUpdatedAndANewObjectOfAnyAge(t *testing.T) {
	p, rec, auth, loc := watchedPairWithLOC1(t)
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "CHARGING", "last_updated": "2026-11-02T12:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	// Same last_updated: the sender's own retry (here with a correction).
	call(t, http.MethodPatch, p.receiverURL("NL", "CPA", "LOC1", "E1"), auth, `{"status": "BLOCKED", "last_updated": "2026-11-02T12:00:00Z"}`).want(t, http.StatusOK, StatusSuccess)
	got := p.received(t, "LOC1")
	if e, _ := got.EVSE("E1"); e.Status != StatusBlocked {
		t.Fatalf("the replay with an equal last_updated was not stored: EVSE %s", e.Status)
	}
	loc.Name = "Replayed"
	loc.LastUpdated = NewDateTime(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1"), auth, loc).want(t, http.StatusOK, StatusSuccess)
	if got = p.received(t, "LOC1"); got.Name != "Replayed" {
		t.Fatalf("the location PUT with an equal last_updated was not stored: name %q", got.Name)
	}

	// Age is compared with the same object only: a new EVSE older than
	// the location is created.
	e2 := testEVSE("E2")
	old := NewDateTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	e2.LastUpdated, e2.Connectors[0].LastUpdated = old, old
	call(t, http.MethodPut, p.receiverURL("NL", "CPA", "LOC1", "E2"), auth, e2).want(t, http.StatusCreated, StatusSuccess)
	got = p.received(t, "LOC1")
	if _, ok := got.EVSE("E2"); !ok {
		t.Fatal("a new EVSE older than its location was not stored")
	}
	if got := len(rec.take(t)); got != 5 {
		t.Fatalf("%d OnReceived calls for the 5 stored writes", got)
	}
}
