package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/porttest"
)

func TestCallLimitsContract(t *testing.T) {
	porttest.RunCallLimitsSuite(t, func(*testing.T) porttest.LimitsStore { return memstore.New() })
}
