package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseError is a mistake in a scenario file, with where it is.
type ParseError struct {
	File string // file name, if known
	Line int    // 1-based line, 0 if unknown (JSON input)
	Step string // e.g. `step 3 (authorize)`, empty outside the steps
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Step != "" {
		b.WriteString(e.Step)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseFile reads and parses a scenario file (.yaml, .yml or .json).
func ParseFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	sc, err := Parse(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return sc, nil
}

// Parse parses a scenario in YAML or JSON; name is used in error messages.
func Parse(name string, data []byte) (*Scenario, error) {
	root, err := decodeTree(name, data)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name}
	sc, err := p.scenario(root)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// decodeTree returns the document's root mapping node. JSON is decoded by
// encoding/json (YAML parsers stumble on tab-indented JSON) and converted to
// a node tree, which loses the line numbers.
func decodeTree(name string, data []byte) (*yaml.Node, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &ParseError{File: name, Msg: "the scenario is empty; it needs at least `steps:`"}
	}
	var n yaml.Node
	if trimmed[0] == '{' {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if err := dec.Decode(&v); err != nil {
			return nil, &ParseError{File: name, Msg: "invalid JSON: " + err.Error()}
		}
		if err := n.Encode(v); err != nil {
			return nil, &ParseError{File: name, Msg: "invalid JSON: " + err.Error()}
		}
		return &n, nil
	}
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, &ParseError{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0], nil
	}
	return &n, nil
}

