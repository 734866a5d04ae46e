package ocpi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Pushes: after each change of one of our locations the whole Location is
// PUT to every party of every registered peer that lists a locations
// Receiver endpoint, but to its CPO parties (see locationReceivers). A PUT of the whole object is always correct, whatever the
// receiver missed before, and it lets a newer version replace an older one
// that has not gone out yet: per receiving party and location one
// goroutine sends the newest version, so a later change is never overtaken
// by an earlier one, and a retry is dropped as soon as a newer version is
// waiting. A push that still fails after PushRetries retries is logged and
// dropped (the spec says a sender SHOULD NOT queue pushes): the location
// stays in our store, and the eMSP gets it with its next GET of our list.

// pushKey is one receiving party of one peer and one of our locations.
type pushKey struct {
	peer     string
	to       PartyID
	owner    PartyID
	location string // case-folded
}

// pushSlot holds the newest version waiting to be sent for one pushKey;
// the goroutine sending for the key exists while the slot is in the map.
type pushSlot struct {
	pending *pushJob
	// wake cuts a retry's backoff short when a newer version arrives.
	wake chan struct{}
}

type pushJob struct {
	client *Client
	url    string
	data   json.RawMessage
}

// push queues data, the new version of our location id of owner, for
// every receiving party. The caller holds writeMu.
func (l *Locations) push(ctx context.Context, owner PartyID, id string, data json.RawMessage) {
	peers, err := l.store.Peers(ctx)
	if err != nil {
		l.log.ErrorContext(ctx, "ocpi: listing peers to push a location to failed; receivers get it when they pull", "location", id, "error", err)
		return
	}
	for _, p := range peers {
		if p.Status != PeerRegistered {
			continue
		}
		endpoint, ok := l.node.Endpoint(p, ModuleLocations, Receiver)
		if !ok {
			continue
		}
		for _, to := range locationReceivers(p.Roles) {
			if containsParty(l.node.cfg.Parties, to) {
				continue // our own eMSP party on the same node
			}
			job := &pushJob{client: l.node.Client(p), url: JoinURL(endpoint, owner.CountryCode, owner.PartyID, id), data: data}
			l.enqueue(pushKey{peer: p.ID, to: to, owner: owner, location: ciKey(id)}, job)
		}
	}
}

// locationReceivers lists the parties of a peer that receive our
// locations: every party but its CPOs (eMSP, NSP, Other, ...). A hub's own
// party as OCPI-to makes the push a Broadcast Push, which the hub forwards
// to every party it connects (transport_and_format).
func locationReceivers(roles []CredentialsRole) []PartyID {
	return partiesServing(roles, ModuleLocations, Receiver)
}

func (l *Locations) enqueue(k pushKey, job *pushJob) {
	l.pushMu.Lock()
	defer l.pushMu.Unlock()
	if l.closed {
		return
	}
	if s, ok := l.pushes[k]; ok {
		s.pending = job
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return
	}
	s := &pushSlot{pending: job, wake: make(chan struct{}, 1)}
	l.pushes[k] = s
	go l.sendPushes(k, s)
}

// sendPushes sends the newest pending version of k until none is left.
func (l *Locations) sendPushes(k pushKey, s *pushSlot) {
	for {
		l.pushMu.Lock()
		job := s.pending
		s.pending = nil
		if job == nil {
			delete(l.pushes, k)
			if len(l.pushes) == 0 {
				l.idle.Broadcast()
			}
			l.pushMu.Unlock()
			return
		}
		select {
		case <-s.wake: // stale: it was for this job
		default:
		}
		l.pushMu.Unlock()
		l.deliver(k, s, job)
	}
}

// deliver PUTs one version, retrying with backoff; it gives up early when
// a newer version is waiting (sendPushes sends that one next).
func (l *Locations) deliver(k pushKey, s *pushSlot, job *pushJob) {
	backoff := l.opts.PushBackoff
	for attempt := 0; ; attempt++ {
		err := l.putOnce(k, job)
		if err == nil {
			return
		}
		if l.pushCtx.Err() != nil {
			return // Close
		}
		if !retryable(err) || attempt >= l.opts.PushRetries {
			l.log.Warn("ocpi: pushing a location failed; dropped, the receiver gets it when it pulls our list",
				"peer", k.peer, "to", k.to.String(), "location", k.location, "attempts", attempt+1, "error", err)
			return
		}
		l.log.Info("ocpi: pushing a location failed; retrying", "peer", k.peer, "to", k.to.String(), "location", k.location, "in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.wake:
			t.Stop()
			return
		case <-l.pushCtx.Done():
			t.Stop()
			return
		}
		backoff *= 2
	}
}

