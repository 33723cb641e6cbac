package stores_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
	"github.com/kupe-voice/kupe/application/callevents/calleventstest"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/internal/testkit/stores"
)

// Both stores implement every store port, checked at compile time.
var (
	_ accountstest.Store   = (*memstore.Store)(nil)
	_ accountstest.Store   = (*entstore.Store)(nil)
	_ createcalltest.Store = (*memstore.Store)(nil)
	_ createcalltest.Store = (*entstore.Store)(nil)
	_ calleventstest.Store = (*memstore.Store)(nil)
	_ calleventstest.Store = (*entstore.Store)(nil)
)

// TestContracts runs every store port's contract suite on every store.
func TestContracts(t *testing.T) {
	t.Parallel()
	for name, run := range map[string]func(*testing.T){
		"accounts":      func(t *testing.T) { stores.Each(t, accountstest.RunAccountsSuite) },
		"api keys":      func(t *testing.T) { stores.Each(t, accountstest.RunKeyStoreSuite) },
		"catalog":       func(t *testing.T) { stores.Each(t, accountstest.RunCatalogStoreSuite) },
		"calls":         func(t *testing.T) { stores.Each(t, createcalltest.RunCallStoreSuite) },
		"dial plan":     func(t *testing.T) { stores.Each(t, createcalltest.RunDialPlanSuite) },
		"plan by key":   func(t *testing.T) { stores.Each(t, createcalltest.RunDialPlanByKeySuite) },
		"call limits":   func(t *testing.T) { stores.Each(t, createcalltest.RunCallLimitsSuite) },
		"stale session": func(t *testing.T) { stores.Each(t, createcalltest.RunStaleSessionSuite) },
		"ledger":        func(t *testing.T) { stores.Each(t, calleventstest.RunLedgerSuite) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t)
		})
	}
}