type parser struct {
	file string
	step string // the step being parsed, for errors
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	e := &ParseError{File: p.file, Step: p.step, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// fields returns a mapping's values by key, rejecting keys not in known.
func (p *parser) fields(n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s must be a mapping with the fields %s, not %s", what, strings.Join(known, ", "), describe(n))
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(known, k.Value) {
			return nil, p.errf(k, "unknown field %q (known: %s)", k.Value, strings.Join(known, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errf(k, "field %q appears twice", k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (p *parser) scenario(root *yaml.Node) (*Scenario, error) {
	f, err := p.fields(root, "the scenario", "name", "description", "station", "faults", "steps")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{}
	if sc.Name, err = p.str(f["name"], "name"); err != nil {
		return nil, err
	}
	if sc.Description, err = p.str(f["description"], "description"); err != nil {
		return nil, err
	}
	if n := f["station"]; n != nil {
		if sc.Station, err = p.station(n); err != nil {
			return nil, err
		}
	}
	if n := f["faults"]; n != nil {
		if sc.Faults, err = p.faults(n); err != nil {
			return nil, err
		}
	}
	n := f["steps"]
	if n == nil {
		return nil, p.errf(root, "the scenario has no `steps:`")
	}
	if sc.Steps, err = p.steps(n, ""); err != nil {
		return nil, err
	}
	if len(sc.Steps) == 0 {
		return nil, p.errf(n, "`steps:` is empty")
	}
	return sc, nil
}

func (p *parser) station(n *yaml.Node) (StationSpec, error) {
	var s StationSpec
	f, err := p.fields(n, "station", "vendor", "model", "serial_number", "firmware_version", "evses", "connectors",
		"max_power_w", "meter_interval", "measurands", "id_tokens", "ev", "speed")
	if err != nil {
		return s, err
	}
	for _, x := range []struct {
		key string
		dst *string
	}{{"vendor", &s.Vendor}, {"model", &s.Model}, {"serial_number", &s.SerialNumber}, {"firmware_version", &s.FirmwareVersion}} {
		if *x.dst, err = p.str(f[x.key], "station."+x.key); err != nil {
			return s, err
		}
	}
	if s.EVSEs, err = p.int(f["evses"], "station.evses", 0); err != nil {
		return s, err
	}
	if s.Connectors, err = p.int(f["connectors"], "station.connectors", 0); err != nil {
		return s, err
	}
	if s.MaxPowerW, err = p.float(f["max_power_w"], "station.max_power_w"); err != nil {
		return s, err
	}
	if s.MeterInterval, err = p.duration(f["meter_interval"], "station.meter_interval"); err != nil {
		return s, err
	}
	if s.Measurands, err = p.strs(f["measurands"], "station.measurands"); err != nil {
		return s, err
	}
	if s.IDTokens, err = p.strs(f["id_tokens"], "station.id_tokens"); err != nil {
		return s, err
	}
	if s.Speed, err = p.float(f["speed"], "station.speed"); err != nil {
		return s, err
	}
	if n := f["ev"]; n != nil {
		ev, err := p.fields(n, "station.ev", "max_power_w", "capacity_wh", "start_soc")
		if err != nil {
			return s, err
		}
		if s.EV.MaxPowerW, err = p.float(ev["max_power_w"], "station.ev.max_power_w"); err != nil {
			return s, err
		}
		if s.EV.CapacityWh, err = p.float(ev["capacity_wh"], "station.ev.capacity_wh"); err != nil {
			return s, err
		}
		if s.EV.StartSoC, err = p.float(ev["start_soc"], "station.ev.start_soc"); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (p *parser) faults(n *yaml.Node) (FaultSpec, error) {
	var fs FaultSpec
	f, err := p.fields(n, "faults", "response_delay", "no_response", "quirks", "skip_validation")
	if err != nil {
		return fs, err
	}
	if d := f["response_delay"]; d != nil {
		if d.Kind != yaml.MappingNode {
			return fs, p.errf(d, "faults.response_delay must map actions to delays, e.g. {Reset: 5s}, not %s", describe(d))
		}
		fs.ResponseDelay = map[string]time.Duration{}
		for i := 0; i+1 < len(d.Content); i += 2 {
			dur, err := p.duration(d.Content[i+1], "faults.response_delay."+d.Content[i].Value)
			if err != nil {
				return fs, err
			}
			fs.ResponseDelay[d.Content[i].Value] = dur
		}
	}
	if fs.NoResponse, err = p.strs(f["no_response"], "faults.no_response"); err != nil {
		return fs, err
	}
	if fs.Quirks, err = p.strs(f["quirks"], "faults.quirks"); err != nil {
		return fs, err
	}
	if x := f["skip_validation"]; x != nil {
		if err := x.Decode(&fs.SkipValidation); err != nil || x.Kind != yaml.ScalarNode {
			return fs, p.errf(x, "faults.skip_validation must be true or false, not %s", describe(x))
		}
	}
	return fs, nil
}

// kindFields lists each step kind's fields. The first field of a kind is the
// one a scalar shorthand sets: `wait: 5s`, `plug: 2`, `raw: '[2,...]'`.
var kindFields = map[Kind][]string{
	KindConnect:   {"timeout"},
	KindBoot:      {"reason", "expect", "expect_error", "timeout"},
	KindHeartbeat: {"expect_error", "timeout"},
	KindPlug:      {"evse"},
	KindUnplug:    {"evse"},
	KindAuthorize: {"id_token", "expect", "expect_error", "timeout"},
	KindStart:     {"evse", "id_token", "expect_error", "timeout"},
	KindCharge:    {"for", "evse"},
	KindStop:      {"evse", "reason", "expect_error", "timeout"},
	KindCall:      {"action", "payload", "expect", "expect_error", "timeout"},
	KindRaw:       {"frame", "expect_closed", "timeout"},
	KindDrop:      {"offline_for"},
	KindWait:      {"min", "max"},
	KindIdle:      {"for"},
	KindRepeat:    {"times", "for", "steps"},
}

func kindNames() string {
	names := make([]string, 0, len(kindFields))
	for k := range kindFields {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (p *parser) steps(n *yaml.Node, prefix string) ([]Step, error) {
	outer := p.step
	defer func() { p.step = outer }()
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "`steps:` must be a list of steps, not %s", describe(n))
	}
	out := make([]Step, 0, len(n.Content))
	for i, sn := range n.Content {
		num := strconv.Itoa(i + 1)
		if prefix != "" {
			num = prefix + "." + num
		}
		p.step = "step " + num
		st, err := p.stepNode(sn, num)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// stepNode parses one step: a bare kind (`- connect`) or a one-key mapping
// from the kind to its fields or to a scalar shorthand.
func (p *parser) stepNode(n *yaml.Node, num string) (Step, error) {
	st := Step{Num: num, Line: n.Line}
	var args *yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode:
		st.Kind = Kind(n.Value)
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		st.Kind = Kind(n.Content[0].Value)
		args = n.Content[1]
	case n.Kind == yaml.MappingNode:
		keys := make([]string, 0, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
		return st, p.errf(n, "a step is one kind with its fields, e.g. `- authorize: {id_token: T1}`, but this one has the keys %s (is the indentation of the fields right?)", strings.Join(keys, ", "))
	default:
		return st, p.errf(n, "a step must be a kind or a mapping, not %s", describe(n))
	}
	known, ok := kindFields[st.Kind]
	if !ok {
		return st, p.errf(n, "unknown step %q (known: %s)", st.Kind, kindNames())
	}
	p.step = st.String()
	if args == nil || (args.Kind == yaml.ScalarNode && args.Tag == "!!null") {
		return st, p.finish(&st, n, map[string]*yaml.Node{})
	}
	var f map[string]*yaml.Node
	if args.Kind == yaml.MappingNode {
		var err error
		if f, err = p.fields(args, "the step", known...); err != nil {
			return st, err
		}
	} else if args.Kind == yaml.ScalarNode && len(known) > 0 && st.Kind != KindRepeat && st.Kind != KindCall {
		f = map[string]*yaml.Node{known[0]: args}
	} else {
		return st, p.errf(args, "the fields must be a mapping (%s), not %s", strings.Join(known, ", "), describe(args))
	}
	return st, p.finish(&st, n, f)
}

// finish fills the step from its fields and checks that it is complete.
func (p *parser) finish(st *Step, n *yaml.Node, f map[string]*yaml.Node) error {
	var err error
	if st.EVSE, err = p.int(f["evse"], "evse", 1); err != nil {
		return err
	}
	if st.IDToken, err = p.str(f["id_token"], "id_token"); err != nil {
		return err
	}
	if st.Reason, err = p.str(f["reason"], "reason"); err != nil {
		return err
	}
	if st.For, err = p.duration(f["for"], "for"); err != nil {
		return err
	}
	if st.Timeout, err = p.duration(f["timeout"], "timeout"); err != nil {
		return err
	}
	if st.OfflineFor, err = p.duration(f["offline_for"], "offline_for"); err != nil {
		return err
	}
	if st.Times, err = p.int(f["times"], "times", 0); err != nil {
		return err
	}
	if st.Action, err = p.str(f["action"], "action"); err != nil {
		return err
	}
	if st.ExpectError, err = p.str(f["expect_error"], "expect_error"); err != nil {
		return err
	}
	if st.Frame, err = p.str(f["frame"], "frame"); err != nil {
		return err
	}
	if x := f["payload"]; x != nil {
		if x.Kind != yaml.MappingNode {
			return p.errf(x, "payload must be an object, not %s", describe(x))
		}
		if st.Payload, err = p.json(x, "payload"); err != nil {
			return err
		}
	}
	if x := f["expect"]; x != nil {
		if x.Kind != yaml.MappingNode {
			return p.errf(x, "expect must be an object the answer must contain, e.g. {status: Accepted}, not %s", describe(x))
		}
		if st.Expect, err = p.json(x, "expect"); err != nil {
			return err
		}
	}
	if st.Expect != nil && st.ExpectError != "" {
		return p.errf(n, "expect and expect_error exclude each other: a step gets either an answer or an error")
	}
	if x := f["expect_closed"]; x != nil {
		if err := x.Decode(&st.ExpectClosed); err != nil || x.Kind != yaml.ScalarNode {
			return p.errf(x, "expect_closed must be true or false, not %s", describe(x))
		}
	}
	switch st.Kind {
	case KindWait:
		return p.wait(st, n, f)
	case KindCall:
		if st.Action == "" {
			return p.errf(n, "a call needs `action:` (e.g. DataTransfer)")
		}
		if st.Payload == nil {
			st.Payload = json.RawMessage("{}")
		}
	case KindRaw:
		if st.Frame == "" {
			return p.errf(n, "a raw step needs the frame to send, e.g. `raw: '[2,\"1\",\"Heartbeat\",{}]'`")
		}
	case KindCharge:
		if st.For <= 0 {
			return p.errf(n, "charge needs `for:` (how long to charge), e.g. `charge: {for: 30s}`")
		}
	case KindDrop:
		if st.OfflineFor < 0 {
			return p.errf(n, "offline_for must not be negative")
		}
	case KindRepeat:
		x := f["steps"]
		if x == nil {
			return p.errf(n, "repeat needs `steps:` to repeat")
		}
		if st.Steps, err = p.steps(x, st.Num); err != nil {
			return err
		}
		if len(st.Steps) == 0 {
			return p.errf(x, "repeat's `steps:` is empty")
		}
	}
	if st.EVSE < 1 {
		return p.errf(f["evse"], "evse must be 1 or more (EVSEs are numbered from 1)")
	}
	return nil
}

// wait parses `wait: 5s`, `wait: interval` and `wait: {min: 1s, max: 10s}`.
func (p *parser) wait(st *Step, n *yaml.Node, f map[string]*yaml.Node) error {
	minN, maxN := f["min"], f["max"]
	if minN != nil && minN.Kind == yaml.ScalarNode && minN.Value == "interval" && maxN == nil {
		st.Wait.Interval = true
		return nil
	}
	var err error
	if minN == nil && maxN == nil {
		return p.errf(n, "wait needs a duration (`wait: 5s`), a range (`wait: {min: 1s, max: 10s}`) or `wait: interval`")
	}
	if st.Wait.Min, err = p.duration(minN, "min"); err != nil {
		return err
	}
	if st.Wait.Max, err = p.duration(maxN, "max"); err != nil {
		return err
	}
	if maxN == nil {
		st.Wait.Max = st.Wait.Min
	}
	if st.Wait.Max < st.Wait.Min {
		return p.errf(n, "max (%v) is less than min (%v)", st.Wait.Max, st.Wait.Min)
	}
	return nil
}

func (p *parser) str(n *yaml.Node, field string) (string, error) {
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s must be a string, not %s", field, describe(n))
	}
	return n.Value, nil
}

func (p *parser) strs(n *yaml.Node, field string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "%s must be a list of strings, not %s", field, describe(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s, err := p.str(c, field+" item")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) int(n *yaml.Node, field string, def int) (int, error) {
	if n == nil {
		return def, nil
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return 0, p.errf(n, "%s must be a whole number, not %s", field, describe(n))
	}
	if v < 0 {
		return 0, p.errf(n, "%s must not be negative", field)
	}
	return v, nil
}

func (p *parser) float(n *yaml.Node, field string) (float64, error) {
	if n == nil {
		return 0, nil
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		return 0, p.errf(n, "%s must be a number, not %s", field, describe(n))
	}
	if v < 0 {
		return 0, p.errf(n, "%s must not be negative", field)
	}
	return v, nil
}

// duration accepts Go durations ("1m30s", "500ms") and plain numbers of seconds.
func (p *parser) duration(n *yaml.Node, field string) (time.Duration, error) {
	if n == nil {
		return 0, nil
	}
	d, err := ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return 0, p.errf(n, "%s must be a duration such as 500ms, 30s or 1m30s, not %s", field, describe(n))
	}
	return d, nil
}

// ParseDuration parses a Go duration ("1m30s") or a number of seconds ("90", "0.5").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, errors.New("negative duration")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		return 0, errors.New("negative duration")
	}
	return d, err
}

// json converts a node to compact JSON.
func (p *parser) json(n *yaml.Node, field string) (json.RawMessage, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.errf(n, "%s: %v", field, err)
	}
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return nil, p.errf(n, "%s cannot be written as JSON: %v", field, err)
	}
	return b, nil
}

// normalize turns YAML's map[any]any (non-string keys) into JSON-able maps.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an empty value"
}
