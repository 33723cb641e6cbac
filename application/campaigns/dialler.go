package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/domain/campaign"
)

// scanLimit bounds the entries one pass of the dialler looks at, so that one transaction stays
// short however many entries wait outside their window; a pass that reaches it hands the rest
// to a new tick.
const scanLimit = 200

// Reasons an entry gets without a call.
const (
	ReasonWindowNever = "the call window never opens in the recipient's time zones"
	ReasonSuppressed  = "Destination is on your do-not-call list"
	ReasonCallLost    = "The carrier never reported the end of the call"
	reasonBadNumber   = "the number's time zones cannot be read"
)

// IdempotencyKey is create_call's key for the attempt-th call of an entry: the same on every
// run of the attempt's job, in every process.
func IdempotencyKey(batchID, entryID string, attempt int) string {
	return fmt.Sprintf("campaign:%s:%s:%d", batchID, entryID, attempt)
}

// Tick runs the dialler on a batch (the campaign_tick job).
func (s *Service) Tick(ctx context.Context, j TickJob) error {
	err := s.Store.Update(ctx, j.BatchID, func(tx Tx) error { return s.fill(tx, s.now()) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// fill dials due entries into the batch's free slots, inside tx: each becomes calling with one
// attempt more, and gets its attempt record and its dial job in the same transaction. An entry
// outside its call window is deferred to the window's next opening (or fails when it never
// opens); one on the do-not-call list is canceled. With no entry left to dial or in a call, the
// batch completes; with free slots and entries due later, a tick is scheduled for the earliest.
func (s *Service) fill(tx Tx, now time.Time) error {
	b := tx.Batch()
	if b.Begin(now) {
		if err := tx.SaveBatch(b); err != nil {
			return err
		}
	}
	switch b.Status() {
	case campaign.BatchInProgress:
	case campaign.BatchScheduled:
		return s.wake(tx, b, now)
	default:
		return nil
	}
	if err := s.dropStale(tx, now); err != nil {
		return err
	}
	calling, err := tx.Calling()
	if err != nil {
		return err
	}
	free, scanned, dialled := b.Size.Int()-calling, 0, 0
	for free > 0 && scanned < scanLimit {
		due, err := tx.Due(now, min(free, scanLimit-scanned))
		if err != nil {
			return err
		}
		if len(due) == 0 {
			break
		}
		numbers := make([]string, len(due))
		for i, e := range due {
			numbers[i] = e.To
		}
		suppressed, err := tx.Suppressed(numbers)
		if err != nil {
			return err
		}
		for _, e := range due {
			scanned++
			dial, err := s.place(tx, b, e, suppressed[e.To], now)
			if err != nil {
				return err
			}
			if dial {
				free--
				dialled++
			}
		}
	}
	if scanned >= scanLimit {
		return tx.Enqueue(Job{Args: TickJob{BatchID: b.ID}})
	}
	if calling+dialled == 0 {
		n, err := tx.Unfinished()
		if err != nil {
			return err
		}
		if n == 0 {
			if err := b.Complete(now); err != nil {
				return err
			}
			if err := tx.SaveBatch(b); err != nil {
				return err
			}
			return tx.Enqueue(Job{Args: CompletedJob{BatchID: b.ID}, Unique: true})
		}
	}
	if free > 0 {
		at, ok, err := tx.NextDue()
		if err != nil {
			return err
		}
		if ok && at.After(now) {
			return tx.Enqueue(tickAt(b.ID, at, now))
		}
	}
	return nil
}

// dropStale fails the entries whose call's end never came: a lost carrier report must not
// hold a slot of the batch for ever. Their calls are not retried: one may still be going on.
func (s *Service) dropStale(tx Tx, now time.Time) error {
	after := s.CallStaleAfter
	if after <= 0 {
		after = DefaultCallStaleAfter
	}
	stale, err := tx.StaleCalling(now.Add(-after), scanLimit)
	if err != nil {
		return err
	}
	for _, e := range stale {
		a, err := tx.Attempt(e.ID, e.Attempts)
		if err != nil {
			return err
		}
		if err := e.Settle(campaign.RowFailed, ReasonCallLost, now); err != nil {
			return err
		}
		a.Outcome, a.UpdatedAt = campaign.RowFailed, now
		if err := tx.SaveAttempt(a); err != nil {
			return err
		}
		if err := tx.SaveEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// place decides about one due entry: dial it (true), defer it to its window, or end it.
func (s *Service) place(tx Tx, b *campaign.Batch, e *campaign.Entry, suppressed bool, now time.Time) (bool, error) {
	if suppressed {
		if err := e.Cancel(ReasonSuppressed, now); err != nil {
			return false, err
		}
		return false, tx.SaveEntry(e)
	}
	zones, err := e.Zones()
	if err != nil {
		e.Refuse(reasonBadNumber, now)
		return false, tx.SaveEntry(e)
	}
	if !b.Window.OpenAt(now, zones) {
		if at, ok := b.Window.NextOpen(now, zones); ok {
			e.Defer(at, now)
		} else {
			e.Refuse(ReasonWindowNever, now)
		}
		return false, tx.SaveEntry(e)
	}
	if err := e.Dial(now); err != nil {
		return false, err
	}
	if err := tx.SaveEntry(e); err != nil {
		return false, err
	}
	if err := tx.SaveAttempt(Attempt{BatchID: b.ID, EntryID: e.ID, N: e.Attempts, CreatedAt: now, UpdatedAt: now}); err != nil {
		return false, err
	}
	// Not unique: the transaction that makes the entry calling inserts it, once per Dial, and an
	// attempt released by a pause is dialled again with the same arguments.
	return true, tx.Enqueue(Job{Args: DialJob{BatchID: b.ID, EntryID: e.ID, Attempt: e.Attempts}})
}

// Dial places one attempt (the campaign_dial job): create_call with the entry's variables and
// the attempt's idempotency key. Its result is linked to the attempt before the session is
// read, so that either this job or the call-final hook sees the call's end. A *WaitError
// asks the job to run again later; other errors are faults, and the job retries.
func (s *Service) Dial(ctx context.Context, j DialJob) error {
	var (
		pc        PlaceCall
		proceed   bool
		sessionID string
	)
	err := s.Store.Update(ctx, j.BatchID, func(tx Tx) error {
		e, a, ok, err := attemptInFlight(tx, j.EntryID, j.Attempt)
		if err != nil || !ok {
			return err
		}
		if a.SessionID != "" { // dialled already: this run only checks on the call
			sessionID = a.SessionID
			return nil
		}
		b := tx.Batch()
		if !b.Status().Running() {
			return release(tx, b, e, s.now())
		}
		pc = PlaceCall{UserID: b.UserID, To: e.To, AgentID: b.Target.AgentID(), WorkflowID: b.Target.WorkflowID(),
			LineID: b.CallerPhoneID, Variables: e.Variables, IdempotencyKey: IdempotencyKey(b.ID, e.ID, j.Attempt)}
		proceed = true
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sessionID != "" {
		return s.OnCallFinal(ctx, sessionID)
	}
	if !proceed {
		return nil
	}

	sessionID, err = s.Placer.Place(ctx, pc)
	var (
		wait    *WaitError
		pause   *PauseError
		refused *RefusedError
	)
	switch {
	case errors.As(err, &wait):
		return err
	case errors.As(err, &pause):
		return s.Store.Update(ctx, j.BatchID, func(tx Tx) error {
			e, _, ok, err := attemptInFlight(tx, j.EntryID, j.Attempt)
			if err != nil || !ok {
				return err
			}
			b := tx.Batch()
			if b.Status().Running() {
				if err := b.Pause(pause.Reason, s.now()); err != nil {
					return err
				}
				if err := tx.SaveBatch(b); err != nil {
					return err
				}
			}
			return release(tx, b, e, s.now())
		})
	case errors.As(err, &refused):
		return s.Store.Update(ctx, j.BatchID, func(tx Tx) error {
			e, a, ok, err := attemptInFlight(tx, j.EntryID, j.Attempt)
			if err != nil || !ok {
				return err
			}
			now := s.now()
			if err := e.Settle(campaign.RowFailed, refused.Reason, now); err != nil {
				return err
			}
			a.Outcome, a.UpdatedAt = campaign.RowFailed, now
			if err := tx.SaveAttempt(a); err != nil {
				return err
			}
			if err := tx.SaveEntry(e); err != nil {
				return err
			}
			return s.fill(tx, now)
		})
	case err != nil:
		return fmt.Errorf("place call of row %s attempt %d: %w", j.EntryID, j.Attempt, err)
	}

	err = s.Store.Update(ctx, j.BatchID, func(tx Tx) error {
		e, a, ok, err := attemptInFlight(tx, j.EntryID, j.Attempt)
		if err != nil || !ok {
			return err
		}
		if a.SessionID == "" {
			now := s.now()
			a.SessionID, a.UpdatedAt = sessionID, now
			if err := tx.SaveAttempt(a); err != nil {
				return err
			}
			e.LastSessionID, e.UpdatedAt = sessionID, now
			return tx.SaveEntry(e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("link session %s to row %s attempt %d: %w", sessionID, j.EntryID, j.Attempt, err)
	}
	// The call may have ended before the link was written, its call-final job finding no
	// attempt: the end is seen here instead.
	return s.OnCallFinal(ctx, sessionID)
}

// attemptInFlight reads entry entryID and its attempt n when the entry is calling for that
// attempt; ok is false when it has moved on (a job run twice, a settled call).
func attemptInFlight(tx Tx, entryID string, n int) (*campaign.Entry, Attempt, bool, error) {
	e, err := tx.Entry(entryID)
	if errors.Is(err, ErrNotFound) {
		return nil, Attempt{}, false, nil
	}
	if err != nil {
		return nil, Attempt{}, false, err
	}
	if e.Status() != campaign.RowCalling || e.Attempts != n {
		return nil, Attempt{}, false, nil
	}
	a, err := tx.Attempt(e.ID, n)
	if err != nil {
		return nil, Attempt{}, false, err
	}
	if a.Outcome.Valid() {
		return nil, Attempt{}, false, nil
	}
	return e, a, true, nil
}

// release undoes an entry's attempt that never reached create_call, because its batch was
// paused or canceled meanwhile: the entry waits again (or is canceled with the batch).
func release(tx Tx, b *campaign.Batch, e *campaign.Entry, now time.Time) error {
	prev := campaign.RowNotStarted
	if e.Attempts > 1 {
		p, err := tx.Attempt(e.ID, e.Attempts-1)
		if err != nil {
			return err
		}
		prev = p.Outcome
	}
	n := e.Attempts
	e.Release(prev, now)
	if b.Status() == campaign.BatchCanceled {
		if err := e.Cancel("", now); err != nil {
			return err
		}
	}
	if err := tx.DeleteAttempt(e.ID, n); err != nil {
		return err
	}
	return tx.SaveEntry(e)
}

// OnCallFinal settles the entry whose attempt's call is session sessionID: it takes the call's
// outcome, is scheduled for a retry when the batch's policy allows one (at the backoff, moved
// into its call window), and its slot is filled. A session that is no campaign's, has not
// ended, or was settled already changes nothing. It implements the call-final outbox's
// Handler.
func (s *Service) OnCallFinal(ctx context.Context, sessionID string) error {
	a, err := s.Store.AttemptOfSession(ctx, sessionID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sess, err := s.Sessions.Session(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("read session %s: %w", sessionID, err)
	}
	outcome, ended := campaign.OutcomeOf(sess.Status())
	if !ended {
		return nil
	}
	err = s.Store.Update(ctx, a.BatchID, func(tx Tx) error {
		e, att, ok, err := attemptInFlight(tx, a.EntryID, a.N)
		if err != nil || !ok || att.SessionID != sessionID {
			return err
		}
		now := s.now()
		if err := e.Settle(outcome, sess.Detail, now); err != nil {
			return err
		}
		att.Outcome, att.UpdatedAt = outcome, now
		if err := tx.SaveAttempt(att); err != nil {
			return err
		}
		b := tx.Batch()
		if !b.Status().Final() {
			if next, ok := b.Retry.Next(a.N, outcome, now); ok {
				zones, zerr := e.Zones()
				if zerr == nil {
					if at, open := b.Window.NextOpen(next, zones); open {
						e.RetryAt(at, now)
					}
				}
			}
		}
		if err := tx.SaveEntry(e); err != nil {
			return err
		}
		return s.fill(tx, now)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Completions is told about each batch that completed, once its completion has committed. It
// must be idempotent: the campaign_completed job runs again after an error.
type Completions interface {
	OnBatchCompleted(ctx context.Context, b *campaign.Batch, c Counts) error
}

// Completed runs the campaign_completed job: it hands the completed batch and its final
// counts to s.Completions. A batch that is gone or not completed is done.
func (s *Service) Completed(ctx context.Context, j CompletedJob) error {
	if s.Completions == nil {
		return nil
	}
	b, err := s.Store.Batch(ctx, "", j.BatchID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if b.Status() != campaign.BatchCompleted {
		return nil
	}
	c, err := s.Store.Counts(ctx, b.ID)
	if err != nil {
		return err
	}
	return s.Completions.OnBatchCompleted(ctx, b, c)
}
