package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/sqlite"
)

// serveProc is `openev serve` in a child process (see TestMain), which
// the test can stop and start again on the same database.
type serveProc struct {
	t    *testing.T
	addr string
	args []string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func startServeProc(t *testing.T, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{t: t, addr: freeAddr(t), args: args}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *serveProc) start() {
	p.t.Helper()
	p.out = &syncBuffer{}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(append([]string{"serve", "--addr", p.addr}, p.args...), "\x1f"))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-p.done:
			p.cmd = nil
			p.t.Fatalf("openev serve %v exited (%v):\n%s", p.args, err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			p.t.Fatalf("openev serve never answered /healthz:\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process as Ctrl-C would, and kills it if it hangs.
func (p *serveProc) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("openev serve exited with %v:\n%s", err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("openev serve did not stop on SIGTERM:\n%s", p.out.String())
	}
	p.cmd = nil
}

// api calls the admin API with key and decodes the answer into out.
func (p *serveProc) api(method, path, key, body string, out any) int {
	p.t.Helper()
	req, _ := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	if resp.StatusCode >= 300 {
		p.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// eventually retries check until it returns "" or 15 s pass.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		problem := check()
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, problem)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testLocationBody is an OCPI Location with one EVSE of that status.
func testLocationBody(id, status string, at time.Time) string {
	ts := at.UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"id":%q,"publish":true,"name":"Stationsplein","address":"Stationsplein 1","city":"Utrecht",
 "country":"NLD","coordinates":{"latitude":"52.090284","longitude":"5.110943"},"time_zone":"Europe/Amsterdam",
 "evses":[{"uid":"E1","evse_id":"NL*CPO*E1","status":%q,"connectors":[{"id":"1","standard":"IEC_62196_T2",
 "format":"SOCKET","power_type":"AC_3_PHASE","max_voltage":230,"max_amperage":32,"last_updated":%q}],
 "last_updated":%q}],"last_updated":%q}`, id, status, ts, ts, ts)
}

// ocpiDB is one database per process: its serve flags and a way for the
// test to read the peers the process stored.
type ocpiDB struct {
	args  []string
	peers func(t *testing.T) []ocpi.Peer
}

func sqliteDB(t *testing.T) ocpiDB {
	dir := t.TempDir()
	return ocpiDB{args: []string{"--data-dir", dir}, peers: func(t *testing.T) []ocpi.Peer {
		st, err := sqlite.Open(t.Context(), filepath.Join(dir, "openev.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ps, err := st.Peers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}}
}

func postgresDB(t *testing.T) ocpiDB {
	dsn := testdb.PostgresDSN(t)
	schema := testdb.NewSchema(t, dsn)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return ocpiDB{args: []string{"--db", dsn + sep + "schema=" + schema}, peers: func(t *testing.T) []ocpi.Peer {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ps, err := st.Peers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}}
}

// Two real `openev serve` processes, a CPO and an eMSP, each on its own
// database, connected through their admin APIs only.
func TestTwoServeProcessesExchangeLocationsOverOCPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	for _, backend := range []struct {
		name string
		open func(*testing.T) ocpiDB
	}{{"sqlite", sqliteDB}, {"postgres", postgresDB}} {
		t.Run(backend.name, func(t *testing.T) { ocpiScenario(t, backend.open(t), backend.open(t)) })
	}
}

func ocpiScenario(t *testing.T, cpoDB, emspDB ocpiDB) {
	const cpoKey, emspKey = "cpo-admin-key", "emsp-admin-key"
	emsp := startServeProc(t, append([]string{"--api-key", emspKey, "--ocpi-party", "DE-EMS", "--ocpi-roles", "EMSP", "--ocpi-name", "DE eMSP"}, emspDB.args...)...)
	cpo := startServeProc(t, append([]string{"--api-key", cpoKey, "--ocpi-party", "NL-CPO", "--ocpi-roles", "CPO", "--ocpi-name", "NL CPO"}, cpoDB.args...)...)
	if !strings.Contains(emsp.out.String(), "OCPI 2.2.1 on") || !strings.Contains(emsp.out.String(), "http://"+emsp.addr+"/ocpi/versions") {
		t.Fatalf("the eMSP's start-up does not say where OCPI is:\n%s", emsp.out.String())
	}

	// The eMSP's operator issues a token A; the CPO's operator registers with it.
	var issued struct {
		Peer        ocpi.Peer
		Token       string
		VersionsURL string `json:"versions_url"`
	}
	if code := emsp.api("POST", "/api/v1/ocpi/peers", emspKey, `{"name":"NL CPO"}`, &issued); code != 201 {
		t.Fatalf("issue token A: %d", code)
	}
	if issued.VersionsURL != "http://"+emsp.addr+"/ocpi/versions" {
		t.Fatalf("versions URL %q, want the one derived from --addr", issued.VersionsURL)
	}
	var cpoPeer ocpi.Peer
	reg := fmt.Sprintf(`{"versions_url":%q,"token":%q}`, issued.VersionsURL, issued.Token)
	if code := cpo.api("POST", "/api/v1/ocpi/peers/register", cpoKey, reg, &cpoPeer); code != 201 || cpoPeer.Status != ocpi.PeerRegistered || cpoPeer.Name != "DE eMSP" {
		t.Fatalf("register: %d %+v", code, cpoPeer)
	}
	var emspPeer ocpi.Peer
	if emsp.api("GET", "/api/v1/ocpi/peers/"+issued.Peer.ID, emspKey, "", &emspPeer); emspPeer.Status != ocpi.PeerRegistered || emspPeer.Name != "NL CPO" {
		t.Fatalf("the eMSP's peer after registration: %+v", emspPeer)
	}

	received := func(p *serveProc, want ocpi.Status) func() string {
		return func() string {
			var loc ocpi.Location
			code := p.api("GET", "/api/v1/ocpi/received/locations/NL/CPO/LOC1", emspKey, "", &loc)
			if code != 200 || len(loc.EVSEs) != 1 || loc.EVSEs[0].Status != want {
				return fmt.Sprintf("GET received LOC1: %d %+v, want EVSE %s", code, loc.EVSEs, want)
			}
			return ""
		}
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	if code := cpo.api("PUT", "/api/v1/locations/LOC1", cpoKey, testLocationBody("LOC1", "AVAILABLE", t0), nil); code != 200 {
		t.Fatalf("PUT location: %d", code)
	}
	eventually(t, "the location pushed to the eMSP", received(emsp, ocpi.StatusAvailable))
	var list []ocpi.Location
	if emsp.api("GET", "/api/v1/ocpi/received/locations", emspKey, "", &list); len(list) != 1 || list[0].ID != "LOC1" {
		t.Fatalf("received list: %+v", list)
	}

	if code := cpo.api("PATCH", "/api/v1/locations/LOC1/evses/E1", cpoKey, `{"status":"CHARGING"}`, nil); code != 200 {
		t.Fatalf("PATCH the EVSE's status: %d", code)
	}
	eventually(t, "the EVSE status change pushed", received(emsp, ocpi.StatusCharging))

	// The token C the CPO calls the eMSP with, read from the CPO's database.
	var oldToken string
	for _, p := range cpoDB.peers(t) {
		if p.ID == cpoPeer.ID {
			oldToken = p.OutgoingToken
		}
	}
	callEMSP := func(token string) int {
		req, _ := http.NewRequest("GET", "http://"+emsp.addr+"/ocpi/2.2.1/receiver/locations/NL/CPO/LOC1", nil)
		req.Header.Set("Authorization", "Token "+base64.StdEncoding.EncodeToString([]byte(token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if oldToken == "" || callEMSP(oldToken) != 200 {
		t.Fatalf("the CPO's token does not open the eMSP's receiver (token found: %v)", oldToken != "")
	}
	if code := callEMSP(issued.Token); code != 401 {
		t.Fatalf("token A after registration: HTTP %d, want 401", code)
	}

	var rotated ocpi.Peer
	if code := cpo.api("POST", "/api/v1/ocpi/peers/"+cpoPeer.ID+"/rotate", cpoKey, "", &rotated); code != 200 || rotated.Status != ocpi.PeerRegistered {
		t.Fatalf("rotate: %d %+v", code, rotated)
	}
	// Later than the PATCH above, which the CPO stamped "now" to the
	// millisecond (the body has whole seconds): a receiver ignores an older
	// version of what it holds.
	cpo.api("PUT", "/api/v1/locations/LOC1", cpoKey, testLocationBody("LOC1", "BLOCKED", time.Now().Add(2*time.Second)), nil)
	eventually(t, "a push after the rotation", received(emsp, ocpi.StatusBlocked))
	var pulled struct{ Stored int }
	if code := emsp.api("POST", "/api/v1/ocpi/peers/"+issued.Peer.ID+"/pull/locations", emspKey, "", &pulled); code != 200 {
		t.Fatalf("the eMSP's pull: %d", code)
	}

	// The eMSP restarts: its peer and what it received are in its database.
	emsp.stop()
	emsp.start()
	if emsp.api("GET", "/api/v1/ocpi/peers/"+issued.Peer.ID, emspKey, "", &emspPeer); emspPeer.Status != ocpi.PeerRegistered {
		t.Fatalf("the eMSP's peer after a restart: %+v", emspPeer)
	}
	if problem := received(emsp, ocpi.StatusBlocked)(); problem != "" {
		t.Fatalf("after a restart: %s", problem)
	}
	cpo.api("PUT", "/api/v1/locations/LOC1", cpoKey, testLocationBody("LOC1", "AVAILABLE", time.Now().Add(4*time.Second)), nil)
	eventually(t, "a push to the restarted eMSP", received(emsp, ocpi.StatusAvailable))

	var newToken string
	for _, p := range cpoDB.peers(t) {
		if p.ID == cpoPeer.ID {
			newToken = p.OutgoingToken
		}
	}
	var gone struct {
		ocpi.Peer
		Warning string
	}
	if code := cpo.api("DELETE", "/api/v1/ocpi/peers/"+cpoPeer.ID, cpoKey, "", &gone); code != 200 || gone.Status != ocpi.PeerUnregistered || gone.Warning != "" {
		t.Fatalf("unregister: %d %+v", code, gone)
	}
	if emsp.api("GET", "/api/v1/ocpi/peers/"+issued.Peer.ID, emspKey, "", &emspPeer); emspPeer.Status != ocpi.PeerUnregistered {
		t.Fatalf("the eMSP's peer after unregistration: %+v", emspPeer)
	}
	for name, tok := range map[string]string{"token before the rotation": oldToken, "token after the rotation": newToken} {
		if code := callEMSP(tok); code != 401 {
			t.Errorf("%s after unregistration: HTTP %d, want 401", name, code)
		}
	}
}

func TestServeWithoutOCPIPartySaysOCPIIsOff(t *testing.T) {
	addr, stderr := startServe(t, "--data-dir", t.TempDir(), "--api-key", "k")
	if !strings.Contains(stderr.String(), "OCPI is off") || !strings.Contains(stderr.String(), "--ocpi-party") {
		t.Fatalf("start-up does not say OCPI is off and how to turn it on:\n%s", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/ocpi/versions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/ocpi/versions with OCPI off: %d, want 404", resp.StatusCode)
	}
}

func TestServeReadsOCPISettingsFromAConfigFileAndFlagsWin(t *testing.T) {
	for name, content := range map[string]string{
		"openev.yaml": "public_url: https://ocpi.example.com\nocpi:\n  parties: [NL-CPO, NL-CP2]\n  roles: [CPO, EMSP]\n  name: Example Charging\n",
		"openev.json": `{"public_url":"https://ocpi.example.com","ocpi":{"parties":["NL-CPO","NL-CP2"],"roles":["CPO","EMSP"],"name":"Example Charging"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), name)
			os.WriteFile(file, []byte(content), 0o600)
			addr, stderr := startServe(t, "--data-dir", t.TempDir(), "--api-key", "k", "--config", file, "--ocpi-roles", "CPO")
			out := stderr.String()
			if !strings.Contains(out, "https://ocpi.example.com/ocpi/versions") || !strings.Contains(out, "NL-CPO CPO, NL-CP2 CPO") || strings.Contains(out, "EMSP") {
				t.Fatalf("start-up does not show the file's settings with the flag's roles:\n%s", out)
			}
			resp, err := http.Get("http://" + addr + "/ocpi/versions")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("/ocpi/versions without a token: %d, want 401 (OCPI on)", resp.StatusCode)
			}
		})
	}
}

