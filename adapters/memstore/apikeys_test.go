package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestAPIKeyContract(t *testing.T) {
	porttest.RunAPIKeySuite(t, func(*testing.T) porttest.KeyStore { return memstore.New() })
}
