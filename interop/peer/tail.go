package peer

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last lines written to it: the child's stderr, quoted in
// errors so that a peer that dies says why.
type tail struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	max     int
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

// String returns the kept lines, including an unterminated last line.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		all = append(all, string(t.partial))
	}
	return strings.Join(all, "\n")
}
