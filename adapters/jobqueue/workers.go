package jobqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Workers is the set of job kinds a queue works, each with its function. Register every kind
// before New.
type Workers struct {
	w *river.Workers
}

// NewWorkers returns an empty set.
func NewWorkers() *Workers { return &Workers{w: river.NewWorkers()} }

// Job is one run of a job: its arguments and where it is in its attempts.
type Job[T JobArgs] struct {
	ID int64
	// Attempt counts the runs, this one included (1 on the first).
	Attempt     int
	MaxAttempts int
	Args        T
	CreatedAt   time.Time
	ScheduledAt time.Time
}

// Register adds the worker of T's kind. A worker's error makes River run the job again later
// (with its backoff) until MaxAttempts; Snooze and Discard say otherwise. A worker may run
// twice for one job (a process that dies mid-run, a rescue), so it must be idempotent.
func Register[T JobArgs](ws *Workers, work func(ctx context.Context, job Job[T]) error) error {
	err := river.AddWorkerSafely(ws.w, river.WorkFunc(func(ctx context.Context, j *river.Job[T]) error {
		return work(ctx, Job[T]{
			ID: j.ID, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Args: j.Args,
			CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt,
		})
	}))
	if err != nil {
		return fmt.Errorf("jobqueue: register: %w", err)
	}
	return nil
}

// Snooze is what a worker returns to run the job again after d without counting an attempt:
// a dial that must wait for the user's rate or the call window.
func Snooze(d time.Duration) error { return river.JobSnooze(d) }

// Discard is what a worker returns for a job that must not run again: it is cancelled with err
// as the reason.
func Discard(err error) error { return river.JobCancel(err) }
