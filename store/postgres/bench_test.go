package postgres_test

import (
	"testing"

	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/storetest"
)

// BenchmarkTxEvents compares group commit with one transaction per write;
// the events/s metric is durable, acknowledged events per second.
func BenchmarkTxEvents(b *testing.B) {
	dsn := testdb.PostgresDSN(b)
	for _, bc := range []struct {
		name string
		opts postgres.Options
	}{
		{"batching", postgres.Options{}},
		{"no-batching", postgres.Options{NoBatching: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b, dsn, testdb.NewSchema(b, dsn), bc.opts)
			defer s.Close()
			storetest.BenchTxEvents(b, s)
		})
	}
}
