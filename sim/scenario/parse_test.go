package scenario

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFullYAML(t *testing.T) {
	src := `
name: full
description: every step kind
station:
  vendor: V
  model: M
  evses: 2
  connectors: 1
  meter_interval: 10s
  id_tokens: [T1, T2]
  ev: {max_power_w: 11000, capacity_wh: 60000, start_soc: 20}
  speed: 60
faults:
  response_delay: {Reset: 5s}
  no_response: [GetVariables]
  quirks: [lowercase-enums]
  skip_validation: true
steps:
  - connect
  - boot: {expect: {status: Accepted}}
  - heartbeat
  - wait: 5s
  - wait: {min: 1s, max: 10s}
  - wait: interval
  - plug: 2
  - authorize: {id_token: T1, expect: {status: Accepted}}
  - start: {evse: 2}
  - charge: {for: 30s, evse: 2}
  - stop: {evse: 2, reason: Local}
  - unplug: {evse: 2}
  - call:
      action: DataTransfer
      payload: {vendorId: acme, data: "x"}
      expect: {status: Accepted}
  - call: {action: Foo, expect_error: NotSupported}
  - raw: '[2,"1","Heartbeat",{}]'
  - drop: {offline_for: 10s}
  - repeat:
      times: 3
      steps:
        - heartbeat
        - idle: 1s
  - idle
`
	sc, err := Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "full" || sc.Station.EVSEs != 2 || sc.Station.MeterInterval != 10*time.Second || sc.Station.EV.StartSoC != 20 {
		t.Errorf("station = %+v", sc.Station)
	}
	if sc.Faults.ResponseDelay["Reset"] != 5*time.Second || sc.Faults.NoResponse[0] != "GetVariables" || !sc.Faults.SkipValidation {
		t.Errorf("faults = %+v", sc.Faults)
	}
	if len(sc.Steps) != 18 {
		t.Fatalf("%d steps", len(sc.Steps))
	}
	s := sc.Steps
	if s[0].Kind != KindConnect || s[3].Wait.Min != 5*time.Second || s[3].Wait.Max != 5*time.Second {
		t.Errorf("steps 1, 4: %+v %+v", s[0], s[3])
	}
	if s[4].Wait.Min != time.Second || s[4].Wait.Max != 10*time.Second || !s[5].Wait.Interval {
		t.Errorf("waits: %+v %+v", s[4].Wait, s[5].Wait)
	}
	if s[6].EVSE != 2 || s[7].IDToken != "T1" || string(s[7].Expect) != `{"status":"Accepted"}` {
		t.Errorf("plug/authorize: %+v %+v", s[6], s[7])
	}
	if s[12].Action != "DataTransfer" || string(s[12].Payload) != `{"data":"x","vendorId":"acme"}` {
		t.Errorf("call: %+v", s[12])
	}
	if string(s[13].Payload) != "{}" || s[13].ExpectError != "NotSupported" {
		t.Errorf("call 2: %+v", s[13])
	}
	if s[14].Frame != `[2,"1","Heartbeat",{}]` || s[15].OfflineFor != 10*time.Second {
		t.Errorf("raw/drop: %+v %+v", s[14], s[15])
	}
	if s[16].Times != 3 || len(s[16].Steps) != 2 || s[16].Steps[1].Num != "17.2" || s[16].Steps[1].For != time.Second {
		t.Errorf("repeat: %+v", s[16])
	}
	if s[17].Kind != KindIdle || s[17].For != 0 || s[17].Line == 0 {
		t.Errorf("idle: %+v", s[17])
	}
}

