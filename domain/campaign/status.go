package campaign

import (
	"fmt"

	"github.com/kupe-voice/kupe/domain/call"
)

// BatchStatus is where a batch is in its life. The zero value is not a status.
//
//	not_started → scheduled (start_at is ahead) | in_progress
//	scheduled   → in_progress | paused | canceled
//	in_progress → paused | completed | canceled
//	paused      → in_progress | scheduled (resumed before start_at) | canceled
//	not_started → canceled
//
// completed and canceled are final.
type BatchStatus uint8

const (
	batchStatusUnknown BatchStatus = iota
	BatchNotStarted
	BatchScheduled
	BatchInProgress
	BatchPaused
	BatchCompleted
	BatchCanceled
)

var batchStatusNames = [...]string{
	BatchNotStarted: "not_started",
	BatchScheduled:  "scheduled",
	BatchInProgress: "in_progress",
	BatchPaused:     "paused",
	BatchCompleted:  "completed",
	BatchCanceled:   "canceled",
}

// batchMoves lists, for each status, the statuses it may move to.
var batchMoves = [...][]BatchStatus{
	BatchNotStarted: {BatchScheduled, BatchInProgress, BatchCanceled},
	BatchScheduled:  {BatchInProgress, BatchPaused, BatchCanceled},
	BatchInProgress: {BatchPaused, BatchCompleted, BatchCanceled},
	BatchPaused:     {BatchInProgress, BatchScheduled, BatchCanceled},
}

// ParseBatchStatus reads a stored or public status name.
func ParseBatchStatus(s string) (BatchStatus, error) {
	for st, name := range batchStatusNames {
		if name != "" && name == s {
			return BatchStatus(st), nil
		}
	}
	return batchStatusUnknown, fmt.Errorf("unknown batch status %q", truncate(s, 32))
}

func (s BatchStatus) String() string {
	if s.Valid() {
		return batchStatusNames[s]
	}
	return fmt.Sprintf("BatchStatus(%d)", uint8(s))
}

// Valid reports whether s is one of the statuses.
func (s BatchStatus) Valid() bool { return s >= BatchNotStarted && s <= BatchCanceled }

// Final reports whether the batch has ended and never changes again.
func (s BatchStatus) Final() bool { return s == BatchCompleted || s == BatchCanceled }

// Running reports whether the batch has been started and not paused or ended: its rows are
// being dialled or wait for start_at.
func (s BatchStatus) Running() bool { return s == BatchScheduled || s == BatchInProgress }

// CanMove reports whether a batch may move from s to next.
func (s BatchStatus) CanMove(next BatchStatus) bool {
	if !s.Valid() || int(s) >= len(batchMoves) {
		return false
	}
	for _, m := range batchMoves[s] {
		if m == next {
			return true
		}
	}
	return false
}

func (s BatchStatus) move(next BatchStatus) (BatchStatus, error) {
	if !s.CanMove(next) {
		return s, &BatchTransitionError{From: s, To: next}
	}
	return next, nil
}

// Start launches a batch that has not started: it is scheduled when its start_at is still
// ahead (startsLater), else in progress.
func (s BatchStatus) Start(startsLater bool) (BatchStatus, error) {
	if s != BatchNotStarted {
		return s, &BatchTransitionError{From: s, To: pick(startsLater, BatchScheduled, BatchInProgress)}
	}
	return s.move(pick(startsLater, BatchScheduled, BatchInProgress))
}

// Begin is start_at arriving: a scheduled batch starts dialling.
func (s BatchStatus) Begin() (BatchStatus, error) {
	if s != BatchScheduled {
		return s, &BatchTransitionError{From: s, To: BatchInProgress}
	}
	return s.move(BatchInProgress)
}

// Pause stops new dials of a scheduled or running batch; calls in flight finish.
func (s BatchStatus) Pause() (BatchStatus, error) { return s.move(BatchPaused) }

// Resume restarts a paused batch: scheduled again when its start_at is still ahead.
func (s BatchStatus) Resume(startsLater bool) (BatchStatus, error) {
	if s != BatchPaused {
		return s, &BatchTransitionError{From: s, To: pick(startsLater, BatchScheduled, BatchInProgress)}
	}
	return s.move(pick(startsLater, BatchScheduled, BatchInProgress))
}

// Complete ends a running batch whose rows have all reached a final status.
func (s BatchStatus) Complete() (BatchStatus, error) { return s.move(BatchCompleted) }

