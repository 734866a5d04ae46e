package schema

import (
	"encoding/json"
	"testing"
)

func TestRepairDateTimesRewritesChargerTimestamps(t *testing.T) {
	dt := &Node{Type: String, Format: DateTime}
	node := &Node{Type: Object, Properties: []Property{
		{Name: "list", Node: &Node{Type: Array, Items: &Node{Type: Object, Properties: []Property{{Name: "at", Node: dt}}}}},
		{Name: "name", Node: &Node{Type: String}},
		{Name: "stamps", Node: &Node{Type: Array, Items: dt}},
		{Name: "when", Node: dt},
	}}
	cases := []struct{ in, want string }{
		{"2026-01-02T03:04:05", "2026-01-02T03:04:05Z"},
		{"2026-01-02 03:04:05", "2026-01-02T03:04:05Z"},
		{"2026-01-02t03:04:05z", "2026-01-02T03:04:05Z"},
		{"2026-01-02T03:04:05+0100", "2026-01-02T02:04:05Z"},
		{"2026-01-02T03:04:05.123", "2026-01-02T03:04:05.123Z"},
		{"2026-01-02T03:04", "2026-01-02T03:04:00Z"},
	}
	for _, c := range cases {
		v := map[string]any{
			"when":   c.in,
			"name":   "2026-01-02T03:04:05", // not a date-time field: untouched
			"list":   []any{map[string]any{"at": c.in}},
			"stamps": []any{c.in},
		}
		if n := node.RepairDateTimes(v); n != 3 {
			t.Fatalf("%s: repaired %d, want 3", c.in, n)
		}
		got, _ := json.Marshal(v)
		want := `{"list":[{"at":"` + c.want + `"}],"name":"2026-01-02T03:04:05","stamps":["` + c.want + `"],"when":"` + c.want + `"}`
		if string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, want)
		}
		if viol := node.Validate(v, 0); viol != nil {
			t.Errorf("%s: repaired value still invalid: %v", c.in, viol)
		}
	}
}

func TestRepairDateTimesLeavesValidAndHopelessValuesAlone(t *testing.T) {
	node := &Node{Type: Object, Properties: []Property{{Name: "when", Node: &Node{Type: String, Format: DateTime}}}}
	for _, s := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5+02:00", "yesterday", "", "2026-13-45T99:99:99"} {
		v := map[string]any{"when": s}
		if n := node.RepairDateTimes(v); n != 0 || v["when"] != s {
			t.Errorf("%q was changed to %v", s, v["when"])
		}
	}
}
