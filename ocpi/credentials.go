package ocpi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxCredentialsBody bounds a credentials POST/PUT body.
const maxCredentialsBody = 1 << 20

// ourCredentials is the credentials object we hand out: token is the one
// the peer calls us with.
func (n *Node) ourCredentials(token string) Credentials {
	return Credentials{Token: token, URL: n.VersionsURL(), Roles: n.Config().Parties}
}

// serveCredentials is the server side of the credentials module
// (credentials.asciidoc): GET our credentials, POST to register, PUT to
// update, DELETE to unregister.
func (n *Node) serveCredentials(w http.ResponseWriter, r *http.Request, peer Peer, token string) {
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodDelete {
		// One change of a peer's credentials at a time: a second POST with
		// token A waits for the first and then finds the peer registered.
		unlock := n.lockPeer(peer.ID)
		defer unlock()
		fresh, err := n.cfg.Store.Peer(r.Context(), peer.ID)
		if err != nil {
			n.writeError(w, r, peer.ID, fmt.Errorf("ocpi: reading peer %s: %w", peer.ID, err))
			return
		}
		peer = fresh
	}
	switch r.Method {
	case http.MethodGet:
		WriteData(w, http.StatusOK, n.ourCredentials(token))
	case http.MethodPost:
		if peer.Status != PeerPending {
			WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "you are already registered: use PUT to update the credentials, DELETE to unregister"))
			return
		}
		if n.isRegistering(peer.ID) {
			// This token is the token B of our own registration with the peer.
			WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "we are registering with you (this is the token B we sent): answer our POST instead"))
			return
		}
		n.acceptCredentials(w, r, peer, false)
	case http.MethodPut:
		if peer.Status != PeerRegistered {
			WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "you are not registered yet: register with POST first"))
			return
		}
		n.acceptCredentials(w, r, peer, true)
	case http.MethodDelete:
		if peer.Status != PeerRegistered {
			WriteError(w, Errorf(http.StatusMethodNotAllowed, StatusClientError, "you are not registered: there is nothing to unregister"))
			return
		}
		ctx := r.Context()
		_, err := n.updatePeer(ctx, peer.ID, func(p *Peer) error {
			if p.Status != PeerRegistered {
				return Errorf(http.StatusMethodNotAllowed, StatusClientError, "you are not registered: there is nothing to unregister")
			}
			p.Status = PeerUnregistered
			p.PreviousIncomingToken, p.PreviousTokenExpires = "", time.Time{}
			return nil
		})
		if err != nil {
			n.writeError(w, r, peer.ID, err)
			return
		}
		n.cfg.Logger.InfoContext(ctx, "ocpi: the peer unregistered", "peer", peer.ID)
		WriteData(w, http.StatusOK, nil)
	default:
		allowMethod(w, r, http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete)
	}
}

// acceptCredentials handles a POST (register) or PUT (update): it reads the
// peer's credentials, fetches its versions and details with the token in
// them, then issues a new token. Any failure leaves the peer as it was.
func (n *Node) acceptCredentials(w http.ResponseWriter, r *http.Request, peer Peer, update bool) {
	ctx := r.Context()
	body, err := readBody(w, r, maxCredentialsBody, "credentials object")
	if err != nil {
		WriteError(w, err)
		return
	}
	var c Credentials
	if _, err := Decode(body, &c); err != nil {
		WriteError(w, err)
		return
	}
	if err := validateCredentials(c); err != nil {
		WriteError(w, err)
		return
	}
	d, err := n.discover(ctx, c.URL, c.Token, peer.RawToken)
	if err != nil {
		n.cfg.Logger.WarnContext(ctx, "ocpi: a peer's credentials could not be used", "peer", peer.ID, "update", update, "error", err)
		WriteError(w, err)
		return
	}
	newToken := NewToken()
	p, err := n.updatePeer(ctx, peer.ID, func(p *Peer) error {
		// The peer may have changed while we called it back.
		switch {
		case !update && (p.Status != PeerPending || p.IncomingToken != peer.IncomingToken):
			return Errorf(http.StatusMethodNotAllowed, StatusClientError, "you registered meanwhile in another request: use PUT to update the credentials")
		case update && p.Status != PeerRegistered:
			return Errorf(http.StatusMethodNotAllowed, StatusClientError, "you unregistered meanwhile in another request: register with POST first")
		}
		if update && n.cfg.TokenGrace > 0 {
			p.PreviousIncomingToken, p.PreviousTokenExpires = p.IncomingToken, n.cfg.Now().Add(n.cfg.TokenGrace)
		} else {
			// Token A, or no grace: the old token stops working now.
			p.PreviousIncomingToken, p.PreviousTokenExpires = "", time.Time{}
		}
		p.IncomingToken = newToken
		p.OutgoingToken = c.Token
		p.RawToken = d.raw
		p.RawTokenFixed = p.RawTokenFixed || d.switched
		p.VersionsURL = c.URL
		p.Version = d.version
		p.Endpoints = d.endpoints
		p.Roles = c.Roles
		if p.Name == "" {
			p.Name = c.Roles[0].BusinessDetails.Name
		}
		p.Status = PeerRegistered
		return nil
	})
	if err != nil {
		n.writeError(w, r, peer.ID, err)
		return
	}
	if update {
		n.cfg.Logger.InfoContext(ctx, "ocpi: the peer updated its credentials", "peer", p.ID, "name", p.Name)
	} else {
		n.cfg.Logger.InfoContext(ctx, "ocpi: the peer registered", "peer", p.ID, "name", p.Name, "raw_token", p.RawToken)
	}
	WriteData(w, http.StatusOK, n.ourCredentials(newToken))
}

