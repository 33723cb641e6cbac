package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestStoreContract(t *testing.T) {
	porttest.RunStoreSuite(t, func(*testing.T) porttest.Store { return memstore.New() })
}
