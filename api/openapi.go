package api

import (
	"net/http"
)

// obj is a JSON object literal, to keep the OpenAPI document readable.
type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonBody(schema obj) obj {
	return obj{"content": obj{"application/json": obj{"schema": schema}}}
}

func response(desc string, schema obj) obj {
	r := obj{"description": desc}
	if schema != nil {
		r["content"] = obj{"application/json": obj{"schema": schema}}
	}
	return r
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}}
}

func queryParam(name, desc, typ string) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": obj{"type": typ}}
}

// errs are the error answers every operation may give.
func errs(codes ...string) obj {
	out := obj{
		"401": response("Missing or wrong API key.", ref("Error")),
		"429": response("This address sent a wrong API key and must wait (Retry-After, seconds) before its next request.", ref("Error")),
	}
	desc := map[string]string{
		"400": "The request is malformed or its OCPP payload breaks the schema; the message says which field.",
		"404": "No such object.",
		"409": "Conflict: the object exists, or the station is not connected.",
		"422": "The station's OCPP version cannot do this; the message says what to use instead.",
		"502": "The station answered with a CALLERROR (see ocpp_error), or its answer broke the OCPP schema.",
		"504": "The station did not answer in time.",
		"429": "Too many calls already wait for that station; or this address sent a wrong API key and must wait (Retry-After, seconds).",
	}
	for _, c := range codes {
		out[c] = response(desc[c], ref("Error"))
	}
	return out
}

func withOK(ok obj, e obj) obj {
	for k, v := range ok {
		e[k] = v
	}
	return e
}

var paging = []any{
	queryParam("limit", "At most this many items (default 100, at most 1000).", "integer"),
	queryParam("offset", "Skip this many items. A full page's answer names the next page in a Link header (rel=\"next\"), filters kept; "+
		"stations, tokens and transactions also say how many items the filters select in X-Total-Count.", "integer"),
}