// retryable tells a failure that may pass (the network, a server error,
// an overloaded peer) from a refusal that the same request will meet again
// (a 2xxx status, 401, 404): those are not retried.
func retryable(err error) bool {
	var e *Error
	var h *HTTPError
	switch {
	case errors.As(err, &e):
		return e.Code >= 3000 || e.HTTPStatus >= 500
	case errors.As(err, &h):
		return h.HTTPStatus >= 500 || h.HTTPStatus == http.StatusRequestTimeout || h.HTTPStatus == http.StatusTooManyRequests
	}
	return true
}

func (l *Locations) putOnce(k pushKey, job *pushJob) error {
	ctx := l.pushCtx
	if l.opts.PushTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.opts.PushTimeout)
		defer cancel()
	}
	_, err := job.client.Do(ctx, http.MethodPut, job.url, job.data, ForModule(ModuleLocations), WithRouting(k.owner, k.to))
	return err
}

// PullRetireMargin is how old (by its last_updated, against
// LocationsOptions.Now) a received location must be before a complete
// pull that lacks it retires it: a location the CPO created while the pull
// ran, pushed to us but absent from the pages already fetched, must not be
// retired; the margin also absorbs clock skew between the CPO and us.
const PullRetireMargin = 15 * time.Minute

// Pull fetches the peer's locations list (its Sender endpoint, every page,
// once per CPO party of the peer, as OCPI-to; once without OCPI-to from a
// hub) within q and stores each location as Received, unless we already
// hold a newer version of it (a push that arrived meanwhile). It returns
// how many locations it stored. A location that fails validation, or that
// belongs to a party the peer does not represent, is skipped and named in
// the error returned at the end; the others are stored all the same.
//
// A complete list is the new truth (transport_and_format): after a pull
// without date_from, date_to or offset that fetched every page of every
// CPO party of a peer that is not a hub, and skipped nothing, each
// received location of those parties that the list lacked is retired: all
// its EVSEs get status REMOVED, its last_updated is kept (so the CPO's
// next version of it, pushed or pulled, replaces it). Locations newer than
// PullRetireMargin are left alone. The number retired is logged.
func (l *Locations) Pull(ctx context.Context, peerID string, q ListQuery) (int, error) {
	p, err := l.store.Peer(ctx, peerID)
	if err != nil {
		return 0, fmt.Errorf("ocpi: pull locations from %q: %w", peerID, err)
	}
	if p.Status != PeerRegistered {
		return 0, fmt.Errorf("ocpi: pull locations from %q: the peer is %s, not registered: register first", peerID, p.Status)
	}
	endpoint, ok := l.node.Endpoint(p, ModuleLocations, Sender)
	if !ok {
		return 0, fmt.Errorf("ocpi: pull locations from %q: the peer lists no locations SENDER endpoint (it shares no locations, or registered before it did: ask it to update its credentials)", peerID)
	}
	var from PartyID
	if ours := partiesServing(l.node.cfg.Parties, ModuleLocations, Receiver); len(ours) > 0 {
		from = ours[0]
	}
	cpos := partiesServing(p.Roles, ModuleLocations, Sender)
	hub := len(cpos) == 0
	if hub {
		cpos = []PartyID{{}} // a hub: no OCPI-to, its whole list
	}
	started := l.opts.Now()
	client := l.node.Client(p)
	stored := 0
	var skipped []error
	listed := map[locationKey]bool{}
	for _, cpo := range cpos {
		err := client.List(ctx, endpoint, q, func(raw json.RawMessage) error {
			loc, n, key, err := l.storePulled(ctx, p, raw)
			if err != nil {
				skipped = append(skipped, err)
			} else {
				listed[key] = true
			}
			if n > 0 {
				l.received(ctx, loc.Party(), loc)
			}
			stored += n
			return ctx.Err()
		}, ForModule(ModuleLocations), WithRouting(from, cpo))
		if err != nil {
			return stored, fmt.Errorf("ocpi: pull locations of %s from %q: %w", cpo, peerID, err)
		}
	}
	if len(skipped) > 0 {
		return stored, fmt.Errorf("ocpi: pull locations from %q: %d skipped: %w", peerID, len(skipped), errors.Join(skipped...))
	}
	if hub || !q.From.IsZero() || !q.To.IsZero() || q.Offset > 0 {
		return stored, nil
	}
	retired, err := l.retireUnlisted(ctx, cpos, listed, started.Add(-PullRetireMargin))
	if retired > 0 {
		l.log.InfoContext(ctx, "ocpi: retired received locations absent from a complete pull (every EVSE REMOVED)", "peer", peerID, "retired", retired)
	}
	if err != nil {
		return stored, fmt.Errorf("ocpi: pull locations from %q: stored %d, but retiring those the list lacks failed: %w", peerID, stored, err)
	}
	return stored, nil
}

