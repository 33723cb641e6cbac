package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestLedgerContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		porttest.RunLedgerSuite(t, func(t *testing.T) porttest.LedgerStore { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		porttest.RunLedgerSuite(t, func(t *testing.T) porttest.LedgerStore { return entstoretest.NewPostgres(t) })
	})
}
