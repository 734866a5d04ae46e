package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openev/openev/ocpi"
	"github.com/spf13/cobra"
)

// ocpiTokenEnv is read when --token is not given, so the token stays out of
// the shell history and the process list.
const ocpiTokenEnv = "OPENEV_OCPI_TOKEN"

// ocpiFlags are the flags every `openev ocpi` subcommand takes.
type ocpiFlags struct {
	token    string
	rawToken bool
	from, to string
	json     bool
	timeout  time.Duration
	verbose  bool
	version  string
}

// ocpiTargetFlags say where a get/list/put/patch/delete goes when no URL is
// given: the module endpoint found by discovery.
type ocpiTargetFlags struct {
	versionsURL string
	module      string
	role        string
}

func (t *ocpiTargetFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&t.versionsURL, "versions-url", "", "the peer's versions URL: find the module's endpoint there instead of giving a URL")
	fl.StringVar(&t.module, "module", "", "with --versions-url: the module, e.g. locations, tokens, sessions")
	fl.StringVar(&t.role, "role", "", "with --module: SENDER or RECEIVER, when the peer lists both (default: the only one listed)")
}

func newOCPICmd(stdout, stderr io.Writer) *cobra.Command {
	var f ocpiFlags
	cmd := &cobra.Command{
		Use:   "ocpi",
		Short: "OCPI 2.2.1 client: discover a peer's versions and endpoints, get, list, put, patch and delete objects",
		Long: `An OCPI 2.2.1 client for integrating with a peer (a CPO, an eMSP, a hub).

Every request carries the credentials token (--token, or the ` + ocpiTokenEnv + `
environment variable) base64-encoded as 2.2.1 requires (--raw-token sends it
as it is, for 2.1.1/2.2 peers), a fresh X-Request-ID and one X-Correlation-ID
for the whole command. Requests to functional modules (all but credentials,
hubclientinfo and versions) carry the OCPI-from/OCPI-to routing headers given
by --from and --to.

Output is for people (tables, one line per object, indented JSON) unless
--json, which prints the envelope's data as JSON. Exit status: 0 on success,
1 when the peer could not be reached or refused the request, 2 for a mistake
in the command line (the request was not sent). See docs/ocpi-client.md.`,
		Example: `  export OPENEV_OCPI_TOKEN=...
  openev ocpi versions https://peer.example.com/ocpi/versions
  openev ocpi endpoints https://peer.example.com/ocpi/versions
  openev ocpi list --versions-url https://peer.example.com/ocpi/versions --module locations --from NL-EMS --to ES-CPO
  openev ocpi get --versions-url https://peer.example.com/ocpi/versions --module locations LOC1
  openev ocpi patch https://peer.example.com/ocpi/2.2.1/tokens/NL/EMS/TOKEN1 --data '{"valid":false,"last_updated":"2026-01-01T10:00:00Z"}'`,
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.token, "token", "", "credentials token the peer gave you (default $"+ocpiTokenEnv+")")
	pf.BoolVar(&f.rawToken, "raw-token", false, "send the token unencoded, as 2.1.1 and 2.2 peers expect")
	pf.StringVar(&f.from, "from", "", "our party, sent as OCPI-from-country-code/-party-id to functional modules, e.g. NL-EMS")
	pf.StringVar(&f.to, "to", "", "the peer's party, sent as OCPI-to-country-code/-party-id to functional modules, e.g. ES-CPO")
	pf.BoolVar(&f.json, "json", false, "print the envelope's data as JSON (lists: one JSON array)")
	pf.DurationVar(&f.timeout, "timeout", ocpi.DefaultClientTimeout, "how long one request may take")
	pf.BoolVarP(&f.verbose, "verbose", "v", false, "print every request and answer line on stderr, with X-Request-ID and X-Correlation-ID (never the token)")
	pf.StringVar(&f.version, "version", string(ocpi.Version221), "the OCPI version whose endpoints discovery uses")

	cmd.AddCommand(
		newOCPIVersionsCmd(&f, stdout, stderr),
		newOCPIEndpointsCmd(&f, stdout, stderr),
		newOCPIGetCmd(&f, stdout, stderr),
		newOCPIListCmd(&f, stdout, stderr),
		newOCPIWriteCmd(&f, http.MethodPut, stdout, stderr),
		newOCPIWriteCmd(&f, http.MethodPatch, stdout, stderr),
		newOCPIDeleteCmd(&f, stdout, stderr),
	)
	return cmd
}

