package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestStaleSessionContract(t *testing.T) {
	porttest.RunStaleSessionSuite(t, func(*testing.T) porttest.StaleStore { return memstore.New() })
}
