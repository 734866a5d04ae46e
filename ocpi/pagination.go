package ocpi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DefaultPageLimit is the page size ParsePage applies when its maxLimit is
// zero or negative.
const DefaultPageLimit = 100

// The pagination query parameters (transport_and_format.asciidoc).
const (
	ParamDateFrom = "date_from"
	ParamDateTo   = "date_to"
	ParamOffset   = "offset"
	ParamLimit    = "limit"
)

// Page is one paginated GET's window: the last_updated bounds and the
// offset and limit. The zero From and To mean "open".
type Page struct {
	// From is date_from: only objects with last_updated at or after it.
	From time.Time
	// To is date_to: only objects with last_updated before it.
	To time.Time
	// Offset is the index of the first object returned (default 0).
	Offset int
	// Limit is the most objects returned: the client's limit clamped to
	// the server's maximum, or that maximum when the client gave none.
	Limit int
}

// ParsePage reads date_from, date_to, offset and limit from r's query.
// date_from and date_to take every DateTime form 2.2.1 allows (absent or
// empty: open); offset defaults to 0; limit defaults to maxLimit and is clamped to it (a limit of
// 0 counts as none given). maxLimit <= 0 means DefaultPageLimit. A bad
// value is an *Error with HTTP 200 and status 2001 that names the
// parameter, as for any request that reached the OCPI layer.
func ParsePage(r *http.Request, maxLimit int) (Page, error) {
	if maxLimit <= 0 {
		maxLimit = DefaultPageLimit
	}
	q := r.URL.Query()
	p := Page{Limit: maxLimit}
	for _, d := range []struct {
		name string
		into *time.Time
	}{{ParamDateFrom, &p.From}, {ParamDateTo, &p.To}} {
		v := q.Get(d.name)
		if strings.TrimSpace(v) == "" {
			continue
		}
		// An unescaped "+01:00" offset arrives as " 01:00".
		t, err := ParseDateTime(strings.ReplaceAll(strings.TrimSpace(v), " ", "+"))
		if err != nil {
			return Page{}, InvalidParams("query parameter %s=%q is not an OCPI DateTime (e.g. 2015-06-29T20:39:09Z)", d.name, v)
		}
		*d.into = t.Time
	}
	offset, err := pageInt(q, ParamOffset)
	if err != nil {
		return Page{}, err
	}
	p.Offset = offset
	limit, err := pageInt(q, ParamLimit)
	if err != nil {
		return Page{}, err
	}
	if limit > 0 && limit < maxLimit {
		p.Limit = limit
	}
	return p, nil
}

// pageInt reads a non-negative integer parameter; absent or empty is 0.
func pageInt(q url.Values, name string) (int, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, InvalidParams("query parameter %s=%q must be a non-negative integer", name, q.Get(name))
	}
	return n, nil
}

// Filter returns f with the page's bounds, offset and limit set, ready for
// Store.Objects.
func (p Page) Filter(f ObjectFilter) ObjectFilter {
	f.From, f.To, f.Offset, f.Limit = p.From, p.To, p.Offset, p.Limit
	return f
}

// ObjectsData returns the objects' OCPI JSON, in order, for WritePage.
func ObjectsData(objs []Object) []json.RawMessage {
	out := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		out[i] = o.Data
	}
	return out
}

// WritePage answers a paginated GET: the envelope with items (a slice or
// array; nil is written as []), X-Total-Count (total: how many objects
// match the filters, ignoring offset and limit), X-Limit (p.Limit, the
// limit applied) and, when objects remain after this page (p.Offset +
// len(items) < total), Link: <next>; rel="next".
//
// The next URL is endpoint (the public, absolute URL of this endpoint, as
// listed in version details: the node may sit behind a proxy, so r.Host is
// not trusted) with r's query, every parameter kept as the client sent it,
// offset moved past this page and limit set to the one applied. A nil
// endpoint gives a Link relative to the request's path, which clients
// resolve against the URL they called.
func WritePage(w http.ResponseWriter, r *http.Request, endpoint *url.URL, p Page, total int, items any) {
	n, err := itemCount(items)
	if err != nil {
		WriteError(w, err)
		return
	}
	if n == 0 {
		items = []struct{}{} // written as [] whatever nil slice came in
	}
	h := w.Header()
	h.Set(HeaderTotalCount, strconv.Itoa(total))
	h.Set(HeaderLimit, strconv.Itoa(p.Limit))
	if next := p.Offset + n; n > 0 && next < total {
		h.Set("Link", "<"+NextPageURL(endpoint, r.URL, next, p.Limit)+`>; rel="next"`)
	}
	WriteData(w, http.StatusOK, items)
}

// NextPageURL is the URL of the page at offset: endpoint (or, when nil,
// the path of requested) with every query parameter of requested, offset
// replaced and limit set to limit.
func NextPageURL(endpoint, requested *url.URL, offset, limit int) string {
	var u url.URL
	if endpoint != nil {
		u = *endpoint
	} else {
		u = url.URL{Path: requested.Path, RawPath: requested.RawPath}
	}
	u.Fragment, u.RawFragment = "", ""
	q := requested.Query()
	q.Set(ParamOffset, strconv.Itoa(offset))
	q.Set(ParamLimit, strconv.Itoa(limit))
	u.RawQuery = q.Encode()
	return u.String()
}

