package ocpi

import "net/http"

// Request is an authenticated request to a functional module's endpoint, as
// the Node hands it to the Module.
type Request struct {
	*http.Request
	// Peer is the registered peer that sent the request (found by its token).
	Peer Peer
	// From and To are the OCPI-from/OCPI-to routing headers (zero when the
	// peer left them out; the Node fills From from the peer's only role
	// then, and To from our only party of the module's role).
	From, To PartyID
	// Path holds the path segments after the module's base URL, unescaped:
	// for the locations receiver {country_code}/{party_id}/{location_id}
	// [/{evse_uid}[/{connector_id}]].
	Path []string
}

// Module serves one interface (Sender or Receiver) of one functional
// module. The Node authenticates the caller, checks the routing headers,
// sets X-Request-ID/X-Correlation-ID and lists the module in its version
// details; the Module answers with WriteData/WriteError.
type Module interface {
	// Identifier is the module id listed in version details.
	Identifier() ModuleID
	// InterfaceRole is the side this Module implements.
	InterfaceRole() InterfaceRole
	// ServeOCPI answers one request.
	ServeOCPI(w http.ResponseWriter, r *Request)
}