// A public URL with a path is served with the path and without it (for a
// proxy that strips it), and the versions list points under the path.
func TestServeMountsOCPIUnderThePublicURLsPath(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	stderr := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--api-key", "k",
			"--ocpi-party", "NL-CPO", "--public-url", "http://" + addr + "/ev/"}, &bytes.Buffer{}, stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}()
	var issued struct {
		Token       string
		VersionsURL string `json:"versions_url"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/ocpi/peers", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&issued)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never answered: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if issued.VersionsURL != "http://"+addr+"/ev/ocpi/versions" {
		t.Fatalf("versions URL %q, want it under /ev", issued.VersionsURL)
	}
	for _, u := range []string{issued.VersionsURL, "http://" + addr + "/ocpi/versions"} {
		versions, err := (&ocpi.Client{Token: issued.Token}).Versions(t.Context(), u)
		if err != nil || len(versions) != 1 || versions[0].URL != "http://"+addr+"/ev/ocpi/2.2.1" {
			t.Errorf("%s: %v %+v", u, err, versions)
		}
	}
}

// TestBadPublicURLIsRefusedBeforeAnAPIKeyIsGenerated checks that a wrong
// --public-url stops start-up naming the flag, before serve generates and
// prints an API key (which would be noise in front of the real error).
func TestBadPublicURLIsRefusedBeforeAnAPIKeyIsGenerated(t *testing.T) {
	t.Setenv("OPENEV_API_KEY", "")
	var errOut bytes.Buffer
	args := []string{"serve", "--addr", freeAddr(t), "--data-dir", t.TempDir(), "--ocpi-party", "NL-ABC", "--public-url", "https://x.example/ocpi"}
	if code := runContext(context.Background(), args, &bytes.Buffer{}, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, errOut.String())
	}
	if out := errOut.String(); !strings.Contains(out, "--public-url") || strings.Contains(out, "Config.PublicURL") || strings.Contains(strings.ToLower(out), "api key") {
		t.Fatalf("want an error naming --public-url and no API key banner, got:\n%s", out)
	}
}

func TestServeRejectsBadOCPISettingsWithExitStatus2(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "typo.yaml")
	os.WriteFile(badYAML, []byte("ocpi:\n  partys: [NL-CPO]\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ocpi-roles", "CPO"}, "needs --ocpi-party"},
		{[]string{"--public-url", "https://x.example"}, "needs --ocpi-party"},
		{[]string{"--ocpi-party", "NLX-1"}, "--ocpi-party"},
		{[]string{"--ocpi-party", "NL-CPO,NL-cpo"}, "twice"},
		{[]string{"--ocpi-party", "NL-CPO", "--ocpi-roles", "HUB"}, "CPO, EMSP or CPO,EMSP"},
		{[]string{"--ocpi-party", "NL-CPO", "--public-url", "ftp://x.example"}, "http(s)"},
		{[]string{"--ocpi-party", "NL-CPO", "--public-url", "https://x.example/ocpi"}, "ends in /ocpi"},
		{[]string{"--config", badYAML}, "partys"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, "--config"},
		{[]string{"--db", "postgres://127.0.0.1/x?schema="}, "schema"},
	} {
		var errOut bytes.Buffer
		args := append([]string{"serve", "--addr", freeAddr(t), "--data-dir", t.TempDir(), "--api-key", "k"}, c.args...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := runContext(ctx, args, &bytes.Buffer{}, &errOut)
		cancel()
		if code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d %q, want 2 saying %q", c.args, code, errOut.String(), c.want)
		}
	}
}
