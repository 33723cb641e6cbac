package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
)

var _ accountstest.Store = (*entstore.Store)(nil)

func TestOwnedStoreContract(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			accountstest.RunCatalogStoreSuite(t, func(t *testing.T) accountstest.Store { return open(t) })
		})
	}
}
