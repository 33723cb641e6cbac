package entstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/batchattempt"
	"github.com/kupe-voice/kupe/ent/batchrow"
	"github.com/kupe-voice/kupe/ent/callbatch"
	"github.com/kupe-voice/kupe/ent/suppression"
)

// The campaign store: batches with their rows and attempts (application/campaigns.Store) and
// the do-not-call lists (campaigns.SuppressionStore).

var (
	_ campaigns.Store            = (*Store)(nil)
	_ campaigns.SuppressionStore = (*Store)(nil)
)

// campErr is storeErr with the campaign use cases' not-found.
func campErr(op string, err error) error {
	if ent.IsNotFound(err) {
		return campaigns.ErrNotFound
	}
	err = storeErr(op, err)
	if errors.Is(err, fault.ErrNotFound) {
		return campaigns.ErrNotFound
	}
	return err
}

// lockBatchQuery holds a batch for the rest of a PostgreSQL transaction: every change of a
// batch's rows runs under it, so two processes never fill the same slots. SQLite's
// transactions hold the database's one write lock from BEGIN instead (_txlock=immediate).
const lockBatchQuery = `SELECT 1 FROM call_batches WHERE id = $1 FOR UPDATE`

// CreateBatch implements campaigns.Store.
func (s *Store) CreateBatch(ctx context.Context, b *campaign.Batch) error {
	id, err := requireID("batch", b.ID)
	if err != nil {
		return err
	}
	uid, err := requireID("user", b.UserID)
	if err != nil {
		return err
	}
	line, err := optionalID(b.CallerPhoneID)
	if err != nil || line == nil {
		return campaigns.ErrNotFound
	}
	c := s.client.CallBatch.Create().SetID(id).SetUserID(uid).SetCreatedAt(b.CreatedAt.UTC()).SetCallerPhoneID(*line)
	if err := setBatch(c.Mutation(), b); err != nil {
		return err
	}
	return campErr("create batch", c.Exec(ctx))
}

func setBatch(m *ent.CallBatchMutation, b *campaign.Batch) error {
	agent, err := optionalID(b.Target.AgentID())
	if err != nil {
		return campaigns.ErrNotFound
	}
	workflow, err := optionalID(b.Target.WorkflowID())
	if err != nil {
		return campaigns.ErrNotFound
	}
	setOrClear(agent, m.SetAgentID, m.ClearAgentID)
	setOrClear(workflow, m.SetWorkflowID, m.ClearWorkflowID)
	m.SetName(b.Name)
	m.SetDescription(b.Description)
	m.SetStatus(b.Status().String())
	m.SetBatchSize(b.Size.Int())
	m.SetVariableNames(b.VariableNames)
	setOrClear(optionalTime(b.StartAt), m.SetStartAt, m.ClearStartAt)
	m.SetWindowStart(b.Window.Start())
	m.SetWindowEnd(b.Window.End())
	m.SetWindowDays(b.Window.Days())
	m.SetRetryMaxAttempts(b.Retry.MaxAttempts())
	m.SetRetryOn(b.Retry.On())
	m.SetRetryBackoffSeconds(int(b.Retry.Backoff() / time.Second))
	m.SetPauseReason(b.PauseReason)
	setOrClear(optionalTime(b.StartedAt), m.SetStartedAt, m.ClearStartedAt)
	setOrClear(optionalTime(b.CompletedAt), m.SetCompletedAt, m.ClearCompletedAt)
	m.SetUpdatedAt(b.UpdatedAt.UTC())
	return nil
}

