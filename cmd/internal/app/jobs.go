package app

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/configs"
)

// WorkerRegistration adds job kinds to the queue's workers. Modules that run jobs provide one
// each in the group "job_workers"; the queue is built once they all have.
type WorkerRegistration func(*jobqueue.Workers) error

// Jobs runs the durable job engine in this process: River on the service's database, with
// KUPE_WORKERS workers, started after the store and stopped before it closes. It records the
// store's outbox jobs (the call-final job of every session that ends) and works them, handing
// each ended session to every callfinal.Handler in the group "call_final".
var Jobs = fx.Module("jobs",
	fx.Provide(
		fx.Annotate(newWorkers, fx.ParamTags(`group:"job_workers"`)),
		NewQueue,
		fx.Annotate(callFinalWorker, fx.ParamTags(`group:"call_final"`), fx.ResultTags(`group:"job_workers"`)),
	),
	fx.Invoke(func(*jobqueue.Queue) {}),
)

// JobInserts is Jobs for kupectl: a queue that records jobs (the outbox's, the campaigns') for
// the servers to work, and works none.
var JobInserts = fx.Module("jobs",
	fx.Provide(
		func() *jobqueue.Workers { return nil },
		NewQueue,
	),
	fx.Invoke(func(*jobqueue.Queue) {}),
)

func newWorkers(regs []WorkerRegistration) (*jobqueue.Workers, error) {
	ws := jobqueue.NewWorkers()
	for _, r := range regs {
		if err := r(ws); err != nil {
			return nil, err
		}
	}
	return ws, nil
}

// QueueConfig is the engine's configuration from the service's.
func QueueConfig(c configs.Config) jobqueue.Config {
	return jobqueue.Config{
		Workers: c.Jobs.Workers,
		// A job whose process died is run again after this; every worker is idempotent, and
		// the longest (a dial: one create_call) takes a carrier timeout or two.
		RescueAfter: 5 * time.Minute,
	}
}

// NewQueue opens the job queue on the store's database. The embedded default brings River's
// tables up to date first; on PostgreSQL they must be (`kupe migrate`), or the start fails.
// With workers nil the queue only inserts. The store records its outbox jobs through it.
func NewQueue(lc fx.Lifecycle, c configs.Config, s *entstore.Store, workers *jobqueue.Workers, log *zap.Logger) (*jobqueue.Queue, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.Database.Embedded() {
		if err := jobqueue.Migrate(ctx, s.DB(), s.Dialect()); err != nil {
			return nil, fmt.Errorf("migrate the job queue: %w", err)
		}
	} else if err := jobqueue.CheckSchema(ctx, s.DB(), s.Dialect()); err != nil {
		return nil, fmt.Errorf("database %s: %w", c.Database.Redacted(), err)
	}
	q, err := jobqueue.New(s.DB(), s.Dialect(), workers, QueueConfig(c))
	if err != nil {
		return nil, err
	}
	s.UseJobs(q)
	if workers != nil {
		log = log.Named("jobs")
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				if err := q.Start(ctx); err != nil {
					return err
				}
				log.Info("job queue started", zap.Int("workers", QueueConfig(c).Workers))
				return nil
			},
			OnStop: q.Stop,
		})
	}
	return q, nil
}

// callFinalWorker works the call_final jobs: each ended session goes to every handler.
func callFinalWorker(handlers []callfinal.Handler) WorkerRegistration {
	fan := callfinal.FanOut(handlers)
	return func(ws *jobqueue.Workers) error {
		return jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[callfinal.Job]) error {
			return fan.OnCallFinal(ctx, j.Args.SessionID)
		})
	}
}

// MigrateJobs brings River's tables in the store's database to this build's version, for
// `kupe migrate`.
func MigrateJobs(ctx context.Context, s *entstore.Store) error {
	return jobqueue.Migrate(ctx, s.DB(), s.Dialect())
}
