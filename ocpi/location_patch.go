package ocpi

import (
	"encoding/json"
	"strings"
)

// PatchLocation applies a PATCH body to the stored Location with JSON merge
// patch semantics (RFC 7396: fields present replace, null clears an
// optional field, nested objects merge) and returns the validated result;
// stored is not modified.
//
// The patch must carry last_updated (2001 naming last_updated otherwise),
// and an id, country_code or party_id in it must equal the stored one
// (compared case-insensitively). A list replaces the stored list, except
// evses: each patched EVSE is merged into the stored EVSE with the same uid
// and new uids are added, because EVSEs are never deleted (a removed EVSE
// gets status REMOVED). The Location's last_updated becomes the newest of
// the patch's and its EVSEs' and Connectors'.
func PatchLocation(stored Location, patch []byte) (Location, error) {
	p, err := patchObject(patch)
	if err != nil {
		return Location{}, err
	}
	var v Validator
	sameID(&v, p, "id", stored.ID)
	sameID(&v, p, "country_code", stored.CountryCode)
	sameID(&v, p, "party_id", stored.PartyID)
	if err := v.Err(); err != nil {
		return Location{}, err
	}
	doc, err := toTree(stored)
	if err != nil {
		return Location{}, err
	}
	if evses, ok := p["evses"].([]any); ok {
		merged, err := mergeEVSEs(doc["evses"], evses)
		if err != nil {
			return Location{}, err
		}
		delete(p, "evses")
		doc["evses"] = merged
	}
	l, err := decodeMerged(mergePatch(doc, p), DecodeLocation)
	if err != nil {
		return Location{}, err
	}
	propagateLastUpdated(&l)
	return l, l.Validate()
}

// PatchEVSE applies a PATCH body to a stored EVSE like PatchLocation. A
// connectors list replaces the stored list (connectors may be replaced).
// The EVSE's last_updated becomes the newest of the patch's and its
// Connectors'. The receiver then stores the result with Location.PutEVSE,
// which moves the Location's last_updated. To remove an EVSE, patch its
// status to REMOVED.
func PatchEVSE(stored EVSE, patch []byte) (EVSE, error) {
	p, err := patchObject(patch)
	if err != nil {
		return EVSE{}, err
	}
	var v Validator
	sameID(&v, p, "uid", stored.UID)
	if err := v.Err(); err != nil {
		return EVSE{}, err
	}
	doc, err := toTree(stored)
	if err != nil {
		return EVSE{}, err
	}
	e, err := decodeMerged(mergePatch(doc, p), DecodeEVSE)
	if err != nil {
		return EVSE{}, err
	}
	e.bumpToConnectors()
	return e, e.Validate()
}

// PatchConnector applies a PATCH body to a stored Connector like
// PatchLocation. The receiver then stores the result with
// Location.PutConnector, which moves the EVSE's and Location's
// last_updated.
func PatchConnector(stored Connector, patch []byte) (Connector, error) {
	p, err := patchObject(patch)
	if err != nil {
		return Connector{}, err
	}
	var v Validator
	sameID(&v, p, "id", stored.ID)
	if err := v.Err(); err != nil {
		return Connector{}, err
	}
	doc, err := toTree(stored)
	if err != nil {
		return Connector{}, err
	}
	c, err := decodeMerged(mergePatch(doc, p), DecodeConnector)
	if err != nil {
		return Connector{}, err
	}
	return c, c.Validate()
}

// patchObject parses a PATCH body: a JSON object with a valid last_updated.
func patchObject(patch []byte) (map[string]any, error) {
	var p map[string]any
	tree, err := decodeObject(patch, &p)
	if err != nil {
		return nil, err
	}
	lu, ok := tree["last_updated"].(string)
	if !ok {
		return nil, InvalidParams("last_updated: required in a PATCH (the time of the change)")
	}
	if _, err := ParseDateTime(lu); err != nil {
		return nil, InvalidParams("last_updated: %v", err)
	}
	return tree, nil
}

// sameID records a problem when the patch carries field with a value
// other than stored (CiStrings compare case-insensitively), and drops the
// field from the patch: identifiers never change, not even their case.
func sameID(v *Validator, p map[string]any, field, stored string) {
	raw, ok := p[field]
	if !ok {
		return
	}
	delete(p, field)
	s, isString := raw.(string)
	if !isString || !strings.EqualFold(s, stored) {
		v.Addf(field, "%v does not match the stored object's %q; identifiers cannot change", raw, stored)
	}
}

func toTree(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, unmarshalNumbers(b, &m)
}

func unmarshalNumbers(b []byte, out any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(out)
}

func decodeMerged[T any](doc any, decode func([]byte) (T, error)) (T, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(b)
}

// mergePatch applies an RFC 7396 merge patch to target and returns the
// result: null deletes, objects merge recursively, anything else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, pv := range p {
		if pv == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], pv)
	}
	return t
}

// mergeEVSEs merges patched EVSEs into the stored list by uid.
func mergeEVSEs(stored any, patched []any) ([]any, error) {
	list, _ := stored.([]any)
	out := append([]any(nil), list...)
	for i, pe := range patched {
		pm, ok := pe.(map[string]any)
		if !ok {
			return nil, InvalidParams("%s: expected an object, got JSON %s", Index("evses", i), jsonKind(pe))
		}
		uid, _ := pm["uid"].(string)
		if uid == "" {
			return nil, InvalidParams("%s: required to match the patched EVSE to a stored one", Field(Index("evses", i), "uid"))
		}
		found := false
		for j, se := range out {
			if sm, ok := se.(map[string]any); ok {
				if su, _ := sm["uid"].(string); strings.EqualFold(su, uid) {
					out[j] = mergePatch(sm, pm)
					found = true
					break
				}
			}
		}
		if !found {
			out = append(out, pm)
		}
	}
	return out, nil
}
