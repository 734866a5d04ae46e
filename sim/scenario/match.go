package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Match reports whether the JSON document actual contains expected: every
// member of an expected object must be present in actual with a matching
// value; every element of an expected array must match some element of the
// actual array (in any order); numbers compare by value and everything else
// by equality. A mismatch is described with its JSON path, e.g.
// `$.idTokenInfo.status: want "Accepted", got "Invalid"`.
func Match(expected, actual json.RawMessage) (ok bool, why string) {
	var e, a any
	if err := decode(expected, &e); err != nil {
		return false, "the expectation is not JSON: " + err.Error()
	}
	if err := decode(actual, &a); err != nil {
		return false, "the answer is not JSON: " + err.Error()
	}
	if msg := match("$", e, a); msg != "" {
		return false, msg
	}
	return true, ""
}

func decode(data json.RawMessage, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // compare numbers exactly, not through float64 rounding
	return d.Decode(v)
}

// match returns "" when a contains e, or why not.
func match(path string, e, a any) string {
	switch ev := e.(type) {
	case map[string]any:
		av, ok := a.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %s", path, show(a))
		}
		keys := make([]string, 0, len(ev))
		for k := range ev {
			keys = append(keys, k)
		}
		sort.Strings(keys) // report the first mismatch deterministically
		for _, k := range keys {
			sub, present := av[k]
			if !present {
				return fmt.Sprintf("%s: missing, want %s", path+"."+k, show(ev[k]))
			}
			if msg := match(path+"."+k, ev[k], sub); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		av, ok := a.([]any)
		if !ok {
			return fmt.Sprintf("%s: want an array, got %s", path, show(a))
		}
		for i, want := range ev {
			found := false
			for _, got := range av {
				if match("", want, got) == "" {
					found = true
					break
				}
			}
			if !found {
				return fmt.Sprintf("%s[%d]: no element of %s matches %s", path, i, show(a), show(want))
			}
		}
		return ""
	case json.Number:
		an, ok := a.(json.Number)
		if !ok {
			return fmt.Sprintf("%s: want %s, got %s", path, ev, show(a))
		}
		ef, err1 := strconv.ParseFloat(string(ev), 64)
		af, err2 := strconv.ParseFloat(string(an), 64)
		if err1 != nil || err2 != nil || ef != af {
			return fmt.Sprintf("%s: want %s, got %s", path, ev, an)
		}
		return ""
	default:
		if e != a {
			return fmt.Sprintf("%s: want %s, got %s", path, show(e), show(a))
		}
		return ""
	}
}

// show renders a value for a message, shortened if long.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}