func batchOf(e *ent.CallBatch) (*campaign.Batch, error) {
	st, err := campaign.ParseBatchStatus(e.Status)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", e.ID, err)
	}
	target, err := campaign.NewTarget(idString(e.AgentID), idString(e.WorkflowID))
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", e.ID, err)
	}
	var w campaign.CallWindow
	if e.WindowStart != "" {
		if w, err = campaign.ParseCallWindow(e.WindowStart, e.WindowEnd, e.WindowDays); err != nil {
			return nil, fmt.Errorf("batch %s: %w", e.ID, err)
		}
	}
	retry, err := campaign.NewRetryPolicy(e.RetryMaxAttempts, e.RetryOn, e.RetryBackoffSeconds)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", e.ID, err)
	}
	size, err := campaign.NewBatchSize(e.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", e.ID, err)
	}
	return campaign.RestoreBatch(campaign.Batch{
		ID: e.ID.String(), UserID: e.UserID.String(), Name: e.Name, Description: e.Description, Target: target,
		CallerPhoneID: e.CallerPhoneID.String(), Size: size, VariableNames: e.VariableNames, StartAt: timeOf(e.StartAt),
		Window: w, Retry: retry, PauseReason: e.PauseReason, CreatedAt: e.CreatedAt.UTC(), StartedAt: timeOf(e.StartedAt),
		CompletedAt: timeOf(e.CompletedAt), UpdatedAt: e.UpdatedAt.UTC(),
	}, st), nil
}

// Batch implements campaigns.Store.
func (s *Store) Batch(ctx context.Context, userID, id string) (*campaign.Batch, error) {
	bid, ok := parseID(id)
	if !ok {
		return nil, campaigns.ErrNotFound
	}
	q := s.client.CallBatch.Query().Where(callbatch.ID(bid))
	if userID != "" {
		uid, ok := parseID(userID)
		if !ok {
			return nil, campaigns.ErrNotFound
		}
		q = q.Where(callbatch.UserID(uid))
	}
	e, err := q.Only(ctx)
	if err != nil {
		return nil, campErr("read batch", err)
	}
	return batchOf(e)
}

