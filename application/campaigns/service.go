package campaigns

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/campaign"
)

// Service is the batch-calling use cases: HTTP, kupectl and the job workers all call it.
type Service struct {
	Store        Store
	Suppressions SuppressionStore
	Accounts     Accounts
	Placer       Placer
	Sessions     Sessions
	// Now is the clock of windows, start_at and backoff; nil is the system clock.
	Now func() time.Time
	// NewID makes entity ids; nil makes random UUIDs.
	NewID func() string
	// CallStaleAfter is how long a row may be calling before its call counts as lost (the
	// carrier never reported its end): the row fails and frees its slot. Zero is
	// DefaultCallStaleAfter.
	CallStaleAfter time.Duration
	// Completions, when set, hears of each completed batch (the campaign_completed job).
	Completions Completions
}

// DefaultCallStaleAfter is create_call's own bound on an active call (its concurrency cap stops
// counting a session after it).
const DefaultCallStaleAfter = 2 * time.Hour

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return uuid.NewString()
}

// newEntryID is a row's id: time-ordered (UUIDv7), so that rows inserted together, which share
// their created_at, are dialled in the order they were uploaded.
func (s *Service) newEntryID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// Limits of a batch's fields.
const (
	maxNameLen        = 200
	maxDescriptionLen = 2000
)

// CreateBatch is a new batch as the API sends it; strings are raw and validated here.
type CreateBatch struct {
	// UserID is the caller; ForUserID the body's user_id, which must be the caller's own.
	UserID, ForUserID   string
	AgentID, WorkflowID string
	CallerPhoneID       string
	Name, Description   string
	VariableNames       []string
	BatchSize           int // 0: the default
	StartAt             string
	WindowStart         string
	WindowEnd           string
	WindowDays          []string
	HasWindow           bool
	RetryMaxAttempts    int
	RetryOn             []string
	RetryBackoffSeconds int
}

