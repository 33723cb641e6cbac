package entstore

// Versioned migrations: migrations/<dialect>/NNNN_name.sql, embedded in the binary and applied
// in order by Migrate. Each file runs in its own transaction and is recorded in
// schema_migrations, so Migrate is safe to run at every start-up and from two processes at once.
//
// After changing ent/schema, write the next migration of both dialects with:
//
//	go generate ./ent
//	go test ./adapters/entstore -run TestMigrationsMatchSchema -update -name add_something
//
// It applies the existing migrations to a fresh database of each dialect and writes what ent's
// schema diff still finds (drops included) to migrations/<dialect>/NNNN_add_something.sql.
// Read both files before committing them: a rename shows up as a drop and an add, and a new
// NOT NULL column needs a default for tables that hold rows. Without -update the same test fails
// while any schema change lacks its migration. (The test needs PostgreSQL: see entstoretest.)
//
// The diff does not compare CHECK expressions: a changed entsql.Checks annotation needs a
// migration written by hand.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one versioned schema change of one dialect.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists a dialect's migrations in the order they apply.
func Migrations(dialectName string) ([]Migration, error) {
	dir := path.Join("migrations", dialectName)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", dialectName, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s/%s: want NNNN_name.sql", dir, e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations of %s: two files have version %d", dialectName, out[i].Version)
		}
	}
	return out, nil
}

// migrationLock is the PostgreSQL advisory lock key that serialises Migrate across processes.
const migrationLock = 0x6b757065 // "kupe"

var createMigrationsTable = map[string]string{
	Postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version bigint PRIMARY KEY,
	name text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`,
	SQLite: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
}

// Migrate applies the migrations the database has not had yet, each in its own transaction.
// It never drops anything that no migration file says to drop.
func (s *Store) Migrate(ctx context.Context) (err error) {
	ms, err := Migrations(s.name)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	// Cleanup must run even when ctx is what ended the migration.
	cleanupCtx := context.WithoutCancel(ctx)
	switch s.name {
	case Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer func() {
			if _, uerr := conn.ExecContext(cleanupCtx, "SELECT pg_advisory_unlock($1)", migrationLock); uerr != nil {
				err = errors.Join(err, fmt.Errorf("migrate: unlock: %w", uerr))
			}
		}()
	case SQLite:
		// SQLite's way to change a table is to copy it under a new name, which foreign keys would
		// turn into cascading deletes; they are off while migrations run, and checked before each
		// commit instead (https://www.sqlite.org/lang_altertable.html). The pragma is a no-op
		// inside a transaction, so it is set on the connection first.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer func() {
			if _, ferr := conn.ExecContext(cleanupCtx, "PRAGMA foreign_keys = ON"); ferr != nil {
				// The connection must not go back to the pool without its foreign keys.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, fmt.Errorf("migrate: restore foreign keys: %w", ferr))
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, createMigrationsTable[s.name]); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if s.name == SQLite {
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		broken := rows.Next()
		rows.Close()
		if broken {
			return errors.New("it leaves rows whose foreign keys point nowhere (PRAGMA foreign_key_check)")
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit()
}

// ErrSchemaBehind means the database lacks migrations this binary holds: run Migrate.
var ErrSchemaBehind = errors.New("database schema is behind this binary")

var migrationsTableExists = map[string]string{
	Postgres: "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'",
	SQLite:   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
}

// CheckSchema changes nothing: it fails with ErrSchemaBehind unless every migration this binary
// holds has been applied. A database ahead of the binary (a newer release migrated it) passes.
func (s *Store) CheckSchema(ctx context.Context) error {
	ms, err := Migrations(s.name)
	if err != nil {
		return err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, migrationsTableExists[s.name]).Scan(&n); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: it was never migrated", ErrSchemaBehind)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("check schema: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	var pending []string
	for _, m := range ms {
		if !applied[m.Version] {
			pending = append(pending, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w: pending migrations %s", ErrSchemaBehind, strings.Join(pending, ", "))
	}
	return nil
}
