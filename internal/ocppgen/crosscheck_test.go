package ocppgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/openev/openev/ocpp/schema"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
	"github.com/openev/openev/ocpp/v21"
)

// generated holds the Actions of the committed generated packages.
var generated = map[string]map[string]schema.Action{
	"1.6":   v16.Actions,
	"2.0.1": v201.Actions,
	"2.1":   v21.Actions,
}

// moduleRoot is the repository root, seen from this package's directory.
const moduleRoot = "../.."

// readSchema returns the schema file of v, or skips the test when the npm
// packages are not installed.
func readSchema(t *testing.T, v Version) []byte {
	t.Helper()
	path := filepath.Join(moduleRoot, SchemaDir, v.SchemaFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s not found: run scripts/setup-node.sh to install the OCA schemas (npm ocpp-rpc)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// reference compiles every schema of the file with an independent JSON
// Schema implementation, by $id.
func reference(t *testing.T, data []byte) map[string]*jsonschema.Schema {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, raw := range list {
		var head struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		if err := c.AddResource(head.ID, doc); err != nil {
			t.Fatal(err)
		}
		if out[head.ID], err = c.Compile(head.ID); err != nil {
			t.Fatalf("reference compile %s: %v", head.ID, err)
		}
	}
	return out
}

// payloadNode returns the generated schema of a message.
func payloadNode(t *testing.T, actions map[string]schema.Action, msg *message) (*schema.Node, func() any) {
	t.Helper()
	a, ok := actions[msg.Action]
	if !ok {
		t.Fatalf("%s: action %s is missing from Actions", msg.ID, msg.Action)
	}
	if a.Name != msg.Action {
		t.Fatalf("Actions[%q].Name = %q", msg.Action, a.Name)
	}
	if msg.Request {
		return a.Request, a.NewRequest
	}
	return a.Response, a.NewResponse
}

// roundTrip encodes doc to JSON and decodes it as OCPP payloads are
// decoded.
func roundTrip(t *testing.T, doc any) ([]byte, any) {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return raw, decodeNumbers(t, raw)
}

func decodeNumbers(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// TestCrossCheck compares the verdicts of the generated validation rules
// with those of github.com/santhosh-tekuri/jsonschema on the official
// schemas, for minimal and full valid payloads of every message and many
// variations of them. Both must agree with each other and with the
// expected verdict.
func TestCrossCheck(t *testing.T) {
	for _, v := range Versions {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			data := readSchema(t, v)
			f, err := parseFile(data)
			if err != nil {
				t.Fatal(err)
			}
			ref := reference(t, data)
			actions := generated[v.Name]
			if got, want := len(actions), countActions(f); got != want {
				t.Errorf("Actions has %d entries, the schema file %d actions", got, want)
			}
			total, invalid := 0, 0
			for _, msg := range f.Messages {
				node, _ := payloadNode(t, actions, msg)
				if err := node.Check(); err != nil {
					t.Errorf("%s: %v", msg.ID, err)
				}
				for _, full := range []bool{false, true} {
					// The cases are built from the types encoding/json
					// decodes to, so they need no encoding round trip.
					for _, c := range mutations(msg.Root, instance(msg.Root, full)) {
						viol := node.Validate(c.doc, 0)
						refErr := ref[msg.ID].Validate(c.doc)
						total++
						if !c.valid {
							invalid++
						}
						raw, _ := json.Marshal(c.doc)
						// The fast path never accepts an invalid payload, and
						// decides every valid one it can read in place (it
						// leaves escapes, and date-times Lenient mode would
						// rewrite, to the slow path).
						if accepted := node.Accepts(raw, 0); accepted && !c.valid ||
							!accepted && c.valid && !bytes.ContainsRune(raw, '\\') && !nonCanonicalDateTime.Match(raw) {
							t.Errorf("%s %s (full=%v): valid=%v but Accepts=%v\n%s", msg.ID, c.name, full, c.valid, accepted, truncateBytes(raw))
						}
						if (viol == nil) != c.valid || (refErr == nil) != c.valid {
							t.Errorf("%s %s (full=%v): expected valid=%v; generated: %v; reference: %v\n%s",
								msg.ID, c.name, full, c.valid, viol, refErr, truncateBytes(raw))
						}
					}
				}
				for _, c := range []any{[]any{}, "payload", nil, json.Number("1")} {
					_, doc := roundTrip(t, c)
					if node.Validate(doc, 0) == nil || ref[msg.ID].Validate(doc) == nil {
						t.Errorf("%s: non-object payload %v accepted", msg.ID, c)
					}
				}
			}
			t.Logf("%d messages, %d cases (%d invalid)", len(f.Messages), total, invalid)
		})
	}
}

// nonCanonicalDateTime matches a date-time the schema allows but Go's time
// package does not parse: a lower-case t or z, or a leap second.
var nonCanonicalDateTime = regexp.MustCompile(`"\d{4}-\d\d-\d\d(t[^"]*|T[^"]*(:60[^"]*|z))"`)

func countActions(f *schemaFile) int {
	names := map[string]bool{}
	for _, m := range f.Messages {
		names[m.Action] = true
	}
	return len(names)
}

func truncateBytes(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// TestRoundTrip decodes minimal and full payloads of every message into the
// generated structs and encodes them again: nothing may be lost or added,
// and the result must still validate.
func TestRoundTrip(t *testing.T) {
	for _, v := range Versions {
		t.Run(v.Name, func(t *testing.T) {
			data := readSchema(t, v)
			f, err := parseFile(data)
			if err != nil {
				t.Fatal(err)
			}
			actions := generated[v.Name]
			for _, msg := range f.Messages {
				node, newPayload := payloadNode(t, actions, msg)
				for _, full := range []bool{false, true} {
					raw, want := roundTrip(t, instance(msg.Root, full))
					payload := newPayload()
					if err := json.Unmarshal(raw, payload); err != nil {
						t.Errorf("%s: unmarshal %s: %v", msg.ID, raw, err)
						continue
					}
					if a, ok := payload.(interface{ Action() string }); !ok || a.Action() != msg.Action {
						t.Errorf("%s: %T has no Action method returning %q", msg.ID, payload, msg.Action)
					}
					out, err := json.Marshal(payload)
					if err != nil {
						t.Errorf("%s: marshal: %v", msg.ID, err)
						continue
					}
					got := decodeNumbers(t, out)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s (full=%v): round trip changed the payload\n in: %s\nout: %s", msg.ID, full, truncateBytes(raw), truncateBytes(out))
					}
					if viol := node.Validate(got, 0); viol != nil {
						t.Errorf("%s: re-encoded payload is invalid: %v", msg.ID, viol)
					}
				}
			}
		})
	}
}