// Create validates and stores a new batch, not started.
func (s *Service) Create(ctx context.Context, c CreateBatch) (*campaign.Batch, error) {
	if c.ForUserID != "" && c.ForUserID != c.UserID {
		return nil, invalidf("user_id must be your own user id, or left out")
	}
	target, err := campaign.NewTarget(strings.TrimSpace(c.AgentID), strings.TrimSpace(c.WorkflowID))
	if err != nil {
		return nil, invalidf("Send exactly one of agent_id and workflow_id")
	}
	name := strings.TrimSpace(c.Name)
	if name == "" || len(name) > maxNameLen {
		return nil, invalidf("batch_name is required, at most %d characters", maxNameLen)
	}
	if len(c.Description) > maxDescriptionLen {
		return nil, invalidf("description is at most %d characters", maxDescriptionLen)
	}
	vars, err := checkVariableNames(c.VariableNames)
	if err != nil {
		return nil, err
	}
	size := c.BatchSize
	if size == 0 {
		size = campaign.DefaultBatchSize
	}
	bs, err := campaign.NewBatchSize(size)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	var startAt time.Time
	if c.StartAt != "" {
		if startAt, err = time.Parse(time.RFC3339, c.StartAt); err != nil {
			return nil, invalidf("start_at must be an RFC 3339 time, like 2027-01-15T09:00:00Z")
		}
	}
	var window campaign.CallWindow
	if c.HasWindow {
		if window, err = campaign.ParseCallWindow(c.WindowStart, c.WindowEnd, c.WindowDays); err != nil {
			return nil, invalidf("call_window: %v", err)
		}
	}
	retry, err := campaign.NewRetryPolicy(c.RetryMaxAttempts, c.RetryOn, c.RetryBackoffSeconds)
	if err != nil {
		return nil, invalidf("retry: %v", err)
	}
	if strings.TrimSpace(c.CallerPhoneID) == "" {
		return nil, invalidf("caller_phone_id is required")
	}
	setup, err := s.Accounts.Setup(ctx, c.UserID, c.CallerPhoneID, target)
	if err != nil {
		return nil, err
	}
	switch {
	case !setup.LineFound:
		return nil, invalidf("caller_phone_id is not one of your phone numbers")
	case !setup.LineActive:
		return nil, invalidf("caller_phone_id is not active")
	case !setup.TargetFound && target.AgentID() != "":
		return nil, invalidf("agent_id is not one of your agents")
	case !setup.TargetFound:
		return nil, invalidf("workflow_id is not one of your workflows")
	case !setup.TargetActive:
		return nil, invalidf("the batch's agent or workflow is not active")
	case bs.Int() > setup.MaxConcurrentCalls:
		return nil, invalidf("batch_size may not exceed your concurrent call limit (%d)", setup.MaxConcurrentCalls)
	}
	now := s.now()
	b := campaign.NewBatch(campaign.Batch{ID: s.newID(), UserID: c.UserID, Name: name, Description: c.Description,
		Target: target, CallerPhoneID: c.CallerPhoneID, Size: bs, VariableNames: vars, StartAt: startAt.UTC(),
		Window: window, Retry: retry}, now)
	if startAt.IsZero() {
		b.StartAt = time.Time{}
	}
	if err := s.Store.CreateBatch(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

func checkVariableNames(names []string) ([]string, error) {
	if len(names) > campaign.MaxVariables {
		return nil, invalidf("variable_names holds at most %d names", campaign.MaxVariables)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		// A recipient with the name as its only variable checks it as uploads will.
		if _, err := campaign.NewRecipient("+14155550123", map[string]string{n: ""}, ""); err != nil || n == "" {
			return nil, invalidf("variable_names: %q is not a valid variable name", truncate(n, campaign.MaxVariableNameLen))
		}
		if seen[n] {
			return nil, invalidf("variable_names: %q is named twice", n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "?") + "..."
}

// Get reads one of the user's batches.
func (s *Service) Get(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	if userID == "" {
		return nil, ErrNotFound
	}
	return s.Store.Batch(ctx, userID, id)
}

// OwnerOf is the user a batch belongs to, for a tool that acts as its owner (kupectl, which
// the operator runs against the database).
func (s *Service) OwnerOf(ctx context.Context, id string) (string, error) {
	b, err := s.Store.Batch(ctx, "", id)
	if err != nil {
		return "", err
	}
	return b.UserID, nil
}

// List returns the user's batches, newest first.
func (s *Service) List(ctx context.Context, userID string) ([]*campaign.Batch, error) {
	return s.Store.ListBatches(ctx, userID)
}

// Status is a batch with its entries counted by status.
func (s *Service) Status(ctx context.Context, userID, id string) (*campaign.Batch, Counts, error) {
	b, err := s.Get(ctx, userID, id)
	if err != nil {
		return nil, Counts{}, err
	}
	c, err := s.Store.Counts(ctx, b.ID)
	return b, c, err
}

// Page bounds of Entries.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Entries returns one page (from 1) of a batch's entries, filtered by status name when given.
func (s *Service) Entries(ctx context.Context, userID, id, status string, page, pageSize int) ([]*campaign.Entry, int, error) {
	b, err := s.Get(ctx, userID, id)
	if err != nil {
		return nil, 0, err
	}
	var st campaign.RowStatus
	if status != "" {
		if st, err = campaign.ParseRowStatus(status); err != nil {
			return nil, 0, invalidf("status must be one of not_started, calling, completed, failed, no_answer, busy, canceled")
		}
	}
	if page == 0 {
		page = 1
	}
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if page < 1 || pageSize < 1 || pageSize > MaxPageSize {
		return nil, 0, invalidf("page must be 1 or more and page_size 1 to %d", MaxPageSize)
	}
	return s.Store.Entries(ctx, b.ID, st, (page-1)*pageSize, pageSize)
}

// Start launches a batch: dialling begins in the background at once, or at its start_at.
func (s *Service) Start(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	return s.change(ctx, userID, id, func(tx Tx, b *campaign.Batch, now time.Time) error {
		if b.Status() != campaign.BatchNotStarted {
			return &campaign.BatchTransitionError{From: b.Status(), To: campaign.BatchInProgress}
		}
		n, err := tx.Unfinished()
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNoRecipients
		}
		if err := b.Start(now); err != nil {
			return err
		}
		return s.wake(tx, b, now)
	})
}

// Pause stops new dials; calls in flight finish.
func (s *Service) Pause(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	return s.change(ctx, userID, id, func(_ Tx, b *campaign.Batch, now time.Time) error {
		return b.Pause("", now)
	})
}

// Resume restarts a paused batch.
func (s *Service) Resume(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	return s.change(ctx, userID, id, func(tx Tx, b *campaign.Batch, now time.Time) error {
		if err := b.Resume(now); err != nil {
			return err
		}
		return s.wake(tx, b, now)
	})
}

// Cancel ends a batch: no entry is dialled again; calls in flight finish.
func (s *Service) Cancel(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	return s.change(ctx, userID, id, func(tx Tx, b *campaign.Batch, now time.Time) error {
		if err := b.Cancel(now); err != nil {
			return err
		}
		_, err := tx.CancelPending(now)
		return err
	})
}

// change applies fn to the user's batch in one transaction and saves it.
func (s *Service) change(ctx context.Context, userID, id string, fn func(tx Tx, b *campaign.Batch, now time.Time) error) (*campaign.Batch, error) {
	if _, err := s.Get(ctx, userID, id); err != nil {
		return nil, err
	}
	var out *campaign.Batch
	err := s.Store.Update(ctx, id, func(tx Tx) error {
		b := tx.Batch()
		if err := fn(tx, b, s.now()); err != nil {
			return err
		}
		out = b
		return tx.SaveBatch(b)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// wake enqueues the tick that starts a started or resumed batch: at once, or at its start_at.
func (s *Service) wake(tx Tx, b *campaign.Batch, now time.Time) error {
	if b.Status() == campaign.BatchScheduled {
		return tx.Enqueue(tickAt(b.ID, b.StartAt, now))
	}
	return tx.Enqueue(Job{Args: TickJob{BatchID: b.ID}})
}

// tickAt is the tick that wakes batchID at at. One a second or more ahead is unique by its
// time, so that the many transactions that ask for the same wake-up insert one; one due sooner
// is not, since the tick that asks for it may be the one that came a moment early, still
// running, which a unique insert would take for its duplicate.
func tickAt(batchID string, at, now time.Time) Job {
	d := at.Sub(now)
	if d < time.Second {
		return Job{Args: TickJob{BatchID: batchID}, Delay: max(d, 0)}
	}
	return Job{Args: TickJob{BatchID: batchID, At: at.Unix()}, Delay: d, Unique: true}
}

// IsConflict reports whether err is a change the batch's or an entry's state does not allow
// (HTTP 409).
func IsConflict(err error) bool {
	var bt *campaign.BatchTransitionError
	var rt *campaign.RowTransitionError
	return errors.As(err, &bt) || errors.As(err, &rt) || errors.Is(err, ErrNotEditable)
}
