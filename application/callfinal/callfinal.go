// Package callfinal is the call-final outbox's contract: when a call session reaches a final
// status (completed, busy, no answer, failed, canceled), the session store records a Job for it
// in the same transaction as the status change, and the job's worker hands the session id to
// every Handler (campaigns settle their row, webhooks send their event). The job is retried
// until every handler succeeds, so handlers must be idempotent: each may see a session more
// than once.
package callfinal

import (
	"context"
	"errors"
	"fmt"
)

// Kind names the job.
const Kind = "call_final"

// Job is the outbox entry of one session that reached a final status. Stores insert it unique
// by its arguments: a session is announced once, however often its final state is saved.
type Job struct {
	SessionID string `json:"session_id"`
}

// Kind implements the job queue's JobArgs.
func (Job) Kind() string { return Kind }

// Handler is told about each session that reached a final status. It must be idempotent, and
// must treat a session it has no interest in (not one of its calls) as done: nil.
type Handler interface {
	OnCallFinal(ctx context.Context, sessionID string) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, sessionID string) error

// OnCallFinal calls f.
func (f HandlerFunc) OnCallFinal(ctx context.Context, sessionID string) error {
	return f(ctx, sessionID)
}

// FanOut tells every handler, each even when another fails, and returns their errors joined:
// the job then runs again, and the handlers that succeeded see the session a second time.
type FanOut []Handler

// OnCallFinal implements Handler.
func (f FanOut) OnCallFinal(ctx context.Context, sessionID string) error {
	var errs []error
	for i, h := range f {
		if h == nil {
			continue
		}
		if err := h.OnCallFinal(ctx, sessionID); err != nil {
			errs = append(errs, fmt.Errorf("call-final handler %d (%T): %w", i, h, err))
		}
	}
	return errors.Join(errs...)
}