// validateCredentials checks a credentials object from a peer.
func validateCredentials(c Credentials) error { return c.Validate() }

// checkPeerURL checks that s is an absolute http(s) URL.
func checkPeerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL of a versions endpoint", s)
	}
	return nil
}

// discovery is what we learn from a peer's versions and version details.
type discovery struct {
	version   VersionNumber
	endpoints []Endpoint
	raw       bool // the peer accepted the token only unencoded
	// switched: the peer refused the encoding tried first (401) and
	// accepted the other; this evidence pins raw (Peer.RawTokenFixed).
	switched bool
}

// discover fetches the peer's versions and the details of 2.2.1 with
// token, in raw form first when raw is set, switching to the other form
// when the peer answers 401. Errors are *Error: 3002 when the peer has no
// 2.2.1, 3003 when it has no credentials endpoint, 3001 when its API cannot
// be used (unreachable, 401, no envelope, ...).
func (n *Node) discover(ctx context.Context, versionsURL, token string, raw bool) (discovery, error) {
	unusable := func(err error) error {
		return errorCausedBy(err, http.StatusOK, StatusUnableToUseClientAPI, "cannot use the OCPI API at %s with the token given: %v; check that this versions URL is reachable from us and accepts that token", redactURL(versionsURL), err)
	}
	c := &Client{HTTPClient: n.cfg.HTTPClient, Token: token, RawToken: raw, Logger: n.cfg.Logger}
	switched := false
	versions, err := c.Versions(ctx, versionsURL)
	if err != nil && isUnauthorized(err) {
		c.RawToken = !raw
		var err2 error
		if versions, err2 = c.Versions(ctx, versionsURL); err2 == nil {
			err = nil
			switched = true
		}
	}
	if err != nil {
		return discovery{}, unusable(err)
	}
	var detailsURL string
	offered := make([]string, 0, len(versions))
	for _, v := range versions {
		offered = append(offered, string(v.Version))
		if v.Version == Version221 {
			detailsURL = v.URL
		}
	}
	if detailsURL == "" {
		return discovery{}, Errorf(http.StatusOK, StatusUnsupportedVersion, "the versions at %s offer [%s]; this node speaks OCPI 2.2.1 only", redactURL(versionsURL), strings.Join(offered, ", "))
	}
	details, err := c.VersionDetails(ctx, detailsURL)
	if err != nil {
		return discovery{}, unusable(err)
	}
	d := discovery{version: Version221, endpoints: details.Endpoints, raw: c.RawToken, switched: switched}
	if _, ok := n.credentialsEndpoint(Peer{Endpoints: d.endpoints}); !ok {
		return discovery{}, Errorf(http.StatusOK, StatusNoMatchingEndpoints, "the version details at %s list no credentials endpoint: list one (identifier credentials) and try again", redactURL(detailsURL))
	}
	return d, nil
}

// credentialsEndpoint is the peer's credentials URL; its role is ignored
// (checklist §2.1: some platforms list it as RECEIVER).
func (n *Node) credentialsEndpoint(p Peer) (string, bool) {
	if u, ok := n.Endpoint(p, ModuleCredentials, Sender); ok {
		return u, true
	}
	return n.Endpoint(p, ModuleCredentials, Receiver)
}

// isUnauthorized reports whether err is a peer's HTTP 401, with or without
// an envelope.
func isUnauthorized(err error) bool {
	var oe *Error
	var he *HTTPError
	return errors.As(err, &oe) && oe.HTTPStatus == http.StatusUnauthorized ||
		errors.As(err, &he) && he.HTTPStatus == http.StatusUnauthorized
}

// updatePeer reads the peer afresh, applies change and saves it, so that
// what other requests saved meanwhile (e.g. the raw-token mode) is kept.
// The Store has no compare-and-swap, so the read-modify-write runs under
// saveMu: otherwise a request that only records the raw-token mode could
// save a stale copy over a concurrent rotation and bring the old token
// back. change re-checks the state it needs; it must not call updatePeer.
func (n *Node) updatePeer(ctx context.Context, id string, change func(*Peer) error) (Peer, error) {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	p, err := n.cfg.Store.Peer(ctx, id)
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: reading peer %s: %w", id, err)
	}
	if err := change(&p); err != nil {
		return Peer{}, err
	}
	if err := n.cfg.Store.SavePeer(ctx, p); err != nil {
		return Peer{}, fmt.Errorf("ocpi: saving peer %s: %w", id, err)
	}
	return p, nil
}

// lockPeer serialises the server-side credentials changes of one peer. It
// is never held while we call a peer's credentials endpoint (only its
// versions), so two nodes updating each other cannot deadlock.
//
// The lock is per process: two openev processes sharing one database can
// still interleave a peer's POST/PUT/DELETE (the Store has no
// compare-and-swap; updatePeer re-reads and re-checks the state, which
// narrows the window but does not close it). Run one node process per
// store, or route credentials requests to one of them, until the Store
// gains a conditional save.
func (n *Node) lockPeer(id string) (unlock func()) {
	n.regMu.Lock()
	l := n.peerLocks[id]
	if l == nil {
		l = &peerLock{}
		n.peerLocks[id] = l
	}
	l.waiters++
	n.regMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		n.regMu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(n.peerLocks, id)
		}
		n.regMu.Unlock()
	}
}

type peerLock struct {
	mu      sync.Mutex
	waiters int
}
