package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of LocationsOptions.
const (
	// DefaultPushRetries is LocationsOptions.PushRetries when it is zero.
	DefaultPushRetries = 3
	// DefaultPushBackoff is LocationsOptions.PushBackoff when it is zero.
	DefaultPushBackoff = time.Second
)

// LocationsOptions configures a Locations module.
type LocationsOptions struct {
	// PushRetries is how many times a failed push to one eMSP is tried
	// again before it is dropped (logged; the eMSP gets the location when
	// it pulls). Default DefaultPushRetries (3); negative: no retry.
	PushRetries int
	// PushBackoff is the wait before the first retry, doubled before each
	// next one. Default DefaultPushBackoff (1 s).
	PushBackoff time.Duration
	// PushTimeout bounds one push request. Default: the node's HTTP client
	// timeout (30 s unless Config.HTTPClient says otherwise).
	PushTimeout time.Duration
	// Logger gets failed pushes and store failures behind a 3000 answer.
	// Default: the node's logger.
	Logger *slog.Logger
	// Now is the clock stamping last_updated on changes that do not carry
	// one (RemoveLocation, SetEVSEStatus with a zero time). Default
	// time.Now.
	Now func() time.Time
	// OnReceived, when set, is called with each received location as it
	// was just stored: after a CPO's PUT or PATCH to our Receiver (of the
	// Location, an EVSE or a Connector: loc is always the whole Location),
	// after Pull stored a location, and after a complete Pull retired one.
	// owner is the CPO party the location belongs to. It is never called
	// for a write that failed or was refused, nor for a pulled location
	// older than the one stored, nor while the module holds a lock (so it
	// may call the module). It runs in the goroutine of
	// the write: a push is answered, and Pull goes on, only when it
	// returns, so hand slow work off. ctx is the request's (or Pull's).
	// Default: nil, nothing is called.
	OnReceived func(ctx context.Context, owner PartyID, loc Location)
}

// Locations is the Locations module of one Node: the CPO's Sender
// interface (our own locations, Owned objects in the node's Store, pushed
// to every registered eMSP on each change) and the eMSP's Receiver
// interface (locations pushed to us or pulled by us, Received objects).
// Add the interfaces the node's parties need with Node.Handle(l.Sender())
// and Node.Handle(l.Receiver()).
//
// A PUT of a whole Location replaces the stored one, except that an EVSE
// it leaves out is kept with status REMOVED: EVSEs are never deleted.
//
// Answers: an unknown Location, EVSE or Connector (GET, or PUT/PATCH of a
// child whose parent is unknown) is HTTP 404 with 2003; a receiver URL
// whose country_code/party_id is not one of the caller's parties is HTTP
// 404 with 2001 (transport_and_format allows 404); ids or party in the
// body other than the URL's, a missing or bad field, or a PATCH without
// last_updated are 2001 naming the field; a body that is not JSON is HTTP
// 400. A PUT that creates an object is answered 201, otherwise 200.
//
// Pushes are PUTs of the whole Location (see push), in order per
// location and receiver, with bounded retries; a push that fails is
// dropped and the eMSP gets the location when it pulls (Pull, or any GET
// of our list).
type Locations struct {
	node  *Node
	store Store
	opts  LocationsOptions
	log   *slog.Logger

	// writeMu serialises read-modify-write of stored locations (ours and
	// received), so two changes of one location never lose each other.
	writeMu sync.Mutex

	pushMu sync.Mutex
	pushes map[pushKey]*pushSlot // a key is here while its goroutine runs
	idle   *sync.Cond            // on pushMu: signalled when pushes empties
	closed bool                  // by Close: no new pushes
	// pushCtx bounds every push; Close cancels it.
	pushCtx    context.Context
	stopPushes context.CancelFunc
}

// NewLocations returns the Locations module of node, using the node's
// Store, HTTP client and parties.
func NewLocations(node *Node, opts LocationsOptions) *Locations {
	if opts.PushRetries == 0 {
		opts.PushRetries = DefaultPushRetries
	}
	if opts.PushRetries < 0 {
		opts.PushRetries = 0
	}
	if opts.PushBackoff <= 0 {
		opts.PushBackoff = DefaultPushBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = node.cfg.Logger
	}
	l := &Locations{
		node:   node,
		store:  node.cfg.Store,
		opts:   opts,
		log:    opts.Logger,
		pushes: map[pushKey]*pushSlot{},
	}
	l.idle = sync.NewCond(&l.pushMu)
	l.pushCtx, l.stopPushes = context.WithCancel(context.Background())
	return l
}