// openAPIDocument describes the API.
func openAPIDocument() obj {
	station := obj{"type": "object", "properties": obj{
		"id": obj{"type": "string"}, "vendor": obj{"type": "string"}, "model": obj{"type": "string"},
		"serial_number": obj{"type": "string"}, "firmware_version": obj{"type": "string"}, "protocol": obj{"type": "string"},
		"security_profile": obj{"type": "integer", "minimum": 0, "maximum": 3}, "has_password": obj{"type": "boolean"},
		"registration": obj{"type": "string", "enum": []string{"Accepted", "Pending", "Rejected"}},
		"online":       obj{"type": "boolean"}, "connected": obj{"type": "boolean"}, "last_seen": obj{"type": "string", "format": "date-time"},
		"firmware_status": obj{"type": "string"}, "diagnostics_status": obj{"type": "string"}, "log_status": obj{"type": "string"},
		"created_at": obj{"type": "string", "format": "date-time"}, "updated_at": obj{"type": "string", "format": "date-time"},
	}}
	stationInput := obj{"type": "object", "additionalProperties": false, "properties": obj{
		"id":               obj{"type": "string", "maxLength": 48},
		"security_profile": obj{"type": "integer", "minimum": 0, "maximum": 3},
		"password":         obj{"type": "string", "minLength": 16, "maxLength": 40, "writeOnly": true},
		"registration":     obj{"type": "string", "enum": []string{"Accepted", "Pending", "Rejected"}},
	}}
	token := obj{"type": "object", "required": []string{"id"}, "properties": obj{
		"id": obj{"type": "string", "maxLength": 36}, "type": obj{"type": "string"},
		"status":     obj{"type": "string", "enum": []string{"Accepted", "Blocked", "Expired", "Invalid"}},
		"expires_at": obj{"type": "string", "format": "date-time"}, "group_id": obj{"type": "string"},
		"stations": obj{"type": "array", "items": obj{"type": "string"}},
	}}
	meterValue := obj{"type": "object", "properties": obj{
		"timestamp": obj{"type": "string", "format": "date-time"}, "measurand": obj{"type": "string"},
		"phase": obj{"type": "string"}, "context": obj{"type": "string"}, "location": obj{"type": "string"},
		"value": obj{"type": "number"}, "unit": obj{"type": "string"}, "raw_value": obj{"type": "string"}, "raw_unit": obj{"type": "string"},
	}}
	transaction := obj{"type": "object", "properties": obj{
		"id": obj{"type": "integer"}, "station_id": obj{"type": "string"}, "station_tx_id": obj{"type": "string"},
		"evse": obj{"type": "integer"}, "connector": obj{"type": "integer"}, "id_token": obj{"type": "string"},
		"status":     obj{"type": "string", "enum": []string{"Active", "Finished"}},
		"started_at": obj{"type": "string", "format": "date-time"}, "stopped_at": obj{"type": "string", "format": "date-time"},
		"meter_start_wh": obj{"type": "number"}, "meter_stop_wh": obj{"type": "number"}, "energy_wh": obj{"type": "number"},
		"stop_reason": obj{"type": "string"},
		"duration_s":  obj{"type": "number", "description": "Finished transactions: stopped_at − started_at in seconds."},
		"last_seq_no": obj{"type": "integer", "description": "The highest OCPP 2.0.1 seqNo applied; −1 for none and in 1.6."},
		"updated_at":  obj{"type": "string", "format": "date-time"},
		"meter_values": obj{"type": "array", "items": ref("MeterValue"),
			"description": "GET /api/v1/transactions/{id} only: the meter values in time order."},
	}}
	connectorStatus := obj{"type": "object", "properties": obj{
		"station_id": obj{"type": "string"}, "evse": obj{"type": "integer"}, "connector": obj{"type": "integer"},
		"status":     obj{"type": "string", "description": "Version-neutral: Available, Occupied, Reserved, Unavailable, Faulted."},
		"raw":        obj{"type": "string", "description": "The status as the station sent it."},
		"error_code": obj{"type": "string"}, "info": obj{"type": "string"},
		"timestamp": obj{"type": "string", "format": "date-time"},
	}}
	stationEvent := obj{"type": "object", "properties": obj{
		"id": obj{"type": "integer"}, "station_id": obj{"type": "string"},
		"kind":      obj{"type": "string", "description": "The OCPP action."},
		"timestamp": obj{"type": "string", "format": "date-time"},
		"payload":   obj{"type": "object", "description": "The station's payload."},
	}}
	transactionEvent := obj{"type": "object", "properties": obj{
		"transaction_id": obj{"type": "integer"},
		"event_type":     obj{"type": "string", "enum": []string{"Started", "Updated", "Ended"}},
		"seq_no":         obj{"type": "integer", "description": "2.0.1 seqNo; 1.6: 0 for the start, Unix ms for meter values, 2^62 for the stop."},
		"timestamp":      obj{"type": "string", "format": "date-time"},
		"trigger_reason": obj{"type": "string"}, "offline": obj{"type": "boolean"},
		"raw": obj{"type": "object", "description": "The payload exactly as the station sent it."},
	}}
	commandResult := obj{"type": "object", "properties": obj{
		"station": obj{"type": "string"}, "protocol": obj{"type": "string"}, "action": obj{"type": "string"},
		"response": obj{"type": "object", "description": "The station's CALLRESULT payload, as it sent it."},
	}}
	errorSchema := obj{"type": "object", "required": []string{"error"}, "properties": obj{
		"error": obj{"type": "string"},
		"ocpp_error": obj{"type": "object", "properties": obj{
			"Code": obj{"type": "string"}, "Description": obj{"type": "string"}, "Details": obj{"type": "object"}}},
	}}
	id := pathParam("id", "Station identity.")
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{"title": "openEV admin API", "version": "1",
			"description": "Stations, id tokens, transactions and remote commands of the openEV CSMS. Send the API key as Authorization: Bearer <key>."},
		"security": []any{obj{"apiKey": []any{}}},
		"components": obj{
			"securitySchemes": obj{"apiKey": obj{"type": "http", "scheme": "bearer"}},
			"schemas": obj{"Station": station, "StationInput": stationInput, "Token": token, "Transaction": transaction,
				"MeterValue": meterValue, "CommandResult": commandResult, "Error": errorSchema,
				"ConnectorStatus": connectorStatus, "StationEvent": stationEvent, "TransactionEvent": transactionEvent},
		},
		"paths": obj{
			"/api/v1/stations": obj{
				"get": obj{"summary": "List stations", "parameters": append(paging, queryParam("online", "true or false", "boolean")),
					"responses": withOK(obj{"200": response("Stations by id.", obj{"type": "array", "items": ref("Station")})}, errs("400"))},
				"post": obj{"summary": "Register a station", "requestBody": jsonBody(ref("StationInput")),
					"responses": withOK(obj{"201": response("Created.", ref("Station"))}, errs("400", "409"))},
			},
			"/api/v1/stations/{id}": obj{
				"parameters": []any{id},
				"get":        obj{"summary": "One station", "responses": withOK(obj{"200": response("The station.", ref("Station"))}, errs("404"))},
				"patch": obj{"summary": "Change a station's security profile, password or registration", "requestBody": jsonBody(ref("StationInput")),
					"responses": withOK(obj{"200": response("Changed.", ref("Station"))}, errs("400", "404"))},
				"delete": obj{"summary": "Forget a station (its history stays) and close its connection",
					"responses": withOK(obj{"204": response("Deleted.", nil)}, errs("404"))},
			},
			"/api/v1/stations/{id}/status": obj{"parameters": []any{id},
				"get": obj{"summary": "Current status of each connector", "responses": withOK(obj{"200": response("Statuses.", obj{"type": "array", "items": ref("ConnectorStatus")})}, errs("404"))}},
			"/api/v1/stations/{id}/status/history": obj{"parameters": []any{id},
				"get": obj{"summary": "Every status notification of the station, newest first", "parameters": paging,
					"responses": withOK(obj{"200": response("Notifications.", obj{"type": "array", "items": ref("ConnectorStatus")})}, errs("400", "404"))}},
			"/api/v1/stations/{id}/events": obj{"parameters": []any{id},
				"get": obj{"summary": "What the station reported (NotifyEvent, SecurityEventNotification, DataTransfer, StopTransaction of unknown transactions, ...), newest first",
					"parameters": append(paging, queryParam("kind", "Only this OCPP action, e.g. SecurityEventNotification.", "string")),
					"responses":  withOK(obj{"200": response("Events.", obj{"type": "array", "items": ref("StationEvent")})}, errs("400", "404"))}},
			"/api/v1/stations/{id}/commands/{name}": obj{
				"parameters": []any{id, obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string", "enum": CommandNames()}}},
				"post": obj{"summary": "Send a version-neutral command and wait for the station's answer",
					"description": "The body of each command:\n\n" + commandBodiesMarkdown() +
						"\n404: unknown command. 409: the station is not connected. 429: too many calls already wait for that station. " +
						"422: the station's OCPP version cannot do this (the message says what to use instead).",
					"requestBody": jsonBody(obj{"type": "object"}),
					"responses":   withOK(obj{"200": response("The station's answer.", ref("CommandResult"))}, errs("400", "404", "409", "422", "429", "502", "504"))},
			},
			"/api/v1/stations/{id}/ocpp/{action}": obj{
				"parameters": []any{id, pathParam("action", "Any OCPP action of the station's version, e.g. GetCompositeSchedule.")},
				"post": obj{"summary": "Send the body as that action's payload in the station's own version",
					"requestBody": jsonBody(obj{"type": "object"}),
					"responses":   withOK(obj{"200": response("The station's answer.", ref("CommandResult"))}, errs("400", "409", "429", "502", "504"))},
			},
			"/api/v1/tokens": obj{
				"get":  obj{"summary": "List id tokens", "parameters": paging, "responses": withOK(obj{"200": response("Tokens.", obj{"type": "array", "items": ref("Token")})}, errs("400"))},
				"post": obj{"summary": "Add an id token", "requestBody": jsonBody(ref("Token")), "responses": withOK(obj{"201": response("Created.", ref("Token"))}, errs("400", "409"))},
			},
			"/api/v1/tokens/{id}": obj{
				"parameters": []any{pathParam("id", "Token value (case-insensitive).")},
				"get":        obj{"summary": "One token", "responses": withOK(obj{"200": response("The token.", ref("Token"))}, errs("404"))},
				"put":        obj{"summary": "Create or replace a token", "requestBody": jsonBody(ref("Token")), "responses": withOK(obj{"200": response("Saved.", ref("Token"))}, errs("400"))},
				"delete":     obj{"summary": "Delete a token", "responses": withOK(obj{"204": response("Deleted.", nil)}, errs("404"))},
			},
			"/api/v1/transactions": obj{"get": obj{"summary": "List transactions, newest first",
				"parameters": append(paging, queryParam("station", "Station identity.", "string"), queryParam("token", "Id token.", "string"),
					queryParam("status", "Active or Finished.", "string"), queryParam("from", "Started at or after (RFC 3339).", "string"),
					queryParam("to", "Started before (RFC 3339).", "string")),
				"responses": withOK(obj{"200": response("Transactions.", obj{"type": "array", "items": ref("Transaction")})}, errs("400"))}},
			"/api/v1/transactions/{id}": obj{"parameters": []any{pathParam("id", "Transaction id.")},
				"get": obj{"summary": "One transaction with its meter values", "responses": withOK(obj{"200": response("The transaction.", ref("Transaction"))}, errs("400", "404"))}},
			"/api/v1/transactions/{id}/events": obj{"parameters": []any{pathParam("id", "Transaction id.")},
				"get": obj{"summary": "The transaction's events in seqNo order, each with the payload as the station sent it",
					"responses": withOK(obj{"200": response("Events.", obj{"type": "array", "items": ref("TransactionEvent")})}, errs("400", "404"))}},
		},
	}
	addOCPIToOpenAPI(doc)
	return doc
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openAPIDocument())
}