func itemCount(items any) (int, error) {
	if items == nil {
		return 0, nil
	}
	v := reflect.ValueOf(items)
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		return v.Len(), nil
	}
	return 0, Errorf(http.StatusInternalServerError, StatusServerError, "ocpi: WritePage needs a slice of items, got %T", items)
}

// DefaultMaxPages is how many pages Client.List fetches at most when
// ListQuery.MaxPages is zero.
const DefaultMaxPages = 10000

// ListQuery is the window of a Client.List.
type ListQuery struct {
	// From and To bound last_updated (date_from inclusive, date_to
	// exclusive). Zero: not sent.
	From, To time.Time
	// Limit asks for pages of this size; the server may give fewer.
	// Zero: not sent (the server's default).
	Limit int
	// Offset starts the list at this index. Zero: not sent.
	Offset int
	// MaxPages stops the list with an error after this many requests, in
	// case a server never stops sending a next Link. Zero: DefaultMaxPages.
	MaxPages int
}

// List fetches a paginated list: the first page at rawURL with q's
// parameters added, then every Link rel="next" until a page comes without
// one. each is called with every object in order; an error from it stops
// the list and is returned as it is.
//
// When X-Total-Count shrinks between two pages (an object left the window,
// typically with a date_to filter), the objects after it moved down, so
// List fetches that page again from an offset lowered by the shrink, as
// the spec advises; each may then see an object twice, never miss one.
// A next Link that was already fetched (a loop), that points to another
// host or drops https, or more than MaxPages requests are errors: the
// token is never sent elsewhere.
func (c *Client) List(ctx context.Context, rawURL string, q ListQuery, each func(json.RawMessage) error, opts ...RequestOption) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("ocpi: list %s: %w", redactURL(rawURL), err)
	}
	query := u.Query()
	if !q.From.IsZero() {
		query.Set(ParamDateFrom, NewDateTime(q.From).String())
	}
	if !q.To.IsZero() {
		query.Set(ParamDateTo, NewDateTime(q.To).String())
	}
	if q.Offset > 0 {
		query.Set(ParamOffset, strconv.Itoa(q.Offset))
	}
	if q.Limit > 0 {
		query.Set(ParamLimit, strconv.Itoa(q.Limit))
	}
	u.RawQuery = query.Encode()
	maxPages := q.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}

	first := *u
	seen := map[string]bool{}
	prevTotal := -1
	for requests := 0; ; {
		if requests >= maxPages {
			return fmt.Errorf("ocpi: list %s: stopped after %d pages (ListQuery.MaxPages); the server keeps sending a next Link", redactURL(first.String()), maxPages)
		}
		requests++
		pageURL := u.String()
		seen[pageURL] = true
		reply, err := c.Do(ctx, http.MethodGet, pageURL, nil, opts...)
		if err != nil {
			return err
		}
		total, hasTotal := headerInt(reply.Header, HeaderTotalCount)
		if hasTotal && prevTotal >= 0 && total < prevTotal {
			if offset, ok := urlOffset(u); ok && offset > 0 {
				back := min(prevTotal-total, offset)
				again := *u
				qq := again.Query()
				qq.Set(ParamOffset, strconv.Itoa(offset-back))
				again.RawQuery = qq.Encode()
				prevTotal = total
				// This page was not used: its URL may well come back as
				// the next Link of the page fetched instead.
				delete(seen, pageURL)
				u = &again
				continue
			}
		}
		if hasTotal {
			prevTotal = total
		}
		var items []json.RawMessage
		if reply.Data != nil {
			if err := json.Unmarshal(reply.Data, &items); err != nil {
				return fmt.Errorf("ocpi: GET %s: data of a paginated list must be an array: %w", redactURL(pageURL), err)
			}
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return err
			}
		}
		next, ok := nextLink(reply.Header)
		if !ok {
			return nil
		}
		nu, err := u.Parse(next)
		if err != nil {
			return fmt.Errorf("ocpi: GET %s: Link %q is not a URL: %w", redactURL(pageURL), next, err)
		}
		if nu.Host != first.Host || (first.Scheme == "https" && nu.Scheme != "https") {
			return fmt.Errorf("ocpi: GET %s: next Link %s leaves %s://%s; not following it (the token would go elsewhere)", redactURL(pageURL), nu.Redacted(), first.Scheme, first.Host)
		}
		if seen[nu.String()] {
			return fmt.Errorf("ocpi: GET %s: next Link %s was already fetched; the server's pagination loops", redactURL(pageURL), nu.Redacted())
		}
		u = nu
	}
}

func headerInt(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil && n >= 0
}

func urlOffset(u *url.URL) (int, bool) {
	n, err := strconv.Atoi(u.Query().Get(ParamOffset))
	return n, err == nil && n >= 0
}

// nextLink finds the target of rel="next" in the Link headers (RFC 8288:
// several links per header, several headers, rel quoted or not, several
// relation types in one rel).
func nextLink(h http.Header) (string, bool) {
	for _, v := range h.Values("Link") {
		for v != "" {
			v = strings.TrimLeft(v, " \t,")
			if !strings.HasPrefix(v, "<") {
				break
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			target := v[1:end]
			v = v[end+1:]
			params := v
			if i := strings.IndexByte(v, '<'); i >= 0 {
				params, v = v[:i], v[i:]
			} else {
				v = ""
			}
			for _, param := range strings.Split(params, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(param), ",")), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target, true
					}
				}
			}
		}
	}
	return "", false
}
