package v16_test

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/openev/openev/ocpp/v16"
)

// Validate a CALL payload against its schema, then decode it into the
// generated struct.
func Example() {
	payload := []byte(`{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2024-01-02T03:04:05Z"}`)

	action := v16.Actions["StatusNotification"]
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		panic(err)
	}
	if v := action.Request.Validate(doc, 0); v != nil {
		fmt.Println("invalid:", v)
		return
	}
	req := action.NewRequest().(*v16.StatusNotificationRequest)
	if err := json.Unmarshal(payload, req); err != nil {
		panic(err)
	}
	fmt.Println(req.Action(), req.ConnectorID, req.Status == v16.ChargePointStatusCharging, req.Timestamp.Year())

	// A broken payload names the rule and the place.
	bad := map[string]any{"idTag": "this id tag is far too long"}
	fmt.Println(v16.Actions["Authorize"].Request.Validate(bad, 0))
	// Output:
	// StatusNotification 1 true 2024
	// /idTag: string length 27 exceeds maxLength 20
}
