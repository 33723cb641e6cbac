package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
)

var _ accountstest.Store = (*entstore.Store)(nil)

func TestAPIKeyContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		accountstest.RunKeyStoreSuite(t, func(t *testing.T) accountstest.Store { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		accountstest.RunKeyStoreSuite(t, func(t *testing.T) accountstest.Store { return entstoretest.NewPostgres(t) })
	})
}
