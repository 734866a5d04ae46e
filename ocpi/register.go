package ocpi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// IssueTokenA creates a PENDING peer with a fresh token A (its
// IncomingToken), as AddPendingPeer does. Give the token and VersionsURL
// to the peer's operator out of band; the peer then registers with POST
// credentials. name is a label for operators.
func (n *Node) IssueTokenA(ctx context.Context, name string) (Peer, error) {
	return n.AddPendingPeer(ctx, name, NewToken())
}

// AddPendingPeer creates a PENDING peer whose token A is tokenA, for an
// application that chooses the token itself (from its configuration, or
// agreed with the peer's operator); IssueTokenA generates one. The peer
// registers with POST credentials using tokenA and VersionsURL. tokenA
// must be 1 to 64 printable ASCII characters without spaces, and not a
// token another peer calls us with (current or replaced), whichever its
// status: a token names one peer. name is a label for operators.
func (n *Node) AddPendingPeer(ctx context.Context, name, tokenA string) (Peer, error) {
	if !ValidToken(tokenA) {
		return Peer{}, errors.New("ocpi: add a pending peer: token A must be 1 to 64 printable ASCII characters without spaces")
	}
	// Held from the check to the save, so two calls cannot both take a
	// token.
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	peers, err := n.cfg.Store.Peers(ctx)
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: add a pending peer: listing the peers to check the token is unused: %w", err)
	}
	for _, p := range peers {
		for _, t := range []string{p.IncomingToken, p.PreviousIncomingToken} {
			if !tokensCollide(tokenA, t) {
				continue
			}
			how := "is already"
			if tokenA != t {
				how = "is the base64 form of, or decodes from base64 to,"
			}
			return Peer{}, fmt.Errorf("ocpi: add a pending peer: token A %s a token of peer %s (%q, %s), so a request with it could not tell the two apart: choose another token A (or delete that peer first)", how, p.ID, p.Name, p.Status)
		}
	}
	p := Peer{ID: NewRequestID(), Name: name, Status: PeerPending, IncomingToken: tokenA}
	if err := n.cfg.Store.SavePeer(ctx, p); err != nil {
		return Peer{}, fmt.Errorf("ocpi: add a pending peer: saving it: %w", err)
	}
	return n.cfg.Store.Peer(ctx, p.ID)
}

// tokensCollide reports whether a request carrying one token could be
// taken for the other: they are equal, or one is the other's base64 (the
// node accepts both forms, see TokenCandidates).
func tokensCollide(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ca, _ := TokenCandidates("Token " + a)
	cb, _ := TokenCandidates("Token " + b)
	return slices.Contains(ca, b) || slices.Contains(cb, a)
}