// ocpiSession is one command's client and output.
type ocpiSession struct {
	f              *ocpiFlags
	client         *ocpi.Client
	trace          *ocpiTraceTransport
	stdout, stderr io.Writer
}

// newOCPISession checks the common flags and builds the client. The context it
// returns carries one correlation id for every request of the command.
func newOCPISession(ctx context.Context, f *ocpiFlags, stdout, stderr io.Writer) (context.Context, *ocpiSession, error) {
	c := &ocpi.Client{Token: f.token, RawToken: f.rawToken, UserAgent: "openev-ocpi-cli"}
	if c.Token == "" {
		c.Token = os.Getenv(ocpiTokenEnv)
	}
	if c.Token != "" && !ocpi.ValidToken(c.Token) {
		return ctx, nil, usageErr("ocpi: the token must be 1 to 64 printable ASCII characters without spaces (check --token / $%s)", ocpiTokenEnv)
	}
	for _, p := range []struct {
		flag, value string
		into        *ocpi.PartyID
	}{{"--from", f.from, &c.From}, {"--to", f.to, &c.To}} {
		if p.value == "" {
			continue
		}
		party, err := ocpi.ParsePartyID(p.value)
		if err != nil {
			return ctx, nil, usageErr("ocpi: %s: %v", p.flag, err)
		}
		*p.into = party
	}
	if f.timeout <= 0 {
		return ctx, nil, usageErr("ocpi: --timeout %s must be positive, e.g. 30s", f.timeout)
	}
	tr := &ocpiTraceTransport{next: http.DefaultTransport, raw: c.RawToken, hasToken: c.Token != ""}
	if f.verbose {
		tr.out = stderr
	}
	c.HTTPClient = &http.Client{Timeout: f.timeout, Transport: tr}
	ctx = ocpi.WithCorrelationID(ctx, ocpi.NewRequestID())
	return ctx, &ocpiSession{f: f, client: c, trace: tr, stdout: stdout, stderr: stderr}, nil
}

// checkOCPIURL accepts absolute http(s) URLs only: anything else would fail
// later with a less clear error, or go somewhere unexpected.
func checkOCPIURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("ocpi: %s %q is not an http(s) URL: give the full URL, e.g. https://peer.example.com/ocpi/versions", what, raw)
	}
	return nil
}

func newOCPIVersionsCmd(f *ocpiFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "versions <versions-url>",
		Short: "List the OCPI versions a peer offers",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOCPIURL("versions URL", args[0]); err != nil {
				return err
			}
			ctx, s, err := newOCPISession(cmd.Context(), f, stdout, stderr)
			if err != nil {
				return err
			}
			vs, err := s.client.Versions(ctx, args[0])
			if err != nil {
				return s.failed("GET "+ocpiRedacted(args[0]), err)
			}
			if f.json {
				return s.printJSON(vs)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tURL")
			for _, v := range vs {
				fmt.Fprintf(tw, "%s\t%s\n", v.Version, v.URL)
			}
			return tw.Flush()
		},
	}
}

