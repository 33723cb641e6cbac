package memstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

func TestCallFinalOutboxContract(t *testing.T) {
	createcalltest.RunCallFinalOutboxSuite(t, func(t *testing.T) createcalltest.OutboxRig {
		s := memstore.New()
		var (
			mu  sync.Mutex
			ids []string
		)
		s.OnCallFinal(func(_ context.Context, id string) error {
			mu.Lock()
			defer mu.Unlock()
			ids = append(ids, id)
			return nil
		})
		return createcalltest.OutboxRig{Store: s, Announced: func(*testing.T) []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(ids)
		}}
	})
}
