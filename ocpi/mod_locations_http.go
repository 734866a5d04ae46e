package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxLocationBody bounds a pushed Location, EVSE or Connector.
const maxLocationBody = 4 << 20

type locationsSender struct{ l *Locations }

func (locationsSender) Identifier() ModuleID         { return ModuleLocations }
func (locationsSender) InterfaceRole() InterfaceRole { return Sender }
func (s locationsSender) ServeOCPI(w http.ResponseWriter, r *Request) {
	if !allowMethod(w, r.Request, http.MethodGet) {
		return
	}
	if err := s.l.serveSender(w, r); err != nil {
		s.l.writeError(w, r, err)
	}
}

type locationsReceiver struct{ l *Locations }

func (locationsReceiver) Identifier() ModuleID         { return ModuleLocations }
func (locationsReceiver) InterfaceRole() InterfaceRole { return Receiver }
func (s locationsReceiver) ServeOCPI(w http.ResponseWriter, r *Request) {
	if !allowMethod(w, r.Request, http.MethodGet, http.MethodPut, http.MethodPatch) {
		return
	}
	if err := s.l.serveReceiver(w, r); err != nil {
		s.l.writeError(w, r, err)
	}
}

// writeError answers err; a store failure is logged and answered 3000
// without its details.
func (l *Locations) writeError(w http.ResponseWriter, r *Request, err error) {
	writeLoggedError(w, r.Request, l.log, r.Peer.ID, err)
}

// unknownLocation is the answer for a Location, EVSE or Connector we do
// not have: HTTP 404 (the spec's SHOULD for a GET of a resource that does
// not exist, and for a PUT of a child whose parent does not exist) with
// 2003 "unknown location".
func unknownLocation(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, StatusUnknownLocation, format, args...)
}

// serveSender answers the CPO's GET list and GET object with the
// locations of the party the request is addressed to (OCPI-to; the Node
// fills it in when we have one CPO party): each CPO party of a platform
// has its own locations. Without OCPI-to it answers for all our CPO
// parties.
func (l *Locations) serveSender(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	owners := []PartyID{r.To}
	if r.To.IsZero() {
		owners = partiesServing(l.node.cfg.Parties, ModuleLocations, Sender)
	}
	switch len(r.Path) {
	case 0:
		page, err := ParsePage(r.Request, l.node.cfg.MaxLimit)
		if err != nil {
			return err
		}
		objs, total, err := l.store.Objects(ctx, page.Filter(ObjectFilter{Kind: Owned, Module: ModuleLocations, Owners: owners}))
		if err != nil {
			return err
		}
		endpoint, err := url.Parse(l.node.moduleURL(Sender, ModuleLocations))
		if err != nil {
			return err
		}
		WritePage(w, r.Request, endpoint, page, total, ObjectsData(objs))
		return nil
	case 1, 2, 3:
		var err error
		for _, owner := range owners {
			var obj any
			if obj, err = l.object(ctx, Owned, owner, r.Path); err == nil {
				WriteData(w, http.StatusOK, obj)
				return nil
			}
			if AsError(err).Code != StatusUnknownLocation {
				return err
			}
		}
		if err == nil {
			err = unknownLocation("location %q is unknown", r.Path[0])
		}
		return err
	}
	return Errorf(http.StatusNotFound, StatusClientError, "no such locations resource: want {locations_url}[/{location_id}[/{evse_uid}[/{connector_id}]]]")
}

