package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

func TestCallLimitsContract(t *testing.T) {
	createcalltest.RunCallLimitsSuite(t, func(*testing.T) createcalltest.Store { return memstore.New() })
}
