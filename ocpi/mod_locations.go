package ocpi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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
	// Logger gets failed pushes and pulls. Default: the node's logger.
	Logger *slog.Logger
	// Now is the clock stamping last_updated on changes that do not carry
	// one (RemoveLocation, SetEVSEStatus with a zero time). Default
	// time.Now.
	Now func() time.Time
}

// Locations is the Locations module of one Node: the CPO's Sender
// interface (our own locations, Owned objects in the node's Store, pushed
// to every registered eMSP on each change) and the eMSP's Receiver
// interface (locations pushed to us or pulled by us, Received objects).
// Add the interfaces the node's parties need with Node.Handle(l.Sender())
// and Node.Handle(l.Receiver()).
type Locations struct {
	node  *Node
	store Store
	opts  LocationsOptions
	log   *slog.Logger

	// writeMu serialises read-modify-write of stored locations (ours and
	// received), so two changes of one location never lose each other.
	writeMu sync.Mutex

	pushMu   sync.Mutex
	pushes   map[pushKey]*pushSlot
	inFlight sync.WaitGroup
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
	return &Locations{
		node:   node,
		store:  node.cfg.Store,
		opts:   opts,
		log:    opts.Logger,
		pushes: map[pushKey]*pushSlot{},
	}
}

// Sender is the CPO's interface: GET of our locations (paginated list, one
// Location, EVSE or Connector). Add it with Node.Handle for a CPO.
func (l *Locations) Sender() Module { return locationsSender{l} }

// Receiver is the eMSP's interface: GET, PUT and PATCH of the locations
// CPOs push to us. Add it with Node.Handle for an eMSP.
func (l *Locations) Receiver() Module { return locationsReceiver{l} }

type locationsSender struct{ l *Locations }

func (locationsSender) Identifier() ModuleID         { return ModuleLocations }
func (locationsSender) InterfaceRole() InterfaceRole { return Sender }
func (s locationsSender) ServeOCPI(w http.ResponseWriter, r *Request) {
	s.l.serveSender(w, r)
}

type locationsReceiver struct{ l *Locations }

func (locationsReceiver) Identifier() ModuleID         { return ModuleLocations }
func (locationsReceiver) InterfaceRole() InterfaceRole { return Receiver }
func (s locationsReceiver) ServeOCPI(w http.ResponseWriter, r *Request) {
	s.l.serveReceiver(w, r)
}

func (l *Locations) serveSender(w http.ResponseWriter, r *Request) {
	WriteError(w, errors.New("not implemented"))
}

func (l *Locations) serveReceiver(w http.ResponseWriter, r *Request) {
	WriteError(w, errors.New("not implemented"))
}

type pushKey struct {
	peer     string
	owner    PartyID
	location string
}

type pushSlot struct{}

// PutLocation validates loc and stores it as a location of our CPO party
// owner (loc's country_code and party_id are filled from owner when empty
// and must equal it otherwise), then pushes it to every registered eMSP.
// A zero last_updated is stamped with the current time, as are the zero
// last_updated of its EVSEs and Connectors. It returns the stored Location.
func (l *Locations) PutLocation(ctx context.Context, owner PartyID, loc Location) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// PatchLocation applies an OCPI PATCH body (merge patch with last_updated,
// see the package function PatchLocation) to our location id, stores and
// pushes the result.
func (l *Locations) PatchLocation(ctx context.Context, owner PartyID, id string, patch []byte) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// PutEVSE adds or replaces one EVSE of our location, moves the location's
// last_updated, stores and pushes it.
func (l *Locations) PutEVSE(ctx context.Context, owner PartyID, locationID string, evse EVSE) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// PatchEVSE applies an OCPI PATCH body to one EVSE of our location, stores
// and pushes the result.
func (l *Locations) PatchEVSE(ctx context.Context, owner PartyID, locationID, evseUID string, patch []byte) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// SetEVSEStatus sets the status of one EVSE of our location (what a CSMS
// reports with StatusNotification), stamped at (the current time when
// zero), stores and pushes it. A status equal to the stored one changes
// nothing and pushes nothing.
func (l *Locations) SetEVSEStatus(ctx context.Context, owner PartyID, locationID, evseUID string, status Status, at time.Time) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// PutConnector adds or replaces one connector of an EVSE of our location,
// stores and pushes the location.
func (l *Locations) PutConnector(ctx context.Context, owner PartyID, locationID, evseUID string, c Connector) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// PatchConnector applies an OCPI PATCH body to one connector of our
// location, stores and pushes the result.
func (l *Locations) PatchConnector(ctx context.Context, owner PartyID, locationID, evseUID, connectorID string, patch []byte) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// RemoveLocation retires our location: every EVSE gets status REMOVED
// (locations and EVSEs are never deleted in OCPI), then it is stored and
// pushed.
func (l *Locations) RemoveLocation(ctx context.Context, owner PartyID, id string) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// Location returns our location id of party owner, or an error wrapping
// ErrNotFound.
func (l *Locations) Location(ctx context.Context, owner PartyID, id string) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// List returns one page of our locations (f.Kind and f.Module are set
// for you) and how many match f in total.
func (l *Locations) List(ctx context.Context, f ObjectFilter) ([]Location, int, error) {
	return nil, 0, errors.New("not implemented")
}

// Received returns one page of the locations other parties pushed to us
// or we pulled (f.Kind and f.Module are set for you) and how many match f.
func (l *Locations) Received(ctx context.Context, f ObjectFilter) ([]Location, int, error) {
	return nil, 0, errors.New("not implemented")
}

// ReceivedLocation returns the location id of CPO party owner as we
// received it, or an error wrapping ErrNotFound.
func (l *Locations) ReceivedLocation(ctx context.Context, owner PartyID, id string) (Location, error) {
	return Location{}, errors.New("not implemented")
}

// Pull fetches the peer's whole locations list (its Sender endpoint,
// following every page) within q and stores each location as Received.
// It returns how many locations it stored; a location that fails
// validation is logged and skipped, not stored, and counted in the error
// returned at the end.
func (l *Locations) Pull(ctx context.Context, peerID string, q ListQuery) (int, error) {
	return 0, errors.New("not implemented")
}

// Wait blocks until every push in flight (retries included) is done: for
// tests and for a clean shutdown.
func (l *Locations) Wait() { l.inFlight.Wait() }
