package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/ocpi"
)

// OCPI is the OCPI node the API manages: its peers (the credentials
// handshake in both directions), our locations and the locations other
// parties sent us. Give it in Options.OCPI; without it the OCPI endpoints
// answer 404 saying how to enable OCPI.
type OCPI struct {
	// Node is the mounted OCPI node. Required.
	Node *ocpi.Node
	// Locations is the node's Locations module. Required.
	Locations *ocpi.Locations
}

// Page sizes of the OCPI lists, as for the other lists.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

func (a *API) ocpiRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/v1/ocpi/peers", a.withOCPI(a.issueTokenA))
	m.HandleFunc("GET /api/v1/ocpi/peers", a.withOCPI(a.listPeers))
	m.HandleFunc("POST /api/v1/ocpi/peers/register", a.withOCPI(a.registerAtPeer))
	m.HandleFunc("GET /api/v1/ocpi/peers/{id}", a.withOCPI(a.getPeer))
	m.HandleFunc("PATCH /api/v1/ocpi/peers/{id}", a.withOCPI(a.patchPeer))
	m.HandleFunc("DELETE /api/v1/ocpi/peers/{id}", a.withOCPI(a.unregisterPeer))
	m.HandleFunc("POST /api/v1/ocpi/peers/{id}/rotate", a.withOCPI(a.rotatePeer))
	m.HandleFunc("POST /api/v1/ocpi/peers/{id}/pull/locations", a.withOCPI(a.pullLocations))
	m.HandleFunc("GET /api/v1/locations", a.withOCPI(a.listLocations))
	m.HandleFunc("GET /api/v1/locations/{id}", a.withOCPI(a.getLocation))
	m.HandleFunc("PUT /api/v1/locations/{id}", a.withOCPI(a.putLocation))
	m.HandleFunc("PATCH /api/v1/locations/{id}", a.withOCPI(a.patchLocation))
	m.HandleFunc("PATCH /api/v1/locations/{id}/evses/{uid}", a.withOCPI(a.patchEVSE))
	m.HandleFunc("DELETE /api/v1/locations/{id}", a.withOCPI(a.removeLocation))
	m.HandleFunc("GET /api/v1/ocpi/received/locations", a.withOCPI(a.listReceivedLocations))
	m.HandleFunc("GET /api/v1/ocpi/received/locations/{country}/{party}/{id}", a.withOCPI(a.getReceivedLocation))
}

// withOCPI answers 404 when the server runs without OCPI.
func (a *API) withOCPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.ocpi == nil {
			writeError(w, http.StatusNotFound, "OCPI is not enabled on this server: start openev serve with --ocpi-party CC-PID (see docs/ocpi.md)")
			return
		}
		h(w, r)
	}
}

// peerView is a peer as the API shows it: never a token, except the token
// A just issued (Token).
type peerView struct {
	ocpi.Peer
	// Warning says what went wrong when the change was made here but the
	// peer could not be told (unregistration of an unreachable peer).
	Warning string `json:"warning,omitempty"`
}

// issuedPeer is the answer to POST /api/v1/ocpi/peers.
type issuedPeer struct {
	Peer ocpi.Peer `json:"peer"`
	// Token is the token A, shown this once.
	Token string `json:"token"`
	// VersionsURL is our versions endpoint, given with the token.
	VersionsURL string `json:"versions_url"`
}

func (a *API) issueTokenA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name *string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		writeError(w, http.StatusBadRequest, `name is required: a label for the peer, e.g. {"name":"Example eMSP"}`)
		return
	}
	p, err := a.ocpi.Node.IssueTokenA(r.Context(), strings.TrimSpace(*in.Name))
	if err != nil {
		a.ocpiStoreError(w, "peer", err)
		return
	}
	a.log.Info("ocpi: token A issued", "peer", p.ID, "name", p.Name)
	writeJSON(w, http.StatusCreated, issuedPeer{Peer: p, Token: p.IncomingToken, VersionsURL: a.ocpi.Node.VersionsURL()})
}

