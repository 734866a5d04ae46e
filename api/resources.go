package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openev/openev/csms"
)

// stationView is a station as the API shows it: never its password hash.
type stationView struct {
	ID                string    `json:"id"`
	Vendor            string    `json:"vendor,omitempty"`
	Model             string    `json:"model,omitempty"`
	SerialNumber      string    `json:"serial_number,omitempty"`
	FirmwareVersion   string    `json:"firmware_version,omitempty"`
	Protocol          string    `json:"protocol,omitempty"`
	SecurityProfile   int       `json:"security_profile"`
	HasPassword       bool      `json:"has_password"`
	Registration      string    `json:"registration"`
	Online            bool      `json:"online"`
	Connected         bool      `json:"connected"`
	LastSeen          time.Time `json:"last_seen,omitzero"`
	FirmwareStatus    string    `json:"firmware_status,omitempty"`
	DiagnosticsStatus string    `json:"diagnostics_status,omitempty"`
	LogStatus         string    `json:"log_status,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func (a *API) viewStation(s csms.Station) stationView {
	_, connected := a.stations.Conn(s.ID)
	return stationView{
		ID: s.ID, Vendor: s.Vendor, Model: s.Model, SerialNumber: s.SerialNumber, FirmwareVersion: s.FirmwareVersion,
		Protocol: s.Protocol, SecurityProfile: s.SecurityProfile, HasPassword: s.PasswordHash != "",
		Registration: string(s.Registration), Online: s.Online, Connected: connected, LastSeen: s.LastSeen,
		FirmwareStatus: s.FirmwareStatus, DiagnosticsStatus: s.DiagnosticsStatus, LogStatus: s.LogStatus,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// stationInput is what POST and PATCH accept; absent fields are unchanged.
type stationInput struct {
	ID              *string `json:"id"`
	SecurityProfile *int    `json:"security_profile"`
	Password        *string `json:"password"`
	Registration    *string `json:"registration"`
}

func (a *API) listStations(w http.ResponseWriter, r *http.Request) {
	p, ok := page(w, r)
	if !ok {
		return
	}
	f := csms.StationFilter{Page: p}
	switch r.URL.Query().Get("online") {
	case "":
	case "true":
		f.Online = ptr(true)
	case "false":
		f.Online = ptr(false)
	default:
		writeError(w, http.StatusBadRequest, "query parameter online must be true or false")
		return
	}
	list, err := a.store.Stations(r.Context(), f)
	if err != nil {
		a.storeError(w, "stations", err)
		return
	}
	if !a.totalCount(w, "stations", func() (int, error) { return a.store.CountStations(r.Context(), f) }) {
		return
	}
	linkNext(w, r, p, len(list))
	out := make([]stationView, len(list))
	for i, s := range list {
		out[i] = a.viewStation(s)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createStation(w http.ResponseWriter, r *http.Request) {
	var in stationInput
	if !readJSON(w, r, &in) {
		return
	}
	if in.ID == nil || *in.ID == "" || len(*in.ID) > 48 || strings.Contains(*in.ID, "/") {
		writeError(w, http.StatusBadRequest, "id is required: the station identity, 1 to 48 characters, no '/'")
		return
	}
	if _, err := a.store.Station(r.Context(), *in.ID); err == nil {
		writeError(w, http.StatusConflict, "station %s already exists; PATCH it instead", *in.ID)
		return
	}
	now := time.Now().UTC()
	st := csms.Station{ID: *in.ID, Registration: csms.RegistrationAccepted, CreatedAt: now, UpdatedAt: now}
	if !applyStationInput(w, &st, in) {
		return
	}
	if err := a.store.SaveStation(r.Context(), st); err != nil {
		a.storeError(w, "station", err)
		return
	}
	writeJSON(w, http.StatusCreated, a.viewStation(st))
}

// applyStationInput validates and applies the given fields of in to st.
func applyStationInput(w http.ResponseWriter, st *csms.Station, in stationInput) bool {
	if in.SecurityProfile != nil {
		if *in.SecurityProfile < 0 || *in.SecurityProfile > 3 {
			writeError(w, http.StatusBadRequest, "security_profile must be 0, 1, 2 or 3")
			return false
		}
		st.SecurityProfile = *in.SecurityProfile
	}
	if in.Password != nil {
		if n := len(*in.Password); n < 16 || n > 40 {
			// OCPP's basic-auth password is 16 to 40 characters.
			writeError(w, http.StatusBadRequest, "password must be 16 to 40 characters (OCPP security profile 1/2)")
			return false
		}
		hash, err := csms.HashPassword(*in.Password)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "cannot hash the password")
			return false
		}
		st.PasswordHash = hash
	}
	if in.Registration != nil {
		switch reg := csms.Registration(*in.Registration); reg {
		case csms.RegistrationAccepted, csms.RegistrationPending, csms.RegistrationRejected:
			st.Registration = reg
		default:
			writeError(w, http.StatusBadRequest, "registration must be Accepted, Pending or Rejected")
			return false
		}
	}
	if st.SecurityProfile > 0 && st.SecurityProfile < 3 && st.PasswordHash == "" {
		writeError(w, http.StatusBadRequest, "security profile %d needs a password", st.SecurityProfile)
		return false
	}
	return true
}

func (a *API) getStation(w http.ResponseWriter, r *http.Request) {
	st, err := a.store.Station(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, "station "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, a.viewStation(st))
}

func (a *API) patchStation(w http.ResponseWriter, r *http.Request) {
	var in stationInput
	if !readJSON(w, r, &in) {
		return
	}
	if in.ID != nil && *in.ID != r.PathValue("id") {
		writeError(w, http.StatusBadRequest, "id cannot be changed")
		return
	}
	st, err := a.store.Station(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, "station "+r.PathValue("id"), err)
		return
	}
	if !applyStationInput(w, &st, in) {
		return
	}
	st.UpdatedAt = time.Now().UTC()
	if err := a.store.SaveStation(r.Context(), st); err != nil {
		a.storeError(w, "station", err)
		return
	}
	writeJSON(w, http.StatusOK, a.viewStation(st))
}

func (a *API) deleteStation(w http.ResponseWriter, r *http.Request) {
	if err := a.store.DeleteStation(r.Context(), r.PathValue("id")); err != nil {
		a.storeError(w, "station "+r.PathValue("id"), err)
		return
	}
	if c, ok := a.stations.Conn(r.PathValue("id")); ok {
		c.Close(1008, "station deleted")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) stationStatus(w http.ResponseWriter, r *http.Request) {
	if !a.stationExists(w, r) {
		return
	}
	list, err := a.store.ConnectorStatuses(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, "statuses", err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// stationStatusHistory lists a station's status notifications, newest first.
func (a *API) stationStatusHistory(w http.ResponseWriter, r *http.Request) {
	p, ok := page(w, r)
	if !ok || !a.stationExists(w, r) {
		return
	}
	list, err := a.store.StatusHistory(r.Context(), r.PathValue("id"), p)
	if err != nil {
		a.storeError(w, "status history", err)
		return
	}
	linkNext(w, r, p, len(list))
	writeJSON(w, http.StatusOK, list)
}

// stationEvents lists what a station reported (NotifyEvent,
// SecurityEventNotification, DataTransfer, ...), newest first; ?kind=
// keeps one action.
func (a *API) stationEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := page(w, r)
	if !ok || !a.stationExists(w, r) {
		return
	}
	list, err := a.store.StationEvents(r.Context(), r.PathValue("id"), r.URL.Query().Get("kind"), p)
	if err != nil {
		a.storeError(w, "station events", err)
		return
	}
	linkNext(w, r, p, len(list))
	writeJSON(w, http.StatusOK, list)
}

// stationExists answers 404 for an unknown station: an empty list would
// read as "known, nothing yet".
func (a *API) stationExists(w http.ResponseWriter, r *http.Request) bool {
	if _, err := a.store.Station(r.Context(), r.PathValue("id")); err != nil {
		a.storeError(w, "station "+r.PathValue("id"), err)
		return false
	}
	return true
}

// tokenView is an id token as the API shows and accepts it.
type tokenView struct {
	ID        string     `json:"id"`
	Type      string     `json:"type,omitempty"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	GroupID   string     `json:"group_id,omitempty"`
	Stations  []string   `json:"stations,omitempty"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
}

func viewToken(t csms.IDToken) tokenView {
	return tokenView{ID: t.ID, Type: t.Type, Status: string(t.Status), ExpiresAt: t.ExpiresAt, GroupID: t.GroupID,
		Stations: t.Stations, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	p, ok := page(w, r)
	if !ok {
		return
	}
	list, err := a.store.Tokens(r.Context(), p)
	if err != nil {
		a.storeError(w, "tokens", err)
		return
	}
	if !a.totalCount(w, "tokens", func() (int, error) { return a.store.CountTokens(r.Context()) }) {
		return
	}
	linkNext(w, r, p, len(list))
	out := make([]tokenView, len(list))
	for i, t := range list {
		out[i] = viewToken(t)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var in tokenView
	if !readJSON(w, r, &in) {
		return
	}
	if _, err := a.store.Token(r.Context(), in.ID); err == nil {
		writeError(w, http.StatusConflict, "token %s already exists; PUT it instead", in.ID)
		return
	}
	a.saveToken(w, r, in, http.StatusCreated)
}

func (a *API) putToken(w http.ResponseWriter, r *http.Request) {
	var in tokenView
	if !readJSON(w, r, &in) {
		return
	}
	if in.ID == "" {
		in.ID = r.PathValue("id")
	}
	if !strings.EqualFold(in.ID, r.PathValue("id")) {
		writeError(w, http.StatusBadRequest, "id in the body (%s) differs from the URL (%s)", in.ID, r.PathValue("id"))
		return
	}
	a.saveToken(w, r, in, http.StatusOK)
}

func (a *API) saveToken(w http.ResponseWriter, r *http.Request, in tokenView, status int) {
	if in.ID == "" || len(in.ID) > 36 {
		writeError(w, http.StatusBadRequest, "id is required: the token value, 1 to 36 characters")
		return
	}
	if in.Status == "" {
		in.Status = string(csms.TokenAccepted)
	}
	switch csms.TokenStatus(in.Status) {
	case csms.TokenAccepted, csms.TokenBlocked, csms.TokenExpired, csms.TokenInvalid:
	default:
		writeError(w, http.StatusBadRequest, "status must be Accepted, Blocked, Expired or Invalid")
		return
	}
	now := time.Now().UTC()
	t := csms.IDToken{ID: in.ID, Type: in.Type, Status: csms.TokenStatus(in.Status), ExpiresAt: in.ExpiresAt,
		GroupID: in.GroupID, Stations: in.Stations, CreatedAt: now, UpdatedAt: now}
	if old, err := a.store.Token(r.Context(), in.ID); err == nil {
		t.CreatedAt = old.CreatedAt
	}
	if err := a.store.SaveToken(r.Context(), t); err != nil {
		a.storeError(w, "token", err)
		return
	}
	writeJSON(w, status, viewToken(t))
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request) {
	t, err := a.store.Token(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, "token "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, viewToken(t))
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) {
	if err := a.store.DeleteToken(r.Context(), r.PathValue("id")); err != nil {
		a.storeError(w, "token "+r.PathValue("id"), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// transactionView is a transaction with its duration once finished and,
// on request for one, its meter values.
type transactionView struct {
	csms.Transaction
	// DurationS is StoppedAt − StartedAt in seconds, for finished ones.
	DurationS   *float64          `json:"duration_s,omitempty"`
	MeterValues []csms.MeterValue `json:"meter_values,omitempty"`
}

func viewTransaction(tx csms.Transaction, mv []csms.MeterValue) transactionView {
	v := transactionView{Transaction: tx, MeterValues: mv}
	if d, ok := tx.Duration(); ok {
		v.DurationS = ptr(d.Seconds())
	}
	return v
}

func (a *API) listTransactions(w http.ResponseWriter, r *http.Request) {
	p, ok := page(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := csms.TransactionFilter{Page: p, StationID: q.Get("station"), IDToken: q.Get("token"), Status: csms.TransactionStatus(q.Get("status"))}
	switch f.Status {
	case "", csms.TransactionActive, csms.TransactionFinished:
	default:
		writeError(w, http.StatusBadRequest, "status must be Active or Finished")
		return
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				writeError(w, http.StatusBadRequest, "query parameter %s must be an RFC 3339 time, got %q", name, s)
				return
			}
			*dst = t
		}
	}
	list, err := a.store.Transactions(r.Context(), f)
	if err != nil {
		a.storeError(w, "transactions", err)
		return
	}
	if !a.totalCount(w, "transactions", func() (int, error) { return a.store.CountTransactions(r.Context(), f) }) {
		return
	}
	linkNext(w, r, p, len(list))
	views := make([]transactionView, len(list))
	for i, tx := range list {
		views[i] = viewTransaction(tx, nil)
	}
	writeJSON(w, http.StatusOK, views)
}

// transactionID reads the {id} of a transaction's path, answering 400 if
// it is not a number.
func transactionID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "transaction id must be an integer, got %q", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

func (a *API) getTransaction(w http.ResponseWriter, r *http.Request) {
	id, ok := transactionID(w, r)
	if !ok {
		return
	}
	tx, err := a.store.Transaction(r.Context(), id)
	if err != nil {
		a.storeError(w, "transaction "+r.PathValue("id"), err)
		return
	}
	mv, err := a.store.MeterValues(r.Context(), id)
	if err != nil {
		a.storeError(w, "meter values", err)
		return
	}
	writeJSON(w, http.StatusOK, viewTransaction(tx, mv))
}

// transactionEvents lists a transaction's events in seqNo order, each with
// the payload as the station sent it.
func (a *API) transactionEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := transactionID(w, r)
	if !ok {
		return
	}
	list, err := a.store.TransactionEvents(r.Context(), id)
	if err != nil {
		a.storeError(w, "transaction "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func ptr[T any](v T) *T { return &v }
