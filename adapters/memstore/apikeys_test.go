package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
)

func TestAPIKeyContract(t *testing.T) {
	accountstest.RunKeyStoreSuite(t, func(*testing.T) accountstest.Store { return memstore.New() })
}