func newOCPIEndpointsCmd(f *ocpiFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "endpoints <versions-url | version-details-url> [--version 2.2.1]",
		Short: "List the endpoints (module, role, URL) of one of a peer's versions",
		Long: `List the endpoints of one version: given the versions URL, the version
chosen with --version (default 2.2.1) is looked up there; given a version
details URL, its endpoints are listed as they are.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOCPIURL("URL", args[0]); err != nil {
				return err
			}
			ctx, s, err := newOCPISession(cmd.Context(), f, stdout, stderr)
			if err != nil {
				return err
			}
			d, detailsURL, err := s.discover(ctx, args[0])
			if err != nil {
				return err
			}
			if f.json {
				return s.printJSON(d)
			}
			fmt.Fprintf(stdout, "version %s (%s)\n", d.Version, detailsURL)
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODULE\tROLE\tURL")
			for _, e := range d.Endpoints {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Identifier, e.Role, e.URL)
			}
			return tw.Flush()
		},
	}
}

// ocpiVersionEntry decodes either a versions list entry or a version details
// object, to tell which one a URL answered with.
type ocpiVersionEntry struct {
	Version   ocpi.VersionNumber `json:"version"`
	URL       string             `json:"url"`
	Endpoints []ocpi.Endpoint    `json:"endpoints"`
}

// discover fetches the version details at rawURL, or, when rawURL is a
// versions endpoint, those of --version. It returns the details' URL too.
func (s *ocpiSession) discover(ctx context.Context, rawURL string) (ocpi.VersionDetails, string, error) {
	what := "GET " + ocpiRedacted(rawURL)
	reply, err := s.client.Do(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return ocpi.VersionDetails{}, "", s.failed(what, err)
	}
	data := bytes.TrimSpace(reply.Data)
	notOCPI := func() error {
		return &exitError{code: exitFailed, err: fmt.Errorf("ocpi: %s: the answer is neither a versions list nor version details: %.200s", what, data)}
	}
	var one ocpiVersionEntry
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &one); err != nil || one.Endpoints == nil {
			return ocpi.VersionDetails{}, "", notOCPI()
		}
		return ocpi.VersionDetails{Version: one.Version, Endpoints: one.Endpoints}, rawURL, nil
	}
	var list []ocpiVersionEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return ocpi.VersionDetails{}, "", notOCPI()
	}
	if len(list) == 1 && list[0].Endpoints != nil {
		// Details wrapped in a list, as some peers send them.
		return ocpi.VersionDetails{Version: list[0].Version, Endpoints: list[0].Endpoints}, rawURL, nil
	}
	want := ocpi.VersionNumber(s.f.version)
	var offered []string
	for _, v := range list {
		if v.Version == want {
			if err := checkOCPIURL("version details URL listed by the peer", v.URL); err != nil {
				return ocpi.VersionDetails{}, "", &exitError{code: exitFailed, err: err}
			}
			d, err := s.client.VersionDetails(ctx, v.URL)
			if err != nil {
				return ocpi.VersionDetails{}, "", s.failed("GET "+ocpiRedacted(v.URL), err)
			}
			return d, v.URL, nil
		}
		offered = append(offered, string(v.Version))
	}
	if len(offered) == 0 {
		return ocpi.VersionDetails{}, "", &exitError{code: exitFailed, err: fmt.Errorf("ocpi: %s: the peer lists no versions", what)}
	}
	return ocpi.VersionDetails{}, "", &exitError{code: exitFailed, err: fmt.Errorf(
		"ocpi: %s: the peer does not offer version %s, only %s: pass --version with one of those", what, want, strings.Join(offered, ", "))}
}

// ocpiTarget is where a request goes and the module it is for (which decides
// whether routing headers are sent).
type ocpiTarget struct {
	url    string
	module ocpi.ModuleID
}

// resolve finds the target of get/list/put/patch/delete: the one URL in
// args, or the module endpoint found by discovery with args appended as
// path segments.
func (s *ocpiSession) resolve(ctx context.Context, t *ocpiTargetFlags, args []string) (ocpiTarget, error) {
	if t.versionsURL == "" {
		switch {
		case t.module != "" || t.role != "":
			return ocpiTarget{}, usageErr("ocpi: --module and --role need --versions-url (the peer's versions URL)")
		case len(args) != 1:
			return ocpiTarget{}, usageErr("ocpi: give one URL, or --versions-url and --module followed by path segments (got %d arguments)", len(args))
		}
		if err := checkOCPIURL("URL", args[0]); err != nil {
			return ocpiTarget{}, err
		}
		return ocpiTarget{url: args[0], module: ocpiModuleOfURL(args[0])}, nil
	}
	if err := checkOCPIURL("--versions-url", t.versionsURL); err != nil {
		return ocpiTarget{}, err
	}
	module := ocpi.ModuleID(strings.ToLower(strings.TrimSpace(t.module)))
	if module == "" {
		return ocpiTarget{}, usageErr("ocpi: --versions-url needs --module, e.g. --module locations")
	}
	role := ocpi.InterfaceRole(strings.ToUpper(strings.TrimSpace(t.role)))
	if role != "" && role != ocpi.Sender && role != ocpi.Receiver {
		return ocpiTarget{}, usageErr("ocpi: --role %q: want SENDER or RECEIVER", t.role)
	}
	for _, a := range args {
		if strings.Contains(a, "://") {
			return ocpiTarget{}, usageErr("ocpi: %q looks like a URL: with --versions-url the arguments are path segments after the module's URL (e.g. LOC1 for a locations Sender, NL ABC TOKEN1 for a tokens Receiver)", a)
		}
	}
	d, _, err := s.discover(ctx, t.versionsURL)
	if err != nil {
		return ocpiTarget{}, err
	}
	var found []ocpi.Endpoint
	var listed []string
	for _, e := range d.Endpoints {
		listed = append(listed, fmt.Sprintf("%s %s", e.Identifier, e.Role))
		if strings.EqualFold(string(e.Identifier), string(module)) && (role == "" || strings.EqualFold(string(e.Role), string(role))) {
			found = append(found, e)
		}
	}
	switch {
	case len(found) == 0 && role != "":
		return ocpiTarget{}, &exitError{code: exitFailed, err: fmt.Errorf("ocpi: the peer lists no %s %s endpoint in version %s; it lists: %s", module, role, d.Version, strings.Join(listed, ", "))}
	case len(found) == 0:
		return ocpiTarget{}, &exitError{code: exitFailed, err: fmt.Errorf("ocpi: the peer lists no %s endpoint in version %s; it lists: %s", module, d.Version, strings.Join(listed, ", "))}
	case len(found) > 1:
		return ocpiTarget{}, usageErr("ocpi: the peer lists %s as both SENDER and RECEIVER: pass --role SENDER or --role RECEIVER", module)
	}
	if err := checkOCPIURL("endpoint URL listed by the peer", found[0].URL); err != nil {
		return ocpiTarget{}, &exitError{code: exitFailed, err: err}
	}
	return ocpiTarget{url: ocpi.JoinURL(found[0].URL, args...), module: module}, nil
}

// ocpiKnownModules are the module ids of 2.2.1, found in URLs to decide about
// routing headers.
var ocpiKnownModules = map[ocpi.ModuleID]bool{
	ocpi.ModuleCDRs: true, ocpi.ModuleChargingProfiles: true, ocpi.ModuleCommands: true,
	ocpi.ModuleCredentials: true, ocpi.ModuleHubClientInfo: true, ocpi.ModuleLocations: true,
	ocpi.ModuleSessions: true, ocpi.ModuleTariffs: true, ocpi.ModuleTokens: true,
}

// ocpiModuleOfURL guesses the module of a URL given on the command line: the
// first path segment that is a module id. A versions or version details
// URL is no module (no routing headers); a URL with no module id in it is
// taken as a functional (custom) module, so --from/--to are sent.
func ocpiModuleOfURL(raw string) ocpi.ModuleID {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for _, s := range segs {
		if m := ocpi.ModuleID(strings.ToLower(s)); ocpiKnownModules[m] {
			return m
		}
	}
	if last := segs[len(segs)-1]; last == "versions" || isOCPIVersionNumber(last) {
		return ""
	}
	return "custom"
}

func isOCPIVersionNumber(s string) bool {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return false
	}
	return s[0] != '.' && s[len(s)-1] != '.'
}

func newOCPIGetCmd(f *ocpiFlags, stdout, stderr io.Writer) *cobra.Command {
	var t ocpiTargetFlags
	cmd := &cobra.Command{
		Use:   "get <url> | get --versions-url U --module M [--role R] [path segment...]",
		Short: "Fetch one object and print it",
		Example: `  # a CPO's locations Sender: {locations_url}/{location_id}[/{evse_uid}[/{connector_id}]]
  openev ocpi get https://cpo.example.com/ocpi/2.2.1/locations/LOC1
  openev ocpi get --versions-url https://cpo.example.com/ocpi/versions --module locations LOC1 E1 1
  # an eMSP's locations Receiver: {locations_url}/{country_code}/{party_id}/{location_id}[/...]
  openev ocpi get --versions-url https://emsp.example.com/ocpi/versions --module locations --role RECEIVER ES CPO LOC1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, s, err := newOCPISession(cmd.Context(), f, stdout, stderr)
			if err != nil {
				return err
			}
			tg, err := s.resolve(ctx, &t, args)
			if err != nil {
				return err
			}
			what := "GET " + ocpiRedacted(tg.url)
			reply, err := s.client.Do(ctx, http.MethodGet, tg.url, nil, ocpi.ForModule(tg.module))
			if err != nil {
				return s.failed(what, err)
			}
			if reply.Data == nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("ocpi: %s: the answer has no data (status_code %d %q)", what, reply.StatusCode, reply.StatusMessage)}
			}
			return s.printData(reply.Data)
		},
	}
	t.add(cmd)
	return cmd
}

