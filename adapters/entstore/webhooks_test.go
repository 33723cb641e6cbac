package entstore_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/riverqueue/river"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/application/webhooks/webhookstest"
)

// webhookFixture is a migrated store with River's tables and a queue that only inserts, whose
// jobs the suite reads back from River.
func webhookFixture(t *testing.T, s *entstore.Store) webhookstest.DeliveryFixture {
	t.Helper()
	ctx := context.Background()
	if err := jobqueue.Migrate(ctx, s.DB(), s.Dialect()); err != nil {
		t.Fatal(err)
	}
	q, err := jobqueue.New(s.DB(), s.Dialect(), nil, jobqueue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.UseJobs(q)
	return webhookstest.DeliveryFixture{
		Store: s.Webhooks(),
		Scheduled: func(t *testing.T) []webhookstest.Scheduled {
			t.Helper()
			res, err := q.Client().JobList(ctx, river.NewJobListParams().Kinds(webhooks.JobKind).First(1000).
				States("available", "scheduled", "running", "retryable", "pending"))
			if err != nil {
				t.Fatal(err)
			}
			var out []webhookstest.Scheduled
			for _, j := range res.Jobs {
				var job webhooks.DeliveryJob
				if err := json.Unmarshal(j.EncodedArgs, &job); err != nil {
					t.Fatal(err)
				}
				out = append(out, webhookstest.Scheduled{Job: job, At: j.ScheduledAt})
			}
			return out
		},
	}
}

func TestWebhookStoreContract(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			t.Run("endpoints", func(t *testing.T) {
				// The endpoint cases make their own agents and users: one database serves them all.
				s := open(t)
				webhookstest.RunEndpointStoreSuite(t, func(*testing.T) webhooks.EndpointStore { return s.Webhooks() })
			})
			t.Run("deliveries", func(t *testing.T) {
				webhookstest.RunDeliveryStoreSuite(t, func(t *testing.T) webhookstest.DeliveryFixture {
					return webhookFixture(t, open(t))
				})
			})
		})
	}
}
