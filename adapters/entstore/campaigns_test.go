package entstore_test

import (
	"testing"

	"github.com/riverqueue/river"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/campaigns/campaignstest"
)

func TestCampaignStoreContract(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			campaignstest.RunStoreSuite(t, func(t *testing.T) campaignstest.Rig {
				s := open(t)
				q := withQueue(t, s)
				return campaignstest.Rig{Store: s, Suppressions: s, Jobs: func(t *testing.T) []string {
					res, err := q.Client().JobList(ctx, river.NewJobListParams().First(1000))
					must(t, err)
					var kinds []string
					for _, j := range res.Jobs {
						kinds = append(kinds, j.Kind)
					}
					return kinds
				}}
			})
		})
	}
}
