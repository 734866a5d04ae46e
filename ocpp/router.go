package ocpp

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Message is a typed OCPP payload. Every request and response type in the
// generated packages v16, v201 and v21 implements it.
type Message interface {
	// Action is the OCPP action the payload belongs to, e.g. "BootNotification".
	Action() string
}

// Request is a typed request whose response type is Resp. The generated
// request types implement it, which lets Call infer the response type.
type Request[Resp any] interface {
	Message
	NewResponse() *Resp
}

// A Handler answers the CALLs (and, in OCPP 2.1, the SENDs) that a peer sends.
// The payload has already passed the connection's schema validation. An *Error
// returned chooses the CALLERROR; any other error answers InternalError.
type Handler interface {
	ServeOCPP(ctx context.Context, c *Conn, action string, payload json.RawMessage) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Conn, action string, payload json.RawMessage) (any, error)

// ServeOCPP calls f.
func (f HandlerFunc) ServeOCPP(ctx context.Context, c *Conn, action string, payload json.RawMessage) (any, error) {
	return f(ctx, c, action, payload)
}

// Router is a Handler that sends each action, per OCPP version, to the
// handler registered for it with Handle or HandleRaw. An action with no
// handler is answered NotSupported (the action exists, this side does not do
// it). The zero value is an empty router ready to use; register handlers
// before the router serves connections.
type Router struct {
	routes map[routeKey]HandlerFunc
	// Fallback, when set, serves the actions that have no handler.
	Fallback Handler
}

type routeKey struct {
	version Version
	action  string
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{} }

// Handle registers fn for the action and version of its request type, which
// must come from one of the generated packages v16, v201 or v21. The request
// is decoded into a *Req; fn's *Resp is the CALLRESULT payload.
//
//	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
//		return &v201.HeartbeatResponse{CurrentTime: time.Now().UTC()}, nil
//	})
func Handle[Req Message, Resp any](r *Router, fn func(ctx context.Context, c *Conn, req *Req) (*Resp, error)) {
	var zero Req
	v, err := versionOfType(reflect.TypeFor[Req]())
	if err != nil {
		panic(err)
	}
	HandleRaw(r, v, zero.Action(), func(ctx context.Context, c *Conn, action string, payload json.RawMessage) (any, error) {
		req := new(Req)
		if err := json.Unmarshal(payload, req); err != nil {
			return nil, decodeError(err)
		}
		resp, err := fn(context.WithValue(ctx, payloadKey{}, payload), c, req)
		if err != nil {
			return nil, err
		}
		if resp == nil {
			return nil, NewError(InternalError, "handler for %s returned no response", action)
		}
		return resp, nil
	})
}

type payloadKey struct{}

// Payload returns, inside a typed handler registered with Handle, the
// payload of the CALL it handles as the station sent it (after Lenient
// mode's timestamp repairs), so that an application keeping the raw message
// need not encode the typed request again — which would also not give back
// exactly what was sent. It returns nil outside such a handler. The bytes
// are a copy of the frame's, never reused by the connection: they may be
// kept.
func Payload(ctx context.Context) json.RawMessage {
	p, _ := ctx.Value(payloadKey{}).(json.RawMessage)
	return p
}

// HandleRaw registers fn for an action of version v. fn gets the raw payload
// and returns any value that marshals to the response payload.
func HandleRaw(r *Router, v Version, action string, fn HandlerFunc) {
	if r.routes == nil {
		r.routes = make(map[routeKey]HandlerFunc)
	}
	r.routes[routeKey{v, action}] = fn
}

// ServeOCPP dispatches to the handler registered for c's version and action.
func (r *Router) ServeOCPP(ctx context.Context, c *Conn, action string, payload json.RawMessage) (any, error) {
	if fn, ok := r.routes[routeKey{c.Version(), action}]; ok {
		return fn(ctx, c, action, payload)
	}
	if r.Fallback != nil {
		return r.Fallback.ServeOCPP(ctx, c, action, payload)
	}
	return nil, NewError(NotSupported, "%s is not supported here", action)
}

// versionOfType tells which generated package (and so which version) a
// message type comes from.
func versionOfType(t reflect.Type) (Version, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	path := t.PkgPath()
	switch path[strings.LastIndexByte(path, '/')+1:] {
	case "v16":
		return V16, nil
	case "v201":
		return V201, nil
	case "v21":
		return V21, nil
	}
	return 0, fmt.Errorf("ocpp: %s is not a message type of the packages v16, v201 or v21", t)
}

// decodeError turns a json decoding error into the CALLERROR for it.
func decodeError(err error) *Error {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return NewError(TypeConstraintViolation, "%s: expected %s, got JSON %s", "/"+strings.ReplaceAll(te.Field, ".", "/"), te.Type, te.Value)
	}
	return NewError(FormatViolation, "payload does not decode: %v", err)
}
