package campaign

import (
	"errors"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

// Batch is one campaign: who it calls for (UserID), what its calls run (Target), from which
// line, how many at once (Size), when (StartAt, Window) and how often (Retry). Its status moves
// only through its methods.
type Batch struct {
	ID            string
	UserID        string
	Name          string
	Description   string
	Target        Target
	CallerPhoneID string
	Size          BatchSize
	VariableNames []string
	// StartAt, when set, is the earliest instant any row is dialled.
	StartAt time.Time
	Window  CallWindow
	Retry   RetryPolicy
	// PauseReason says why the service paused the batch (credits, spend cap); "" when the user
	// paused it or it is not paused.
	PauseReason string
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
	UpdatedAt   time.Time

	status BatchStatus
}

// NewBatch returns b as a new batch, not started, made at at.
func NewBatch(b Batch, at time.Time) *Batch {
	b.status = BatchNotStarted
	b.CreatedAt, b.UpdatedAt = at, at
	return &b
}

// RestoreBatch rebuilds a stored batch; only stores call it.
func RestoreBatch(b Batch, status BatchStatus) *Batch {
	b.status = status
	return &b
}

// Status is where the batch is.
func (b *Batch) Status() BatchStatus { return b.status }

func (b *Batch) startsLater(now time.Time) bool { return !b.StartAt.IsZero() && b.StartAt.After(now) }

func (b *Batch) set(st BatchStatus, err error, now time.Time) error {
	if err != nil {
		return err
	}
	b.status = st
	b.UpdatedAt = now
	return nil
}

// Start launches the batch: scheduled while its StartAt is ahead, else in progress.
func (b *Batch) Start(now time.Time) error {
	st, err := b.status.Start(b.startsLater(now))
	if err == nil {
		b.StartedAt = now
	}
	return b.set(st, err, now)
}

// Begin moves a scheduled batch whose StartAt has come to in progress; it reports whether it
// did.
func (b *Batch) Begin(now time.Time) bool {
	if b.status != BatchScheduled || b.startsLater(now) {
		return false
	}
	st, err := b.status.Begin()
	return b.set(st, err, now) == nil
}

// Pause stops new dials. reason is "" for a pause the user asked for.
func (b *Batch) Pause(reason string, now time.Time) error {
	st, err := b.status.Pause()
	if err == nil {
		b.PauseReason = reason
	}
	return b.set(st, err, now)
}

// Resume restarts a paused batch and clears its pause reason.
func (b *Batch) Resume(now time.Time) error {
	st, err := b.status.Resume(b.startsLater(now))
	if err == nil {
		b.PauseReason = ""
	}
	return b.set(st, err, now)
}

// Complete ends a running batch whose rows are all done.
func (b *Batch) Complete(now time.Time) error {
	st, err := b.status.Complete()
	if err == nil {
		b.CompletedAt = now
	}
	return b.set(st, err, now)
}

// Cancel ends the batch: no row is dialled again.
func (b *Batch) Cancel(now time.Time) error {
	st, err := b.status.Cancel()
	if err == nil {
		b.CompletedAt = now
	}
	return b.set(st, err, now)
}

// Entry is one stored recipient of a batch (Kupe's batch_data row): the number, its variables,
// where it is, how many calls it had and when the next is due.
type Entry struct {
	ID        string
	BatchID   string
	To        string // E.164
	Variables map[string]string
	// TimeZone is the zone the upload named, "" when the number's zones apply.
	TimeZone string
	Attempts int
	// LastSessionID is the call session of the latest attempt, once create_call wrote it.
	LastSessionID string
	// Pending says the entry waits for a dial: not started, or due for a retry at
	// NextAttemptAt (zero: as soon as the batch may dial it).
	Pending       bool
	NextAttemptAt time.Time
	// Error says why the latest attempt failed or why the entry was never dialled.
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time

	status RowStatus
}

// NewEntry is a new entry of batchID for the recipient r, not started and pending.
func NewEntry(id, batchID string, r Recipient, at time.Time) *Entry {
	return &Entry{ID: id, BatchID: batchID, To: r.Phone().String(), Variables: r.Variables(), TimeZone: r.TimeZone(),
		Pending: true, CreatedAt: at, UpdatedAt: at, status: RowNotStarted}
}

// RestoreEntry rebuilds a stored entry; only stores call it.
func RestoreEntry(e Entry, status RowStatus) *Entry {
	e.status = status
	return &e
}

// Status is the entry's latest state.
func (e *Entry) Status() RowStatus { return e.status }

// Zones are the time zones the call window must hold in for the entry.
func (e *Entry) Zones() ([]*time.Location, error) {
	p, err := call.ParsePhoneNumber(e.To)
	if err != nil {
		return nil, err
	}
	return RecipientZones(p, e.TimeZone)
}

// ErrNotPending is a dial of an entry that does not wait for one.
var ErrNotPending = errors.New("the row is not waiting for a call")

// Dial takes the entry's next attempt: it is calling, with one attempt more.
func (e *Entry) Dial(now time.Time) error {
	if !e.Pending {
		return ErrNotPending
	}
	st, err := e.status.Dial()
	if err != nil {
		return err
	}
	e.status, e.Attempts, e.Pending, e.NextAttemptAt, e.Error, e.UpdatedAt = st, e.Attempts+1, false, time.Time{}, "", now
	return nil
}

// Release undoes a Dial that never reached create_call (the batch was paused or canceled
// meanwhile): the entry is back to prev, the status it had, pending again.
func (e *Entry) Release(prev RowStatus, now time.Time) {
	if e.status != RowCalling {
		return
	}
	e.status, e.Attempts, e.Pending, e.UpdatedAt = prev, max(0, e.Attempts-1), true, now
}

// Settle records the outcome of the entry's call; reason is kept for the outcomes other than
// completed.
func (e *Entry) Settle(outcome RowStatus, reason string, now time.Time) error {
	st, err := e.status.Settle(outcome)
	if err != nil {
		return err
	}
	e.status, e.Pending, e.UpdatedAt = st, false, now
	if outcome != RowCompleted {
		e.Error = reason
	}
	return nil
}

// RetryAt makes an entry whose call ended with a retryable outcome pending again, due at at.
func (e *Entry) RetryAt(at, now time.Time) {
	if e.status.Retryable() {
		e.Pending, e.NextAttemptAt, e.UpdatedAt = true, at, now
	}
}

// Defer moves a pending entry's next attempt to at (the call window opens then).
func (e *Entry) Defer(at, now time.Time) {
	if e.Pending {
		e.NextAttemptAt, e.UpdatedAt = at, now
	}
}

// Refuse ends an entry that cannot be called at all (its window never opens, create_call
// refuses it): failed with reason, and no longer pending.
func (e *Entry) Refuse(reason string, now time.Time) {
	e.status, e.Pending, e.NextAttemptAt, e.Error, e.UpdatedAt = RowFailed, false, time.Time{}, reason, now
}

// Cancel takes an entry that is not in a call out of the batch, with reason ("" for the
// batch's cancel).
func (e *Entry) Cancel(reason string, now time.Time) error {
	st, err := e.status.Cancel()
	if err != nil {
		return err
	}
	e.status, e.Pending, e.NextAttemptAt, e.UpdatedAt = st, false, time.Time{}, now
	if reason != "" {
		e.Error = reason
	}
	return nil
}
