package memstore_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

func TestStaleSessionContract(t *testing.T) {
	createcalltest.RunStaleSessionSuite(t, func(*testing.T) createcalltest.Store { return memstore.New() })
}
