package v201

import (
	"encoding/json"
	"testing"
)

// CustomData keeps the properties it does not know, matching names exactly
// (encoding/json alone would let "VENDORID" overwrite VendorID).
func TestCustomDataRoundTrip(t *testing.T) {
	var r ResetRequest
	in := `{"type":"Immediate","evseId":3,"customData":{"vendorId":"acme","VENDORID":"other","limits":{"max":[1,2.5]},"note":null}}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.CustomData == nil || r.CustomData.VendorID != "acme" || len(r.CustomData.Extra) != 3 {
		t.Fatalf("decoded %+v", r.CustomData)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"customData":{"vendorId":"acme","VENDORID":"other","limits":{"max":[1,2.5]},"note":null},"type":"Immediate","evseId":3}`
	if string(out) != want {
		t.Errorf("encoded\n%s\nwant\n%s", out, want)
	}

	// Extra never overrides a field, and a struct without extras encodes
	// like a plain one.
	c := CustomData{VendorID: "acme", Extra: map[string]json.RawMessage{"vendorId": json.RawMessage(`"evil"`)}}
	if out, _ := json.Marshal(c); string(out) != `{"vendorId":"acme"}` {
		t.Errorf("encoded %s", out)
	}
	if err := json.Unmarshal([]byte(`{"vendorId":7}`), &c); err == nil {
		t.Error("a number decoded into vendorId")
	}
}
