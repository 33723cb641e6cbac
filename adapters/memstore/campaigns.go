package memstore

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Campaigns is campaigns.Store in memory, beside a Store that keeps the do-not-call lists. Update holds one lock
// for its whole transaction and applies its writes only when fn succeeds; the jobs a
// transaction enqueues go to the OnJob hook after it commits. Make one with NewCampaigns.
type Campaigns struct {
	mu       sync.Mutex
	batches  map[string]campaign.Batch
	statuses map[string]campaign.BatchStatus
	entries  map[string]entryRec // by entry id
	attempts map[attemptKey]campaigns.Attempt
	accounts *Store // the do-not-call lists
	onJob    func(campaigns.Job)
}

type entryRec struct {
	e      campaign.Entry
	status campaign.RowStatus
}

type attemptKey struct {
	entryID string
	n       int
}

var (
	_ campaigns.Store            = (*Campaigns)(nil)
	_ campaigns.SuppressionStore = (*Store)(nil)
)

// NewCampaigns returns an empty campaign store whose batches' owners' do-not-call lists are
// those of accounts.
func NewCampaigns(accounts *Store) *Campaigns {
	return &Campaigns{batches: map[string]campaign.Batch{}, statuses: map[string]campaign.BatchStatus{},
		entries: map[string]entryRec{}, attempts: map[attemptKey]campaigns.Attempt{}, accounts: accounts}
}

// OnJob makes the store hand each committed transaction's jobs to fn (a test's queue); without
// it they are dropped. Call it before the store is used.
func (s *Campaigns) OnJob(fn func(campaigns.Job)) { s.onJob = fn }

func (s *Campaigns) batch(id string) *campaign.Batch {
	b := s.batches[id]
	b.VariableNames = slices.Clone(b.VariableNames)
	return campaign.RestoreBatch(b, s.statuses[id])
}

func entryOut(r entryRec) *campaign.Entry {
	e := r.e
	e.Variables = maps.Clone(e.Variables)
	return campaign.RestoreEntry(e, r.status)
}

// CreateBatch implements campaigns.Store.
func (s *Campaigns) CreateBatch(_ context.Context, b *campaign.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.batches[b.ID]; ok {
		return fault.ErrAlreadyExists
	}
	c := *b
	c.VariableNames = slices.Clone(b.VariableNames)
	s.batches[b.ID], s.statuses[b.ID] = c, b.Status()
	return nil
}

// Batch implements campaigns.Store.
func (s *Campaigns) Batch(_ context.Context, userID, id string) (*campaign.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.batches[id]
	if !ok || (userID != "" && b.UserID != userID) {
		return nil, campaigns.ErrNotFound
	}
	return s.batch(id), nil
}