// object finds the Location, EVSE or Connector that ids (location_id
// [, evse_uid[, connector_id]]) name, compared case-insensitively.
func (l *Locations) object(ctx context.Context, kind ObjectKind, owner PartyID, ids []string) (any, error) {
	loc, err := l.load(ctx, kind, owner, ids[0])
	if errors.Is(err, ErrNotFound) {
		return nil, unknownLocation("location %q of %s is unknown", ids[0], owner)
	}
	if err != nil {
		return nil, err
	}
	if len(ids) == 1 {
		return loc, nil
	}
	e, ok := loc.EVSE(ids[1])
	if !ok {
		return nil, unknownLocation("location %q of %s has no EVSE %q", loc.ID, owner, ids[1])
	}
	if len(ids) == 2 {
		return e, nil
	}
	c, ok := e.Connector(ids[2])
	if !ok {
		return nil, unknownLocation("EVSE %q of location %q of %s has no connector %q", e.UID, loc.ID, owner, ids[2])
	}
	return c, nil
}

// serveReceiver answers the eMSP's GET, PUT and PATCH of
// {country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]].
func (l *Locations) serveReceiver(w http.ResponseWriter, r *Request) error {
	if len(r.Path) < 3 || len(r.Path) > 5 {
		return Errorf(http.StatusNotFound, StatusClientError, "no such locations resource: want {locations_url}/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]")
	}
	owner := PartyID{CountryCode: r.Path[0], PartyID: r.Path[1]}
	if !owner.Valid() {
		return InvalidParams("country_code/party_id %q/%q in the URL: want 2 letters and 3 characters", r.Path[0], r.Path[1])
	}
	owner = owner.Key()
	// The spec allows 404 for an object of a party the client does not
	// represent: a CPO pushes its own locations only (an eMSP party of the
	// same peer owns none). A hub routes for many parties, so its pushes
	// are not limited to its roles.
	if !r.Peer.RepresentsAs(owner, RoleCPO) {
		return Errorf(http.StatusNotFound, StatusInvalidParameters, "%s in the URL is not one of your CPO parties (%s) from the credentials handshake: push your own locations only",
			owner, partyList(partiesServing(r.Peer.Roles, ModuleLocations, Sender)))
	}
	ids := r.Path[2:]
	ctx := r.Context()
	if r.Method == http.MethodGet {
		obj, err := l.object(ctx, Received, owner, ids)
		if err != nil {
			return err
		}
		WriteData(w, http.StatusOK, obj)
		return nil
	}
	body, err := readBody(w, r.Request, maxLocationBody, objectName(len(ids)))
	if err != nil {
		return err
	}

	loc, outcome, err := l.storeReceived(ctx, r.Method, owner, ids, body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	switch outcome {
	case receivedStale:
		// An older version than the one stored (a delayed retry, or pushes
		// overtaking each other): it is kept out so that it cannot undo the
		// newer state, and answered 1000 all the same. PUT and PATCH are
		// idempotent and the sender's change is already superseded here, so
		// an error would only make it retry or alarm someone for nothing.
		l.log.InfoContext(ctx, "ocpi: ignored a pushed location object older than the stored one",
			"peer", r.Peer.ID, "owner", owner.String(), "path", strings.Join(ids, "/"), "method", r.Method)
		WriteData(w, status, nil)
		return nil
	case receivedCreated:
		status = http.StatusCreated
	}
	l.received(ctx, owner, loc)
	WriteData(w, status, nil)
	return nil
}

// receiveOutcome says what a received PUT or PATCH did to the stored
// location.
type receiveOutcome int

const (
	// receivedUpdated: an existing object was replaced or patched.
	receivedUpdated receiveOutcome = iota
	// receivedCreated: the PUT created the object it addressed.
	receivedCreated
	// receivedStale: the object's last_updated is older than the stored
	// one's; nothing was stored.
	receivedStale
)

// outcome is receivedCreated when created, receivedUpdated otherwise.
func outcome(created bool) receiveOutcome {
	if created {
		return receivedCreated
	}
	return receivedUpdated
}

// older reports whether an incoming last_updated is before the stored
// one. Equal ones are not older: a replay of the same version is stored
// again (idempotent).
func older(incoming, stored DateTime) bool { return incoming.Before(stored.Time) }

// patchLastUpdated is the last_updated of a PATCH body that patchObject
// accepted, read by its exact key as patchObject does (encoding/json
// would also match other spellings of it).
func patchLastUpdated(body []byte) (DateTime, error) {
	var p map[string]json.RawMessage
	var lu DateTime
	if err := json.Unmarshal(body, &p); err != nil {
		return DateTime{}, BadJSON(err)
	}
	if err := json.Unmarshal(p["last_updated"], &lu); err != nil || lu.IsZero() {
		return DateTime{}, InvalidParams("last_updated: required in a PATCH (the time of the change)")
	}
	return lu, nil
}

// storeReceived applies a PUT or PATCH body to the received location and
// stores the result, under writeMu. It returns the location as stored and
// what the write did; a stale one stores nothing.
func (l *Locations) storeReceived(ctx context.Context, method string, owner PartyID, ids []string, body []byte) (loc Location, res receiveOutcome, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	stored, err := l.load(ctx, Received, owner, ids[0])
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Location{}, 0, err
	}
	if method == http.MethodPut {
		loc, res, err = receivePut(stored, exists, owner, ids, body)
	} else {
		loc, res, err = receivePatch(stored, exists, owner, ids, body)
	}
	if err != nil {
		return Location{}, 0, err
	}
	if res == receivedStale {
		return stored, res, nil
	}
	if err := loc.Validate(); err != nil {
		return Location{}, 0, err
	}
	data, err := jsonMarshal(loc)
	if err != nil {
		return Location{}, 0, err
	}
	if err := l.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: owner, ID: loc.ID, LastUpdated: loc.LastUpdated.Time, Data: data}); err != nil {
		return Location{}, 0, err
	}
	return loc, res, nil
}

