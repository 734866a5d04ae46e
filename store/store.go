// Package store holds what the csms.Store implementations share with their
// callers beyond the csms contract: the sentinel errors for bad input and
// for a closed store. The implementations are store/sqlite and
// store/postgres; store/storetest is the conformance suite both pass.
package store

import "errors"

// ErrInvalid wraps every error caused by bad input to a Store method (an
// empty id, an unknown event type, a zero timestamp, ...): the caller, not
// the database, is at fault, and nothing was written.
var ErrInvalid = errors.New("invalid input")

// ErrClosed is returned by the write methods of a Store after Close.
var ErrClosed = errors.New("store closed")
