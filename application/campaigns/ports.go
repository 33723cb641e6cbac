// Package campaigns is batch calling: campaigns of many recipients, each dialled through the
// same create_call use case as an HTTP request, at most batch_size at once, within each
// recipient's local calling window, retried per the batch's policy, never to a number on the
// user's do-not-call list. Work runs as durable jobs inserted in the transactions of the
// state changes that need them, so a crash, a redelivered job or a second server never dials a
// row twice for the same attempt.
//
// The package depends on no other application package: the ports it needs of create_call and
// of the account store are declared here, and cmd/internal/app adapts them.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// Errors of the campaign use cases.
var (
	// ErrNotFound: no such batch, row or number for the caller (another user's is the same).
	ErrNotFound = errors.New("not found")
	// ErrNoRecipients: a batch is started with no rows.
	ErrNoRecipients = errors.New("the batch has no recipients: upload some first")
	// ErrNotEditable: rows are changed where the batch or the row no longer allows it.
	ErrNotEditable = errors.New("the batch no longer takes these changes")
)

// InvalidError is input that can never succeed as sent (HTTP 400); Detail says what to fix.
type InvalidError struct{ Detail string }

func (e *InvalidError) Error() string { return e.Detail }

func invalidf(format string, args ...any) error {
	return &InvalidError{Detail: fmt.Sprintf(format, args...)}
}

// Store keeps batches with their entries (rows) and attempts: the batch aggregate. Every
// change of a running batch goes through Update, which holds the batch for the length of one
// transaction, across every process on the database.
type Store interface {
	CreateBatch(ctx context.Context, b *campaign.Batch) error
	// Batch reads a batch of userID; another user's batch is ErrNotFound. userID "" reads any
	// (the workers are nobody).
	Batch(ctx context.Context, userID, id string) (*campaign.Batch, error)
	// ListBatches returns the user's batches, newest first.
	ListBatches(ctx context.Context, userID string) ([]*campaign.Batch, error)
	// Entries returns one page of the batch's entries, oldest first, and how many match.
	Entries(ctx context.Context, batchID string, status campaign.RowStatus, offset, limit int) ([]*campaign.Entry, int, error)
	// Counts counts the batch's entries by status.
	Counts(ctx context.Context, batchID string) (Counts, error)
	// AttemptOfSession finds the attempt whose call is session sessionID; ErrNotFound when no
	// attempt has it (the session is no campaign's, or its link is not written yet).
	AttemptOfSession(ctx context.Context, sessionID string) (Attempt, error)
	// Update runs fn in one transaction that holds the batch: changes fn makes through tx and
	// the jobs it enqueues commit together, or not at all when fn fails. ErrNotFound when
	// there is no such batch.
	Update(ctx context.Context, batchID string, fn func(tx Tx) error) error
}

// Tx is one transaction on one batch, handed out by Store.Update. Its methods run in the
// context Update was given.
type Tx interface {
	// Batch is the batch, as read under the transaction's hold.
	Batch() *campaign.Batch
	SaveBatch(b *campaign.Batch) error
	// Entry reads an entry of the batch; ErrNotFound for any other.
	Entry(id string) (*campaign.Entry, error)
	SaveEntry(e *campaign.Entry) error
	// KnownNumbers says which of numbers (E.164) the batch has an entry for.
	KnownNumbers(numbers []string) (map[string]bool, error)
	// AddEntries inserts new entries; their numbers must be new to the batch.
	AddEntries(es []*campaign.Entry) error
	// Calling counts the entries in status calling: the batch's calls in flight.
	Calling() (int, error)
	// StaleCalling returns at most limit entries calling since before (their UpdatedAt): calls
	// whose end was never reported.
	StaleCalling(before time.Time, limit int) ([]*campaign.Entry, error)
	// Due returns at most limit pending entries whose NextAttemptAt is zero or not after now:
	// those with a time first, by NextAttemptAt (retries that came due), then the others,
	// oldest first.
	Due(now time.Time, limit int) ([]*campaign.Entry, error)
	// NextDue is the earliest NextAttemptAt of a pending entry; ok is false when none is
	// pending with a time.
	NextDue() (at time.Time, ok bool, err error)
	// Unfinished counts the entries that are pending or calling.
	Unfinished() (int, error)
	// CancelPending cancels every pending entry and says how many.
	CancelPending(now time.Time) (int, error)
	// Attempt reads the n-th attempt of entry entryID; ErrNotFound when it has none.
	Attempt(entryID string, n int) (Attempt, error)
	// SaveAttempt inserts or updates an attempt (by entry and number).
	SaveAttempt(a Attempt) error
	// DeleteAttempt removes an attempt that never dialled (its entry was released).
	DeleteAttempt(entryID string, n int) error
	// Suppressed says which of numbers are on the batch's user's do-not-call list.
	Suppressed(numbers []string) (map[string]bool, error)
	// Enqueue records a job, inserted with the transaction.
	Enqueue(j Job) error
}

