package memstore_test

import (
	"sync"
	"testing"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/campaigns/campaignstest"
)

func TestCampaignStoreContract(t *testing.T) {
	campaignstest.RunStoreSuite(t, func(t *testing.T) campaignstest.Rig {
		acc := memstore.New()
		s := memstore.NewCampaigns(acc)
		var (
			mu    sync.Mutex
			kinds []string
		)
		s.OnJob(func(j campaigns.Job) {
			mu.Lock()
			defer mu.Unlock()
			kinds = append(kinds, j.Args.Kind())
		})
		return campaignstest.Rig{Store: s, Suppressions: acc, Jobs: func(*testing.T) []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), kinds...)
		}}
	})
}
