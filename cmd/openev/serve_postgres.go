package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/postgres"
)

// openPostgres opens the PostgreSQL store in schema ("" for the server's
// default search path) with the group-commit settings of batch; the returned description hides the password.
func openPostgres(ctx context.Context, dsn, schema string, batch batchParams) (csms.Store, string, error) {
	where := dsn
	if u, err := url.Parse(dsn); err == nil {
		where = u.Redacted()
	}
	if schema != "" {
		where += " schema " + schema
	}
	where += batch.String()
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxBatch: batch.max, NoBatching: batch.off})
	if err != nil {
		return nil, "", fmt.Errorf("opening PostgreSQL %s: %w", where, err)
	}
	return st, where, nil
}
