package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/porttest"
)

var _ porttest.KeyStore = (*entstore.Store)(nil)

func TestAPIKeyContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		porttest.RunAPIKeySuite(t, func(t *testing.T) porttest.KeyStore { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		porttest.RunAPIKeySuite(t, func(t *testing.T) porttest.KeyStore { return entstoretest.NewPostgres(t) })
	})
}
