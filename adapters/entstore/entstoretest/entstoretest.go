// Package entstoretest makes throwaway, migrated entstore databases for tests of any package: a
// SQLite file in the test's temporary directory, or a PostgreSQL database created for the test
// and dropped when it ends.
//
// The PostgreSQL server is $KUPE_TEST_POSTGRES_URL, by default DefaultPostgresURL. When it
// cannot be reached the test fails, unless KUPE_TEST_SKIP_POSTGRES=1, which skips it instead.
package entstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for the admin connection

	"github.com/kupe-voice/kupe/adapters/entstore"
)

// DefaultPostgresURL is the local server the PostgreSQL helpers use when
// KUPE_TEST_POSTGRES_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewSQLite returns a migrated store on a new SQLite file, closed when the test ends.
func NewSQLite(t testing.TB) *entstore.Store {
	t.Helper()
	return migrated(t, Open(t, SQLiteURL(t)))
}

// NewPostgres returns a migrated store on a new PostgreSQL database, closed and dropped when the
// test ends.
func NewPostgres(t testing.TB) *entstore.Store {
	t.Helper()
	return migrated(t, Open(t, PostgresURL(t)))
}

// SQLiteURL names a new SQLite file in the test's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "file:" + filepath.Join(t.TempDir(), "kupe.db")
}

// PostgresURL creates an empty database, dropped when the test ends, and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, base := adminDB(t)
	name := "kupe_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("entstoretest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("entstoretest: drop database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	return u.String()
}

// SecretsKey is the fixed key the stores of these helpers seal line credentials with.
var SecretsKey = []byte("entstoretest-secrets-key-32bytes")

// Open opens a store on dsn without migrating it, sealing credentials with SecretsKey, closed
// when the test ends.
func Open(t testing.TB, dsn string) *entstore.Store {
	t.Helper()
	s, err := entstore.Open(context.Background(), dsn, entstore.WithSecretsKey(SecretsKey))
	if err != nil {
		t.Fatalf("entstoretest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func migrated(t testing.TB, s *entstore.Store) *entstore.Store {
	t.Helper()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("entstoretest: %v", err)
	}
	return s
}

type admin struct {
	db   *sql.DB
	base *url.URL
	err  error
}

// The admin connection lives as long as the test binary: every test that wants a database
// shares it.
var adminOnce = sync.OnceValue(func() admin {
	raw := os.Getenv("KUPE_TEST_POSTGRES_URL")
	if raw == "" {
		raw = DefaultPostgresURL
	}
	base, err := url.Parse(raw)
	if err != nil {
		return admin{err: err}
	}
	db, err := sql.Open("postgres", raw)
	if err != nil {
		return admin{err: err}
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return admin{err: err}
	}
	return admin{db: db, base: base}
})

func adminDB(t testing.TB) (*sql.DB, *url.URL) {
	t.Helper()
	a := adminOnce()
	if a.err != nil {
		if os.Getenv("KUPE_TEST_SKIP_POSTGRES") == "1" {
			t.Skipf("PostgreSQL unreachable and KUPE_TEST_SKIP_POSTGRES=1: %v", a.err)
		}
		t.Fatalf("entstoretest: PostgreSQL unreachable (set KUPE_TEST_POSTGRES_URL, or KUPE_TEST_SKIP_POSTGRES=1 to skip): %v", a.err)
	}
	return a.db, a.base
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
