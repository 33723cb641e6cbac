package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/callevents/calleventstest"
)

func TestLedgerContract(t *testing.T) {
	calleventstest.RunLedgerSuite(t, func(*testing.T) calleventstest.Store { return memstore.New() })
}
