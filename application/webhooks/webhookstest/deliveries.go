package webhookstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/webhooks"
)

// Scheduled is a job a delivery store scheduled, and when it is due.
type Scheduled struct {
	Job webhooks.DeliveryJob
	At  time.Time
}

// DeliveryFixture is one fresh, empty delivery store and a way to see the jobs it scheduled
// (with the job engine its implementation schedules them on).
type DeliveryFixture struct {
	Store     webhooks.DeliveryStore
	Scheduled func(t *testing.T) []Scheduled
}

// NewDelivery is a pending delivery for the suites.
func NewDelivery(agent, user string, n int) webhooks.Delivery {
	at := T0.Add(time.Duration(n) * time.Minute)
	sid := uuid.NewString()
	return webhooks.Delivery{
		ID: uuid.NewString(), WebhookID: fmt.Sprintf("msg_%032x", n+1), AgentID: agent, UserID: user,
		Event: webhooks.EventCallCompleted, SessionID: sid, DedupeKey: "call.completed:" + sid,
		Payload: []byte(fmt.Sprintf(`{"event":"call.completed","n":%d}`, n)), Status: webhooks.StatusPending,
		NextAttemptAt: at, CreatedAt: at, UpdatedAt: at,
	}
}

// RunDeliveryStoreSuite runs the DeliveryStore contract on the fixtures newFixture makes.
func RunDeliveryStoreSuite(t *testing.T, newFixture func(t *testing.T) DeliveryFixture) {
	ctx := context.Background()

	t.Run("EnqueueStoresAndSchedulesOnce", func(t *testing.T) {
		f := newFixture(t)
		d := NewDelivery(uuid.NewString(), uuid.NewString(), 1)
		got, created, err := f.Store.Enqueue(ctx, d)
		if err != nil || !created {
			t.Fatalf("Enqueue: created %v, %v", created, err)
		}
		sameDelivery(t, "Enqueue's answer", got, d)
		read, err := f.Store.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameDelivery(t, "Delivery", read, d)
		jobs := f.Scheduled(t)
		if len(jobs) != 1 || jobs[0].Job != d.Job() || !near(jobs[0].At, d.NextAttemptAt) {
			t.Fatalf("scheduled %+v, want one %+v at %v", jobs, d.Job(), d.NextAttemptAt)
		}

		again := NewDelivery(d.AgentID, d.UserID, 2)
		again.DedupeKey = d.DedupeKey
		got, created, err = f.Store.Enqueue(ctx, again)
		if err != nil || created {
			t.Fatalf("Enqueue of the same key: created %v, %v", created, err)
		}
		sameDelivery(t, "Enqueue of the same key", got, d)
		if _, err := f.Store.Delivery(ctx, again.ID); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
			t.Fatalf("the duplicate was stored: %v", err)
		}
		if jobs := f.Scheduled(t); len(jobs) != 1 {
			t.Fatalf("scheduled after the duplicate: %+v", jobs)
		}
	})

	t.Run("SettledIsNotScheduled", func(t *testing.T) {
		f := newFixture(t)
		d := NewDelivery(uuid.NewString(), uuid.NewString(), 1)
		d.Status, d.NextAttemptAt = webhooks.StatusFailed, time.Time{}
		if _, created, err := f.Store.Enqueue(ctx, d); err != nil || !created {
			t.Fatalf("Enqueue: %v, %v", created, err)
		}
		if jobs := f.Scheduled(t); len(jobs) != 0 {
			t.Fatalf("a failed delivery was scheduled: %+v", jobs)
		}
		read, err := f.Store.Delivery(ctx, d.ID)
		if err != nil || read.Status != webhooks.StatusFailed {
			t.Fatalf("read back: %+v, %v", read, err)
		}
	})

	t.Run("MissingIsNotFound", func(t *testing.T) {
		f := newFixture(t)
		for _, id := range []string{uuid.NewString(), "nope"} {
			if _, err := f.Store.Delivery(ctx, id); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
				t.Fatalf("Delivery(%q): %v", id, err)
			}
		}
		if _, err := f.Store.Replay(ctx, uuid.NewString(), uuid.NewString(), T0); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
			t.Fatalf("Replay of nothing: %v", err)
		}
		err := f.Store.RecordAttempt(ctx, webhooks.DeliveryJob{DeliveryID: uuid.NewString()}, 0,
			webhooks.Attempt{At: T0}, webhooks.Progress{Status: webhooks.StatusFailed})
		if !errors.Is(err, webhooks.ErrStale) {
			t.Fatalf("RecordAttempt of nothing: %v, want ErrStale", err)
		}
	})

	t.Run("AttemptsAdvanceTheDelivery", func(t *testing.T) {
		f := newFixture(t)
		d := NewDelivery(uuid.NewString(), uuid.NewString(), 1)
		mustEnqueue(t, f.Store, d)
		a1 := webhooks.Attempt{At: T0.Add(time.Second), StatusCode: 503, Error: "receiver answered 503"}
		next := T0.Add(11 * time.Second)
		if err := f.Store.RecordAttempt(ctx, d.Job(), 0, a1, webhooks.Progress{Status: webhooks.StatusPending, NextAttemptAt: next}); err != nil {
			t.Fatal(err)
		}
		// The same attempt again (a job run twice) is stale: round 0 is over.
		if err := f.Store.RecordAttempt(ctx, d.Job(), 0, a1, webhooks.Progress{Status: webhooks.StatusFailed}); !errors.Is(err, webhooks.ErrStale) {
			t.Fatalf("a second attempt at round 0: %v, want ErrStale", err)
		}
		got, err := f.Store.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != webhooks.StatusPending || got.Round != 1 || !got.NextAttemptAt.Equal(next) || len(got.Attempts) != 1 || got.Attempts[0] != a1 {
			t.Fatalf("after one attempt: %+v", got)
		}
		a2 := webhooks.Attempt{At: T0.Add(12 * time.Second), Error: "connection refused"}
		if err := f.Store.RecordAttempt(ctx, d.Job(), 1, a2, webhooks.Progress{Status: webhooks.StatusPending, NextAttemptAt: next.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		a3 := webhooks.Attempt{At: T0.Add(time.Minute + 13*time.Second), StatusCode: 204}
		if err := f.Store.RecordAttempt(ctx, d.Job(), 2, a3, webhooks.Progress{Status: webhooks.StatusDelivered}); err != nil {
			t.Fatal(err)
		}
		got, err = f.Store.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != webhooks.StatusDelivered || got.Round != 3 || !got.NextAttemptAt.IsZero() {
			t.Fatalf("delivered: %+v", got)
		}
		if len(got.Attempts) != 3 || got.Attempts[0] != a1 || got.Attempts[1] != a2 || got.Attempts[2] != a3 {
			t.Fatalf("attempts %+v, want the three, oldest first", got.Attempts)
		}
		if got.WebhookID != d.WebhookID || string(got.Payload) != string(d.Payload) {
			t.Fatalf("an attempt changed the message: %+v", got)
		}
		// Settled: nothing more is recorded.
		if err := f.Store.RecordAttempt(ctx, d.Job(), 3, a3, webhooks.Progress{Status: webhooks.StatusFailed}); !errors.Is(err, webhooks.ErrStale) {
			t.Fatalf("an attempt on a delivered delivery: %v, want ErrStale", err)
		}
	})

	t.Run("ReplayRestartsWithTheSameMessage", func(t *testing.T) {
		f := newFixture(t)
		owner := uuid.NewString()
		d := NewDelivery(uuid.NewString(), owner, 1)
		mustEnqueue(t, f.Store, d)
		fail := webhooks.Attempt{At: T0.Add(time.Second), StatusCode: 400, Error: "receiver answered 400"}
		if err := f.Store.RecordAttempt(ctx, d.Job(), 0, fail, webhooks.Progress{Status: webhooks.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Store.Replay(ctx, uuid.NewString(), d.ID, T0.Add(time.Hour)); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
			t.Fatalf("Replay by another user: %v, want ErrDeliveryNotFound", err)
		}
		at := T0.Add(time.Hour)
		got, err := f.Store.Replay(ctx, owner, d.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != webhooks.StatusPending || got.Round != 0 || got.Replays != 1 || !got.NextAttemptAt.Equal(at) ||
			got.WebhookID != d.WebhookID || string(got.Payload) != string(d.Payload) || len(got.Attempts) != 1 {
			t.Fatalf("replayed: %+v", got)
		}
		jobs := f.Scheduled(t)
		if len(jobs) != 2 || jobs[1].Job != (webhooks.DeliveryJob{DeliveryID: d.ID, Replay: 1}) || !near(jobs[1].At, at) {
			t.Fatalf("scheduled %+v, want the first job and one of replay 1 at %v", jobs, at)
		}
		// The first job, should it run late, is stale.
		if err := f.Store.RecordAttempt(ctx, d.Job(), 0, fail, webhooks.Progress{Status: webhooks.StatusFailed}); !errors.Is(err, webhooks.ErrStale) {
			t.Fatalf("an attempt of the job before the replay: %v, want ErrStale", err)
		}
		ok := webhooks.Attempt{At: at.Add(time.Second), StatusCode: 200}
		if err := f.Store.RecordAttempt(ctx, got.Job(), 0, ok, webhooks.Progress{Status: webhooks.StatusDelivered}); err != nil {
			t.Fatal(err)
		}
		got, err = f.Store.Delivery(ctx, d.ID)
		if err != nil || got.Status != webhooks.StatusDelivered || len(got.Attempts) != 2 {
			t.Fatalf("after the replay's attempt: %+v, %v", got, err)
		}
	})

	t.Run("UserDeliveries", func(t *testing.T) {
		f := newFixture(t)
		user, other := uuid.NewString(), uuid.NewString()
		a1, a2 := uuid.NewString(), uuid.NewString()
		var mine []webhooks.Delivery
		for i := range 5 {
			agent := a1
			if i%2 == 1 {
				agent = a2
			}
			d := NewDelivery(agent, user, i)
			mustEnqueue(t, f.Store, d)
			mine = append(mine, d)
		}
		mustEnqueue(t, f.Store, NewDelivery(a1, other, 9))
		// One of a1's is delivered.
		if err := f.Store.RecordAttempt(ctx, mine[2].Job(), 0, webhooks.Attempt{At: T0, StatusCode: 200},
			webhooks.Progress{Status: webhooks.StatusDelivered}); err != nil {
			t.Fatal(err)
		}

		page, total, err := f.Store.UserDeliveries(ctx, user, webhooks.DeliveryFilter{}, 0, 3)
		if err != nil || total != 5 || len(page) != 3 {
			t.Fatalf("first page: %d of %d, %v", len(page), total, err)
		}
		for i, want := range []int{4, 3, 2} {
			if page[i].ID != mine[want].ID {
				t.Fatalf("page[%d] is not delivery %d: newest first", i, want)
			}
		}
		if len(page[2].Attempts) != 1 || page[2].Attempts[0].StatusCode != 200 {
			t.Fatalf("a listed delivery comes without its attempts: %+v", page[2])
		}
		page, total, err = f.Store.UserDeliveries(ctx, user, webhooks.DeliveryFilter{}, 3, 3)
		if err != nil || total != 5 || len(page) != 2 || page[0].ID != mine[1].ID || page[1].ID != mine[0].ID {
			t.Fatalf("second page: %d of %d, %v", len(page), total, err)
		}
		page, total, err = f.Store.UserDeliveries(ctx, user, webhooks.DeliveryFilter{AgentID: a1}, 0, 10)
		if err != nil || total != 3 || len(page) != 3 {
			t.Fatalf("agent a1: %d of %d, %v", len(page), total, err)
		}
		page, total, err = f.Store.UserDeliveries(ctx, user, webhooks.DeliveryFilter{AgentID: a1, Status: webhooks.StatusPending}, 0, 10)
		if err != nil || total != 2 || len(page) != 2 || page[0].ID != mine[4].ID || page[1].ID != mine[0].ID {
			t.Fatalf("agent a1, pending: %d of %d, %v", len(page), total, err)
		}
		page, total, err = f.Store.UserDeliveries(ctx, user, webhooks.DeliveryFilter{Status: webhooks.StatusDelivered}, 0, 10)
		if err != nil || total != 1 || len(page) != 1 || page[0].ID != mine[2].ID {
			t.Fatalf("delivered: %d of %d, %v", len(page), total, err)
		}
		page, total, err = f.Store.UserDeliveries(ctx, uuid.NewString(), webhooks.DeliveryFilter{}, 0, 10)
		if err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("a user without deliveries: %d of %d, %v", len(page), total, err)
		}
	})
}

func mustEnqueue(t *testing.T, s webhooks.DeliveryStore, d webhooks.Delivery) {
	t.Helper()
	if _, created, err := s.Enqueue(context.Background(), d); err != nil || !created {
		t.Fatalf("Enqueue: created %v, %v", created, err)
	}
}

func sameDelivery(t *testing.T, what string, got, want webhooks.Delivery) {
	t.Helper()
	if got.ID != want.ID || got.WebhookID != want.WebhookID || got.AgentID != want.AgentID || got.UserID != want.UserID ||
		got.Event != want.Event || got.SessionID != want.SessionID || got.DedupeKey != want.DedupeKey ||
		string(got.Payload) != string(want.Payload) || got.Status != want.Status || !got.NextAttemptAt.Equal(want.NextAttemptAt) ||
		got.Round != 0 || got.Replays != 0 || len(got.Attempts) != 0 ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// near allows a job engine that keeps its times to the microsecond.
func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}
