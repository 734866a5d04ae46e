package csms

import "errors"

// ErrInvalid wraps every error caused by bad input to a Store method (an
// empty id, an unknown event type, a timestamp out of range, ...): the
// caller, not the database, is at fault, and nothing was written. The admin
// API answers it with 400 and the error's text, which says what was wrong.
// store.ErrInvalid is the same value.
var ErrInvalid = errors.New("invalid input")
