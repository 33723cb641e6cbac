package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestLedgerContract(t *testing.T) {
	porttest.RunLedgerSuite(t, func(*testing.T) porttest.LedgerStore { return memstore.New() })
}