// ListBatches implements campaigns.Store.
func (s *Store) ListBatches(ctx context.Context, userID string) ([]*campaign.Batch, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []*campaign.Batch{}, nil
	}
	rows, err := s.client.CallBatch.Query().Where(callbatch.UserID(uid)).
		Order(ent.Desc(callbatch.FieldCreatedAt), ent.Desc(callbatch.FieldID)).All(ctx)
	if err != nil {
		return nil, campErr("list batches", err)
	}
	out := make([]*campaign.Batch, 0, len(rows))
	for _, e := range rows {
		b, err := batchOf(e)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func entryOf(e *ent.BatchRow) (*campaign.Entry, error) {
	st, err := campaign.ParseRowStatus(e.Status)
	if err != nil {
		return nil, fmt.Errorf("batch row %s: %w", e.ID, err)
	}
	return campaign.RestoreEntry(campaign.Entry{
		ID: e.ID.String(), BatchID: e.BatchID.String(), To: e.ToNumber, Variables: e.VariableValues, TimeZone: e.Timezone,
		Attempts: e.Attempts, LastSessionID: idString(e.LastCallSessionID), Pending: e.Pending,
		NextAttemptAt: timeOf(e.NextAttemptAt), Error: e.ErrorMessage, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}, st), nil
}

func entriesOf(rows []*ent.BatchRow) ([]*campaign.Entry, error) {
	out := make([]*campaign.Entry, 0, len(rows))
	for _, r := range rows {
		e, err := entryOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Entries implements campaigns.Store.
func (s *Store) Entries(ctx context.Context, batchID string, status campaign.RowStatus, offset, limit int) ([]*campaign.Entry, int, error) {
	bid, ok := parseID(batchID)
	if !ok || limit <= 0 {
		return []*campaign.Entry{}, 0, nil
	}
	q := s.client.BatchRow.Query().Where(batchrow.BatchID(bid))
	if status.Valid() {
		q = q.Where(batchrow.Status(status.String()))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, campErr("count batch rows", err)
	}
	if offset >= total {
		return []*campaign.Entry{}, total, nil
	}
	rows, err := q.Order(ent.Asc(batchrow.FieldCreatedAt), ent.Asc(batchrow.FieldID)).Offset(max(offset, 0)).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, campErr("list batch rows", err)
	}
	out, err := entriesOf(rows)
	return out, total, err
}

// Counts implements campaigns.Store: one GROUP BY.
func (s *Store) Counts(ctx context.Context, batchID string) (campaigns.Counts, error) {
	c := campaigns.Counts{ByStatus: map[campaign.RowStatus]int{}}
	bid, ok := parseID(batchID)
	if !ok {
		return c, nil
	}
	var v []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
	err := s.client.BatchRow.Query().Where(batchrow.BatchID(bid)).
		GroupBy(batchrow.FieldStatus).Aggregate(ent.Count()).Scan(ctx, &v)
	if err != nil {
		return c, campErr("count batch rows", err)
	}
	for _, x := range v {
		st, err := campaign.ParseRowStatus(x.Status)
		if err != nil {
			return c, fmt.Errorf("count batch rows: %w", err)
		}
		c.ByStatus[st] += x.Count
		c.Total += x.Count
	}
	return c, nil
}

func attemptOf(e *ent.BatchAttempt) (campaigns.Attempt, error) {
	a := campaigns.Attempt{BatchID: e.BatchID.String(), EntryID: e.RowID.String(), N: e.Attempt,
		SessionID: idString(e.CallSessionID), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	if e.Outcome != "" {
		st, err := campaign.ParseRowStatus(e.Outcome)
		if err != nil {
			return a, fmt.Errorf("attempt %s: %w", e.ID, err)
		}
		a.Outcome = st
	}
	return a, nil
}

// AttemptOfSession implements campaigns.Store: one indexed read.
func (s *Store) AttemptOfSession(ctx context.Context, sessionID string) (campaigns.Attempt, error) {
	sid, ok := parseID(sessionID)
	if !ok {
		return campaigns.Attempt{}, campaigns.ErrNotFound
	}
	e, err := s.client.BatchAttempt.Query().Where(batchattempt.CallSessionID(sid)).Only(ctx)
	if err != nil {
		return campaigns.Attempt{}, campErr("read attempt", err)
	}
	return attemptOf(e)
}

// Update implements campaigns.Store: one transaction, holding the batch's row on PostgreSQL.
func (s *Store) Update(ctx context.Context, batchID string, fn func(tx campaigns.Tx) error) error {
	bid, ok := parseID(batchID)
	if !ok {
		return campaigns.ErrNotFound
	}
	return s.withTx(ctx, "update batch", func(tx dialect.Tx, client *ent.Client) error {
		if s.name == Postgres {
			if err := queryOne(ctx, tx, lockBatchQuery, []any{bid.String()}, new(int)); err != nil {
				if errors.Is(err, fault.ErrNotFound) {
					return campaigns.ErrNotFound
				}
				return storeErr("lock batch", err)
			}
		}
		e, err := client.CallBatch.Get(ctx, bid)
		if err != nil {
			return campErr("read batch", err)
		}
		b, err := batchOf(e)
		if err != nil {
			return err
		}
		return fn(&batchTx{ctx: ctx, s: s, tx: tx, client: client, batch: b, id: bid, userID: e.UserID})
	})
}

// batchTx is campaigns.Tx on one entstore transaction.
type batchTx struct {
	ctx    context.Context
	s      *Store
	tx     dialect.Tx
	client *ent.Client
	batch  *campaign.Batch
	id     uuid.UUID
	userID uuid.UUID
}

func (t *batchTx) Batch() *campaign.Batch { return t.batch }

func (t *batchTx) SaveBatch(b *campaign.Batch) error {
	u := t.client.CallBatch.UpdateOneID(t.id)
	if err := setBatch(u.Mutation(), b); err != nil {
		return err
	}
	return campErr("save batch", u.Exec(t.ctx))
}

func (t *batchTx) Entry(id string) (*campaign.Entry, error) {
	rid, ok := parseID(id)
	if !ok {
		return nil, campaigns.ErrNotFound
	}
	e, err := t.client.BatchRow.Query().Where(batchrow.ID(rid), batchrow.BatchID(t.id)).Only(t.ctx)
	if err != nil {
		return nil, campErr("read batch row", err)
	}
	return entryOf(e)
}

func setEntry(m *ent.BatchRowMutation, e *campaign.Entry) error {
	last, err := optionalID(e.LastSessionID)
	if err != nil {
		return err
	}
	m.SetToNumber(e.To)
	if len(e.Variables) > 0 {
		m.SetVariableValues(e.Variables)
	} else {
		m.ClearVariableValues()
	}
	m.SetTimezone(e.TimeZone)
	m.SetStatus(e.Status().String())
	m.SetAttempts(e.Attempts)
	setOrClear(last, m.SetLastCallSessionID, m.ClearLastCallSessionID)
	m.SetPending(e.Pending)
	setOrClear(optionalTime(e.NextAttemptAt), m.SetNextAttemptAt, m.ClearNextAttemptAt)
	m.SetErrorMessage(e.Error)
	m.SetUpdatedAt(e.UpdatedAt.UTC())
	return nil
}

func (t *batchTx) SaveEntry(e *campaign.Entry) error {
	rid, ok := parseID(e.ID)
	if !ok {
		return campaigns.ErrNotFound
	}
	u := t.client.BatchRow.Update().Where(batchrow.ID(rid), batchrow.BatchID(t.id))
	if err := setEntry(u.Mutation(), e); err != nil {
		return err
	}
	n, err := u.Save(t.ctx)
	if err != nil {
		return campErr("save batch row", err)
	}
	if n == 0 {
		return campaigns.ErrNotFound
	}
	return nil
}

// inChunks bounds the parameters of an IN list.
const inChunk = 500

func (t *batchTx) KnownNumbers(numbers []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(numbers); start += inChunk {
		part := numbers[start:min(start+inChunk, len(numbers))]
		found, err := t.client.BatchRow.Query().Where(batchrow.BatchID(t.id), batchrow.ToNumberIn(part...)).
			Select(batchrow.FieldToNumber).Strings(t.ctx)
		if err != nil {
			return nil, campErr("read batch numbers", err)
		}
		for _, n := range found {
			out[n] = true
		}
	}
	return out, nil
}

func (t *batchTx) AddEntries(es []*campaign.Entry) error {
	for start := 0; start < len(es); start += inChunk {
		part := es[start:min(start+inChunk, len(es))]
		creates := make([]*ent.BatchRowCreate, 0, len(part))
		for _, e := range part {
			rid, err := requireID("batch row", e.ID)
			if err != nil {
				return err
			}
			c := t.client.BatchRow.Create().SetID(rid).SetBatchID(t.id).SetCreatedAt(e.CreatedAt.UTC())
			if err := setEntry(c.Mutation(), e); err != nil {
				return err
			}
			creates = append(creates, c)
		}
		if err := t.client.BatchRow.CreateBulk(creates...).Exec(t.ctx); err != nil {
			return campErr("add batch rows", err)
		}
	}
	return nil
}

func (t *batchTx) Calling() (int, error) {
	n, err := t.client.BatchRow.Query().Where(batchrow.BatchID(t.id), batchrow.Status(campaign.RowCalling.String())).Count(t.ctx)
	return n, campErr("count calls in flight", err)
}

func (t *batchTx) StaleCalling(before time.Time, limit int) ([]*campaign.Entry, error) {
	rows, err := t.client.BatchRow.Query().
		Where(batchrow.BatchID(t.id), batchrow.Status(campaign.RowCalling.String()), batchrow.UpdatedAtLT(before.UTC())).
		Order(ent.Asc(batchrow.FieldUpdatedAt)).Limit(limit).All(t.ctx)
	if err != nil {
		return nil, campErr("read stale calls", err)
	}
	return entriesOf(rows)
}

func (t *batchTx) Due(now time.Time, limit int) ([]*campaign.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	timed, err := t.client.BatchRow.Query().
		Where(batchrow.BatchID(t.id), batchrow.Pending(true), batchrow.NextAttemptAtLTE(now.UTC())).
		Order(ent.Asc(batchrow.FieldNextAttemptAt), ent.Asc(batchrow.FieldCreatedAt), ent.Asc(batchrow.FieldID)).
		Limit(limit).All(t.ctx)
	if err != nil {
		return nil, campErr("read due rows", err)
	}
	rows := timed
	if len(rows) < limit {
		untimed, err := t.client.BatchRow.Query().
			Where(batchrow.BatchID(t.id), batchrow.Pending(true), batchrow.NextAttemptAtIsNil()).
			Order(ent.Asc(batchrow.FieldCreatedAt), ent.Asc(batchrow.FieldID)).
			Limit(limit - len(rows)).All(t.ctx)
		if err != nil {
			return nil, campErr("read due rows", err)
		}
		rows = append(rows, untimed...)
	}
	return entriesOf(rows)
}

func (t *batchTx) NextDue() (time.Time, bool, error) {
	e, err := t.client.BatchRow.Query().
		Where(batchrow.BatchID(t.id), batchrow.Pending(true), batchrow.NextAttemptAtNotNil()).
		Order(ent.Asc(batchrow.FieldNextAttemptAt)).First(t.ctx)
	if ent.IsNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, campErr("read next due row", err)
	}
	return timeOf(e.NextAttemptAt), true, nil
}

func (t *batchTx) Unfinished() (int, error) {
	n, err := t.client.BatchRow.Query().Where(batchrow.BatchID(t.id),
		batchrow.Or(batchrow.Pending(true), batchrow.Status(campaign.RowCalling.String()))).Count(t.ctx)
	return n, campErr("count unfinished rows", err)
}

func (t *batchTx) CancelPending(now time.Time) (int, error) {
	n, err := t.client.BatchRow.Update().Where(batchrow.BatchID(t.id), batchrow.Pending(true)).
		SetStatus(campaign.RowCanceled.String()).SetPending(false).ClearNextAttemptAt().SetUpdatedAt(now.UTC()).
		Save(t.ctx)
	return n, campErr("cancel pending rows", err)
}

func (t *batchTx) Attempt(entryID string, n int) (campaigns.Attempt, error) {
	rid, ok := parseID(entryID)
	if !ok {
		return campaigns.Attempt{}, campaigns.ErrNotFound
	}
	e, err := t.client.BatchAttempt.Query().Where(batchattempt.RowID(rid), batchattempt.Attempt(n)).Only(t.ctx)
	if err != nil {
		return campaigns.Attempt{}, campErr("read attempt", err)
	}
	return attemptOf(e)
}

func (t *batchTx) SaveAttempt(a campaigns.Attempt) error {
	rid, ok := parseID(a.EntryID)
	if !ok {
		return campaigns.ErrNotFound
	}
	sid, err := optionalID(a.SessionID)
	if err != nil {
		return err
	}
	outcome := ""
	if a.Outcome.Valid() {
		outcome = a.Outcome.String()
	}
	u := t.client.BatchAttempt.Update().Where(batchattempt.RowID(rid), batchattempt.Attempt(a.N)).
		SetOutcome(outcome).SetUpdatedAt(a.UpdatedAt.UTC())
	setOrClear(sid, u.Mutation().SetCallSessionID, u.Mutation().ClearCallSessionID)
	n, err := u.Save(t.ctx)
	if err != nil {
		return campErr("save attempt", err)
	}
	if n > 0 {
		return nil
	}
	c := t.client.BatchAttempt.Create().SetRowID(rid).SetBatchID(t.id).SetAttempt(a.N).SetOutcome(outcome).
		SetCreatedAt(a.CreatedAt.UTC()).SetUpdatedAt(a.UpdatedAt.UTC()).SetNillableCallSessionID(sid)
	return campErr("add attempt", c.Exec(t.ctx))
}

func (t *batchTx) DeleteAttempt(entryID string, n int) error {
	rid, ok := parseID(entryID)
	if !ok {
		return campaigns.ErrNotFound
	}
	_, err := t.client.BatchAttempt.Delete().Where(batchattempt.RowID(rid), batchattempt.Attempt(n)).Exec(t.ctx)
	return campErr("delete attempt", err)
}

func (t *batchTx) Suppressed(numbers []string) (map[string]bool, error) {
	return suppressed(t.ctx, t.client, t.userID, numbers)
}

func (t *batchTx) Enqueue(j campaigns.Job) error {
	if t.s.jobs == nil {
		return errors.New("entstore: no job queue to record a campaign job in (Store.UseJobs)")
	}
	opts := &jobqueue.InsertOpts{Unique: j.Unique}
	if j.Delay > 0 {
		opts.ScheduledAt = time.Now().Add(j.Delay)
	}
	return t.s.insertJob(t.ctx, t.tx, j.Args, opts)
}

func suppressed(ctx context.Context, client *ent.Client, uid uuid.UUID, numbers []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(numbers); start += inChunk {
		part := numbers[start:min(start+inChunk, len(numbers))]
		found, err := client.Suppression.Query().Where(suppression.UserID(uid), suppression.PhoneNumberIn(part...)).
			Select(suppression.FieldPhoneNumber).Strings(ctx)
		if err != nil {
			return nil, campErr("read do-not-call list", err)
		}
		for _, n := range found {
			out[n] = true
		}
	}
	return out, nil
}

// AddSuppressions implements campaigns.SuppressionStore in one transaction.
func (s *Store) AddSuppressions(ctx context.Context, userID string, numbers []string, at time.Time) (int, error) {
	uid, ok := parseID(userID)
	if !ok {
		return 0, campaigns.ErrNotFound
	}
	added := 0
	err := s.withTx(ctx, "add to do-not-call list", func(_ dialect.Tx, client *ent.Client) error {
		have, err := suppressed(ctx, client, uid, numbers)
		if err != nil {
			return err
		}
		var creates []*ent.SuppressionCreate
		for _, n := range numbers {
			if !have[n] {
				have[n] = true
				creates = append(creates, client.Suppression.Create().SetUserID(uid).SetPhoneNumber(n).SetCreatedAt(at.UTC()))
			}
		}
		for start := 0; start < len(creates); start += inChunk {
			if err := client.Suppression.CreateBulk(creates[start:min(start+inChunk, len(creates))]...).Exec(ctx); err != nil {
				return campErr("add to do-not-call list", err)
			}
		}
		added = len(creates)
		return nil
	})
	return added, err
}

// Suppressions implements campaigns.SuppressionStore.
func (s *Store) Suppressions(ctx context.Context, userID string, offset, limit int) ([]campaigns.Suppression, int, error) {
	uid, ok := parseID(userID)
	if !ok || limit <= 0 {
		return []campaigns.Suppression{}, 0, nil
	}
	q := s.client.Suppression.Query().Where(suppression.UserID(uid))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, campErr("count do-not-call list", err)
	}
	rows, err := q.Order(ent.Desc(suppression.FieldCreatedAt), ent.Asc(suppression.FieldPhoneNumber)).
		Offset(max(offset, 0)).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, campErr("read do-not-call list", err)
	}
	out := make([]campaigns.Suppression, 0, len(rows))
	for _, r := range rows {
		out = append(out, campaigns.Suppression{PhoneNumber: r.PhoneNumber, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, total, nil
}

// DeleteSuppression implements campaigns.SuppressionStore.
func (s *Store) DeleteSuppression(ctx context.Context, userID, number string) error {
	uid, ok := parseID(userID)
	if !ok {
		return campaigns.ErrNotFound
	}
	n, err := s.client.Suppression.Delete().Where(suppression.UserID(uid), suppression.PhoneNumber(number)).Exec(ctx)
	if err != nil {
		return campErr("delete from do-not-call list", err)
	}
	if n == 0 {
		return campaigns.ErrNotFound
	}
	return nil
}

// Suppressed implements campaigns.SuppressionStore.
func (s *Store) Suppressed(ctx context.Context, userID string, numbers []string) (map[string]bool, error) {
	uid, ok := parseID(userID)
	if !ok {
		return map[string]bool{}, nil
	}
	return suppressed(ctx, s.client, uid, numbers)
}
