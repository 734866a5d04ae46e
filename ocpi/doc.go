// Package ocpi is an OCPI 2.2.1 node and client: the envelope, the
// Authorization token, the routing and request-id headers, pagination,
// version discovery, the credentials handshake in both directions, and the
// functional modules (locations first; sessions, CDRs, tariffs, tokens and
// commands slot in the same way).
//
// A Node is an http.Handler serving {public URL}/ocpi/... for one or more
// local parties (CPO, eMSP or both) and keeping its peers and objects in a
// Store. A Client talks to one peer's endpoints and follows pagination.
//
// The package parses permissively, validates explicitly and emits strictly:
// every timestamp is accepted in any of the forms 2.2.1 allows and written
// in one canonical form, ids are compared case-insensitively, and every
// answer — errors included — is wrapped in the OCPI response envelope.
package ocpi
