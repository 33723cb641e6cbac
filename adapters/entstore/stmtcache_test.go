package entstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/internal/testkit/pgtest"
)

// eachDialect runs f on a store of each database, and the placeholder of its first argument.
func eachDialect(t *testing.T, f func(t *testing.T, s *Store, arg string)) {
	for _, tc := range []struct{ name, dsn, arg string }{
		{"sqlite", "", "?"},
		{"postgres", "", "$1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := "file:" + filepath.Join(t.TempDir(), "kupe.db")
			if tc.name == "postgres" {
				dsn = pgtest.URL(t)
			}
			s, err := Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s, tc.arg)
		})
	}
}

// cached is the number of statements the connection keeps prepared.
func cached(t *testing.T, c *sql.Conn) (n int) {
	t.Helper()
	if err := c.Raw(func(dc any) error { n = len(dc.(*cachingConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A connection prepares each statement with arguments once, in or out of a transaction, and
// keeps at most maxPrepared; the ones past the bound, and the ones without arguments, still run.
func TestConnectionsKeepTheirStatementsPrepared(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store, arg string) {
		ctx := context.Background()
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		one := func(q string, v int) int {
			t.Helper()
			var got int
			if err := c.QueryRowContext(ctx, q, v).Scan(&got); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return got
		}
		q := "SELECT " + arg + " + 1"
		for i := range 3 {
			if got := one(q, i); got != i+1 {
				t.Fatalf("%s with %d = %d", q, i, got)
			}
		}
		if n := cached(t, c); n != 1 {
			t.Fatalf("%d statements after one text run three times, want 1", n)
		}
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := tx.QueryRowContext(ctx, q, 41).Scan(&got); err != nil || got != 42 {
			t.Fatalf("in a transaction: %d, %v", got, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := cached(t, c); n != 1 {
			t.Fatalf("%d statements after the same text in a transaction, want 1", n)
		}
		if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if n := cached(t, c); n != 1 {
			t.Fatalf("%d statements after a text without arguments, want it unprepared", n)
		}

		for i := range maxPrepared + 10 {
			if got := one(fmt.Sprintf("SELECT %s + %d", arg, i), i); got != 2*i {
				t.Fatalf("SELECT %d + %d = %d", i, i, got)
			}
		}
		if n := cached(t, c); n != maxPrepared {
			t.Fatalf("%d statements kept, want %d", n, maxPrepared)
		}
		// A statement that cannot be prepared reports its own error.
		if _, err := c.ExecContext(ctx, "SELECT * FROM no_such_table WHERE id = "+arg, 1); err == nil ||
			!strings.Contains(err.Error(), "no_such_table") {
			t.Fatalf("a query of a missing table: %v", err)
		}
	})
}

// After a migration changes a table under a prepared statement, PostgreSQL refuses the statement
// ("cached plan must not change result type"): the connection is dropped, and the statement runs
// again on another, so that the caller sees only its answer.
func TestAStatementMadeStaleByAMigrationRunsAgain(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.SetMaxOpenConns(1)
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE t (id int PRIMARY KEY, a text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO t VALUES (1, 'x')"); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT * FROM t WHERE id = $1"
	if rows, err := s.db.QueryContext(ctx, q, 1); err != nil {
		t.Fatal(err)
	} else {
		rows.Close()
	}
	if _, err := s.db.ExecContext(ctx, "ALTER TABLE t ADD COLUMN b text NOT NULL DEFAULT 'y'"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatalf("the statement after the migration: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if len(cols) != 3 || !rows.Next() {
		t.Fatalf("columns %v, want the new one too, and the row", cols)
	}
}
