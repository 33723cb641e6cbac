// Package campaignstest holds the contract suite of the campaign ports (campaigns.Store and
// campaigns.SuppressionStore). Every implementation runs it: the in-memory store, ent on SQLite
// and ent on PostgreSQL.
package campaignstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// Rig is a store under test, empty.
type Rig struct {
	Store        campaigns.Store
	Suppressions campaigns.SuppressionStore
	// Jobs lists the kinds of the jobs committed transactions enqueued so far, in any order.
	Jobs func(t *testing.T) []string
}

// RunStoreSuite is the acceptance test of the campaign ports.
func RunStoreSuite(t *testing.T, newRig func(t *testing.T) Rig) {
	ctx := context.Background()
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	newBatch := func(t *testing.T, r Rig, userID string) *campaign.Batch {
		t.Helper()
		target, _ := campaign.NewTarget(uuid.NewString(), "")
		size, _ := campaign.NewBatchSize(3)
		retry, _ := campaign.NewRetryPolicy(3, []string{"busy"}, 60)
		b := campaign.NewBatch(campaign.Batch{ID: uuid.NewString(), UserID: userID, Name: "Nov", Description: "d",
			Target: target, CallerPhoneID: uuid.NewString(), Size: size, VariableNames: []string{"name"},
			StartAt: base.Add(time.Hour), Window: campaign.MustParseCallWindow("09:00", "20:00", "mon", "fri"), Retry: retry}, base)
		must(t, r.Store.CreateBatch(ctx, b))
		return b
	}
	entry := func(batchID, to string, at time.Time) *campaign.Entry {
		rcp, err := campaign.NewRecipient(to, map[string]string{"name": "Ada"}, "")
		if err != nil {
			panic(err)
		}
		return campaign.NewEntry(uuid.NewString(), batchID, rcp, at)
	}

	t.Run("batches round trip and are their owner's", func(t *testing.T) {
		r := newRig(t)
		u := uuid.NewString()
		b := newBatch(t, r, u)
		got, err := r.Store.Batch(ctx, u, b.ID)
		must(t, err)
		if got.ID != b.ID || got.Name != "Nov" || got.Description != "d" || got.Status() != campaign.BatchNotStarted ||
			got.Target != b.Target || got.CallerPhoneID != b.CallerPhoneID || got.Size != 3 ||
			!slices.Equal(got.VariableNames, []string{"name"}) || !got.StartAt.Equal(b.StartAt) ||
			got.Window.String() != b.Window.String() || got.Retry.MaxAttempts() != 3 ||
			!slices.Equal(got.Retry.On(), []string{"busy"}) || got.Retry.Backoff() != time.Minute || !got.CreatedAt.Equal(base) {
			t.Fatalf("Batch = %+v (%s), want %+v", got, got.Status(), b)
		}
		if _, err := r.Store.Batch(ctx, uuid.NewString(), b.ID); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("another user's batch: %v, want ErrNotFound", err)
		}
		if _, err := r.Store.Batch(ctx, "", b.ID); err != nil {
			t.Fatalf("a worker's read (no user): %v", err)
		}
		if _, err := r.Store.Batch(ctx, u, uuid.NewString()); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("unknown batch: %v", err)
		}
		later := newBatch(t, r, u)
		_ = newBatch(t, r, uuid.NewString())
		list, err := r.Store.ListBatches(ctx, u)
		must(t, err)
		if len(list) != 2 || !(list[0].ID == later.ID || list[1].ID == later.ID) {
			t.Fatalf("ListBatches = %d batches, want the user's 2", len(list))
		}
		if err := r.Store.Update(ctx, uuid.NewString(), func(campaigns.Tx) error { return nil }); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("Update of an unknown batch: %v", err)
		}
	})

	t.Run("a transaction commits whole or not at all", func(t *testing.T) {
		r := newRig(t)
		b := newBatch(t, r, uuid.NewString())
		boom := errors.New("boom")
		err := r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			bt := tx.Batch()
			must(t, bt.Start(base))
			must(t, tx.SaveBatch(bt))
			must(t, tx.AddEntries([]*campaign.Entry{entry(b.ID, "+14155550101", base)}))
			must(t, tx.Enqueue(campaigns.Job{Args: campaigns.TickJob{BatchID: b.ID}}))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want fn's error", err)
		}
		got, _ := r.Store.Batch(ctx, "", b.ID)
		c, err := r.Store.Counts(ctx, b.ID)
		must(t, err)
		if got.Status() != campaign.BatchNotStarted || c.Total != 0 || len(r.Jobs(t)) != 0 {
			t.Fatalf("after a failed transaction: %s, %d rows, jobs %v", got.Status(), c.Total, r.Jobs(t))
		}
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			bt := tx.Batch()
			must(t, bt.Start(base))
			must(t, tx.SaveBatch(bt))
			must(t, tx.AddEntries([]*campaign.Entry{entry(b.ID, "+14155550101", base)}))
			return tx.Enqueue(campaigns.Job{Args: campaigns.TickJob{BatchID: b.ID}, Delay: time.Hour, Unique: true})
		}))
		got, _ = r.Store.Batch(ctx, "", b.ID)
		c, _ = r.Store.Counts(ctx, b.ID)
		if got.Status() != campaign.BatchScheduled || !got.StartedAt.Equal(base) || c.Total != 1 || !slices.Equal(r.Jobs(t), []string{campaigns.KindTick}) {
			t.Fatalf("after a committed transaction: %s, %d rows, jobs %v", got.Status(), c.Total, r.Jobs(t))
		}
	})

	t.Run("entries: numbers, due order, counts and paging", func(t *testing.T) {
		r := newRig(t)
		b := newBatch(t, r, uuid.NewString())
		now := base.Add(10 * time.Minute)
		var ids []string
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			var es []*campaign.Entry
			for i := range 5 {
				e := entry(b.ID, fmt.Sprintf("+1415555020%d", i), base.Add(time.Duration(i)*time.Second))
				ids = append(ids, e.ID)
				es = append(es, e)
			}
			return tx.AddEntries(es)
		}))
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			known, err := tx.KnownNumbers([]string{"+14155550200", "+14155550299"})
			must(t, err)
			if !known["+14155550200"] || known["+14155550299"] {
				t.Fatalf("KnownNumbers = %v", known)
			}
			// Entry 0 calls, 1 waits until later, 2 came due a minute ago.
			e0, err := tx.Entry(ids[0])
			must(t, err)
			must(t, e0.Dial(now))
			must(t, tx.SaveEntry(e0))
			e1, _ := tx.Entry(ids[1])
			e1.Defer(now.Add(time.Hour), now)
			must(t, tx.SaveEntry(e1))
			e2, _ := tx.Entry(ids[2])
			e2.Defer(now.Add(-time.Minute), now)
			must(t, tx.SaveEntry(e2))
			n, err := tx.Calling()
			must(t, err)
			if n != 1 {
				t.Fatalf("Calling = %d, want 1", n)
			}
			if stale, err := tx.StaleCalling(now, 10); err != nil || len(stale) != 0 {
				t.Fatalf("StaleCalling(since the dial) = %v, %v; want none", stale, err)
			}
			if stale, err := tx.StaleCalling(now.Add(time.Second), 10); err != nil || len(stale) != 1 || stale[0].ID != ids[0] {
				t.Fatalf("StaleCalling(after the dial) = %v, %v; want the calling entry", stale, err)
			}
			due, err := tx.Due(now, 10)
			must(t, err)
			var got []string
			for _, e := range due {
				got = append(got, e.ID)
			}
			if want := []string{ids[2], ids[3], ids[4]}; !slices.Equal(got, want) {
				t.Fatalf("Due = %v, want the one due first, then the untimed oldest first %v", got, want)
			}
			if due, _ := tx.Due(now, 1); len(due) != 1 || due[0].ID != ids[2] {
				t.Fatalf("Due with limit 1 = %v", due)
			}
			at, ok, err := tx.NextDue()
			must(t, err)
			if !ok || !at.Equal(now.Add(-time.Minute)) {
				t.Fatalf("NextDue = %s %v", at, ok)
			}
			if u, _ := tx.Unfinished(); u != 5 {
				t.Fatalf("Unfinished = %d, want 5 (one calling, four pending)", u)
			}
			return nil
		}))
		c, err := r.Store.Counts(ctx, b.ID)
		must(t, err)
		if c.Total != 5 || c.Of(campaign.RowCalling) != 1 || c.Of(campaign.RowNotStarted) != 4 {
			t.Fatalf("Counts = %+v", c)
		}
		page, total, err := r.Store.Entries(ctx, b.ID, 0, 1, 2)
		must(t, err)
		if total != 5 || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] {
			t.Fatalf("Entries page = %d of %d", len(page), total)
		}
		calling, total, err := r.Store.Entries(ctx, b.ID, campaign.RowCalling, 0, 10)
		must(t, err)
		if total != 1 || calling[0].ID != ids[0] || calling[0].Attempts != 1 || calling[0].Variables["name"] != "Ada" {
			t.Fatalf("calling entries = %+v (%d)", calling, total)
		}
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			n, err := tx.CancelPending(now)
			must(t, err)
			if n != 4 {
				t.Fatalf("CancelPending = %d, want 4", n)
			}
			return nil
		}))
		c, _ = r.Store.Counts(ctx, b.ID)
		if c.Of(campaign.RowCanceled) != 4 || c.Of(campaign.RowCalling) != 1 {
			t.Fatalf("after CancelPending: %+v", c)
		}
		other := newBatch(t, r, uuid.NewString())
		must(t, r.Store.Update(ctx, other.ID, func(tx campaigns.Tx) error {
			if _, err := tx.Entry(ids[0]); !errors.Is(err, campaigns.ErrNotFound) {
				t.Fatalf("another batch's entry: %v", err)
			}
			return nil
		}))
	})

	t.Run("attempts and their sessions", func(t *testing.T) {
		r := newRig(t)
		b := newBatch(t, r, uuid.NewString())
		e := entry(b.ID, "+14155550301", base)
		sid := uuid.NewString()
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			must(t, tx.AddEntries([]*campaign.Entry{e}))
			must(t, tx.SaveAttempt(campaigns.Attempt{BatchID: b.ID, EntryID: e.ID, N: 1, CreatedAt: base, UpdatedAt: base}))
			a, err := tx.Attempt(e.ID, 1)
			must(t, err)
			if a.SessionID != "" || a.Outcome.Valid() {
				t.Fatalf("new attempt = %+v", a)
			}
			a.SessionID, a.UpdatedAt = sid, base.Add(time.Second)
			must(t, tx.SaveAttempt(a))
			must(t, tx.SaveAttempt(campaigns.Attempt{BatchID: b.ID, EntryID: e.ID, N: 2, CreatedAt: base, UpdatedAt: base}))
			must(t, tx.DeleteAttempt(e.ID, 2))
			if _, err := tx.Attempt(e.ID, 2); !errors.Is(err, campaigns.ErrNotFound) {
				t.Fatalf("deleted attempt: %v", err)
			}
			return nil
		}))
		a, err := r.Store.AttemptOfSession(ctx, sid)
		must(t, err)
		if a.BatchID != b.ID || a.EntryID != e.ID || a.N != 1 || a.SessionID != sid {
			t.Fatalf("AttemptOfSession = %+v", a)
		}
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			a.Outcome = campaign.RowBusy
			return tx.SaveAttempt(a)
		}))
		a, _ = r.Store.AttemptOfSession(ctx, sid)
		if a.Outcome != campaign.RowBusy {
			t.Fatalf("outcome = %s", a.Outcome)
		}
		if _, err := r.Store.AttemptOfSession(ctx, uuid.NewString()); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("a session of no campaign: %v", err)
		}
	})

	t.Run("do-not-call lists are each user's", func(t *testing.T) {
		r := newRig(t)
		u, other := uuid.NewString(), uuid.NewString()
		n, err := r.Suppressions.AddSuppressions(ctx, u, []string{"+14155550401", "+14155550402"}, base)
		must(t, err)
		if n != 2 {
			t.Fatalf("added %d, want 2", n)
		}
		n, err = r.Suppressions.AddSuppressions(ctx, u, []string{"+14155550402", "+14155550403"}, base.Add(time.Second))
		must(t, err)
		if n != 1 {
			t.Fatalf("added %d again, want only the new one", n)
		}
		list, total, err := r.Suppressions.Suppressions(ctx, u, 0, 2)
		must(t, err)
		if total != 3 || len(list) != 2 || list[0].PhoneNumber != "+14155550403" || !list[0].CreatedAt.Equal(base.Add(time.Second)) {
			t.Fatalf("Suppressions = %+v of %d", list, total)
		}
		got, err := r.Suppressions.Suppressed(ctx, u, []string{"+14155550401", "+14155550499"})
		must(t, err)
		if !got["+14155550401"] || got["+14155550499"] {
			t.Fatalf("Suppressed = %v", got)
		}
		if got, _ := r.Suppressions.Suppressed(ctx, other, []string{"+14155550401"}); got["+14155550401"] {
			t.Fatal("another user's list applies")
		}
		b := newBatch(t, r, u)
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
			got, err := tx.Suppressed([]string{"+14155550402", "+14155550499"})
			must(t, err)
			if !got["+14155550402"] || got["+14155550499"] {
				t.Fatalf("tx.Suppressed = %v", got)
			}
			return nil
		}))
		must(t, r.Suppressions.DeleteSuppression(ctx, u, "+14155550401"))
		if err := r.Suppressions.DeleteSuppression(ctx, u, "+14155550401"); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if err := r.Suppressions.DeleteSuppression(ctx, other, "+14155550402"); !errors.Is(err, campaigns.ErrNotFound) {
			t.Fatalf("another user's delete: %v", err)
		}
	})

	t.Run("transactions on one batch never overlap", func(t *testing.T) {
		// Each transaction reads how many entries call and adds one if fewer than three: run
		// side by side, never more than three may call, as the dialler's slots rely on.
		r := newRig(t)
		b := newBatch(t, r, uuid.NewString())
		var es []*campaign.Entry
		for i := range 20 {
			es = append(es, entry(b.ID, fmt.Sprintf("+141555506%02d", i), base))
		}
		must(t, r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error { return tx.AddEntries(es) }))
		var wg sync.WaitGroup
		errs := make(chan error, len(es))
		for _, e := range es {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- r.Store.Update(ctx, b.ID, func(tx campaigns.Tx) error {
					n, err := tx.Calling()
					if err != nil || n >= 3 {
						return err
					}
					cur, err := tx.Entry(e.ID)
					if err != nil {
						return err
					}
					if err := cur.Dial(base); err != nil {
						return err
					}
					return tx.SaveEntry(cur)
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		c, _ := r.Store.Counts(ctx, b.ID)
		if c.Of(campaign.RowCalling) != 3 {
			t.Fatalf("%d entries calling, want exactly 3", c.Of(campaign.RowCalling))
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