// Attempt is one call of an entry.
type Attempt struct {
	BatchID string
	EntryID string
	N       int
	// SessionID is the call session create_call wrote for the attempt; "" until it has.
	SessionID string
	// Outcome is the entry status the call ended with; zero while it is in flight.
	Outcome   campaign.RowStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Counts are a batch's entries by status.
type Counts struct {
	ByStatus map[campaign.RowStatus]int
	Total    int
}

// Of is the count of one status.
func (c Counts) Of(s campaign.RowStatus) int { return c.ByStatus[s] }

// JobArgs is a job's payload; its Kind picks the worker.
type JobArgs interface{ Kind() string }

// Job is a job to insert with a transaction.
type Job struct {
	Args JobArgs
	// Delay holds the job back (a scheduled wake-up); zero runs it at once.
	Delay time.Duration
	// Unique inserts the job only if no job of its kind with the same arguments is waiting,
	// running or recently completed.
	Unique bool
}

// SuppressionStore keeps each user's do-not-call list.
type SuppressionStore interface {
	// AddSuppressions puts numbers (E.164) on the user's list and says how many were new.
	AddSuppressions(ctx context.Context, userID string, numbers []string, at time.Time) (int, error)
	// Suppressions returns one page of the user's list, newest first, and its length.
	Suppressions(ctx context.Context, userID string, offset, limit int) ([]Suppression, int, error)
	// DeleteSuppression takes a number off the list; ErrNotFound when it is not on it.
	DeleteSuppression(ctx context.Context, userID, number string) error
	// Suppressed says which of numbers are on the user's list.
	Suppressed(ctx context.Context, userID string, numbers []string) (map[string]bool, error)
}

// Suppression is one number on a do-not-call list.
type Suppression struct {
	PhoneNumber string
	CreatedAt   time.Time
}

// Setup is what a new batch needs to know of its owner's account.
type Setup struct {
	// LineActive: the caller line is the user's and active. LineFound: it is the user's.
	LineFound, LineActive bool
	// TargetFound: the agent or workflow is the user's; TargetActive: and active.
	TargetFound, TargetActive bool
	// MaxConcurrentCalls is the user's cap on calls at once.
	MaxConcurrentCalls int
}

// Accounts reads a batch owner's setup.
type Accounts interface {
	Setup(ctx context.Context, userID, lineID string, target campaign.Target) (Setup, error)
}

// PlaceCall is one dial, as create_call takes it.
type PlaceCall struct {
	UserID, To, AgentID, WorkflowID, LineID string
	Variables                               map[string]string
	// IdempotencyKey makes a repeat of the same attempt answer with the first dial's session.
	IdempotencyKey string
}

// Placer is create_call. Its errors say what the dialler does:
//   - *WaitError: the user's own limits (rate, concurrency, line pacing, a dial of the same
//     key in progress): try the same attempt again after a while;
//   - *PauseError: credits or the spend cap: pause the batch;
//   - *RefusedError: this call can never be placed (destination, line, agent): the row fails;
//   - anything else: a fault (the database); the job runs again.
type Placer interface {
	// Place dials and returns the call's session id (also when the dial failed: the session
	// records why). A repeat with the same key returns the first session.
	Place(ctx context.Context, pc PlaceCall) (sessionID string, err error)
}

// WaitError asks to try again after After.
type WaitError struct {
	After  time.Duration
	Reason string
}

func (e *WaitError) Error() string { return "wait " + e.After.String() + ": " + e.Reason }

// PauseError asks to pause the batch with Reason.
type PauseError struct{ Reason string }

func (e *PauseError) Error() string { return "pause: " + e.Reason }

// RefusedError is a call create_call will never place; Reason is the row's error_message.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Sessions reads call sessions, to learn how an attempt's call ended.
type Sessions interface {
	Session(ctx context.Context, id string) (*call.Session, error)
}
