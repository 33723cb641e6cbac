package entstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

func TestStaleSessionContract(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		createcalltest.RunStaleSessionSuite(t, func(t *testing.T) createcalltest.Store { return entstoretest.NewSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		createcalltest.RunStaleSessionSuite(t, func(t *testing.T) createcalltest.Store { return entstoretest.NewPostgres(t) })
	})
}
