package jobqueue_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
)

func TestMigrate(t *testing.T) {
	for _, c := range []struct {
		dialect string
		open    func(t *testing.T) *sql.DB
	}{
		{jobqueue.SQLite, func(t *testing.T) *sql.DB { return openSQLite(t) }},
		{jobqueue.Postgres, func(t *testing.T) *sql.DB { return openPostgres(t, postgresURL(t)) }},
	} {
		t.Run(c.dialect, func(t *testing.T) {
			db := c.open(t)
			ctx := context.Background()
			if err := jobqueue.CheckSchema(ctx, db, c.dialect); !errors.Is(err, jobqueue.ErrSchemaBehind) {
				t.Fatalf("CheckSchema on an empty database = %v", err)
			}
			// From two goroutines at once (on PostgreSQL, through the advisory lock that two servers
			// starting together take), and once more.
			errs := make(chan error, 2)
			for range 2 {
				go func() { errs <- jobqueue.Migrate(ctx, db, c.dialect) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if err := jobqueue.Migrate(ctx, db, c.dialect); err != nil {
				t.Fatal(err)
			}
			if err := jobqueue.CheckSchema(ctx, db, c.dialect); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	db := openSQLite(t)
	if _, err := jobqueue.New(db, "mysql", nil, jobqueue.Config{}); err == nil {
		t.Error("unknown dialect accepted")
	}
	if _, err := jobqueue.New(nil, jobqueue.SQLite, nil, jobqueue.Config{}); err == nil {
		t.Error("no database accepted")
	}
	if _, err := jobqueue.New(db, jobqueue.SQLite, jobqueue.NewWorkers(), jobqueue.Config{Workers: -1}); err == nil {
		t.Error("negative workers accepted")
	}
	if err := jobqueue.Migrate(context.Background(), db, "oracle"); err == nil {
		t.Error("Migrate of an unknown dialect")
	}
}

func TestCommittedJobRunsOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, dialect string) {
		r := newRuns()
		q := newQueue(t, db, dialect, "a", r, jobqueue.Config{Workers: 3})
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ins, err := q.InsertTx(ctx, tx, workArgs{Note: "committed"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if ids := r.wait(t, 1); ids[0] != ins.ID {
			t.Fatalf("ran job %d, inserted %d", ids[0], ins.ID)
		}
		job := waitState(t, q, ins.ID, rivertype.JobStateCompleted)
		stop(t, q)
		if n := r.count(ins.ID); n != 1 || job.Attempt != 1 {
			t.Fatalf("job ran %d times, attempt %d", n, job.Attempt)
		}
	})
}

func TestRolledBackJobNeverRuns(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, dialect string) {
		r := newRuns()
		q := newQueue(t, db, dialect, "a", r, jobqueue.Config{})
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		gone, err := q.InsertTx(ctx, tx, workArgs{Note: "rolled back"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		// A job inserted after it runs; the rolled-back one does not exist to run.
		after, err := q.Insert(ctx, workArgs{Note: "after"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.wait(t, 1)
		waitState(t, q, after.ID, rivertype.JobStateCompleted)
		// (SQLite hands the rolled-back job's id to the next insert: ids say nothing here.)
		res, err := q.Client().JobList(ctx, river.NewJobListParams().Kinds(workArgs{}.Kind()).First(100))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 || res.Jobs[0].ID != after.ID || !strings.Contains(string(res.Jobs[0].EncodedArgs), `"after"`) {
			t.Fatalf("jobs in the table: %d (rolled back was %d, after %d)", len(res.Jobs), gone.ID, after.ID)
		}
		stop(t, q)
		if len(r.notes) != 1 || r.notes[0] != "after" {
			t.Fatalf("runs: %v", r.notes)
		}
	})
}

func TestUniqueJobRunsOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, dialect string) {
		r := newRuns()
		q := newQueue(t, db, dialect, "a", r, jobqueue.Config{})
		ctx := context.Background()
		unique := &jobqueue.InsertOpts{Unique: true}
		args := workArgs{Note: "batch 1 row 7 attempt 1"}

		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		first, err := q.InsertTx(ctx, tx, args, unique)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		second, err := q.Insert(ctx, args, unique)
		if err != nil {
			t.Fatal(err)
		}
		if first.Duplicate || !second.Duplicate || second.ID != first.ID {
			t.Fatalf("first %+v, second %+v", first, second)
		}
		r.wait(t, 1)
		waitState(t, q, first.ID, rivertype.JobStateCompleted)
		// Completed and retained, it still blocks the same args (a redelivered dial).
		third, err := q.Insert(ctx, args, unique)
		if err != nil || !third.Duplicate || third.ID != first.ID {
			t.Fatalf("after completion: %+v, %v", third, err)
		}
		// Other args are another job.
		other, err := q.Insert(ctx, workArgs{Note: "batch 1 row 7 attempt 2"}, unique)
		if err != nil || other.Duplicate {
			t.Fatalf("other args: %+v, %v", other, err)
		}
		r.wait(t, 1)
		waitState(t, q, other.ID, rivertype.JobStateCompleted)
		stop(t, q)
		if r.count(first.ID) != 1 || r.count(other.ID) != 1 || len(r.notes) != 2 {
			t.Fatalf("runs: %v", r.notes)
		}
	})
}

func TestScheduledJobWaits(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, dialect string) {
		r := newRuns()
		q := newQueue(t, db, dialect, "a", r, jobqueue.Config{})
		ctx := context.Background()
		later, err := q.Insert(ctx, workArgs{Note: "tomorrow"}, &jobqueue.InsertOpts{ScheduledAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		now, err := q.Insert(ctx, workArgs{Note: "now"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.wait(t, 1)
		waitState(t, q, now.ID, rivertype.JobStateCompleted)
		job, err := q.Client().JobGet(ctx, later.ID)
		if err != nil || job.State != rivertype.JobStateScheduled {
			t.Fatalf("the scheduled job: %v, %v", job, err)
		}
		if r.count(later.ID) != 0 {
			t.Fatal("ran a job scheduled for tomorrow")
		}
	})
}

type snoozeArgs struct{}

func (snoozeArgs) Kind() string { return "test_snooze" }

type discardArgs struct{}

func (discardArgs) Kind() string { return "test_discard" }

func TestSnoozeAndDiscard(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, dialect string) {
		var snoozed, discarded atomic.Int32
		ws := jobqueue.NewWorkers()
		_ = jobqueue.Register(ws, func(ctx context.Context, job jobqueue.Job[snoozeArgs]) error {
			snoozed.Add(1)
			return jobqueue.Snooze(time.Hour)
		})
		_ = jobqueue.Register(ws, func(ctx context.Context, job jobqueue.Job[discardArgs]) error {
			discarded.Add(1)
			return jobqueue.Discard(errors.New("batch canceled"))
		})
		if err := jobqueue.Register(ws, func(ctx context.Context, job jobqueue.Job[discardArgs]) error { return nil }); err == nil {
			t.Fatal("a kind registered twice")
		}
		q := startQueue(t, db, dialect, ws, jobqueue.Config{})
		ctx := context.Background()
		s, _ := q.Insert(ctx, snoozeArgs{}, nil)
		d, _ := q.Insert(ctx, discardArgs{}, nil)
		sj := waitState(t, q, s.ID, rivertype.JobStateScheduled)
		dj := waitState(t, q, d.ID, rivertype.JobStateCancelled)
		if !sj.ScheduledAt.After(time.Now().Add(50*time.Minute)) || snoozed.Load() != 1 || discarded.Load() != 1 {
			t.Fatalf("snoozed to %v (%d runs), discarded %d runs", sj.ScheduledAt, snoozed.Load(), discarded.Load())
		}
		if len(dj.Errors) != 1 {
			t.Fatalf("discarded job errors: %+v", dj.Errors)
		}
	})
}

// Two processes on one PostgreSQL database: each works at most two jobs at once, and every job
// blocks until four run together, so both must have taken some. Jobs come from a third,
// insert-only process, so the workers find them by polling.
func TestTwoQueuesShareThePostgresWork(t *testing.T) {
	dsn := postgresURL(t)
	setup := openPostgres(t, dsn)
	migrate(t, setup, jobqueue.Postgres)

	const jobs, perQueue = 20, 2
	var running atomic.Int32
	release := make(chan struct{})
	var released atomic.Bool
	r := newRuns()
	worker := func(who string) *jobqueue.Workers {
		ws := jobqueue.NewWorkers()
		_ = jobqueue.Register(ws, func(ctx context.Context, job jobqueue.Job[workArgs]) error {
			if running.Add(1) == 2*perQueue && released.CompareAndSwap(false, true) {
				close(release)
			}
			select {
			case <-release:
			case <-ctx.Done():
				running.Add(-1)
				return ctx.Err()
			}
			running.Add(-1)
			r.record(job.ID, who, job.Args.Note)
			return nil
		})
		return ws
	}
	a := startQueue(t, openPostgres(t, dsn), jobqueue.Postgres, worker("a"), jobqueue.Config{Workers: perQueue, JobTimeout: -1})
	b := startQueue(t, openPostgres(t, dsn), jobqueue.Postgres, worker("b"), jobqueue.Config{Workers: perQueue, JobTimeout: -1})

	producer, err := jobqueue.New(openPostgres(t, dsn), jobqueue.Postgres, nil, jobqueue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[int64]bool{}
	for i := range jobs {
		ins, err := producer.Insert(ctx, workArgs{Note: fmt.Sprint(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[ins.ID] = true
	}
	got := r.wait(t, jobs)
	stop(t, a)
	stop(t, b)
	for _, id := range got {
		if !want[id] || r.count(id) != 1 {
			t.Fatalf("job %d ran %d times", id, r.count(id))
		}
	}
	if r.by["a"] == 0 || r.by["b"] == 0 || r.by["a"]+r.by["b"] != jobs {
		t.Fatalf("runs by process: %v", r.by)
	}
}

// waitState polls the job until it reaches state; the deadline only keeps a broken test from
// hanging.
func waitState(t testing.TB, q *jobqueue.Queue, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		job, err := q.Client().JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if job.State == state {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s, want %s", id, job.State, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
