package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openev/openev/store/internal/migrate"
)

// MigrateFirst creates schema, applies only its first n migrations and then
// runs statements: a database as an older openEV left it.
func MigrateFirst(ctx context.Context, dsn, schema string, n int, statements []string) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := migrate.Up(ctx, beginner(pool), ms[:n]); err != nil {
		return err
	}
	for _, q := range statements {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
