package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openev/openev/store/sqlite"
	"github.com/openev/openev/store/storetest"
)

// BenchmarkTxEvents compares group commit with one transaction per write;
// the events/s metric is durable, acknowledged events per second.
func BenchmarkTxEvents(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts sqlite.Options
	}{
		{"batching", sqlite.Options{}},
		{"no-batching", sqlite.Options{NoBatching: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchTxEvents(b, s)
		})
	}
}
