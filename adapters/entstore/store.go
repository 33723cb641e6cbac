// Package entstore keeps users, keys, lines, agents, workflows and call sessions in SQLite or
// PostgreSQL through ent. It implements every storage port of the application; ent types stay
// inside this package.
package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/google/uuid"
	_ "github.com/lib/pq" // registers the "postgres" database/sql driver
	"modernc.org/sqlite"  // the pure Go SQLite driver

	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/ent"
)

// Dialects, as Dialect reports them and as the migrations directory names them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is safe for concurrent use. Make one with Open, run Migrate once at start-up, and Close
// it at shutdown.
type Store struct {
	db     *sql.DB
	name   string         // SQLite or Postgres
	drv    dialect.Driver // every statement goes through drv, ent's and our own
	client *ent.Client
	// secrets seals the lines' credentials; nil when Open was given no key, and then no
	// credential can be written or read (see credentials.go).
	secrets *secretbox.Box
	// opened keeps the line credentials already opened (accounts.go).
	opened *openedCredentials
	// jobs records the outbox's jobs in the store's transactions; nil records none (outbox.go).
	jobs Jobs
}

// Open connects to the database a URL names:
//
//   - file:PATH[?...] is SQLite at PATH (the pure Go modernc.org/sqlite driver), with foreign
//     keys on, WAL, a 10 s busy timeout and transactions that take the write lock at BEGIN;
//   - postgres://... or postgresql://... is PostgreSQL (github.com/lib/pq).
//
// Statements are prepared once per connection and reused (see cachingConnector), so a pooler in
// front of PostgreSQL must keep server-side prepared statements per client (PgBouncer's session
// mode, or 1.21+ with max_prepared_statements). Open does not create or change tables: call
// Migrate for that, or CheckSchema to refuse a database that is behind.
//
// Line credentials are sealed with the key WithSecretsKey gives; without one, everything but
// writing or reading a line's credentials works.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "file:"):
		s, err = openSQLite(dsn)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(dsn, o.timeout)
	default:
		// The URL may hold a password: it is not repeated here.
		return nil, errors.New("entstore: unsupported database URL: want file:PATH for SQLite or postgres://... for PostgreSQL")
	}
	if err != nil {
		return nil, err
	}
	s.secrets = o.secrets
	s.setDriver(newFaultDriver(s.drv, o.timeout)) // faults.go: bounded statements, ErrUnavailable
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("entstore: connect to %s: %w", s.name, err)
	}
	return s, nil
}

func openSQLite(dsn string) (*Store, error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("entstore: SQLite URL query: %w", err)
	}
	if path == "" {
		return nil, errors.New("entstore: SQLite URL names no file: want file:PATH")
	}
	if !strings.HasPrefix(path, ":memory:") && q.Get("mode") != "memory" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("entstore: SQLite directory: %w", err)
		}
	}
	// The store needs foreign keys (they turn a dangling id into ErrNotFound) and UTC text
	// times, which sort as they compare. The other settings keep any value the URL sets.
	q.Add("_pragma", "foreign_keys(1)")
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)"} {
		if !hasPragma(q["_pragma"], p) {
			q.Add("_pragma", p)
		}
	}
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	if q.Get("_txlock") == "" {
		// A transaction that reads and then writes must not fail with SQLITE_BUSY halfway; one that
		// takes the write lock at BEGIN waits for it under busy_timeout instead.
		q.Set("_txlock", "immediate")
	}
	db := sql.OpenDB(&cachingConnector{next: dsnConnector{drv: sqliteDriver, dsn: "file:" + path + "?" + q.Encode()}})
	// SQLite has one writer at a time whatever the pool; readers run beside it under WAL.
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return newStore(db, SQLite), nil
}

func hasPragma(pragmas []string, p string) bool {
	name, _, _ := strings.Cut(p, "(")
	for _, v := range pragmas {
		if n, _, _ := strings.Cut(v, "("); strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
		if n, _, _ := strings.Cut(v, "="); strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

func openPostgres(dsn string, timeout time.Duration) (*Store, error) {
	db, err := openPostgresDB(dsn, timeout) // pgdial.go
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	return newStore(db, Postgres), nil
}

// sqliteDriver opens SQLite connections, wrapped by cachingConnector.
var sqliteDriver = &sqlite.Driver{}

func newStore(db *sql.DB, name string) *Store {
	entDialect := dialect.Postgres
	if name == SQLite {
		entDialect = dialect.SQLite
	}
	s := &Store{db: db, name: name, opened: &openedCredentials{}}
	s.setDriver(entsql.OpenDB(entDialect, db))
	return s
}

// setDriver routes every statement of the store through drv.
func (s *Store) setDriver(drv dialect.Driver) {
	s.drv = drv
	s.client = ent.NewClient(ent.Driver(drv))
}

// Dialect names the database: SQLite or Postgres.
func (s *Store) Dialect() string { return s.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close releases the connections.
func (s *Store) Close() error { return s.db.Close() }

// Stats are the connection pool's statistics, for the metrics.
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// parseID reads an id the domain holds as a string. Ids are UUIDs; anything else names no row.
func parseID(id string) (uuid.UUID, bool) {
	u, err := uuid.Parse(id)
	return u, err == nil
}

// optionalID is a nullable id column's value: nil for "".
func optionalID(id string) (*uuid.UUID, error) {
	if id == "" {
		return nil, nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("id %q is not a UUID", id)
	}
	return &u, nil
}

func requireID(what, id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("%s id %q is not a UUID", what, id)
	}
	return u, nil
}

func idString(u *uuid.UUID) string {
	if u == nil {
		return ""
	}
	return u.String()
}

// optionalTime is a nullable time column's value: nil for the zero time.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// storeErr turns the database's answers into the application's errors: a missing row or a
// dangling reference is ErrNotFound, a taken unique value ErrAlreadyExists.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ent.IsNotFound(err):
		return fault.ErrNotFound
	case sqlgraph.IsUniqueConstraintError(err):
		return fault.ErrAlreadyExists
	case sqlgraph.IsForeignKeyConstraintError(err):
		return fault.ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, markUnavailable(err)) // faults.go: a database that is down is ErrUnavailable
}