func (a *API) listPeers(w http.ResponseWriter, r *http.Request) {
	peers, err := a.ocpi.Node.Config().Store.Peers(r.Context())
	if err != nil {
		a.ocpiStoreError(w, "peers", err)
		return
	}
	if peers == nil {
		peers = []ocpi.Peer{}
	}
	writeJSON(w, http.StatusOK, peers)
}

func (a *API) getPeer(w http.ResponseWriter, r *http.Request) {
	p, err := a.ocpi.Node.Config().Store.Peer(r.Context(), r.PathValue("id"))
	if err != nil {
		a.ocpiStoreError(w, "peer "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// patchPeer sets the operator's override of how we send our token to the
// peer: {"raw_token": true} for a peer that wants it unencoded.
func (a *API) patchPeer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RawToken *bool `json:"raw_token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.RawToken == nil {
		writeError(w, http.StatusBadRequest, `raw_token is required: true to send our token unencoded (pre-2.2.1 peers), false for base64`)
		return
	}
	id := r.PathValue("id")
	if _, err := a.ocpi.Node.Config().Store.Peer(r.Context(), id); err != nil {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	p, err := a.ocpi.Node.SetRawToken(r.Context(), id, *in.RawToken)
	if err != nil {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) registerAtPeer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		VersionsURL *string `json:"versions_url"`
		Token       *string `json:"token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.VersionsURL == nil || *in.VersionsURL == "" {
		writeError(w, http.StatusBadRequest, "versions_url is required: the peer's OCPI versions endpoint, e.g. https://peer.example/ocpi/versions")
		return
	}
	if u, err := url.Parse(*in.VersionsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeError(w, http.StatusBadRequest, "versions_url %q is not an absolute http(s) URL", *in.VersionsURL)
		return
	}
	if in.Token == nil || !ocpi.ValidToken(*in.Token) {
		writeError(w, http.StatusBadRequest, "token is required: the token A the peer's operator gave you (1 to 64 printable ASCII characters, no spaces)")
		return
	}
	p, err := a.ocpi.Node.Register(r.Context(), *in.VersionsURL, *in.Token)
	if err != nil {
		// Everything past our own checks is the peer's answer (or its
		// absence): a gateway failure, with the peer's own words.
		writeError(w, http.StatusBadGateway, "registering at %s failed: %v", *in.VersionsURL, peerMessage(err))
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (a *API) rotatePeer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := a.ocpi.Node.Config().Store.Peer(r.Context(), id)
	if err != nil {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	if p.Status != ocpi.PeerRegistered {
		writeError(w, http.StatusConflict, "peer %s is %s: only a REGISTERED peer's credentials can be rotated", id, p.Status)
		return
	}
	p, err = a.ocpi.Node.RotateCredentials(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusBadGateway, "rotating the credentials of peer %s failed (the old tokens still work): %v", id, peerMessage(err))
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *API) unregisterPeer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.ocpi.Node.Config().Store.Peer(r.Context(), id); err != nil {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	p, err := a.ocpi.Node.Unregister(r.Context(), id)
	if err != nil && p.ID == "" {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	v := peerView{Peer: p}
	if err != nil {
		// Unregistered here all the same: its tokens no longer work.
		v.Warning = fmt.Sprintf("unregistered here, but the peer was not told: %v", peerMessage(err))
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) pullLocations(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.ocpi.Node.Config().Store.Peer(r.Context(), id); err != nil {
		a.ocpiStoreError(w, "peer "+id, err)
		return
	}
	n, err := a.ocpi.Locations.Pull(r.Context(), id, ocpi.ListQuery{})
	if err != nil {
		writeJSON(w, http.StatusBadGateway, struct {
			Error  string `json:"error"`
			Stored int    `json:"stored"`
		}{fmt.Sprintf("pulling locations from peer %s: %v", id, peerMessage(err)), n})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Stored int `json:"stored"`
	}{n})
}

// owner finds the CPO party a location request is for: ?party=CC-PID, or
// our only CPO party.
func (a *API) owner(w http.ResponseWriter, r *http.Request) (ocpi.PartyID, bool) {
	var cpos []ocpi.PartyID
	for _, role := range a.ocpi.Node.Config().Parties {
		if role.Role == ocpi.RoleCPO {
			cpos = append(cpos, role.Party().Key())
		}
	}
	if s := r.URL.Query().Get("party"); s != "" {
		p, err := parseParty(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "query parameter party: %v", err)
			return p, false
		}
		for _, c := range cpos {
			if c.Is(p) {
				return c, true
			}
		}
		writeError(w, http.StatusBadRequest, "query parameter party: %s is not a CPO party of this node (ours: %s)", p, partyNames(cpos))
		return p, false
	}
	switch len(cpos) {
	case 1:
		return cpos[0], true
	case 0:
		writeError(w, http.StatusConflict, "this node has no CPO party, so it has no locations of its own: start openev serve with --ocpi-roles CPO")
	default:
		writeError(w, http.StatusBadRequest, "this node has several CPO parties (%s): say which one with ?party=CC-PID", partyNames(cpos))
	}
	return ocpi.PartyID{}, false
}

// parseParty reads "NL-CPO" (or "NLCPO").
func parseParty(s string) (ocpi.PartyID, error) { return ocpi.ParsePartyID(s) }

func partyNames(ps []ocpi.PartyID) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// listFilter reads limit, offset and party for the location lists.
func listFilter(w http.ResponseWriter, r *http.Request) (ocpi.ObjectFilter, bool) {
	p, ok := page(w, r)
	if !ok {
		return ocpi.ObjectFilter{}, false
	}
	if p.Limit == 0 {
		p.Limit = defaultListLimit
	}
	f := ocpi.ObjectFilter{Offset: p.Offset, Limit: min(p.Limit, maxListLimit)}
	if s := r.URL.Query().Get("party"); s != "" {
		party, err := parseParty(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "query parameter party: %v", err)
			return f, false
		}
		f.Owners = []ocpi.PartyID{party}
	}
	return f, true
}

// writeList answers a page with the total in X-Total-Count.
func writeList(w http.ResponseWriter, list []ocpi.Location, total int) {
	if list == nil {
		list = []ocpi.Location{}
	}
	w.Header().Set("X-Total-Count", fmt.Sprint(total))
	writeJSON(w, http.StatusOK, list)
}

func (a *API) listLocations(w http.ResponseWriter, r *http.Request) {
	f, ok := listFilter(w, r)
	if !ok {
		return
	}
	list, total, err := a.ocpi.Locations.List(r.Context(), f)
	if err != nil {
		a.ocpiStoreError(w, "locations", err)
		return
	}
	writeList(w, list, total)
}

func (a *API) getLocation(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.owner(w, r)
	if !ok {
		return
	}
	loc, err := a.ocpi.Locations.Location(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		a.ocpiStoreError(w, "location "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, loc)
}

func (a *API) putLocation(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.owner(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body: %v", err)
		return
	}
	loc, err := ocpi.DecodeLocation(body)
	if err != nil {
		a.ocpiStoreError(w, "location", err)
		return
	}
	switch {
	case loc.ID == "":
		loc.ID = id
	case !strings.EqualFold(loc.ID, id):
		writeError(w, http.StatusBadRequest, "id: %q differs from the id %q in the URL", loc.ID, id)
		return
	}
	if (loc.CountryCode != "" || loc.PartyID != "") && !loc.Party().Is(owner) {
		writeError(w, http.StatusBadRequest, "country_code/party_id: %s is not the owner %s (use ?party= to choose another of our CPO parties)", loc.Party(), owner)
		return
	}
	saved, err := a.ocpi.Locations.PutLocation(r.Context(), owner, loc)
	if err != nil {
		a.ocpiStoreError(w, "location", err)
		return
	}
	writeJSON(w, http.StatusOK, saved)
}

// patchLocation applies an OCPI PATCH body (only the fields to change;
// last_updated defaults to now) to one of our locations and pushes it.
func (a *API) patchLocation(w http.ResponseWriter, r *http.Request) {
	a.patchOwned(w, r, func(owner ocpi.PartyID, body []byte) (ocpi.Location, error) {
		return a.ocpi.Locations.PatchLocation(r.Context(), owner, r.PathValue("id"), body)
	})
}

// patchEVSE applies an OCPI PATCH body to one EVSE, e.g. {"status":"CHARGING"}.
func (a *API) patchEVSE(w http.ResponseWriter, r *http.Request) {
	a.patchOwned(w, r, func(owner ocpi.PartyID, body []byte) (ocpi.Location, error) {
		return a.ocpi.Locations.PatchEVSE(r.Context(), owner, r.PathValue("id"), r.PathValue("uid"), body)
	})
}

func (a *API) patchOwned(w http.ResponseWriter, r *http.Request, patch func(ocpi.PartyID, []byte) (ocpi.Location, error)) {
	owner, ok := a.owner(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body: %v", err)
		return
	}
	what := "location " + r.PathValue("id")
	if uid := r.PathValue("uid"); uid != "" {
		what += " EVSE " + uid
	}
	loc, err := patch(owner, body)
	if err != nil {
		a.ocpiStoreError(w, what, err)
		return
	}
	writeJSON(w, http.StatusOK, loc)
}

func (a *API) removeLocation(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.owner(w, r)
	if !ok {
		return
	}
	loc, err := a.ocpi.Locations.RemoveLocation(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		a.ocpiStoreError(w, "location "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, loc)
}

func (a *API) listReceivedLocations(w http.ResponseWriter, r *http.Request) {
	f, ok := listFilter(w, r)
	if !ok {
		return
	}
	list, total, err := a.ocpi.Locations.Received(r.Context(), f)
	if err != nil {
		a.ocpiStoreError(w, "received locations", err)
		return
	}
	writeList(w, list, total)
}

func (a *API) getReceivedLocation(w http.ResponseWriter, r *http.Request) {
	owner, err := parseParty(r.PathValue("country") + "-" + r.PathValue("party"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "path: %v", err)
		return
	}
	loc, err := a.ocpi.Locations.ReceivedLocation(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		a.ocpiStoreError(w, "received location "+owner.String()+"/"+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, loc)
}

// ocpiStoreError answers an error of the OCPI node or its store: 404 for
// ErrNotFound, 400 with the message for an OCPI client error (bad input,
// naming the field), 500 otherwise (the detail logged, not shown).
func (a *API) ocpiStoreError(w http.ResponseWriter, what string, err error) {
	var oe *ocpi.Error
	switch {
	case errors.Is(err, ocpi.ErrNotFound):
		writeError(w, http.StatusNotFound, "%s not found", what)
	case errors.Is(err, csms.ErrInvalid):
		writeError(w, http.StatusBadRequest, "%s: %v", what, err)
	case errors.As(err, &oe) && oe.Code >= ocpi.StatusClientError && oe.Code < ocpi.StatusServerError:
		writeError(w, http.StatusBadRequest, "%s: %s", what, oe.Message)
	default:
		a.log.Error("ocpi failed", "what", what, "err", err)
		writeError(w, http.StatusInternalServerError, "could not read or write %s; see the server log", what)
	}
}

// peerMessage is err for an operator: without the package prefixes, the
// OCPI status only when it is the peer's, and a hint when the peer did not
// know the token.
func peerMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), "ocpi: ", "")
	var oe *ocpi.Error
	if errors.As(err, &oe) {
		msg = strings.ReplaceAll(oe.Message, "ocpi: ", "")
		if oe.Code < ocpi.StatusServerError {
			msg += fmt.Sprintf(" (the peer's OCPI status %d)", oe.Code)
		}
	}
	if strings.Contains(msg, "(HTTP 401)") {
		msg += "; the peer does not accept the token: ask its operator for a new one (a token A registers once)"
	}
	return msg
}

// addOCPIToOpenAPI adds the OCPI endpoints and schemas to the document.
func addOCPIToOpenAPI(doc obj) {
	info := doc["info"].(obj)
	info["description"] = info["description"].(string) + " With OCPI on (openev serve --ocpi-party), also the OCPI 2.2.1 peers and locations (docs/ocpi.md)."
	schemas := doc["components"].(obj)["schemas"].(obj)
	paths := doc["paths"].(obj)
	dt := obj{"type": "string", "format": "date-time"}
	schemas["OCPIPeer"] = obj{"type": "object", "description": "A peer OCPI platform. Tokens are never shown, except the token A at creation.",
		"properties": obj{
			"id": obj{"type": "string"}, "name": obj{"type": "string"},
			"status":          obj{"type": "string", "enum": []string{"PENDING", "REGISTERED", "UNREGISTERED"}},
			"raw_token":       obj{"type": "boolean", "description": "We send our token to this peer unencoded (pre-2.2.1 peers)."},
			"raw_token_fixed": obj{"type": "boolean", "description": "raw_token was set with PATCH (or proven by the peer's API refusing the other encoding) and no longer follows how the peer sends its token to us."},
			"versions_url":    obj{"type": "string", "description": "The peer's versions endpoint."},
			"version":         obj{"type": "string"},
			"endpoints":       obj{"type": "array", "items": obj{"type": "object"}},
			"roles":           obj{"type": "array", "description": "The peer's parties (OCPI CredentialsRole).", "items": obj{"type": "object"}},
			"created":         dt, "updated": dt,
			"warning": obj{"type": "string", "description": "Set when the change was made here but the peer could not be told."},
		}}
	schemas["OCPITokenA"] = obj{"type": "object", "properties": obj{
		"peer":         ref("OCPIPeer"),
		"token":        obj{"type": "string", "description": "The token A: give it, with versions_url, to the peer's operator. Shown this once."},
		"versions_url": obj{"type": "string", "description": "Our OCPI versions endpoint."},
	}}
	schemas["OCPILocation"] = obj{"type": "object", "description": "An OCPI 2.2.1 Location (mod_locations), with its EVSEs and connectors.",
		"required": []string{"publish", "address", "city", "country", "coordinates", "time_zone"}}
	e := func(codes ...string) obj {
		out := obj{"401": response("Missing or wrong API key.", ref("Error"))}
		desc := map[string]string{
			"400": "Bad input: the message names the field.",
			"404": "No such object, or OCPI is not enabled on this server.",
			"409": "The peer or node is not in a state that allows this; the message says why.",
			"502": "The peer refused or could not be reached; the message carries its answer.",
		}
		for _, c := range codes {
			out[c] = response(desc[c], ref("Error"))
		}
		return out
	}
	peerID := pathParam("id", "Peer id (ours, from POST /api/v1/ocpi/peers or the registration).")
	party := queryParam("party", "Our CPO party, e.g. NL-CPO; needed only when the node has several.", "string")
	listParams := append(append([]any{}, paging...), queryParam("party", "Only this owner, e.g. NL-CPO.", "string"))
	locations := obj{"type": "array", "items": ref("OCPILocation")}
	total := obj{"X-Total-Count": obj{"description": "How many match in all.", "schema": obj{"type": "integer"}}}
	listOK := func(desc string) obj {
		r := response(desc, locations)
		r["headers"] = total
		return obj{"200": r}
	}
	paths["/api/v1/ocpi/peers"] = obj{
		"get": obj{"summary": "List OCPI peers, oldest first", "responses": withOK(obj{"200": response("Peers.", obj{"type": "array", "items": ref("OCPIPeer")})}, e("404"))},
		"post": obj{"summary": "Issue a token A for a new peer (it then registers with us)",
			"requestBody": jsonBody(obj{"type": "object", "required": []string{"name"}, "properties": obj{"name": obj{"type": "string"}}}),
			"responses":   withOK(obj{"201": response("The PENDING peer, its token A and our versions URL.", ref("OCPITokenA"))}, e("400", "404"))},
	}
	paths["/api/v1/ocpi/peers/register"] = obj{
		"post": obj{"summary": "Register at a peer with the versions URL and token A its operator gave us",
			"requestBody": jsonBody(obj{"type": "object", "required": []string{"versions_url", "token"}, "properties": obj{
				"versions_url": obj{"type": "string"}, "token": obj{"type": "string"}}}),
			"responses": withOK(obj{"201": response("The REGISTERED peer.", ref("OCPIPeer"))}, e("400", "404", "502"))},
	}
	paths["/api/v1/ocpi/peers/{id}"] = obj{"parameters": []any{peerID},
		"get": obj{"summary": "One peer", "responses": withOK(obj{"200": response("The peer.", ref("OCPIPeer"))}, e("404"))},
		"patch": obj{"summary": "Send our token to this peer raw (pre-2.2.1) or base64",
			"requestBody": jsonBody(obj{"type": "object", "required": []string{"raw_token"}, "properties": obj{"raw_token": obj{"type": "boolean"}}}),
			"responses":   withOK(obj{"200": response("The peer.", ref("OCPIPeer"))}, e("400", "404"))},
		"delete": obj{"summary": "Unregister: DELETE our credentials at the peer and refuse its tokens",
			"responses": withOK(obj{"200": response("The UNREGISTERED peer (warning set if the peer was not told).", ref("OCPIPeer"))}, e("404"))},
	}
	paths["/api/v1/ocpi/peers/{id}/rotate"] = obj{"parameters": []any{peerID},
		"post": obj{"summary": "Rotate the credentials tokens with a REGISTERED peer",
			"responses": withOK(obj{"200": response("The peer with new tokens.", ref("OCPIPeer"))}, e("404", "409", "502"))}}
	paths["/api/v1/ocpi/peers/{id}/pull/locations"] = obj{"parameters": []any{peerID},
		"post": obj{"summary": "Fetch every location of the peer's CPO parties (we are eMSP)",
			"responses": withOK(obj{"200": response("How many were stored.", obj{"type": "object", "properties": obj{"stored": obj{"type": "integer"}}})}, e("404", "502"))}}
	paths["/api/v1/locations"] = obj{
		"get": obj{"summary": "List our locations (the CPO's), oldest change first", "parameters": listParams,
			"responses": withOK(listOK("Locations."), e("400", "404"))}}
	paths["/api/v1/locations/{id}"] = obj{"parameters": []any{pathParam("id", "Location id (case-insensitive)."), party},
		"get": obj{"summary": "One of our locations", "responses": withOK(obj{"200": response("The location.", ref("OCPILocation"))}, e("400", "404", "409"))},
		"put": obj{"summary": "Create or replace one of our locations and push it to every registered eMSP",
			"requestBody": jsonBody(ref("OCPILocation")),
			"responses":   withOK(obj{"200": response("The location as stored (last_updated stamped when absent).", ref("OCPILocation"))}, e("400", "404", "409"))},
		"patch": obj{"summary": "Change some fields of one of our locations (an OCPI PATCH body) and push it",
			"requestBody": jsonBody(obj{"type": "object"}),
			"responses":   withOK(obj{"200": response("The whole location as stored.", ref("OCPILocation"))}, e("400", "404", "409"))},
		"delete": obj{"summary": "Retire a location: every EVSE becomes REMOVED (OCPI never deletes), pushed to the eMSPs",
			"responses": withOK(obj{"200": response("The retired location.", ref("OCPILocation"))}, e("400", "404", "409"))},
	}
	paths["/api/v1/locations/{id}/evses/{uid}"] = obj{"parameters": []any{pathParam("id", "Location id."), pathParam("uid", "EVSE uid."), party},
		"patch": obj{"summary": "Change some fields of one EVSE, e.g. {\"status\":\"CHARGING\"}, and push the location",
			"requestBody": jsonBody(obj{"type": "object"}),
			"responses":   withOK(obj{"200": response("The whole location as stored.", ref("OCPILocation"))}, e("400", "404", "409"))}}
	paths["/api/v1/ocpi/received/locations"] = obj{
		"get": obj{"summary": "List the locations CPOs pushed to us or we pulled", "parameters": listParams,
			"responses": withOK(listOK("Locations."), e("400", "404"))}}
	paths["/api/v1/ocpi/received/locations/{country}/{party}/{id}"] = obj{
		"parameters": []any{pathParam("country", "The CPO's country code."), pathParam("party", "The CPO's party id."), pathParam("id", "Location id.")},
		"get":        obj{"summary": "One received location", "responses": withOK(obj{"200": response("The location.", ref("OCPILocation"))}, e("400", "404"))}}
}
