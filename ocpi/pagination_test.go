package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// item is a paginated object: an id and its last_updated.
type item struct {
	ID          string   `json:"id"`
	LastUpdated DateTime `json:"last_updated"`
}

var t0 = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// makeItems returns n items, one a minute from t0, oldest first.
func makeItems(n int) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = item{ID: fmt.Sprintf("LOC%04d", i), LastUpdated: NewDateTime(t0.Add(time.Duration(i) * time.Minute))}
	}
	return out
}

// listServer is a real paginated endpoint over a mutable set of items,
// built on ParsePage and WritePage the way a module uses them.
type listServer struct {
	*httptest.Server
	mu       sync.Mutex
	items    []item
	maxLimit int
	// public is the endpoint's public URL; nil uses the server's own.
	public *url.URL
	// requests counts the GETs served.
	requests int
	// afterPage, when set, runs after each page is written (under mu).
	afterPage func(s *listServer)
}

const listPath = "/ocpi/cpo/2.2.1/locations"

func newListServer(t *testing.T, items []item, maxLimit int) *listServer {
	t.Helper()
	s := &listServer{items: items, maxLimit: maxLimit}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) endpointURL() string { return s.URL + listPath }

func (s *listServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	p, err := ParsePage(r, s.maxLimit)
	if err != nil {
		WriteError(w, err)
		return
	}
	var match []item
	for _, it := range s.items {
		lu := it.LastUpdated.Time
		if (!p.From.IsZero() && lu.Before(p.From)) || (!p.To.IsZero() && !lu.Before(p.To)) {
			continue
		}
		match = append(match, it)
	}
	var page []item
	if p.Offset < len(match) {
		page = match[p.Offset:min(len(match), p.Offset+p.Limit)]
	}
	endpoint := s.public
	if endpoint == nil {
		endpoint, _ = url.Parse(s.endpointURL())
	}
	WritePage(w, r, endpoint, p, len(match), page)
	if s.afterPage != nil {
		s.afterPage(s)
	}
}

// pageAnswer is one GET of a list: the headers and the decoded envelope.
type pageAnswer struct {
	status int
	header http.Header
	env    struct {
		Data          json.RawMessage `json:"data"`
		StatusCode    int             `json:"status_code"`
		StatusMessage string          `json:"status_message"`
	}
	ids []string
}

func getPage(t *testing.T, rawURL string) pageAnswer {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := pageAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(b, &a.env); err != nil {
		t.Fatalf("GET %s: not an envelope: %s", rawURL, b)
	}
	if a.env.StatusCode == StatusSuccess {
		if !strings.HasPrefix(strings.TrimSpace(string(a.env.Data)), "[") {
			t.Fatalf("GET %s: data is not a JSON array: %s", rawURL, a.env.Data)
		}
		var items []item
		if err := json.Unmarshal(a.env.Data, &items); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			a.ids = append(a.ids, it.ID)
		}
	}
	return a
}

func TestWritePageSizesAndHeaders(t *testing.T) {
	const limit = 10
	for _, tc := range []struct {
		n        int
		wantLen  int
		wantNext bool
	}{
		{0, 0, false},
		{1, 1, false},
		{limit, limit, false},
		{limit + 1, limit, true},
		{250, limit, true},
	} {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			s := newListServer(t, makeItems(tc.n), limit)
			a := getPage(t, s.endpointURL())
			if a.status != http.StatusOK || a.env.StatusCode != StatusSuccess {
				t.Fatalf("HTTP %d, status_code %d", a.status, a.env.StatusCode)
			}
			if len(a.ids) != tc.wantLen {
				t.Fatalf("got %d items, want %d", len(a.ids), tc.wantLen)
			}
			if got := a.header.Get(HeaderTotalCount); got != strconv.Itoa(tc.n) {
				t.Errorf("X-Total-Count = %q, want %d", got, tc.n)
			}
			if got := a.header.Get(HeaderLimit); got != strconv.Itoa(limit) {
				t.Errorf("X-Limit = %q, want %d", got, limit)
			}
			link := a.header.Get("Link")
			if (link != "") != tc.wantNext {
				t.Fatalf("Link = %q, want a next link: %v", link, tc.wantNext)
			}
			if tc.wantNext {
				want := "<" + s.endpointURL() + "?limit=10&offset=10>; rel=\"next\""
				if link != want {
					t.Fatalf("Link = %s, want %s", link, want)
				}
			}
		})
	}
}

