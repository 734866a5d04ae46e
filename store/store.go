// Package store holds what the csms.Store implementations share with their
// callers beyond the csms contract: the sentinel error for a closed store (and
// ErrInvalid, an alias of csms.ErrInvalid). The implementations are store/sqlite and
// store/postgres; store/storetest is the conformance suite both pass.
package store

import (
	"errors"

	"github.com/openev/openev/csms"
)

// ErrInvalid is csms.ErrInvalid, kept here for the store's callers: the
// sentinel for bad input belongs to the Store contract, which csms owns.
var ErrInvalid = csms.ErrInvalid

// ErrClosed is returned by the write methods of a Store after Close.
var ErrClosed = errors.New("store closed")