// ListBatches implements campaigns.Store.
func (s *Campaigns) ListBatches(_ context.Context, userID string) ([]*campaign.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*campaign.Batch{}
	for id, b := range s.batches {
		if b.UserID == userID {
			out = append(out, s.batch(id))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// entriesOf lists a batch's entries as view sees them, oldest first.
func entriesOf(view map[string]entryRec, batchID string) []entryRec {
	var out []entryRec
	for _, r := range view {
		if r.e.BatchID == batchID {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].e.CreatedAt.Equal(out[j].e.CreatedAt) {
			return out[i].e.CreatedAt.Before(out[j].e.CreatedAt)
		}
		return out[i].e.ID < out[j].e.ID
	})
	return out
}

// Entries implements campaigns.Store.
func (s *Campaigns) Entries(_ context.Context, batchID string, status campaign.RowStatus, offset, limit int) ([]*campaign.Entry, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*campaign.Entry{}
	total := 0
	for _, r := range entriesOf(s.entries, batchID) {
		if status.Valid() && r.status != status {
			continue
		}
		if total >= offset && len(out) < limit {
			out = append(out, entryOut(r))
		}
		total++
	}
	return out, total, nil
}

// Counts implements campaigns.Store.
func (s *Campaigns) Counts(_ context.Context, batchID string) (campaigns.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := campaigns.Counts{ByStatus: map[campaign.RowStatus]int{}}
	for _, r := range s.entries {
		if r.e.BatchID == batchID {
			c.ByStatus[r.status]++
			c.Total++
		}
	}
	return c, nil
}

// AttemptOfSession implements campaigns.Store.
func (s *Campaigns) AttemptOfSession(_ context.Context, sessionID string) (campaigns.Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.attempts {
		if a.SessionID != "" && a.SessionID == sessionID {
			return a, nil
		}
	}
	return campaigns.Attempt{}, campaigns.ErrNotFound
}

// Update implements campaigns.Store: fn sees the store under its lock and its writes are kept
// only when it returns nil.
func (s *Campaigns) Update(_ context.Context, batchID string, fn func(tx campaigns.Tx) error) error {
	s.mu.Lock()
	if _, ok := s.batches[batchID]; !ok {
		s.mu.Unlock()
		return campaigns.ErrNotFound
	}
	tx := &campaignTx{s: s, b: s.batch(batchID), entries: maps.Clone(s.entries), attempts: maps.Clone(s.attempts)}
	if err := fn(tx); err != nil {
		s.mu.Unlock()
		return err
	}
	if tx.saved != nil {
		c := *tx.saved
		s.batches[batchID], s.statuses[batchID] = c, tx.saved.Status()
	}
	s.entries, s.attempts = tx.entries, tx.attempts
	onJob := s.onJob
	s.mu.Unlock()
	if onJob != nil {
		for _, j := range tx.jobs {
			onJob(j)
		}
	}
	return nil
}

// campaignTx works on copies of the maps, which Update keeps on commit.
type campaignTx struct {
	s        *Campaigns
	b        *campaign.Batch
	saved    *campaign.Batch
	entries  map[string]entryRec
	attempts map[attemptKey]campaigns.Attempt
	jobs     []campaigns.Job
}

func (t *campaignTx) Batch() *campaign.Batch { return t.b }

func (t *campaignTx) SaveBatch(b *campaign.Batch) error {
	c := *b
	c.VariableNames = slices.Clone(b.VariableNames)
	t.saved = &c
	return nil
}

func (t *campaignTx) Entry(id string) (*campaign.Entry, error) {
	r, ok := t.entries[id]
	if !ok || r.e.BatchID != t.b.ID {
		return nil, campaigns.ErrNotFound
	}
	return entryOut(r), nil
}

func (t *campaignTx) SaveEntry(e *campaign.Entry) error {
	r, ok := t.entries[e.ID]
	if !ok || r.e.BatchID != t.b.ID {
		return campaigns.ErrNotFound
	}
	c := *e
	c.Variables = maps.Clone(e.Variables)
	t.entries[e.ID] = entryRec{e: c, status: e.Status()}
	return nil
}

func (t *campaignTx) KnownNumbers(numbers []string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, n := range numbers {
		want[n] = true
	}
	out := map[string]bool{}
	for _, r := range t.entries {
		if r.e.BatchID == t.b.ID && want[r.e.To] {
			out[r.e.To] = true
		}
	}
	return out, nil
}

func (t *campaignTx) AddEntries(es []*campaign.Entry) error {
	numbers := make([]string, len(es))
	for i, e := range es {
		numbers[i] = e.To
	}
	known, _ := t.KnownNumbers(numbers)
	for _, e := range es {
		if _, ok := t.entries[e.ID]; ok || known[e.To] {
			return fault.ErrAlreadyExists
		}
		c := *e
		c.Variables = maps.Clone(e.Variables)
		t.entries[e.ID] = entryRec{e: c, status: e.Status()}
		known[e.To] = true
	}
	return nil
}

func (t *campaignTx) count(f func(entryRec) bool) int {
	n := 0
	for _, r := range t.entries {
		if r.e.BatchID == t.b.ID && f(r) {
			n++
		}
	}
	return n
}

func (t *campaignTx) Calling() (int, error) {
	return t.count(func(r entryRec) bool { return r.status == campaign.RowCalling }), nil
}

func (t *campaignTx) StaleCalling(before time.Time, limit int) ([]*campaign.Entry, error) {
	out := []*campaign.Entry{}
	for _, r := range entriesOf(t.entries, t.b.ID) {
		if r.status == campaign.RowCalling && r.e.UpdatedAt.Before(before) && len(out) < limit {
			out = append(out, entryOut(r))
		}
	}
	return out, nil
}

func (t *campaignTx) Due(now time.Time, limit int) ([]*campaign.Entry, error) {
	var timed, untimed []entryRec
	for _, r := range entriesOf(t.entries, t.b.ID) {
		switch {
		case !r.e.Pending:
		case r.e.NextAttemptAt.IsZero():
			untimed = append(untimed, r)
		case !r.e.NextAttemptAt.After(now):
			timed = append(timed, r)
		}
	}
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].e.NextAttemptAt.Before(timed[j].e.NextAttemptAt) })
	out := []*campaign.Entry{}
	for _, r := range append(timed, untimed...) {
		if len(out) == limit {
			break
		}
		out = append(out, entryOut(r))
	}
	return out, nil
}

func (t *campaignTx) NextDue() (time.Time, bool, error) {
	var at time.Time
	for _, r := range t.entries {
		if r.e.BatchID == t.b.ID && r.e.Pending && !r.e.NextAttemptAt.IsZero() && (at.IsZero() || r.e.NextAttemptAt.Before(at)) {
			at = r.e.NextAttemptAt
		}
	}
	return at, !at.IsZero(), nil
}

func (t *campaignTx) Unfinished() (int, error) {
	return t.count(func(r entryRec) bool { return r.e.Pending || r.status == campaign.RowCalling }), nil
}

func (t *campaignTx) CancelPending(now time.Time) (int, error) {
	n := 0
	for id, r := range t.entries {
		if r.e.BatchID == t.b.ID && r.e.Pending {
			r.status, r.e.Pending, r.e.NextAttemptAt, r.e.UpdatedAt = campaign.RowCanceled, false, time.Time{}, now
			t.entries[id] = r
			n++
		}
	}
	return n, nil
}

func (t *campaignTx) Attempt(entryID string, n int) (campaigns.Attempt, error) {
	a, ok := t.attempts[attemptKey{entryID, n}]
	if !ok || a.BatchID != t.b.ID {
		return campaigns.Attempt{}, campaigns.ErrNotFound
	}
	return a, nil
}

func (t *campaignTx) SaveAttempt(a campaigns.Attempt) error {
	k := attemptKey{a.EntryID, a.N}
	if old, ok := t.attempts[k]; ok {
		a.CreatedAt = old.CreatedAt
	}
	if a.SessionID != "" {
		for ok, o := range t.attempts {
			if ok != k && o.SessionID == a.SessionID {
				return fault.ErrAlreadyExists
			}
		}
	}
	a.BatchID = t.b.ID
	t.attempts[k] = a
	return nil
}

func (t *campaignTx) DeleteAttempt(entryID string, n int) error {
	delete(t.attempts, attemptKey{entryID, n})
	return nil
}

func (t *campaignTx) Suppressed(numbers []string) (map[string]bool, error) {
	return t.s.accounts.Suppressed(context.Background(), t.b.UserID, numbers)
}

func (t *campaignTx) Enqueue(j campaigns.Job) error {
	t.jobs = append(t.jobs, j)
	return nil
}