func TestWritePageWritesEmptyArrayForNilItems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var none []item
		WritePage(w, r, nil, Page{Limit: 5}, 0, none)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"data":[]`) {
		t.Fatalf("body %s has no \"data\":[]", b)
	}
}

func TestWritePageRejectsNonSliceItems(t *testing.T) {
	w := httptest.NewRecorder()
	WritePage(w, httptest.NewRequest("GET", "/x", nil), nil, Page{Limit: 5}, 1, item{ID: "A"})
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "slice") {
		t.Fatalf("HTTP %d %s, want 500 saying a slice is needed", w.Code, w.Body)
	}
}

func TestWritePageLinkKeepsEveryFilterAndUsesPublicURL(t *testing.T) {
	s := newListServer(t, makeItems(50), 100)
	s.public, _ = url.Parse("https://ocpi.example.com/ocpi/cpo/2.2.1/locations")
	q := "?date_from=2016-01-01T00:10:00Z&date_to=2016-01-01T00:40:00Z&limit=7&country=NL"
	a := getPage(t, s.endpointURL()+q)
	if len(a.ids) != 7 || a.ids[0] != "LOC0010" {
		t.Fatalf("first page = %v", a.ids)
	}
	if a.header.Get(HeaderTotalCount) != "30" || a.header.Get(HeaderLimit) != "7" {
		t.Fatalf("X-Total-Count %s X-Limit %s, want 30 and 7", a.header.Get(HeaderTotalCount), a.header.Get(HeaderLimit))
	}
	next, ok := nextLink(a.header)
	if !ok {
		t.Fatalf("no next Link in %q", a.header.Get("Link"))
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "ocpi.example.com" || u.Path != "/ocpi/cpo/2.2.1/locations" {
		t.Fatalf("next link %s does not use the public URL", next)
	}
	want := url.Values{
		"date_from": {"2016-01-01T00:10:00Z"}, "date_to": {"2016-01-01T00:40:00Z"},
		"limit": {"7"}, "country": {"NL"}, "offset": {"7"},
	}
	if got := u.Query(); !equalValues(got, want) {
		t.Fatalf("next link query = %v, want %v", got, want)
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestWritePageLinkAbsentOnLastPage(t *testing.T) {
	s := newListServer(t, makeItems(25), 10)
	a := getPage(t, s.endpointURL()+"?offset=20&date_from=2016-01-01T00:00:00Z")
	if len(a.ids) != 5 || a.ids[4] != "LOC0024" {
		t.Fatalf("last page = %v", a.ids)
	}
	if link := a.header.Get("Link"); link != "" {
		t.Fatalf("last page has Link %q", link)
	}
	if a.header.Get(HeaderTotalCount) != "25" {
		t.Fatalf("X-Total-Count = %s", a.header.Get(HeaderTotalCount))
	}
	past := getPage(t, s.endpointURL()+"?offset=100")
	if len(past.ids) != 0 || past.header.Get("Link") != "" || past.env.StatusCode != StatusSuccess {
		t.Fatalf("offset past the end: %v, Link %q, status %d", past.ids, past.header.Get("Link"), past.env.StatusCode)
	}
}

func TestParsePageClampsLimitToServerMaximum(t *testing.T) {
	s := newListServer(t, makeItems(300), 100)
	a := getPage(t, s.endpointURL()+"?limit=2000")
	if len(a.ids) != 100 || a.header.Get(HeaderLimit) != "100" {
		t.Fatalf("got %d items, X-Limit %s; want 100 and 100", len(a.ids), a.header.Get(HeaderLimit))
	}
	next, _ := nextLink(a.header)
	u, _ := url.Parse(next)
	if u.Query().Get("limit") != "100" || u.Query().Get("offset") != "100" {
		t.Fatalf("next link %s, want limit=100 offset=100 (as the spec's example)", next)
	}
}

func TestParsePageDefaults(t *testing.T) {
	for _, tc := range []struct {
		query    string
		maxLimit int
		want     Page
	}{
		{"", 50, Page{Limit: 50}},
		{"", 0, Page{Limit: DefaultPageLimit}},
		{"limit=0", 50, Page{Limit: 50}},
		{"limit=20&offset=40", 50, Page{Offset: 40, Limit: 20}},
		{"limit=51", 50, Page{Limit: 50}},
		{"limit=&offset=&date_from=&date_to=", 50, Page{Limit: 50}},
		{"date_from=2016-01-01T00:00:00&date_to=2016-12-31T23:59:59.5Z", 50,
			Page{From: t0, To: time.Date(2016, 12, 31, 23, 59, 59, 5e8, time.UTC), Limit: 50}},
		// An unescaped '+' of an offset arrives as a space.
		{"date_from=2016-01-01T01:00:00+01:00", 50, Page{From: t0, Limit: 50}},
		{"date_from=2016-01-01T01:00:00%2B01:00", 50, Page{From: t0, Limit: 50}},
	} {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		got, err := ParsePage(r, tc.maxLimit)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if !got.From.Equal(tc.want.From) || !got.To.Equal(tc.want.To) || got.Offset != tc.want.Offset || got.Limit != tc.want.Limit {
			t.Errorf("%q (max %d) = %+v, want %+v", tc.query, tc.maxLimit, got, tc.want)
		}
	}
}

func TestParsePageAcceptsEveryDateTimeForm(t *testing.T) {
	for _, form := range []string{
		"2015-06-29T20:39:09Z", "2015-06-29T20:39:09", "2015-06-29T20:39:09.2Z",
		"2015-06-29T20:39:09.2", "2015-06-29T20:39:09.123Z", "2015-06-29T20:39:09.123",
	} {
		r := httptest.NewRequest("GET", "/x?date_from="+url.QueryEscape(form), nil)
		p, err := ParsePage(r, 10)
		if err != nil {
			t.Errorf("date_from=%s: %v", form, err)
			continue
		}
		want, _ := time.Parse("2006-01-02T15:04:05.999", strings.TrimSuffix(form, "Z"))
		if !p.From.Equal(want) {
			t.Errorf("date_from=%s parsed as %v, want %v", form, p.From, want)
		}
	}
}

func TestParsePageRejectsBadParametersNamingThem(t *testing.T) {
	s := newListServer(t, makeItems(3), 10)
	for _, tc := range []struct{ query, param string }{
		{"offset=abc", "offset"},
		{"offset=-1", "offset"},
		{"offset=1.5", "offset"},
		{"limit=ten", "limit"},
		{"limit=-5", "limit"},
		{"date_from=yesterday", "date_from"},
		{"date_from=2016-01-01", "date_from"},
		{"date_to=2016-13-01T00:00:00Z", "date_to"},
	} {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		_, err := ParsePage(r, 10)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v is not an *Error", tc.query, err)
			continue
		}
		if e.HTTPStatus != http.StatusOK || e.Code != StatusInvalidParameters || !strings.Contains(e.Message, tc.param) {
			t.Errorf("%q: %+v, want HTTP 200, 2001 naming %s", tc.query, e, tc.param)
		}
		// Over HTTP: the envelope carries it, with no data.
		a := getPage(t, s.endpointURL()+"?"+tc.query)
		if a.status != http.StatusOK || a.env.StatusCode != StatusInvalidParameters || !strings.Contains(a.env.StatusMessage, tc.param) {
			t.Errorf("%q over HTTP: %d %d %q", tc.query, a.status, a.env.StatusCode, a.env.StatusMessage)
		}
	}
}

func TestPageFilterSetsWindow(t *testing.T) {
	p := Page{From: t0, To: t0.Add(time.Hour), Offset: 3, Limit: 9}
	f := p.Filter(ObjectFilter{Kind: Owned, Module: ModuleLocations})
	if f.Kind != Owned || f.Module != ModuleLocations || !f.From.Equal(p.From) || !f.To.Equal(p.To) || f.Offset != 3 || f.Limit != 9 {
		t.Fatalf("filter = %+v", f)
	}
}

func collect(t *testing.T, c *Client, rawURL string, q ListQuery) ([]string, error) {
	t.Helper()
	var ids []string
	err := c.List(context.Background(), rawURL, q, func(raw json.RawMessage) error {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			return err
		}
		ids = append(ids, it.ID)
		return nil
	})
	return ids, err
}

func idsOf(items []item) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestClientListFollowsEveryPageWithDateFilters(t *testing.T) {
	all := makeItems(250)
	s := newListServer(t, all, 20)
	c := &Client{Token: "list-token"}
	// Minutes 30 (inclusive) to 200 (exclusive): 170 items.
	ids, err := collect(t, c, s.endpointURL(), ListQuery{From: t0.Add(30 * time.Minute), To: t0.Add(200 * time.Minute), Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	if want := idsOf(all[30:200]); !slices.Equal(ids, want) {
		t.Fatalf("got %d ids (%v...), want %d from LOC0030 to LOC0199", len(ids), ids[:min(3, len(ids))], len(want))
	}
	if want := (170 + 6) / 7; s.requests != want {
		t.Fatalf("%d requests, want %d pages of 7", s.requests, want)
	}
}

func TestClientListWithoutFiltersAndEmptyList(t *testing.T) {
	all := makeItems(45)
	s := newListServer(t, all, 10)
	ids, err := collect(t, &Client{}, s.endpointURL(), ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, idsOf(all)) {
		t.Fatalf("got %v", ids)
	}
	empty := newListServer(t, nil, 10)
	ids, err = collect(t, &Client{}, empty.endpointURL(), ListQuery{})
	if err != nil || len(ids) != 0 {
		t.Fatalf("empty list: %v, %v", ids, err)
	}
}

func TestClientListRefetchesWhenTotalCountShrinks(t *testing.T) {
	all := makeItems(30)
	s := newListServer(t, all, 10)
	// After the first page, LOC0003 (already delivered) is updated and so
	// leaves the date_to window: everything after it moves down by one.
	s.afterPage = func(s *listServer) {
		if s.requests == 1 {
			s.items = slices.Delete(slices.Clone(s.items), 3, 4)
			s.items = append(s.items, item{ID: "LOC0003", LastUpdated: NewDateTime(t0.Add(48 * time.Hour))})
		}
	}
	ids, err := collect(t, &Client{}, s.endpointURL(), ListQuery{To: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	for _, it := range all {
		if !seen[it.ID] {
			t.Fatalf("%s was skipped; got %v", it.ID, ids)
		}
	}
}

func TestClientListStopsOnLinkLoop(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Always points back to offset=0: a broken server.
		w.Header().Set("Link", "<"+srv.URL+"/list?offset=0>; rel=\"next\"")
		WriteData(w, http.StatusOK, []item{{ID: "A"}})
	}))
	defer srv.Close()
	ids, err := collect(t, &Client{}, srv.URL+"/list?offset=0", ListQuery{})
	if err == nil || !strings.Contains(err.Error(), "already fetched") {
		t.Fatalf("err = %v, want a Link loop error", err)
	}
	if len(ids) != 1 {
		t.Fatalf("got %v before the loop was detected, want the first page once", ids)
	}
}

func TestClientListStopsAfterMaxPages(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		w.Header().Set("Link", fmt.Sprintf("<%s/list?offset=%d>; rel=\"next\"", srv.URL, off+1))
		WriteData(w, http.StatusOK, []item{{ID: strconv.Itoa(off)}})
	}))
	defer srv.Close()
	ids, err := collect(t, &Client{}, srv.URL+"/list", ListQuery{MaxPages: 5})
	if err == nil || !strings.Contains(err.Error(), "MaxPages") {
		t.Fatalf("err = %v, want a MaxPages error", err)
	}
	if len(ids) != 5 {
		t.Fatalf("got %d items, want 5 pages of 1", len(ids))
	}
}

func TestClientListRefusesLinkToAnotherHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "<http://elsewhere.invalid/list?offset=1>; rel=\"next\"")
		WriteData(w, http.StatusOK, []item{{ID: "A"}})
	}))
	defer srv.Close()
	_, err := collect(t, &Client{Token: "secret-token-123"}, srv.URL+"/list", ListQuery{})
	if err == nil || !strings.Contains(err.Error(), "elsewhere.invalid") {
		t.Fatalf("err = %v, want a refusal naming the other host", err)
	}
}

func TestClientListStopsOnCallbackError(t *testing.T) {
	s := newListServer(t, makeItems(30), 10)
	stop := errors.New("stop here")
	n := 0
	err := (&Client{}).List(context.Background(), s.endpointURL(), ListQuery{}, func(json.RawMessage) error {
		if n++; n == 12 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || s.requests != 2 {
		t.Fatalf("err %v after %d requests, want the callback's error after 2", err, s.requests)
	}
}

func TestClientListReturnsServerError(t *testing.T) {
	s := newListServer(t, makeItems(3), 10)
	// A bad parameter added to the URL reaches the server's ParsePage.
	_, err := collect(t, &Client{}, s.endpointURL()+"?offset=x", ListQuery{})
	var e *Error
	if !errors.As(err, &e) || e.Code != StatusInvalidParameters || !strings.Contains(e.Message, "offset") {
		t.Fatalf("err = %v, want the server's 2001 naming offset", err)
	}
}

func TestNextLinkParsesRFC8288Forms(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    string
	}{
		{[]string{`<https://a/x?offset=10>; rel="next"`}, "https://a/x?offset=10"},
		{[]string{`<https://a/x?offset=10>; rel=next`}, "https://a/x?offset=10"},
		{[]string{`<https://a/x?offset=0>; rel="prev", <https://a/x?offset=20>; rel="next"`}, "https://a/x?offset=20"},
		{[]string{`<https://a/p>; rel="prev"`, `<https://a/n>; rel="last next"`}, "https://a/n"},
		{[]string{`<https://a/x?a=1,2>; title="x"; REL="Next"`}, "https://a/x?a=1,2"},
		{[]string{`<https://a/x>; rel="prev"`}, ""},
		{nil, ""},
	} {
		h := http.Header{}
		for _, v := range tc.headers {
			h.Add("Link", v)
		}
		got, ok := nextLink(h)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%q: got %q %v, want %q", tc.headers, got, ok, tc.want)
		}
	}
}

