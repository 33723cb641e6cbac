package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestOwnedStoreContract(t *testing.T) {
	porttest.RunOwnedStoreSuite(t, func(*testing.T) porttest.OwnedStore { return memstore.New() })
}