func newOCPIDeleteCmd(f *ocpiFlags, stdout, stderr io.Writer) *cobra.Command {
	var t ocpiTargetFlags
	cmd := &cobra.Command{
		Use:   "delete <url> | delete --versions-url U --module M [--role R] [path segment...]",
		Short: "Send a DELETE (e.g. a charging profile, or credentials to unregister)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, s, err := newOCPISession(cmd.Context(), f, stdout, stderr)
			if err != nil {
				return err
			}
			tg, err := s.resolve(ctx, &t, args)
			if err != nil {
				return err
			}
			return s.send(ctx, http.MethodDelete, tg, nil)
		},
	}
	t.add(cmd)
	return cmd
}

func newOCPIWriteCmd(f *ocpiFlags, method string, stdout, stderr io.Writer) *cobra.Command {
	var t ocpiTargetFlags
	var data string
	var force bool
	name := strings.ToLower(method)
	cmd := &cobra.Command{
		Use:   name + " <url> | " + name + " --versions-url U --module M [--role R] [path segment...]  [--data @file.json | --data '{...}' | < body.json]",
		Short: "Send a " + method + " with a JSON object body",
		Long: "Send a " + method + ` with a JSON object as body: --data '{...}', --data @file.json,
or on stdin (--data @- or no --data). The body is checked before anything is
sent: it must be a JSON object.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, s, err := newOCPISession(cmd.Context(), f, stdout, stderr)
			if err != nil {
				return err
			}
			body, err := readOCPIBody(cmd.InOrStdin(), data)
			if err != nil {
				return err
			}
			if method == http.MethodPatch && !force {
				if err := checkOCPIPatchBody(body); err != nil {
					return err
				}
			}
			tg, err := s.resolve(ctx, &t, args)
			if err != nil {
				return err
			}
			return s.send(ctx, method, tg, body)
		},
	}
	t.add(cmd)
	cmd.Flags().StringVarP(&data, "data", "d", "", "the body: JSON, @file.json, or @- for stdin (default: stdin)")
	if method == http.MethodPatch {
		cmd.Long += `

A PATCH must carry last_updated (OCPI 2.2.1: receivers answer 2001 without
it); a body without one is refused here unless --force.`
		cmd.Flags().BoolVar(&force, "force", false, "send a PATCH body even without a valid last_updated")
	}
	return cmd
}

// readOCPIBody reads the body of a PUT or PATCH and checks it is a JSON
// object, so a typo is reported before anything is sent.
func readOCPIBody(stdin io.Reader, data string) ([]byte, error) {
	var body []byte
	source := "--data"
	switch {
	case data == "" || data == "@-":
		source = "the body on stdin"
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return nil, usageErr("ocpi: no body: give it with --data '{...}', --data @file.json or on stdin")
			}
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usageErr("ocpi: reading the body from stdin: %v", err)
		}
		body = b
	case strings.HasPrefix(data, "@"):
		source = "--data " + data
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, usageErr("ocpi: --data %s: %v", data, err)
		}
		body = b
	default:
		body = []byte(data)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, usageErr("ocpi: %s is empty: give a JSON object; nothing was sent", source)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, usageErr("ocpi: %s is not valid JSON (at byte %d: %v); nothing was sent", source, se.Offset, err)
		}
		return nil, usageErr("ocpi: %s is not valid JSON (%v); nothing was sent", source, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, usageErr("ocpi: %s must be a JSON object ({...}), got %s; nothing was sent", source, ocpiJSONKind(v))
	}
	return body, nil
}

func ocpiJSONKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// checkOCPIPatchBody refuses a PATCH without a valid last_updated: the
// receiver must answer it 2001, and a receiver that accepts it anyway
// keeps the old last_updated, so the change never shows in date_from
// syncs.
func checkOCPIPatchBody(body []byte) error {
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(body, &obj) // readBody checked it is an object
	raw, ok := obj["last_updated"]
	if !ok || string(raw) == "null" {
		return usageErr("ocpi: the PATCH body has no last_updated: OCPI 2.2.1 requires it on every PATCH (the receiver answers 2001, or keeps a stale timestamp and the change is lost to date_from syncs); add \"last_updated\": %q, or pass --force to send it anyway; nothing was sent",
			ocpi.NewDateTime(time.Now().Truncate(time.Second)).String())
	}
	var dt ocpi.DateTime
	if err := json.Unmarshal(raw, &dt); err != nil {
		return usageErr("ocpi: the PATCH body's last_updated %s: %v; fix it, or pass --force to send it anyway; nothing was sent", raw, err)
	}
	return nil
}

// send sends a PUT, PATCH or DELETE and prints the outcome.
func (s *ocpiSession) send(ctx context.Context, method string, tg ocpiTarget, body []byte) error {
	what := method + " " + ocpiRedacted(tg.url)
	var b any
	if body != nil {
		b = json.RawMessage(body)
	}
	reply, err := s.client.Do(ctx, method, tg.url, b, ocpi.ForModule(tg.module))
	if err != nil {
		return s.failed(what, err)
	}
	if s.f.json {
		if reply.Data == nil {
			_, err := fmt.Fprintln(s.stdout, "null")
			return err
		}
		return s.printData(reply.Data)
	}
	line := fmt.Sprintf("%s: OK (HTTP %d, status_code %d", what, reply.HTTPStatus, reply.StatusCode)
	if reply.StatusMessage != "" {
		line += fmt.Sprintf(", %q", reply.StatusMessage)
	}
	fmt.Fprintln(s.stdout, line+")")
	if reply.Data != nil {
		return s.printData(reply.Data)
	}
	return nil
}

// printData prints an answer's data: compact with --json, indented
// otherwise.
func (s *ocpiSession) printData(data json.RawMessage) error {
	var buf bytes.Buffer
	var err error
	if s.f.json {
		err = json.Compact(&buf, data)
	} else {
		err = json.Indent(&buf, data, "", "  ")
	}
	if err != nil {
		buf.Reset()
		buf.Write(data)
	}
	buf.WriteByte('\n')
	_, err = s.stdout.Write(buf.Bytes())
	return err
}

func (s *ocpiSession) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.stdout, "%s\n", b)
	return err
}

func ocpiRedacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// ocpiStatusMeanings name the OCPI status codes in error messages.
var ocpiStatusMeanings = map[int]string{
	ocpi.StatusClientError:          "generic client error",
	ocpi.StatusInvalidParameters:    "invalid or missing parameters",
	ocpi.StatusNotEnoughInformation: "not enough information",
	ocpi.StatusUnknownLocation:      "unknown location",
	ocpi.StatusUnknownToken:         "unknown token",
	ocpi.StatusServerError:          "generic server error",
	ocpi.StatusUnableToUseClientAPI: "unable to use the client's API",
	ocpi.StatusUnsupportedVersion:   "unsupported version",
	ocpi.StatusNoMatchingEndpoints:  "no matching endpoints",
	ocpi.StatusHubError:             "generic hub error",
	ocpi.StatusHubUnknownReceiver:   "unknown receiver: check --to",
	ocpi.StatusHubTimeout:           "timeout on the forwarded request",
	ocpi.StatusHubConnectionProblem: "the receiver is not connected to the hub",
}

// failed turns a Client error into an exit-1 error that says what failed
// and what to do about it.
func (s *ocpiSession) failed(what string, err error) error {
	var oe *ocpi.Error
	var he *ocpi.HTTPError
	var ue *url.Error
	isOE, isHE := errors.As(err, &oe), errors.As(err, &he)
	var msg string
	switch {
	case isOE && oe.HTTPStatus == http.StatusUnauthorized, isHE && he.HTTPStatus == http.StatusUnauthorized:
		detail := "HTTP 401"
		if isOE && oe.Message != "" {
			detail += ": " + oe.Message
		}
		msg = fmt.Sprintf("%s: the peer refused the token (%s): check --token / --raw-token", what, detail)
		if s.client.Token == "" {
			msg += fmt.Sprintf("; no token was given: pass --token or set $%s", ocpiTokenEnv)
		}
	case isOE:
		meaning := ocpiStatusMeanings[oe.Code]
		if meaning != "" {
			meaning += ", "
		}
		msg = fmt.Sprintf("%s: the peer answered status_code %d (%sHTTP %d): %s", what, oe.Code, meaning, oe.HTTPStatus, oe.Message)
		if oe.Message == "" {
			msg = strings.TrimSuffix(msg, ": ") + " without a status_message"
		}
	case isHE:
		msg = fmt.Sprintf("%s: %v", what, strings.TrimPrefix(he.Error(), "ocpi: "+he.Method+" "+he.URL+": "))
		switch {
		case he.HTTPStatus == http.StatusNotFound:
			msg += ": check the URL (`openev ocpi endpoints` lists the module URLs)"
		case he.HTTPStatus == http.StatusMethodNotAllowed:
			msg += ": the endpoint does not take this method"
		case he.HTTPStatus >= 500:
			msg += ": the peer (or a proxy in front of it) failed; try again later or ask its operator"
		}
	case errors.As(err, &ue) && ue.Timeout():
		msg = fmt.Sprintf("%s: no answer within --timeout %s (%v): raise --timeout or check the peer", what, s.f.timeout, ue.Err)
	case errors.As(err, &ue):
		msg = fmt.Sprintf("%s: could not reach %s: %v: check the URL and that the peer is up", what, ocpiRedacted(ue.URL), ue.Err)
	case errors.Is(err, context.Canceled):
		msg = fmt.Sprintf("%s: interrupted", what)
	default:
		msg = fmt.Sprintf("%s: %v", what, strings.TrimPrefix(err.Error(), "ocpi: "))
	}
	return &exitError{code: exitFailed, err: errors.New("ocpi: " + msg)}
}

// ocpiTraceTransport prints a line per request and answer with -v, and
// remembers the last X-Total-Count for list progress. The Authorization
// header is only described, never printed.
type ocpiTraceTransport struct {
	next     http.RoundTripper
	out      io.Writer // nil: silent
	raw      bool
	hasToken bool

	pages int // answers since the last reset
	total int // last X-Total-Count, -1 when absent
}

// RoundTrip sends req and traces it.
func (t *ocpiTraceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	if t.out != nil {
		auth := "Authorization: none"
		if t.hasToken {
			auth = "Authorization: Token (hidden, base64)"
			if t.raw {
				auth = "Authorization: Token (hidden, raw)"
			}
		}
		fmt.Fprintf(t.out, "> %s %s (%s)\n", req.Method, req.URL.Redacted(),
			ocpiHeaderList(req.Header, auth, ocpi.HeaderRequestID, ocpi.HeaderCorrelationID,
				ocpi.HeaderFromCountryCode, ocpi.HeaderFromPartyID, ocpi.HeaderToCountryCode, ocpi.HeaderToPartyID))
	}
	resp, err := t.next.RoundTrip(req)
	elapsed := fmt.Sprintf("%.1fms", float64(time.Since(start))/float64(time.Millisecond))
	if err != nil {
		if t.out != nil {
			fmt.Fprintf(t.out, "< %s %s: no answer after %s: %v\n", req.Method, req.URL.Redacted(), elapsed, err)
		}
		return nil, err
	}
	t.pages++
	t.total = -1
	if n, ok := ocpiIntHeader(resp.Header, ocpi.HeaderTotalCount); ok {
		t.total = n
	}
	if t.out != nil {
		fmt.Fprintf(t.out, "< HTTP %d in %s (%s)\n", resp.StatusCode, elapsed,
			ocpiHeaderList(resp.Header, "", ocpi.HeaderRequestID, ocpi.HeaderCorrelationID, ocpi.HeaderTotalCount, ocpi.HeaderLimit, "Link"))
	}
	return resp, nil
}

func ocpiHeaderList(h http.Header, first string, names ...string) string {
	var parts []string
	if first != "" {
		parts = append(parts, first)
	}
	for _, n := range names {
		if v := h.Get(n); v != "" {
			parts = append(parts, n+": "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func ocpiIntHeader(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil && n >= 0
}