// ExampleClient_List pulls every Location changed since a moment, page by
// page, from a peer's locations Sender endpoint.
func ExampleClient_List() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all := []item{{ID: "LOC1"}, {ID: "LOC2"}, {ID: "LOC3"}}
		p, err := ParsePage(r, 2)
		if err != nil {
			WriteError(w, err)
			return
		}
		end := min(len(all), p.Offset+p.Limit)
		WritePage(w, r, nil, p, len(all), all[min(p.Offset, end):end])
	}))
	defer srv.Close()

	c := &Client{Token: "token-c-of-the-peer", From: PartyID{"NL", "EMS"}, To: PartyID{"NL", "CPO"}}
	err := c.List(context.Background(), srv.URL+"/ocpi/cpo/2.2.1/locations",
		ListQuery{From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
		func(raw json.RawMessage) error {
			var loc struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(raw, &loc); err != nil {
				return err
			}
			fmt.Println(loc.ID)
			return nil
		},
		ForModule(ModuleLocations))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// LOC1
	// LOC2
	// LOC3
}

func TestClientListRefetchAfterWholePageLeftIsNotALoop(t *testing.T) {
	all := makeItems(8)
	s := newListServer(t, all, 2)
	// The whole first page leaves the window after it was read: the page
	// fetched again from offset 0 links to offset 2, a URL already tried.
	s.afterPage = func(s *listServer) {
		if s.requests == 1 {
			s.items = slices.Clone(s.items[2:])
		}
	}
	ids, err := collect(t, &Client{}, s.endpointURL(), ListQuery{To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, idsOf(all)) {
		t.Fatalf("got %v, want all 8 in order", ids)
	}
}
