package entstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
)

var diffMu sync.Mutex

// SchemaDiff is what ent would still change in s's database to match ent/schema, drops
// included: the statements of the next migration.
func SchemaDiff(ctx context.Context, s *Store) (string, error) {
	// ent's migration engine sets up the package-level table list of ent/migrate on every run,
	// so two diffs must not run at once.
	diffMu.Lock()
	defer diffMu.Unlock()
	var b strings.Builder
	err := s.client.Schema.WriteTo(ctx, &b,
		schema.WithDropColumn(true), schema.WithDropIndex(true), schema.WithIndent("  "))
	return b.String(), err
}

// Counting returns a view of s, on the same connections, that counts the statements (and
// transaction boundaries) it sends: each is one database round trip.
func Counting(s *Store) (*Store, *atomic.Int64) {
	var n atomic.Int64
	c := *s
	c.setDriver(&countingDriver{Driver: s.drv, n: &n})
	return &c, &n
}

type countingDriver struct {
	dialect.Driver
	n *atomic.Int64
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	d.n.Add(1) // BEGIN
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, n: d.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, query, args, v)
}

func (t *countingTx) Commit() error {
	t.n.Add(1)
	return t.Tx.Commit()
}

// Exec runs a statement the ports cannot express, to set up or inspect a state.
func Exec(ctx context.Context, s *Store, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}

// QueryRow reads one row with a statement the ports cannot express.
func QueryRow(ctx context.Context, s *Store, query string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, query, args...)
}

// MigrateTo applies the migrations up to version, as Migrate would, to set up a database of an
// older release.
func MigrateTo(ctx context.Context, s *Store, version int) error {
	ms, err := Migrations(s.name)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, createMigrationsTable[s.name]); err != nil {
		return err
	}
	for _, m := range ms {
		if m.Version <= version {
			if err := s.apply(ctx, conn, m); err != nil {
				return err
			}
		}
	}
	return nil
}