func objectName(ids int) string {
	switch ids {
	case 1:
		return "Location"
	case 2:
		return "EVSE"
	}
	return "Connector"
}

// receivePut applies a pushed Location, EVSE or Connector to the stored
// location (exists says whether there is one) and reports whether the
// pushed object is new, or stale: older (last_updated) than the stored
// object it replaces.
func receivePut(stored Location, exists bool, owner PartyID, ids []string, body []byte) (Location, receiveOutcome, error) {
	switch len(ids) {
	case 1:
		loc, err := DecodeLocation(body)
		if err != nil {
			return Location{}, 0, err
		}
		var v Validator
		urlMatch(&v, "id", loc.ID, ids[0], "location_id")
		urlMatch(&v, "country_code", loc.CountryCode, owner.CountryCode, "country_code")
		urlMatch(&v, "party_id", loc.PartyID, owner.PartyID, "party_id")
		if err := v.Err(); err != nil {
			return Location{}, 0, err
		}
		if exists && older(loc.LastUpdated, stored.LastUpdated) {
			return Location{}, receivedStale, nil
		}
		if exists {
			// An EVSE is never deleted (sessions and CDRs refer to it): one
			// the CPO leaves out is kept, REMOVED.
			keepRemovedEVSEs(&loc, stored)
		}
		return loc, outcome(!exists), nil
	}
	if !exists {
		return Location{}, 0, unknownLocation("location %q of %s is unknown: PUT the whole Location before its %s", ids[0], owner, strings.ToLower(objectName(len(ids))))
	}
	if len(ids) == 2 {
		e, err := DecodeEVSE(body)
		if err != nil {
			return Location{}, 0, err
		}
		var v Validator
		urlMatch(&v, "uid", e.UID, ids[1], "evse_uid")
		e.ValidateInto(&v, "")
		if err := v.Err(); err != nil {
			return Location{}, 0, err
		}
		old, had := stored.EVSE(e.UID)
		if had && older(e.LastUpdated, old.LastUpdated) {
			return Location{}, receivedStale, nil
		}
		stored.PutEVSE(e)
		return stored, outcome(!had), nil
	}
	e, ok := stored.EVSE(ids[1])
	if !ok {
		return Location{}, 0, unknownLocation("location %q of %s has no EVSE %q: PUT the EVSE before its connectors", stored.ID, owner, ids[1])
	}
	c, err := DecodeConnector(body)
	if err != nil {
		return Location{}, 0, err
	}
	var v Validator
	urlMatch(&v, "id", c.ID, ids[2], "connector_id")
	c.ValidateInto(&v, "")
	if err := v.Err(); err != nil {
		return Location{}, 0, err
	}
	old, had := e.Connector(c.ID)
	if had && older(c.LastUpdated, old.LastUpdated) {
		return Location{}, receivedStale, nil
	}
	return stored, outcome(!had), stored.PutConnector(e.UID, c)
}

