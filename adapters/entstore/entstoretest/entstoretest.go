// Package entstoretest makes throwaway, migrated entstore databases for tests of any package: a
// SQLite file in the test's temporary directory, or a PostgreSQL database created for the test
// and dropped when it ends.
//
// The PostgreSQL databases come from internal/testkit/pgtest: on $KUPE_TEST_POSTGRES_URL, by
// default DefaultPostgresURL; when it cannot be reached the test fails, unless
// KUPE_TEST_SKIP_POSTGRES=1, which skips it instead.
package entstoretest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/internal/testkit/pgtest"
)

// DefaultPostgresURL is the local server the PostgreSQL helpers use when
// KUPE_TEST_POSTGRES_URL is not set.
const DefaultPostgresURL = pgtest.DefaultURL

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
	return pgtest.URL(t)
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
