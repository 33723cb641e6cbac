// Package jobqueue is the service's durable job engine: River (github.com/riverqueue/river) in
// the service's own database, PostgreSQL through database/sql (riverdatabasesql, on the lib/pq
// pool) or the embedded SQLite (riversqlite, on modernc.org/sqlite). Jobs are inserted in the
// transaction of the state change that needs them (InsertTx), so the change and its job
// commit together or not at all; several processes on one PostgreSQL database share the work.
//
// River's types stay in here: job arguments are plain structs with a Kind method, and
// workers are functions of a Job.
package jobqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Dialects, spelt as entstore spells them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DefaultWorkers is KUPE_WORKERS' default.
const DefaultWorkers = 10

// JobArgs is a job's payload, stored as JSON and named by its Kind ("campaign.dial"), which
// picks the worker. Keep ids in it, not phone numbers or secrets: River keeps args in its
// tables and logs a failing job's kind and error.
type JobArgs interface {
	Kind() string
}

// Config shapes a Queue. The zero Config is DefaultWorkers workers with River's defaults.
type Config struct {
	// Workers is how many jobs this process works at once (KUPE_WORKERS).
	Workers int
	// PollInterval is how often the queue looks for jobs it was not told about: jobs another
	// process inserted (PostgreSQL through database/sql has no LISTEN here) and scheduled jobs
	// that came due. Zero is River's default, 1 s. Jobs this process inserts start at once.
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of jobs, which bounds how soon a job
	// inserted in this process starts after another fetch; zero is River's default, 100 ms.
	// Shorter suits chains of short jobs (a campaign's dials), at the cost of more queries.
	FetchCooldown time.Duration
	// JobTimeout bounds one run of a job; zero is River's default (1 min), -1 none.
	JobTimeout time.Duration
	// RescueAfter is how long a job may run before it is taken for one whose process died, and
	// run again; zero is River's default (1 h). Workers must be safe to run twice.
	RescueAfter time.Duration
	// CompletedRetention is how long a completed job is kept; while it is, a unique job with
	// the same arguments is not inserted again. Zero is River's default (24 h).
	CompletedRetention time.Duration
	// ID names this process among those sharing the database; empty is a random one.
	ID string
	// Logger receives River's logs; nil logs warnings and errors to stderr.
	Logger *slog.Logger
}

// Queue inserts jobs and, when it has workers, works them. Make one with New.
type Queue struct {
	client  *river.Client[*sql.Tx]
	dialect string
	working bool
}

// New opens a queue on db, a pool of the named dialect, whose River tables Migrate has made.
// With workers nil the queue only inserts (kupectl, tests); otherwise it works the default
// queue once Start is called. db must outlive the queue.
func New(db *sql.DB, dialect string, workers *Workers, cfg Config) (*Queue, error) {
	drv, err := driver(db, dialect)
	if err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Workers < 1 || cfg.Workers > river.QueueNumWorkersMax {
		return nil, fmt.Errorf("jobqueue: workers must be 1 to %d", river.QueueNumWorkersMax)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rc := &river.Config{
		ID:                          cfg.ID,
		Logger:                      logger,
		FetchPollInterval:           cfg.PollInterval,
		FetchCooldown:               cfg.FetchCooldown,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		CompletedJobRetentionPeriod: cfg.CompletedRetention,
	}
	if workers != nil {
		rc.Workers = workers.w
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(drv, rc)
	if err != nil {
		return nil, fmt.Errorf("jobqueue: %w", err)
	}
	return &Queue{client: client, dialect: dialect, working: workers != nil}, nil
}

func driver(db *sql.DB, dialect string) (riverdriver.Driver[*sql.Tx], error) {
	if db == nil {
		return nil, errors.New("jobqueue: no database")
	}
	switch dialect {
	case Postgres:
		return riverdatabasesql.New(db), nil
	case SQLite:
		return riversqlite.New(db), nil
	}
	return nil, fmt.Errorf("jobqueue: unknown dialect %q: want %s or %s", dialect, SQLite, Postgres)
}

// Start begins working jobs; a queue without workers has nothing to start. It returns once the
// queue runs, and it keeps running after ctx ends (ctx only bounds the start, as fx's OnStart
// context does): Stop ends it.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	// River stops when the context given to Start ends; fx cancels OnStart's once started.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobqueue: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish until ctx ends; then it
// cancels their contexts and waits a little longer for them to return. A job cut short is run
// again later (see Config.RescueAfter).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	err := q.client.Stop(ctx)
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return err
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := q.client.StopAndCancel(hard); err != nil {
		return fmt.Errorf("jobqueue: stop: %w", err)
	}
	return nil
}

// Dialect is the database's, SQLite or Postgres.
func (q *Queue) Dialect() string { return q.dialect }

// Client is the River client underneath, for what this package does not wrap (River's UI,
// metrics hooks, subscriptions in tests).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// InsertOpts are the options of one insert; the zero value runs the job now, on the default
// queue, with River's default of 25 attempts.
type InsertOpts struct {
	// ScheduledAt holds the job until then.
	ScheduledAt time.Time
	// MaxAttempts is how many times River runs a job whose worker fails (returns an error)
	// before it gives up on it; zero is the client's default (25).
	MaxAttempts int
	// Unique inserts the job only if no job of its kind with the same arguments is waiting,
	// running, or completed and still retained (Config.CompletedRetention); the insert then
	// reports Duplicate and returns the existing job's id. Fields tagged `river:"unique"` in
	// the args narrow "the same arguments" to those fields.
	Unique bool
	// Tags label the job for River's tooling.
	Tags []string
}

func (o *InsertOpts) river() *river.InsertOpts {
	if o == nil {
		return nil
	}
	ro := &river.InsertOpts{ScheduledAt: o.ScheduledAt, MaxAttempts: o.MaxAttempts, Tags: o.Tags}
	if o.Unique {
		ro.UniqueOpts = river.UniqueOpts{ByArgs: true}
	}
	return ro
}

// Inserted is the outcome of an insert.
type Inserted struct {
	ID int64
	// Duplicate is true when a unique job was already there, and nothing was inserted.
	Duplicate bool
}

func inserted(res *rivertype.JobInsertResult) Inserted {
	return Inserted{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}
}

// InsertTx inserts a job in tx, a transaction on the queue's database: the job exists when tx
// commits and never if it rolls back. Workers see it after the commit.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args JobArgs, opts *InsertOpts) (Inserted, error) {
	res, err := q.client.InsertTx(ctx, tx, argsOf(args), opts.river())
	if err != nil {
		return Inserted{}, fmt.Errorf("jobqueue: insert %s: %w", args.Kind(), err)
	}
	return inserted(res), nil
}

// Insert inserts a job in a transaction of its own.
func (q *Queue) Insert(ctx context.Context, args JobArgs, opts *InsertOpts) (Inserted, error) {
	res, err := q.client.Insert(ctx, argsOf(args), opts.river())
	if err != nil {
		return Inserted{}, fmt.Errorf("jobqueue: insert %s: %w", args.Kind(), err)
	}
	return inserted(res), nil
}

// argsOf hands River the args as they are: JobArgs is River's own JobArgs interface, so any
// value with a Kind method is a river.JobArgs.
func argsOf(a JobArgs) river.JobArgs { return a }