// Sender is the CPO's interface: GET of our locations (paginated list, one
// Location, EVSE or Connector). Add it with Node.Handle for a CPO.
func (l *Locations) Sender() Module { return locationsSender{l} }

// Receiver is the eMSP's interface: GET, PUT and PATCH of the locations
// CPOs push to us. Add it with Node.Handle for an eMSP.
func (l *Locations) Receiver() Module { return locationsReceiver{l} }

// PutLocation validates loc and stores it as a location of our CPO party
// owner (loc's country_code and party_id are filled in from owner when
// empty and must equal it otherwise), then pushes it to every registered
// eMSP. A zero last_updated is stamped with the current time, a zero one
// of an EVSE or Connector with its parent's — unless the object equals
// its stored version, which keeps its last_updated (putting the same data
// again changes, stores and pushes nothing); a parent's last_updated is
// moved up to its newest child's. An EVSE of the stored location that loc
// leaves out is kept with status REMOVED (OCPI never deletes an EVSE:
// sessions and CDRs refer to it). It returns the Location as stored.
//
// Every location put here is shared with every registered eMSP, whatever
// its publish flag: publish=false (with or without publish_allowed_to)
// tells the eMSP not to show it to the general public, but the eMSP still
// needs it for its helpdesk and for the token owners it may be shown to
// (mod_locations, "Example destination charging location not published").
// A private charge point that is not for public charging and needs no
// remote control SHALL NOT be published via OCPI: do not put it here.
func (l *Locations) PutLocation(ctx context.Context, owner PartyID, loc Location) (Location, error) {
	if err := l.checkOurs(owner); err != nil {
		return Location{}, err
	}
	switch {
	case loc.CountryCode == "" && loc.PartyID == "":
		loc.CountryCode, loc.PartyID = owner.CountryCode, owner.PartyID
	case !loc.Party().Is(owner):
		return Location{}, InvalidParams("country_code/party_id %s of location %q is not its owner %s", loc.Party(), loc.ID, owner)
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	old, err := l.load(ctx, Owned, owner, loc.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Location{}, err
	}
	if exists {
		keepUnchangedStamps(&loc, old)
	}
	loc.LastUpdated = l.stamp(loc.LastUpdated)
	for i := range loc.EVSEs {
		e := &loc.EVSEs[i]
		if e.LastUpdated.IsZero() {
			e.LastUpdated = loc.LastUpdated
		}
		for j := range e.Connectors {
			if e.Connectors[j].LastUpdated.IsZero() {
				e.Connectors[j].LastUpdated = e.LastUpdated
			}
		}
	}
	propagateLastUpdated(&loc)
	if exists {
		keepRemovedEVSEs(&loc, old)
		if sameJSON(loc, old) {
			return old, nil // nothing changed: no new last_updated, no push
		}
		if loc.LastUpdated.Before(old.LastUpdated.Time) {
			// Receivers ignore a version older than the one they hold: the
			// change would be stored here and never seen there.
			return Location{}, InvalidParams("last_updated %s is older than the stored location's %s: receivers would ignore this version; leave last_updated out to stamp the current time", loc.LastUpdated, old.LastUpdated)
		}
	}
	return loc, l.saveOwned(ctx, loc)
}

// keepUnchangedStamps gives every object of loc without a last_updated
// whose content equals its stored version (old) the stored last_updated,
// so that putting the same data again neither moves last_updated nor
// pushes (a changed child still moves its parents, by propagation).
func keepUnchangedStamps(loc *Location, old Location) {
	for i := range loc.EVSEs {
		e := &loc.EVSEs[i]
		oe, ok := old.EVSE(e.UID)
		if !ok {
			continue
		}
		for j := range e.Connectors {
			c := &e.Connectors[j]
			if oc, ok := oe.Connector(c.ID); ok && c.LastUpdated.IsZero() && sameJSON(unstampedConnector(*c), unstampedConnector(*oc)) {
				c.LastUpdated = oc.LastUpdated
			}
		}
		if e.LastUpdated.IsZero() && sameJSON(unstampedEVSE(*e), unstampedEVSE(*oe)) {
			e.LastUpdated = oe.LastUpdated
		}
	}
	if !loc.LastUpdated.IsZero() {
		return
	}
	// EVSEs left out that are REMOVED already are no change.
	cand := unstampedLocation(*loc)
	for _, oe := range old.EVSEs {
		if _, ok := loc.EVSE(oe.UID); ok {
			continue
		}
		if oe.Status != StatusRemoved {
			return
		}
		cand.EVSEs = append(cand.EVSEs, unstampedEVSE(oe))
	}
	if sameJSON(cand, unstampedLocation(old)) {
		loc.LastUpdated = old.LastUpdated
	}
}

func unstampedConnector(c Connector) Connector { c.LastUpdated = DateTime{}; return c }

func unstampedEVSE(e EVSE) EVSE {
	e.LastUpdated = DateTime{}
	cs := make([]Connector, len(e.Connectors))
	for i, c := range e.Connectors {
		cs[i] = unstampedConnector(c)
	}
	e.Connectors = cs
	return e
}

func unstampedLocation(l Location) Location {
	l.LastUpdated = DateTime{}
	es := make([]EVSE, len(l.EVSEs))
	for i, e := range l.EVSEs {
		es[i] = unstampedEVSE(e)
	}
	l.EVSEs = es
	return l
}

// sameJSON reports whether a and b encode alike.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// keepRemovedEVSEs appends to loc every EVSE of old that loc lacks, with
// status REMOVED (stamped with loc's last_updated when it was not REMOVED
// yet).
func keepRemovedEVSEs(loc *Location, old Location) {
	for _, e := range old.EVSEs {
		if _, ok := loc.EVSE(e.UID); ok {
			continue
		}
		if e.Status != StatusRemoved {
			e.Status, e.LastUpdated = StatusRemoved, loc.LastUpdated
		}
		loc.EVSEs = append(loc.EVSEs, e)
	}
}

// PatchLocation applies an OCPI PATCH body (a merge patch, see the
// function PatchLocation; a body without last_updated is stamped with the
// current time) to our location id of party owner, then stores and pushes
// the result.
func (l *Locations) PatchLocation(ctx context.Context, owner PartyID, id string, patch []byte) (Location, error) {
	return l.changeOwned(ctx, owner, id, func(loc *Location) (bool, error) {
		p, err := PatchLocation(*loc, l.stampPatch(patch))
		*loc = p
		return true, err
	})
}

// PutEVSE adds evse to our location or replaces the EVSE with its uid
// (a zero last_updated is stamped with the current time, zero ones of its
// connectors with the EVSE's), moves the location's last_updated, then
// stores and pushes the location.
func (l *Locations) PutEVSE(ctx context.Context, owner PartyID, locationID string, evse EVSE) (Location, error) {
	evse.LastUpdated = l.stamp(evse.LastUpdated)
	for j := range evse.Connectors {
		if evse.Connectors[j].LastUpdated.IsZero() {
			evse.Connectors[j].LastUpdated = evse.LastUpdated
		}
	}
	return l.changeOwned(ctx, owner, locationID, func(loc *Location) (bool, error) {
		loc.PutEVSE(evse)
		propagateLastUpdated(loc)
		return true, nil
	})
}

// PatchEVSE applies an OCPI PATCH body (see PatchLocation) to one EVSE of
// our location, then stores and pushes the location.
func (l *Locations) PatchEVSE(ctx context.Context, owner PartyID, locationID, evseUID string, patch []byte) (Location, error) {
	return l.changeOwned(ctx, owner, locationID, func(loc *Location) (bool, error) {
		e, err := findEVSE(loc, evseUID)
		if err != nil {
			return false, err
		}
		patched, err := PatchEVSE(*e, l.stampPatch(patch))
		if err != nil {
			return false, err
		}
		loc.PutEVSE(patched)
		return true, nil
	})
}

// SetEVSEStatus sets the status of one EVSE of our location, as a CSMS
// learns it from a StatusNotification, stamped at (the current time when
// zero), then stores and pushes the location. Nothing is stored or pushed
// when the status is already the stored one, or when at is older than the
// EVSE's last_updated (a late notification must not undo a newer one).
func (l *Locations) SetEVSEStatus(ctx context.Context, owner PartyID, locationID, evseUID string, status Status, at time.Time) (Location, error) {
	if !status.Valid() {
		return Location{}, InvalidParams("status: %q is not an EVSE status (AVAILABLE, BLOCKED, CHARGING, ...)", status)
	}
	stamp := l.stamp(NewDateTime(at))
	return l.changeOwned(ctx, owner, locationID, func(loc *Location) (bool, error) {
		e, err := findEVSE(loc, evseUID)
		if err != nil {
			return false, err
		}
		if e.Status == status || stamp.Before(e.LastUpdated.Time) {
			return false, nil
		}
		e.Status, e.LastUpdated = status, stamp
		loc.bump(stamp)
		return true, nil
	})
}

// PutConnector adds c to one EVSE of our location or replaces the
// connector with its id (a zero last_updated is stamped with the current
// time), moves the EVSE's and location's last_updated, then stores and
// pushes the location.
func (l *Locations) PutConnector(ctx context.Context, owner PartyID, locationID, evseUID string, c Connector) (Location, error) {
	c.LastUpdated = l.stamp(c.LastUpdated)
	return l.changeOwned(ctx, owner, locationID, func(loc *Location) (bool, error) {
		if _, err := findEVSE(loc, evseUID); err != nil {
			return false, err
		}
		return true, loc.PutConnector(evseUID, c)
	})
}

// PatchConnector applies an OCPI PATCH body (see PatchLocation) to one
// connector of our location, then stores and pushes the location.
func (l *Locations) PatchConnector(ctx context.Context, owner PartyID, locationID, evseUID, connectorID string, patch []byte) (Location, error) {
	return l.changeOwned(ctx, owner, locationID, func(loc *Location) (bool, error) {
		e, err := findEVSE(loc, evseUID)
		if err != nil {
			return false, err
		}
		c, ok := e.Connector(connectorID)
		if !ok {
			return false, fmt.Errorf("ocpi: connector %q of EVSE %q of location %q: %w", connectorID, evseUID, loc.ID, ErrNotFound)
		}
		patched, err := PatchConnector(*c, l.stampPatch(patch))
		if err != nil {
			return false, err
		}
		return true, loc.PutConnector(e.UID, patched)
	})
}

// RemoveLocation retires our location: every EVSE gets status REMOVED
// (OCPI never deletes locations nor EVSEs; a location without a valid EVSE
// has expired), then it is stored and pushed. The location stays in the
// Sender's list, so an eMSP that pulls learns of the removal too.
func (l *Locations) RemoveLocation(ctx context.Context, owner PartyID, id string) (Location, error) {
	return l.changeOwned(ctx, owner, id, func(loc *Location) (bool, error) {
		now := l.stamp(DateTime{})
		for i := range loc.EVSEs {
			if e := &loc.EVSEs[i]; e.Status != StatusRemoved {
				e.Status, e.LastUpdated = StatusRemoved, now
			}
		}
		loc.bump(now)
		return true, nil
	})
}

// Location returns our location id of party owner, or an error wrapping
// ErrNotFound.
func (l *Locations) Location(ctx context.Context, owner PartyID, id string) (Location, error) {
	return l.load(ctx, Owned, owner, id)
}

// List returns one page of our locations (f.Kind and f.Module are set for
// you) and how many match f in total.
func (l *Locations) List(ctx context.Context, f ObjectFilter) ([]Location, int, error) {
	return l.list(ctx, Owned, f)
}

// Received returns one page of the locations other parties pushed to us
// or we pulled (f.Kind and f.Module are set for you) and how many match f
// in total.
func (l *Locations) Received(ctx context.Context, f ObjectFilter) ([]Location, int, error) {
	return l.list(ctx, Received, f)
}

// ReceivedLocation returns the location id of CPO party owner as we
// received it, or an error wrapping ErrNotFound.
func (l *Locations) ReceivedLocation(ctx context.Context, owner PartyID, id string) (Location, error) {
	return l.load(ctx, Received, owner, id)
}

// Wait blocks until every push in flight (retries included) is done: for
// tests and for a clean shutdown. Changes made while it waits are waited
// for too.
func (l *Locations) Wait() {
	l.pushMu.Lock()
	defer l.pushMu.Unlock()
	for len(l.pushes) > 0 {
		l.idle.Wait()
	}
}

// Close stops pushing: pushes in flight and retries waiting are abandoned
// (the eMSPs get those changes when they pull), later changes are stored
// but not pushed. It returns when no push is running any more. Use it when
// the node shuts down; Wait instead lets the pushes finish.
func (l *Locations) Close() {
	l.pushMu.Lock()
	l.closed = true
	l.pushMu.Unlock()
	l.stopPushes()
	l.Wait()
}

// checkOurs fails unless owner is one of our CPO parties.
func (l *Locations) checkOurs(owner PartyID) error {
	for _, r := range l.node.cfg.Parties {
		if r.Role == RoleCPO && r.Party().Is(owner) {
			return nil
		}
	}
	return fmt.Errorf("ocpi: %s is not a CPO party of this node (Config.Parties): only a CPO's own locations can be changed", owner)
}

// stamp returns t, or the current time when t is zero.
func (l *Locations) stamp(t DateTime) DateTime {
	if t.IsZero() {
		return NewDateTime(l.opts.Now())
	}
	return NewDateTime(t.Time)
}

// stampPatch adds last_updated (now) to a PATCH body that has none; a body
// that is not a JSON object is returned as it is, for the patch functions
// to reject with a clear error.
func (l *Locations) stampPatch(patch []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(patch, &m) != nil || m == nil {
		return patch
	}
	if _, ok := m["last_updated"]; ok {
		return patch
	}
	m["last_updated"], _ = json.Marshal(l.stamp(DateTime{}))
	b, err := json.Marshal(m)
	if err != nil {
		return patch
	}
	return b
}

// changeOwned loads our location, applies change and, when change says
// something changed, validates, stores and pushes the result.
func (l *Locations) changeOwned(ctx context.Context, owner PartyID, id string, change func(*Location) (bool, error)) (Location, error) {
	if err := l.checkOurs(owner); err != nil {
		return Location{}, err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	loc, err := l.load(ctx, Owned, owner, id)
	if err != nil {
		return Location{}, err
	}
	changed, err := change(&loc)
	if err != nil || !changed {
		return loc, err
	}
	return loc, l.saveOwned(ctx, loc)
}

// saveOwned validates, stores and pushes one of our locations. The caller
// holds writeMu, so pushes are queued in the order of the writes.
func (l *Locations) saveOwned(ctx context.Context, loc Location) error {
	if err := loc.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(loc)
	if err != nil {
		return fmt.Errorf("ocpi: encoding location %q: %w", loc.ID, err)
	}
	o := Object{Kind: Owned, Module: ModuleLocations, Owner: loc.Party().Key(), ID: loc.ID, LastUpdated: loc.LastUpdated.Time, Data: data}
	if err := l.store.PutObject(ctx, o); err != nil {
		return fmt.Errorf("ocpi: storing location %s/%q: %w", o.Owner, loc.ID, err)
	}
	l.push(ctx, loc.Party().Key(), loc.ID, data)
	return nil
}

func (l *Locations) load(ctx context.Context, kind ObjectKind, owner PartyID, id string) (Location, error) {
	o, err := l.store.Object(ctx, kind, ModuleLocations, owner.Key(), id)
	if err != nil {
		return Location{}, err
	}
	loc, err := DecodeLocation(o.Data)
	if err != nil {
		return Location{}, fmt.Errorf("ocpi: stored location %s/%q cannot be decoded: %w", owner, id, err)
	}
	return loc, nil
}

// received calls OnReceived, if set, for a received location just stored.
func (l *Locations) received(ctx context.Context, owner PartyID, loc Location) {
	if l.opts.OnReceived != nil {
		l.opts.OnReceived(ctx, owner.Key(), loc)
	}
}

func (l *Locations) list(ctx context.Context, kind ObjectKind, f ObjectFilter) ([]Location, int, error) {
	f.Kind, f.Module = kind, ModuleLocations
	objs, total, err := l.store.Objects(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Location, 0, len(objs))
	for _, o := range objs {
		loc, err := DecodeLocation(o.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("ocpi: stored location %s/%q cannot be decoded: %w", o.Owner, o.ID, err)
		}
		out = append(out, loc)
	}
	return out, total, nil
}

func findEVSE(loc *Location, uid string) (*EVSE, error) {
	e, ok := loc.EVSE(uid)
	if !ok {
		return nil, fmt.Errorf("ocpi: EVSE %q of location %q: %w", uid, loc.ID, ErrNotFound)
	}
	return e, nil
}

// propagateLastUpdated moves every EVSE's last_updated up to its newest
// connector's and the location's up to its newest EVSE's.
func propagateLastUpdated(loc *Location) {
	for i := range loc.EVSEs {
		e := &loc.EVSEs[i]
		e.bumpToConnectors()
		loc.bump(e.LastUpdated)
	}
}

// bumpToConnectors moves e's last_updated up to its newest connector's.
func (e *EVSE) bumpToConnectors() {
	for _, c := range e.Connectors {
		if c.LastUpdated.After(e.LastUpdated.Time) {
			e.LastUpdated = c.LastUpdated
		}
	}
}