// receivePatch applies a PATCH body to the stored Location, EVSE or
// Connector; the patch functions require last_updated and propagate it to
// the parents. A patch whose last_updated is older than the patched
// object's is receivedStale (checked after the patch applied, so a bad
// patch is still refused with its error).
func receivePatch(stored Location, exists bool, owner PartyID, ids []string, body []byte) (Location, receiveOutcome, error) {
	if !exists {
		return Location{}, 0, unknownLocation("location %q of %s is unknown: PUT the whole Location first", ids[0], owner)
	}
	switch len(ids) {
	case 1:
		patched, err := PatchLocation(stored, body)
		return patchResult(patched, err, body, stored.LastUpdated)
	case 2:
		e, ok := stored.EVSE(ids[1])
		if !ok {
			return Location{}, 0, unknownLocation("location %q of %s has no EVSE %q: PUT the EVSE first", stored.ID, owner, ids[1])
		}
		patched, err := PatchEVSE(*e, body)
		if res, err := patchOutcome(err, body, e.LastUpdated); err != nil || res == receivedStale {
			return Location{}, res, err
		}
		stored.PutEVSE(patched)
		return stored, receivedUpdated, nil
	}
	e, ok := stored.EVSE(ids[1])
	if !ok {
		return Location{}, 0, unknownLocation("location %q of %s has no EVSE %q", stored.ID, owner, ids[1])
	}
	c, ok := e.Connector(ids[2])
	if !ok {
		return Location{}, 0, unknownLocation("EVSE %q of location %q of %s has no connector %q: PUT the connector first", e.UID, stored.ID, owner, ids[2])
	}
	patched, err := PatchConnector(*c, body)
	if res, err := patchOutcome(err, body, c.LastUpdated); err != nil || res == receivedStale {
		return Location{}, res, err
	}
	return stored, receivedUpdated, stored.PutConnector(e.UID, patched)
}

// patchResult is patched and patchOutcome's verdict for a patched location.
func patchResult(patched Location, err error, body []byte, stored DateTime) (Location, receiveOutcome, error) {
	res, err := patchOutcome(err, body, stored)
	if err != nil || res == receivedStale {
		return Location{}, res, err
	}
	return patched, res, nil
}

// patchOutcome passes on the patch function's error, else compares the
// patch's own last_updated (not the patched object's, which the stored
// children may have moved) with the stored object's.
func patchOutcome(err error, body []byte, stored DateTime) (receiveOutcome, error) {
	if err != nil {
		return 0, err
	}
	lu, err := patchLastUpdated(body)
	if err != nil {
		return 0, err
	}
	if older(lu, stored) {
		return receivedStale, nil
	}
	return receivedUpdated, nil
}

// urlMatch records a problem when the body's identifier differs from the
// URL's (CiStrings: case-insensitively); the spec asks for 2001.
func urlMatch(v *Validator, field, body, inURL, segment string) {
	if !strings.EqualFold(body, inURL) {
		v.Addf(field, "%q does not match %s %q in the URL", body, segment, inURL)
	}
}

func jsonMarshal(loc Location) ([]byte, error) {
	b, err := json.Marshal(loc)
	if err != nil {
		return nil, fmt.Errorf("ocpi: encoding location %q: %w", loc.ID, err)
	}
	return b, nil
}
