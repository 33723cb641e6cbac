package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/callevents/calleventstest"
)

func TestLedgerContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		calleventstest.RunLedgerSuite(t, func(t *testing.T) calleventstest.Store { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		calleventstest.RunLedgerSuite(t, func(t *testing.T) calleventstest.Store { return entstoretest.NewPostgres(t) })
	})
}