// locationKey is a location's owner and case-folded id.
type locationKey struct {
	owner PartyID
	id    string
}

// retireUnlisted marks every EVSE REMOVED in the received locations of
// owners that are not in listed and were last updated before before. It
// returns how many locations it changed.
func (l *Locations) retireUnlisted(ctx context.Context, owners []PartyID, listed map[locationKey]bool, before time.Time) (int, error) {
	const page = 500
	var stale []Object
	for offset := 0; ; offset += page {
		objs, total, err := l.store.Objects(ctx, ObjectFilter{Kind: Received, Module: ModuleLocations, Owners: owners, To: before, Offset: offset, Limit: page})
		if err != nil {
			return 0, err
		}
		for _, o := range objs {
			if !listed[locationKey{o.Owner.Key(), ciKey(o.ID)}] {
				o.Data = nil // keep the keys only; retireReceived reads it again
				stale = append(stale, o)
			}
		}
		if len(objs) == 0 || offset+len(objs) >= total {
			break
		}
	}
	retired := 0
	for _, o := range stale {
		loc, changed, err := l.retireReceived(ctx, o)
		if err != nil {
			return retired, err
		}
		if changed {
			retired++
			l.received(ctx, o.Owner, loc)
		}
	}
	return retired, nil
}

// retireReceived sets every EVSE of the received location seen as o to
// REMOVED, unless it changed since (a push) or is retired already. It
// returns the location as stored and whether it changed it.
func (l *Locations) retireReceived(ctx context.Context, seen Object) (Location, bool, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	o, err := l.store.Object(ctx, Received, ModuleLocations, seen.Owner, seen.ID)
	if errors.Is(err, ErrNotFound) {
		return Location{}, false, nil
	}
	if err != nil {
		return Location{}, false, err
	}
	if !o.LastUpdated.Equal(seen.LastUpdated) {
		return Location{}, false, nil
	}
	loc, err := DecodeLocation(o.Data)
	if err != nil {
		return Location{}, false, fmt.Errorf("ocpi: stored location %s/%q cannot be decoded: %w", o.Owner, o.ID, err)
	}
	changed := false
	for i := range loc.EVSEs {
		if loc.EVSEs[i].Status != StatusRemoved {
			loc.EVSEs[i].Status = StatusRemoved
			changed = true
		}
	}
	if !changed {
		return Location{}, false, nil
	}
	data, err := jsonMarshal(loc)
	if err != nil {
		return Location{}, false, err
	}
	o.Data = data
	if err := l.store.PutObject(ctx, o); err != nil {
		return Location{}, false, err
	}
	return loc, true, nil
}

// storePulled stores one pulled location; it returns the location and 1
// when it stored it, and the location's key when it was valid.
func (l *Locations) storePulled(ctx context.Context, p Peer, raw json.RawMessage) (Location, int, locationKey, error) {
	loc, err := DecodeLocation(raw)
	if err == nil {
		err = loc.Validate()
	}
	if err != nil {
		return Location{}, 0, locationKey{}, fmt.Errorf("location %.60q: %w", locationID(raw), err)
	}
	owner := loc.Party().Key()
	if !p.RepresentsAs(owner, RoleCPO) {
		return Location{}, 0, locationKey{}, fmt.Errorf("location %q: party %s is not one of the peer's CPO parties", loc.ID, owner)
	}
	key := locationKey{owner, ciKey(loc.ID)}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	old, err := l.store.Object(ctx, Received, ModuleLocations, owner, loc.ID)
	switch {
	case err == nil && old.LastUpdated.After(loc.LastUpdated.Time):
		return Location{}, 0, key, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return Location{}, 0, key, err
	}
	data, err := jsonMarshal(loc)
	if err != nil {
		return Location{}, 0, key, err
	}
	if err := l.store.PutObject(ctx, Object{Kind: Received, Module: ModuleLocations, Owner: owner, ID: loc.ID, LastUpdated: loc.LastUpdated.Time, Data: data}); err != nil {
		return Location{}, 0, key, err
	}
	return loc, 1, key, nil
}

// locationID digs the id out of a location that did not decode, for the
// error message.
func locationID(raw json.RawMessage) string {
	var v struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return fmt.Sprint(v.ID)
}
