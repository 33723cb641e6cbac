// Package stores runs a port's contract suite on every store that implements it: memstore, ent
// on SQLite and ent on PostgreSQL (a throwaway database each, see entstoretest).
package stores

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/memstore"
)

// A store is one implementation, opened fresh for a test.
type store struct {
	name string
	open func(t *testing.T) any
	// parallel: the store is a database of its own, so its suite can run beside the others.
	parallel bool
}

var all = []store{
	{name: "memstore", open: func(*testing.T) any { return memstore.New() }},
	{name: "sqlite", open: func(t *testing.T) any { return entstoretest.NewSQLite(t) }, parallel: true},
	{name: "postgres", open: func(t *testing.T) any { return entstoretest.NewPostgres(t) }, parallel: true},
}

// Each runs suite once per store, as subtests named memstore, sqlite and postgres, handing it a
// constructor of fresh stores of that kind. S is the port's store interface; a store that does
// not implement it fails the test.
func Each[S any](t *testing.T, suite func(t *testing.T, newStore func(t *testing.T) S)) {
	t.Helper()
	for _, st := range all {
		t.Run(st.name, func(t *testing.T) {
			if st.parallel {
				t.Parallel()
			}
			suite(t, func(t *testing.T) S {
				t.Helper()
				s, ok := st.open(t).(S)
				if !ok {
					var want *S
					t.Fatalf("stores: %s does not implement %T", st.name, want)
				}
				return s
			})
		})
	}
}