// Register runs our side of the registration at a peer that gave us its
// versions URL and a token A: it fetches the peer's versions and 2.2.1
// details with token A (base64, or raw if the peer answers 401 to that),
// generates token B, POSTs our credentials and stores the token C of the
// answer. The returned peer is REGISTERED. Errors are *Error (find it with
// errors.As): 3002 when the peer has no 2.2.1, 3003 when it lists no
// credentials endpoint, 3001 when its API cannot be used (its Unwrap is
// the failed request's error: the peer's *Error or *HTTPError answer, or
// the network error, so a wrong token A (HTTP 401) and a peer that is
// down can be told apart); or the peer's own error answer to the POST.
// On failure nothing is kept.
func (n *Node) Register(ctx context.Context, versionsURL, tokenA string) (Peer, error) {
	if err := checkPeerURL(versionsURL); err != nil {
		return Peer{}, fmt.Errorf("ocpi: register: versions URL: %w", err)
	}
	if !ValidToken(tokenA) {
		return Peer{}, errors.New("ocpi: register: token A must be 1 to 64 printable ASCII characters without spaces")
	}
	d, err := n.discover(ctx, versionsURL, tokenA, false)
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: register at %s: %w", redactURL(versionsURL), err)
	}
	credURL, _ := n.credentialsEndpoint(Peer{Endpoints: d.endpoints})

	// The peer calls our versions with token B while it handles the POST,
	// so the peer must exist (PENDING, token B) before we send it.
	tokenB := NewToken()
	p := Peer{ID: NewRequestID(), Status: PeerPending, IncomingToken: tokenB, RawToken: d.raw, RawTokenFixed: d.switched,
		VersionsURL: versionsURL, Version: d.version, Endpoints: d.endpoints}
	n.setRegistering(p.ID, true)
	defer n.setRegistering(p.ID, false)
	if err := n.cfg.Store.SavePeer(ctx, p); err != nil {
		return Peer{}, fmt.Errorf("ocpi: register: saving the peer: %w", err)
	}
	fail := func(err error) (Peer, error) {
		// Token B must not stay valid for a registration that failed.
		if derr := n.cfg.Store.DeletePeer(context.WithoutCancel(ctx), p.ID); derr != nil {
			n.cfg.Logger.WarnContext(ctx, "ocpi: removing a failed registration", "peer", p.ID, "error", derr)
		}
		return Peer{}, fmt.Errorf("ocpi: register at %s: %w", redactURL(versionsURL), err)
	}
	c := &Client{HTTPClient: n.cfg.HTTPClient, Token: tokenA, RawToken: d.raw, Logger: n.cfg.Logger}
	var theirs Credentials
	if err := c.Post(ctx, credURL, n.ourCredentials(tokenB), &theirs); err != nil {
		return fail(err)
	}
	if err := validateCredentials(theirs); err != nil {
		return fail(fmt.Errorf("the peer's answer to POST %s: credentials: %w", credURL, err))
	}
	p, err = n.updatePeer(ctx, p.ID, func(p *Peer) error {
		p.OutgoingToken = theirs.Token
		p.Roles = theirs.Roles
		p.Name = theirs.Roles[0].BusinessDetails.Name
		p.Status = PeerRegistered
		return nil
	})
	if err != nil {
		return fail(err)
	}
	n.cfg.Logger.InfoContext(ctx, "ocpi: registered at a peer", "peer", p.ID, "name", p.Name, "raw_token", p.RawToken)
	return p, nil
}

// RotateCredentials updates the credentials with a registered peer: it
// issues a new incoming token, PUTs our credentials with it to the peer
// (which fetches our endpoints again and answers with a new token for us)
// and stores the peer's new token. The replaced incoming token keeps
// working for Config.TokenGrace. On failure the tokens stay as they were;
// the error wraps the peer's answer (*Error, *HTTPError) or the network
// error, for errors.As.
func (n *Node) RotateCredentials(ctx context.Context, peerID string) (Peer, error) {
	old, err := n.cfg.Store.Peer(ctx, peerID)
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: %w", peerID, err)
	}
	if old.Status != PeerRegistered {
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: the peer is %s, not REGISTERED: register with it first", peerID, old.Status)
	}
	credURL, ok := n.credentialsEndpoint(old)
	if !ok {
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: the peer lists no credentials endpoint in its version details: ask its operator to list one, or unregister and register again", peerID)
	}
	// The peer fetches our versions with the new token during the PUT, and
	// may still use the current one meanwhile.
	newToken := NewToken()
	if _, err := n.updatePeer(ctx, peerID, func(p *Peer) error {
		p.PreviousIncomingToken, p.PreviousTokenExpires = p.IncomingToken, n.cfg.Now().Add(max(n.cfg.TokenGrace, 0))
		p.IncomingToken = newToken
		return nil
	}); err != nil {
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: %w", peerID, err)
	}
	var theirs Credentials
	err = n.Client(old).Put(ctx, credURL, n.ourCredentials(newToken), &theirs)
	if err == nil {
		if verr := validateCredentials(theirs); verr != nil {
			err = fmt.Errorf("the peer's answer to PUT %s: credentials: %w", credURL, verr)
		}
	}
	if err != nil {
		// Restore: the peer still calls us with the old token. Without an
		// answer we cannot know whether the peer stored the new one, so
		// that one stays valid for the grace period too: a retry within
		// it works either way (our old outgoing token is then in the
		// peer's grace period).
		answered := peerAnswered(err)
		if _, rerr := n.updatePeer(context.WithoutCancel(ctx), peerID, func(p *Peer) error {
			p.IncomingToken, p.PreviousIncomingToken, p.PreviousTokenExpires = old.IncomingToken, old.PreviousIncomingToken, old.PreviousTokenExpires
			if !answered && n.cfg.TokenGrace > 0 {
				p.PreviousIncomingToken, p.PreviousTokenExpires = newToken, n.cfg.Now().Add(n.cfg.TokenGrace)
			}
			return nil
		}); rerr != nil {
			n.cfg.Logger.ErrorContext(ctx, "ocpi: restoring the token after a failed rotation", "peer", peerID, "error", rerr)
		}
		if !answered {
			return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: no answer, the peer may or may not use the new token: rotate again within %s: %w", peerID, n.cfg.TokenGrace, err)
		}
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: %w", peerID, err)
	}
	p, err := n.updatePeer(ctx, peerID, func(p *Peer) error {
		p.OutgoingToken = theirs.Token
		p.Roles = theirs.Roles
		if n.cfg.TokenGrace < 0 {
			p.PreviousIncomingToken, p.PreviousTokenExpires = "", time.Time{}
		}
		return nil
	})
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: rotate credentials of peer %s: the peer has our new token, but saving its new token failed: %w", peerID, err)
	}
	n.cfg.Logger.InfoContext(ctx, "ocpi: rotated the credentials", "peer", peerID)
	return p, nil
}

