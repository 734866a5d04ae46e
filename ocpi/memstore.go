package ocpi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store in memory: for examples, tests and single-process
// nodes that can lose their state on restart. It is safe for concurrent
// use, and what it returns is a copy: changing a returned Peer or Object
// does not change the store. The zero value is an empty store.
type MemoryStore struct {
	mu      sync.RWMutex
	peers   map[string]Peer
	objects map[objectKey]Object
}

// objectKey is the identity of an object: its owner upper-cased and its id
// lower-cased, as the SQL stores key them.
type objectKey struct {
	kind   ObjectKind
	module ModuleID
	owner  PartyID
	id     string
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{peers: map[string]Peer{}, objects: map[objectKey]Object{}}
}

// SavePeer creates or replaces the peer with p.ID. A replaced peer keeps
// its Created; Updated is now.
func (s *MemoryStore) SavePeer(ctx context.Context, p Peer) error {
	if err := checkPeer(p); err != nil {
		return fmt.Errorf("ocpi: save peer %q: %w", p.ID, err)
	}
	now := time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.IncomingToken != "" {
		for id, q := range s.peers {
			if id != p.ID && q.IncomingToken == p.IncomingToken {
				return fmt.Errorf("ocpi: save peer %q: incoming token already belongs to peer %q; issue a new token", p.ID, id)
			}
		}
	}
	if s.peers == nil {
		s.peers = map[string]Peer{}
	}
	p = copyPeer(p)
	p.Created = now
	if old, ok := s.peers[p.ID]; ok {
		p.Created = old.Created
	}
	p.Updated = now
	if !p.PreviousTokenExpires.IsZero() {
		p.PreviousTokenExpires = p.PreviousTokenExpires.UTC()
	}
	s.peers[p.ID] = p
	return nil
}

// Peer returns the peer with id, or ErrNotFound.
func (s *MemoryStore) Peer(ctx context.Context, id string) (Peer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.peers[id]
	if !ok {
		return Peer{}, fmt.Errorf("ocpi: peer %q: %w", id, ErrNotFound)
	}
	return copyPeer(p), nil
}

// PeerByToken returns the peer whose IncomingToken is token, else the one
// whose PreviousIncomingToken is token and has an expiry (past or not: the
// caller compares it with its clock), or ErrNotFound. Tokens are compared
// exactly; the empty token matches no peer.
func (s *MemoryStore) PeerByToken(ctx context.Context, token string) (Peer, error) {
	if token == "" {
		return Peer{}, fmt.Errorf("ocpi: peer by token: empty token: %w", ErrNotFound)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var previous *Peer
	for _, p := range s.peers {
		if p.IncomingToken == token {
			return copyPeer(p), nil
		}
		// Should two peers still accept the token, the oldest wins, as in
		// the SQL stores.
		if p.PreviousIncomingToken == token && !p.PreviousTokenExpires.IsZero() &&
			(previous == nil || comparePeers(p, *previous) < 0) {
			previous = &p
		}
	}
	if previous != nil {
		return copyPeer(*previous), nil
	}
	return Peer{}, fmt.Errorf("ocpi: peer by token: %w", ErrNotFound)
}

// Peers lists every peer, oldest first (then by ID).
func (s *MemoryStore) Peers(ctx context.Context) ([]Peer, error) {
	s.mu.RLock()
	out := make([]Peer, 0, len(s.peers))
	for _, p := range s.peers {
		out = append(out, copyPeer(p))
	}
	s.mu.RUnlock()
	slices.SortFunc(out, comparePeers)
	return out, nil
}

// comparePeers orders peers oldest first, then by ID.
func comparePeers(a, b Peer) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// DeletePeer removes the peer, or returns ErrNotFound.
func (s *MemoryStore) DeletePeer(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.peers[id]; !ok {
		return fmt.Errorf("ocpi: delete peer %q: %w", id, ErrNotFound)
	}
	delete(s.peers, id)
	return nil
}

// PutObject creates or replaces an object, keyed by kind, module, owner
// (ignoring case) and id (ignoring case); the stored owner is upper-cased
// and the stored id is spelled as in this write.
func (s *MemoryStore) PutObject(ctx context.Context, o Object) error {
	if err := checkObject(o); err != nil {
		return fmt.Errorf("ocpi: put %s %s object %q: %w", o.Kind, o.Module, o.ID, err)
	}
	o.Owner = o.Owner.Key()
	o.LastUpdated = o.LastUpdated.UTC()
	o.Data = bytes.Clone(o.Data)
	s.mu.Lock()
	if s.objects == nil {
		s.objects = map[objectKey]Object{}
	}
	s.objects[keyOf(o.Kind, o.Module, o.Owner, o.ID)] = o
	s.mu.Unlock()
	return nil
}

// Object returns one object, or ErrNotFound.
func (s *MemoryStore) Object(ctx context.Context, kind ObjectKind, module ModuleID, owner PartyID, id string) (Object, error) {
	s.mu.RLock()
	o, ok := s.objects[keyOf(kind, module, owner, id)]
	s.mu.RUnlock()
	if !ok {
		return Object{}, fmt.Errorf("ocpi: %s %s object %s/%q: %w", kind, module, owner, id, ErrNotFound)
	}
	o.Data = bytes.Clone(o.Data)
	return o, nil
}

// Objects returns one page of the objects matching f, ordered by
// LastUpdated, owner and id (ignoring case), and how many match f in total.
func (s *MemoryStore) Objects(ctx context.Context, f ObjectFilter) ([]Object, int, error) {
	if err := checkFilter(f); err != nil {
		return nil, 0, fmt.Errorf("ocpi: list %s %s objects: %w", f.Kind, f.Module, err)
	}
	owners := make(map[PartyID]bool, len(f.Owners))
	for _, o := range f.Owners {
		owners[o.Key()] = true
	}
	s.mu.RLock()
	var match []Object
	for k, o := range s.objects {
		if k.kind != f.Kind || k.module != f.Module ||
			len(owners) > 0 && !owners[k.owner] ||
			!f.From.IsZero() && o.LastUpdated.Before(f.From) ||
			!f.To.IsZero() && !o.LastUpdated.Before(f.To) {
			continue
		}
		match = append(match, o)
	}
	s.mu.RUnlock()
	slices.SortFunc(match, compareObjects)
	total := len(match)
	offset := max(f.Offset, 0)
	if offset > total {
		offset = total
	}
	end := total
	if f.Limit > 0 && offset+f.Limit < end {
		end = offset + f.Limit
	}
	page := make([]Object, 0, end-offset)
	for _, o := range match[offset:end] {
		o.Data = bytes.Clone(o.Data)
		page = append(page, o)
	}
	return page, total, nil
}

// compareObjects is the list order: LastUpdated, owner, case-folded id.
func compareObjects(a, b Object) int {
	if c := a.LastUpdated.Compare(b.LastUpdated); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Owner.CountryCode, b.Owner.CountryCode); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Owner.PartyID, b.Owner.PartyID); c != 0 {
		return c
	}
	return cmp.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID))
}