// Cancel ends a batch that has not ended: no row is dialled again, calls in flight finish.
func (s BatchStatus) Cancel() (BatchStatus, error) { return s.move(BatchCanceled) }

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

// BatchTransitionError is a move the batch lifecycle does not allow, such as starting a batch
// that runs already; the HTTP layer answers it with 409.
type BatchTransitionError struct{ From, To BatchStatus }

func (e *BatchTransitionError) Error() string {
	return fmt.Sprintf("batch cannot move from %s to %s", e.From, e.To)
}

// RowStatus is where one recipient of a batch is. The zero value is not a status.
//
//	not_started → calling | canceled
//	calling     → completed | failed | no_answer | busy
//	failed | no_answer | busy → calling (a retry) | canceled
//
// completed and canceled are final; failed, no_answer and busy are final once the retry policy
// allows no further attempt, which the row alone cannot tell.
type RowStatus uint8

const (
	rowStatusUnknown RowStatus = iota
	RowNotStarted
	RowCalling
	RowCompleted
	RowFailed
	RowNoAnswer
	RowBusy
	RowCanceled
)

var rowStatusNames = [...]string{
	RowNotStarted: "not_started",
	RowCalling:    "calling",
	RowCompleted:  "completed",
	RowFailed:     "failed",
	RowNoAnswer:   "no_answer",
	RowBusy:       "busy",
	RowCanceled:   "canceled",
}

// AllRowStatuses lists the row statuses in the order status_counts shows them.
func AllRowStatuses() []RowStatus {
	return []RowStatus{RowNotStarted, RowCalling, RowCompleted, RowFailed, RowNoAnswer, RowBusy, RowCanceled}
}

// ParseRowStatus reads a stored or public row status name.
func ParseRowStatus(s string) (RowStatus, error) {
	for st, name := range rowStatusNames {
		if name != "" && name == s {
			return RowStatus(st), nil
		}
	}
	return rowStatusUnknown, fmt.Errorf("unknown row status %q", truncate(s, 32))
}

func (s RowStatus) String() string {
	if s.Valid() {
		return rowStatusNames[s]
	}
	return fmt.Sprintf("RowStatus(%d)", uint8(s))
}

// Valid reports whether s is one of the statuses.
func (s RowStatus) Valid() bool { return s >= RowNotStarted && s <= RowCanceled }

// Outcome reports whether s is the result of a call: completed, failed, no_answer or busy.
func (s RowStatus) Outcome() bool { return s >= RowCompleted && s <= RowBusy }

// Retryable reports whether a retry policy may dial a row in s again: failed, no_answer, busy.
func (s RowStatus) Retryable() bool { return s == RowFailed || s == RowNoAnswer || s == RowBusy }

// Dial moves a row to calling: its first attempt, or a retry after a retryable outcome.
func (s RowStatus) Dial() (RowStatus, error) {
	if s != RowNotStarted && !s.Retryable() {
		return s, &RowTransitionError{From: s, To: RowCalling}
	}
	return RowCalling, nil
}

// Settle records a call's outcome on a row that is calling.
func (s RowStatus) Settle(outcome RowStatus) (RowStatus, error) {
	if s != RowCalling || !outcome.Outcome() {
		return s, &RowTransitionError{From: s, To: outcome}
	}
	return outcome, nil
}

// Cancel takes a row that is not in a call out of the batch: one that has not been dialled, or
// waits for a retry. A row that is calling finishes its call first.
func (s RowStatus) Cancel() (RowStatus, error) {
	if s != RowNotStarted && !s.Retryable() {
		return s, &RowTransitionError{From: s, To: RowCanceled}
	}
	return RowCanceled, nil
}

// RowTransitionError is a move the row lifecycle does not allow, such as dialling a row that
// is already calling.
type RowTransitionError struct{ From, To RowStatus }

func (e *RowTransitionError) Error() string {
	return fmt.Sprintf("row cannot move from %s to %s", e.From, e.To)
}

// OutcomeOf is the row outcome a finished call session gives: completed, busy, no_answer and
// failed as they are; canceled (the carrier or the service hung up before an answer, not the
// campaign) counts as failed. ok is false for a session that has not ended.
func OutcomeOf(st call.Status) (outcome RowStatus, ok bool) {
	switch st {
	case call.StatusCompleted:
		return RowCompleted, true
	case call.StatusBusy:
		return RowBusy, true
	case call.StatusNoAnswer:
		return RowNoAnswer, true
	case call.StatusFailed, call.StatusCanceled:
		return RowFailed, true
	}
	return rowStatusUnknown, false
}