// Unregister ends the connection with a peer: it DELETEs our credentials
// at the peer and marks the peer UNREGISTERED, after which its tokens are
// refused. The peer is marked UNREGISTERED here even when the DELETE fails
// (the peer is unreachable or refuses): ending trust is our decision. The
// error then says the peer was not told (wrapping the peer's answer or the
// network error), and the returned Peer is the unregistered one. A PENDING peer (token A issued) is unregistered
// without calling it, which revokes token A.
func (n *Node) Unregister(ctx context.Context, peerID string) (Peer, error) {
	p, err := n.cfg.Store.Peer(ctx, peerID)
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: unregister peer %s: %w", peerID, err)
	}
	if p.Status == PeerUnregistered {
		return p, nil
	}
	var remote error
	if p.Status == PeerRegistered {
		if credURL, ok := n.credentialsEndpoint(p); !ok {
			remote = errors.New("the peer lists no credentials endpoint: tell its operator out of band")
		} else {
			remote = n.Client(p).Delete(ctx, credURL)
		}
	}
	p, err = n.updatePeer(context.WithoutCancel(ctx), peerID, func(p *Peer) error {
		p.Status = PeerUnregistered
		p.PreviousIncomingToken, p.PreviousTokenExpires = "", time.Time{}
		return nil
	})
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: unregister peer %s: %w", peerID, err)
	}
	n.cfg.Logger.InfoContext(ctx, "ocpi: unregistered a peer", "peer", peerID, "peer_told", remote == nil)
	if remote != nil {
		return p, fmt.Errorf("ocpi: unregister peer %s: unregistered here, but the peer was not told: %w", peerID, remote)
	}
	return p, nil
}

// SetRawToken sets how we send our token to the peer: raw ("Token abc",
// what 2.1.1 and 2.2 peers expect) or, when raw is false, base64 as 2.2.1
// requires. The node detects it by itself (we call a peer the way it
// called us last, or the way its API accepted during registration); this
// is the operator's override for a peer that gets it wrong, and it stays:
// the peer's requests no longer change it (Peer.RawTokenFixed).
func (n *Node) SetRawToken(ctx context.Context, peerID string, raw bool) (Peer, error) {
	unlock := n.lockPeer(peerID)
	defer unlock()
	p, err := n.updatePeer(ctx, peerID, func(p *Peer) error { p.RawToken, p.RawTokenFixed = raw, true; return nil })
	if err != nil {
		return Peer{}, fmt.Errorf("ocpi: set the raw-token mode of peer %s: %w", peerID, err)
	}
	return p, nil
}

// peerAnswered reports whether err is the peer's answer (an OCPI error or
// an HTTP answer without envelope), as opposed to a request that got none.
func peerAnswered(err error) bool {
	var oe *Error
	var he *HTTPError
	return errors.As(err, &oe) || errors.As(err, &he)
}

func (n *Node) setRegistering(id string, on bool) {
	n.regMu.Lock()
	defer n.regMu.Unlock()
	if on {
		n.registering[id] = true
	} else {
		delete(n.registering, id)
	}
}

func (n *Node) isRegistering(id string) bool {
	n.regMu.Lock()
	defer n.regMu.Unlock()
	return n.registering[id]
}

var _ http.Handler = (*Node)(nil)