func keyOf(kind ObjectKind, module ModuleID, owner PartyID, id string) objectKey {
	return objectKey{kind: kind, module: module, owner: owner.Key(), id: strings.ToLower(id)}
}

// checkPeer rejects a peer no store can keep.
func checkPeer(p Peer) error {
	if p.ID == "" {
		return errors.New("empty peer id")
	}
	switch p.Status {
	case PeerPending, PeerRegistered, PeerUnregistered:
	default:
		return fmt.Errorf("unknown status %q: want %s, %s or %s", p.Status, PeerPending, PeerRegistered, PeerUnregistered)
	}
	return nil
}

// checkObject rejects an object no store can keep.
func checkObject(o Object) error {
	if err := checkKind(o.Kind, o.Module); err != nil {
		return err
	}
	if o.ID == "" {
		return errors.New("empty id")
	}
	if !o.Owner.Valid() {
		return fmt.Errorf("owner %q is not a party (2-letter country code, 3-character party id)", o.Owner)
	}
	if o.LastUpdated.IsZero() {
		return errors.New("last_updated is missing")
	}
	if len(o.Data) == 0 || !json.Valid(o.Data) {
		return errors.New("data is not JSON")
	}
	return nil
}

// checkFilter rejects a filter that would silently match nothing.
func checkFilter(f ObjectFilter) error {
	if err := checkKind(f.Kind, f.Module); err != nil {
		return err
	}
	for _, o := range f.Owners {
		if !o.Valid() {
			return fmt.Errorf("owner %q is not a party (2-letter country code, 3-character party id)", o)
		}
	}
	return nil
}

func checkKind(kind ObjectKind, module ModuleID) error {
	if kind != Owned && kind != Received {
		return fmt.Errorf("unknown object kind %q: want %q or %q", kind, Owned, Received)
	}
	if module == "" {
		return errors.New("module is missing")
	}
	return nil
}

// copyPeer returns p with its slices (and the logos inside) copied, so
// that the caller and the store share nothing.
func copyPeer(p Peer) Peer {
	p.Endpoints = slices.Clone(p.Endpoints)
	if p.Roles != nil {
		p.Roles = slices.Clone(p.Roles)
		for i, r := range p.Roles {
			if r.BusinessDetails.Logo != nil {
				logo := *r.BusinessDetails.Logo
				p.Roles[i].BusinessDetails.Logo = &logo
			}
		}
	}
	return p
}
