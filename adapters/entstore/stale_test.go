package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestStaleSessionContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		porttest.RunStaleSessionSuite(t, func(t *testing.T) porttest.StaleStore { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		porttest.RunStaleSessionSuite(t, func(t *testing.T) porttest.StaleStore { return entstoretest.NewPostgres(t) })
	})
}