func TestParseJSON(t *testing.T) {
	src := "{\n\t\"name\": \"j\",\n\t\"steps\": [\"connect\", {\"boot\": {\"expect\": {\"status\": \"Accepted\"}}},\n\t\t{\"call\": {\"action\": \"DataTransfer\", \"payload\": {\"vendorId\": \"v\", \"n\": 5}}},\n\t\t{\"wait\": {\"min\": \"1s\", \"max\": 2}}]\n}"
	sc, err := Parse("j.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 4 || string(sc.Steps[1].Expect) != `{"status":"Accepted"}` || string(sc.Steps[2].Payload) != `{"n":5,"vendorId":"v"}` {
		t.Errorf("%+v", sc.Steps)
	}
	if sc.Steps[3].Wait.Max != 2*time.Second {
		t.Errorf("wait %+v", sc.Steps[3].Wait)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "empty"},
		{"steps: [connect", "invalid YAML"},
		{"{\"steps\": [}", "invalid JSON"},
		{"name: x", "has no `steps:`"},
		{"steps: []", "`steps:` is empty"},
		{"stepz: [connect]", `unknown field "stepz"`},
		{"steps:\n  - connect\n  - boot\n  - authorize: {tokn: T1}", `line 4: step 3 (authorize): unknown field "tokn" (known: id_token, expect, expect_error, timeout)`},
		{"steps: [jump]", `step 1: unknown step "jump"`},
		{"steps: [{wait: soon}]", `step 1 (wait): min must be a duration`},
		{"steps: [{wait: {min: 5s, max: 1s}}]", "max (1s) is less than min (5s)"},
		{"steps: [{wait: {}}]", "wait needs a duration"},
		{"steps: [{call: {payload: {}}}]", "a call needs `action:`"},
		{"steps: [{call: {action: A, payload: [1]}}]", "payload must be an object"},
		{"steps: [{call: {action: A, expect: {a: 1}, expect_error: X}}]", "exclude each other"},
		{"steps: [{charge: {evse: 1}}]", "charge needs `for:`"},
		{"steps: [{plug: 0}]", "evse must be 1 or more"},
		{"steps: [{plug: one}]", "evse must be a whole number"},
		{"steps: [{repeat: {times: 2}}]", "repeat needs `steps:`"},
		{"steps: [{repeat: {steps: [connect, {boot: {expect: 5}}]}}]", "step 1.2 (boot): expect must be an object"},
		{"steps:\n  - authorize:\n    id_token: T1", "is the indentation of the fields right?"},
		{"station: {evses: -1}\nsteps: [connect]", "station.evses must not be negative"},
		{"faults: {response_delay: [Reset]}\nsteps: [connect]", "faults.response_delay must map actions"},
		{"steps: [raw]", "a raw step needs the frame"},
	} {
		_, err := Parse("s.yaml", []byte(tc.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.src, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %v\n want %q", tc.src, err, tc.want)
		}
	}
}

func TestBuiltins(t *testing.T) {
	names := Builtins()
	if strings.Join(names, ",") != "boot,charge,heartbeat,idle" {
		t.Fatalf("builtins = %v", names)
	}
	for _, n := range names {
		sc, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if sc.Name != n || sc.Steps[0].Kind != KindConnect {
			t.Errorf("%s: %+v", n, sc)
		}
	}
	if _, err := Load("nope"); err == nil || !strings.Contains(err.Error(), "neither built in (boot, charge, heartbeat, idle) nor a readable file") {
		t.Errorf("Load(nope) = %v", err)
	}
}

func TestMatch(t *testing.T) {
	actual := `{"idTokenInfo":{"status":"Accepted","groupIdToken":{"idToken":"G","type":"Central"}},"n":5,"list":[{"a":1},{"a":2,"b":3}]}`
	for _, tc := range []struct {
		expect string
		ok     bool
		why    string
	}{
		{`{}`, true, ""},
		{`{"idTokenInfo":{"status":"Accepted"}}`, true, ""},
		{`{"n":5.0}`, true, ""},
		{`{"list":[{"b":3}]}`, true, ""},
		{`{"idTokenInfo":{"status":"Invalid"}}`, false, `$.idTokenInfo.status: want "Invalid", got "Accepted"`},
		{`{"missing":1}`, false, `$.missing: missing, want 1`},
		{`{"n":"5"}`, false, `$.n: want "5", got 5`},
		{`{"list":[{"a":9}]}`, false, `$.list[0]: no element`},
		{`{"idTokenInfo":[1]}`, false, `$.idTokenInfo: want an array`},
	} {
		ok, why := Match([]byte(tc.expect), []byte(actual))
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("Match(%s) = %v %q, want %v %q", tc.expect, ok, why, tc.ok, tc.why)
		}
	}
}

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("examples/*")
	if len(files) < 4 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		if _, err := ParseFile(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}
