package entstore_test

import (
	"encoding/json"
	"testing"

	"github.com/riverqueue/river"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

// TestCallFinalOutboxContract runs the outbox suite with the store recording its jobs on an
// insert-only queue, and reads the call_final jobs River holds.
func TestCallFinalOutboxContract(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			createcalltest.RunCallFinalOutboxSuite(t, func(t *testing.T) createcalltest.OutboxRig {
				s := open(t)
				q := withQueue(t, s)
				return createcalltest.OutboxRig{Store: s, Announced: func(t *testing.T) []string {
					res, err := q.Client().JobList(ctx, river.NewJobListParams().Kinds(callfinal.Kind).First(1000))
					must(t, err)
					var ids []string
					for _, j := range res.Jobs {
						var args callfinal.Job
						must(t, json.Unmarshal(j.EncodedArgs, &args))
						ids = append(ids, args.SessionID)
					}
					return ids
				}}
			})
		})
	}
}

// withQueue migrates River's tables in s's database and makes s record its jobs on an
// insert-only queue there.
func withQueue(t testing.TB, s *entstore.Store) *jobqueue.Queue {
	t.Helper()
	must(t, jobqueue.Migrate(ctx, s.DB(), s.Dialect()))
	q, err := jobqueue.New(s.DB(), s.Dialect(), nil, jobqueue.Config{})
	must(t, err)
	s.UseJobs(q)
	return q
}

// With the outbox on, the save that ends a call runs in a transaction with its job: the cap's
// suite, the release racing claims among it, holds there too.
func TestCallLimitsWithOutbox(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			createcalltest.RunCallLimitsSuite(t, func(t *testing.T) createcalltest.Store {
				s := open(t)
				withQueue(t, s)
				return s
			})
		})
	}
}
