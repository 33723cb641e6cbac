// Package pgtest makes throwaway PostgreSQL databases for tests, on the server named by
// $KUPE_TEST_POSTGRES_URL (by default DefaultURL): each is created for one test and dropped when
// it ends. When the server cannot be reached the test fails, unless KUPE_TEST_SKIP_POSTGRES=1,
// which skips it instead. It needs only the driver, so that a package can test against PostgreSQL
// without the store (entstoretest builds its stores on it).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, for the admin connection
)

// DefaultURL is the local server used when KUPE_TEST_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// URL creates an empty database, dropped when the test ends, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	a := adminOnce()
	if a.err != nil {
		if os.Getenv("KUPE_TEST_SKIP_POSTGRES") == "1" {
			t.Skipf("PostgreSQL unreachable and KUPE_TEST_SKIP_POSTGRES=1: %v", a.err)
		}
		t.Fatalf("pgtest: PostgreSQL unreachable (set KUPE_TEST_POSTGRES_URL, or KUPE_TEST_SKIP_POSTGRES=1 to skip): %v", a.err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "kupe_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := *a.base
	u.Path = "/" + name
	return u.String()
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
		raw = DefaultURL
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
