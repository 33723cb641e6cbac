package entstore_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
)

var (
	update        = flag.Bool("update", false, "write the schema diff of each dialect as its next migration")
	migrationName = flag.String("name", "", "with -update: the new migration's name (NNNN_<name>.sql)")
)

// dialects runs f on an empty, unmigrated database of each dialect, in parallel.
func dialects(t *testing.T, f func(t *testing.T, dsn string)) {
	for _, d := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{entstore.SQLite, entstoretest.SQLiteURL},
		{entstore.Postgres, entstoretest.PostgresURL},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f(t, d.url(t))
		})
	}
}

// TestMigrationsMatchSchema fails while ent/schema holds a change that no migration makes.
// With -update -name NAME it writes that change as the next migration instead. On the way it
// checks that Migrate can run from two processes at once, and again, applying each file once.
func TestMigrationsMatchSchema(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, other := entstoretest.Open(t, dsn), entstoretest.Open(t, dsn)
		if err := s.CheckSchema(ctx); !errors.Is(err, entstore.ErrSchemaBehind) {
			t.Fatalf("CheckSchema before Migrate = %v, want ErrSchemaBehind", err)
		}
		errs := make(chan error, 2)
		for _, s := range []*entstore.Store{s, other} {
			go func() { errs <- s.Migrate(ctx) }()
		}
		must(t, <-errs)
		must(t, <-errs)
		must(t, s.Migrate(ctx))
		must(t, s.CheckSchema(ctx))
		ms, err := entstore.Migrations(s.Dialect())
		must(t, err)
		var applied int
		must(t, entstore.QueryRow(ctx, s, "SELECT COUNT(*) FROM schema_migrations").Scan(&applied))
		if applied != len(ms) {
			t.Fatalf("schema_migrations holds %d rows, want one per migration (%d)", applied, len(ms))
		}

		diff, err := entstore.SchemaDiff(ctx, s)
		must(t, err)
		if strings.TrimSpace(diff) == "" {
			return
		}
		if !*update {
			t.Fatalf("ent/schema differs from migrations/%s; write the next migration with\n"+
				"\tgo test ./adapters/entstore -run TestMigrationsMatchSchema -update -name NAME\nThe difference:\n%s",
				s.Dialect(), diff)
		}
		if *migrationName == "" {
			t.Fatal("-update needs -name, the new migration's name")
		}
		next := 1
		if len(ms) > 0 {
			next = ms[len(ms)-1].Version + 1
		}
		file := filepath.Join("migrations", s.Dialect(), fmt.Sprintf("%04d_%s.sql", next, *migrationName))
		header := "-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.\n"
		must(t, os.WriteFile(file, []byte(header+diff), 0o644))
		t.Logf("wrote %s", file)
	})
}
