package ocpi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// BadJSON is the answer to a body that is not JSON at all: HTTP 400 with
// status 2000, since such a request never reached the OCPI layer.
func BadJSON(err error) *Error {
	return Errorf(http.StatusBadRequest, StatusClientError, "request body is not valid JSON: %v", err)
}

// readBody reads a request body of at most limit bytes: a longer one is
// HTTP 413, an empty one or one that breaks off HTTP 400 (both 2000: the
// request did not reach the OCPI layer). what names the object expected.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, Errorf(http.StatusRequestEntityTooLarge, StatusClientError, "request body is larger than %d bytes: send one %s", tooLarge.Limit, what)
	case err != nil:
		return nil, Errorf(http.StatusBadRequest, StatusClientError, "reading the request body: %v", err)
	case len(bytes.TrimSpace(body)) == 0:
		return nil, Errorf(http.StatusBadRequest, StatusClientError, "request body is empty: send the %s as JSON", what)
	}
	return body, nil
}

// DecodeLocation parses a Location permissively: unknown fields are
// ignored, timestamps in every form 2.2.1 allows are accepted. It fails
// with BadJSON (HTTP 400, 2000) when data is not JSON, and with a 2001
// *Error naming the field (evses[0].connectors[1].max_voltage) when a field
// has the wrong JSON type, a timestamp is malformed, or a required boolean
// (publish, opening_times.twentyfourseven, energy_mix.is_green_energy) is
// absent. It does not validate: call Validate before storing.
func DecodeLocation(data []byte) (Location, error) {
	var l Location
	tree, err := decodeObject(data, &l)
	if err != nil {
		return Location{}, err
	}
	var v Validator
	requireBool(&v, tree, "publish")
	if ot, ok := tree["opening_times"].(map[string]any); ok {
		requireBool(&v, ot, "opening_times", "twentyfourseven")
	}
	if em, ok := tree["energy_mix"].(map[string]any); ok {
		requireBool(&v, em, "energy_mix", "is_green_energy")
	}
	if err := v.Err(); err != nil {
		return Location{}, err
	}
	return l, nil
}

// DecodeEVSE parses an EVSE like DecodeLocation.
func DecodeEVSE(data []byte) (EVSE, error) {
	var e EVSE
	if _, err := decodeObject(data, &e); err != nil {
		return EVSE{}, err
	}
	return e, nil
}

// DecodeConnector parses a Connector like DecodeLocation.
func DecodeConnector(data []byte) (Connector, error) {
	var c Connector
	if _, err := decodeObject(data, &c); err != nil {
		return Connector{}, err
	}
	return c, nil
}

// Decode parses any OCPI object into out like DecodeLocation does (without
// the required-boolean checks, which are per type), and returns the
// generic JSON tree for further checks.
func Decode(data []byte, out any) (map[string]any, error) { return decodeObject(data, out) }

func decodeObject(data []byte, out any) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, BadJSON(err)
	}
	if dec.More() {
		return nil, BadJSON(errors.New("more than one JSON value"))
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, InvalidParams("body: expected a JSON object, got %s", jsonKind(tree))
	}
	if err := json.Unmarshal(data, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			kind, _, _ := strings.Cut(te.Value, " ")
			path := locate(obj, strings.Split(te.Field, "."), "", kind)
			if path == "" {
				path = locate(obj, strings.Split(te.Field, "."), "", "")
			}
			if path == "" {
				path = te.Field
			}
			return nil, InvalidParams("%s: expected %s, got JSON %s", path, kindOf(te.Type.Kind().String()), te.Value)
		}
		// Unmarshaler failures (timestamps) carry no field: find the value.
		if path, bad := findBadTimestamp(obj, ""); path != "" {
			return nil, InvalidParams("%s: %s", path, bad)
		}
		return nil, InvalidParams("%v", err)
	}
	return obj, nil
}

func requireBool(v *Validator, obj map[string]any, path ...string) {
	name := path[len(path)-1]
	p := strings.Join(path, ".")
	switch obj[name].(type) {
	case bool:
	case nil:
		v.Addf(p, "required (true or false)")
	}
}

func kindOf(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	}
	return goKind
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// locate turns a dotted field (evses.connectors.max_voltage, as
// encoding/json reports it, without list indexes) into the path of the
// first value in tree at that field whose JSON kind is kind ("" matches
// any), with list indexes.
func locate(v any, segs []string, prefix, kind string) string {
	switch x := v.(type) {
	case map[string]any:
		if len(segs) == 0 {
			break
		}
		child, ok := x[segs[0]]
		if !ok {
			return ""
		}
		p := Field(prefix, segs[0])
		if len(segs) == 1 {
			if kind == "" || jsonKind(child) == kind {
				return p
			}
			if arr, ok := child.([]any); ok { // a list of the wrong kind of element
				for i, el := range arr {
					if jsonKind(el) == kind {
						return Index(p, i)
					}
				}
			}
			return ""
		}
		return locate(child, segs[1:], p, kind)
	case []any:
		for i, el := range x {
			if p := locate(el, segs, Index(prefix, i), kind); p != "" {
				return p
			}
		}
	}
	return ""
}

// timestampKeys are the DateTime fields of the objects this package
// decodes; period_begin/period_end under regular_hours are "HH:MM".
var timestampKeys = map[string]bool{"last_updated": true, "period_begin": true, "period_end": true, "timestamp": true}

func findBadTimestamp(v any, prefix string) (string, string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := x[k]
			p := Field(prefix, k)
			if timestampKeys[k] && !strings.Contains(prefix, "regular_hours") {
				switch s := child.(type) {
				case string:
					if _, err := ParseDateTime(s); err != nil {
						return p, err.Error()
					}
				case nil:
				default:
					return p, fmt.Sprintf("expected a timestamp string, got JSON %s", jsonKind(child))
				}
				continue
			}
			if q, bad := findBadTimestamp(child, p); q != "" {
				return q, bad
			}
		}
	case []any:
		for i, el := range x {
			if q, bad := findBadTimestamp(el, Index(prefix, i)); q != "" {
				return q, bad
			}
		}
	}
	return "", ""
}
