package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by a Store when the peer or object does not exist.
var ErrNotFound = errors.New("ocpi: not found")

// PeerStatus is where a peer is in the credentials handshake.
type PeerStatus string

// The peer states.
const (
	// PeerPending: we issued a token A; the peer has not registered yet.
	PeerPending PeerStatus = "PENDING"
	// PeerRegistered: tokens B and C are exchanged; modules may be used.
	PeerRegistered PeerStatus = "REGISTERED"
	// PeerUnregistered: either side deleted the credentials; no token works.
	PeerUnregistered PeerStatus = "UNREGISTERED"
)

// Peer is another OCPI platform we are (or will be) connected to.
type Peer struct {
	// ID is our own identifier for the peer (stable, never sent).
	ID string `json:"id"`
	// Name is a label for operators (e.g. the peer's business name).
	Name string `json:"name,omitempty"`
	// Status is the handshake state.
	Status PeerStatus `json:"status"`
	// IncomingToken is the token the peer must send to call us: token A
	// until it registers, then the token C we issued.
	IncomingToken string `json:"-"`
	// PreviousIncomingToken is the token replaced by the last rotation; it
	// is accepted until PreviousTokenExpires, so requests already in flight
	// during a rotation do not fail.
	PreviousIncomingToken string `json:"-"`
	// PreviousTokenExpires ends the previous token's grace period, by the
	// Node's clock (Config.Now); zero: the previous token is not accepted.
	PreviousTokenExpires time.Time `json:"-"`
	// OutgoingToken is the token we send to call the peer (its token B or C).
	OutgoingToken string `json:"-"`
	// RawToken makes us send OutgoingToken unencoded (pre-2.2.1 peers).
	// Unless RawTokenFixed, it follows how the peer sends its token to us:
	// raw sets it, base64 clears it.
	RawToken bool `json:"raw_token"`
	// RawTokenFixed keeps RawToken whatever encoding the peer's requests
	// use: set by Node.SetRawToken (the operator's choice), and when the
	// peer's API refused the encoding it sends us and accepted the other
	// during registration or a credentials update.
	RawTokenFixed bool `json:"raw_token_fixed"`
	// VersionsURL is the peer's versions endpoint.
	VersionsURL string `json:"versions_url,omitempty"`
	// Version is the negotiated version; Endpoints its endpoints at the peer.
	Version   VersionNumber `json:"version,omitempty"`
	Endpoints []Endpoint    `json:"endpoints,omitempty"`
	// Roles are the parties the peer represents (from its credentials).
	Roles []CredentialsRole `json:"roles,omitempty"`
	// Created and Updated are set by the Store.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// ObjectKind says whose object a stored object is to this node.
type ObjectKind string

const (
	// Owned objects belong to one of this node's parties (we are the Sender).
	Owned ObjectKind = "owned"
	// Received objects were pushed to us or pulled by us (we are the Receiver).
	Received ObjectKind = "received"
)

// Object is one stored module object — a Location with its EVSEs and
// connectors inside, later a Session, CDR, Tariff or Token — as its OCPI
// JSON, with the keys it is found by.
type Object struct {
	// Kind says whether we own the object or received it.
	Kind ObjectKind
	// Module is the module the object belongs to (locations, ...).
	Module ModuleID
	// Owner is the party that owns the object (from the URL or the object).
	Owner PartyID
	// ID is the object's id; stores compare it case-insensitively and keep
	// the spelling of the last write.
	ID string
	// LastUpdated is the object's last_updated, the pagination key.
	LastUpdated time.Time
	// Data is the whole object as OCPI JSON.
	Data json.RawMessage
}

// ObjectFilter selects objects for a paginated list.
type ObjectFilter struct {
	// Kind and Module select the objects' kind and module (required).
	Kind   ObjectKind
	Module ModuleID
	// Owners limits the list to these parties; empty means all.
	Owners []PartyID
	// From (inclusive) and To (exclusive) bound LastUpdated; zero means open.
	From, To time.Time
	// Offset and Limit page the result; Limit 0 means no limit.
	Offset, Limit int
}

// Store keeps a node's peers and objects. Implementations: MemoryStore
// here, and the SQLite and PostgreSQL stores of the openev server. Every
// method is safe for concurrent use.
type Store interface {
	// SavePeer creates or replaces the peer with p.ID.
	SavePeer(ctx context.Context, p Peer) error
	// Peer returns the peer with id, or ErrNotFound.
	Peer(ctx context.Context, id string) (Peer, error)
	// PeerByToken returns the peer whose IncomingToken is token, else the
	// peer whose PreviousIncomingToken is token and has a
	// PreviousTokenExpires (expired or not: the Node decides, with its
	// Config.Now, so the store's clock plays no part), or ErrNotFound.
	PeerByToken(ctx context.Context, token string) (Peer, error)
	// Peers lists every peer, oldest first.
	Peers(ctx context.Context) ([]Peer, error)
	// DeletePeer removes the peer, or returns ErrNotFound.
	DeletePeer(ctx context.Context, id string) error

	// PutObject creates or replaces an object, keyed by kind, module, owner
	// and case-folded id.
	PutObject(ctx context.Context, o Object) error
	// Object returns one object, or ErrNotFound.
	Object(ctx context.Context, kind ObjectKind, module ModuleID, owner PartyID, id string) (Object, error)
	// Objects returns one page of the objects matching f in a stable order
	// (LastUpdated, then owner, then id) and how many match f in total
	// (ignoring Offset and Limit).
	Objects(ctx context.Context, f ObjectFilter) (page []Object, total int, err error)
}
