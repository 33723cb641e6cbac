package jobqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrationLock is the PostgreSQL advisory lock that serialises Migrate across processes
// (River's migrator takes none). It differs from entstore's, so the two may run side by side.
const riverMigrationLock = 0x72697672 // "rivr"

// Migrate brings River's tables (river_job, river_leader, river_queue, river_migration and, on
// SQLite, river_notification) to the version this build of River needs, each step in its own
// transaction. It is safe to run at every start, from two goroutines at once and, on
// PostgreSQL, from two processes at once (two processes migrating one SQLite file at the same
// moment are not: one of them fails, and succeeds when run again).
// `kupe migrate` runs it after entstore's migrations; the embedded default at every start.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	m, err := migrator(db, dialect)
	if err != nil {
		return err
	}
	// River's migrator reads the applied versions before it applies any, so two at once both
	// try the first missing one. On PostgreSQL an advisory lock serialises them across
	// processes; SQLite has none that spans connections without blocking River's own, and
	// the embedded default is one process, so a lock in this process serialises them there.
	switch dialect {
	case SQLite:
		sqliteMigrateMu.Lock()
		defer sqliteMigrateMu.Unlock()
	case Postgres:
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobqueue: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLock); err != nil {
			return fmt.Errorf("jobqueue: migrate: lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLock)
		}()
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobqueue: migrate: %w", err)
	}
	return nil
}

var sqliteMigrateMu sync.Mutex

// ErrSchemaBehind is CheckSchema's answer for a database that lacks River migrations.
var ErrSchemaBehind = errors.New("jobqueue: River's tables are behind: run kupe migrate")

// CheckSchema reports ErrSchemaBehind when the database misses a River migration this build
// needs, so a server on PostgreSQL can refuse to start before one runs.
func CheckSchema(ctx context.Context, db *sql.DB, dialect string) error {
	m, err := migrator(db, dialect)
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobqueue: check schema: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w (%s)", ErrSchemaBehind, strings.Join(res.Messages, "; "))
	}
	return nil
}

func migrator(db *sql.DB, dialect string) (*rivermigrate.Migrator[*sql.Tx], error) {
	drv, err := driver(db, dialect)
	if err != nil {
		return nil, err
	}
	// The migrator logs each step at info; the caller reports the outcome.
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, fmt.Errorf("jobqueue: migrate: %w", err)
	}
	return m, nil
}
