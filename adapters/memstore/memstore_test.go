package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

func TestStoreContract(t *testing.T) {
	accountstest.RunAccountsSuite(t, func(t *testing.T) accountstest.Store { return memstore.New() })
	createcalltest.RunCallStoreSuite(t, func(t *testing.T) createcalltest.Store { return memstore.New() })
	createcalltest.RunDialPlanSuite(t, func(t *testing.T) createcalltest.Store { return memstore.New() })
}
