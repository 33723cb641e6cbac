package createcalltest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// OutboxRig is a session store whose call-final announcements the suite can read: the
// callfinal.Job records of a database store, the OnCallFinal hook of the in-memory one.
type OutboxRig struct {
	Store Store
	// Announced lists the session ids announced so far, one entry per announcement.
	Announced func(t *testing.T) []string
}

// RunCallFinalOutboxSuite is the call-final outbox's acceptance test: every save that moves a
// session into a final status announces it, once, and no other save does.
func RunCallFinalOutboxSuite(t *testing.T, newRig func(t *testing.T) OutboxRig) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	newSession := func(t *testing.T, s Store) *call.Session {
		t.Helper()
		u := newUser(t, s, base)
		line := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderSimulated, Active: true, CreatedAt: base}
		must(t, s.CreateLine(ctx, line))
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID, LineID: line.ID,
			Provider: call.ProviderSimulated, From: line.Number, To: "+919876543210"}, base)
		must(t, s.CreateSession(ctx, cs))
		return cs
	}
	want := func(t *testing.T, r OutboxRig, ids ...string) {
		t.Helper()
		got := slices.Clone(r.Announced(t))
		slices.Sort(got)
		ids = slices.Clone(ids)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Fatalf("announced %v, want %v", got, ids)
		}
	}

	t.Run("a call's life announces its end once", func(t *testing.T) {
		r := newRig(t)
		cs := newSession(t, r.Store)
		must(t, cs.MarkDialed("LEG1", base.Add(time.Second)))
		must(t, r.Store.SaveSession(ctx, cs))
		if _, err := cs.Advance(call.StatusRinging, base.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		must(t, r.Store.SaveSession(ctx, cs))
		want(t, r)
		if _, err := cs.Advance(call.StatusBusy, base.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		must(t, r.Store.SaveSession(ctx, cs))
		want(t, r, cs.ID)
		// A later save of the ended session (its duration, say) announces nothing new.
		cs.Duration = 3 * time.Second
		must(t, r.Store.SaveSession(ctx, cs))
		want(t, r, cs.ID)
	})

	t.Run("a failed dial is announced", func(t *testing.T) {
		r := newRig(t)
		cs := newSession(t, r.Store)
		must(t, cs.MarkFailed("refused", base.Add(time.Second)))
		must(t, r.Store.SaveSession(ctx, cs))
		got, err := r.Store.Session(ctx, cs.ID)
		must(t, err)
		if got.Status() != call.StatusFailed {
			t.Fatalf("stored status %s, want failed", got.Status())
		}
		want(t, r, cs.ID)
	})

	t.Run("a stale save announces nothing", func(t *testing.T) {
		r := newRig(t)
		cs := newSession(t, r.Store)
		stale, err := r.Store.Session(ctx, cs.ID)
		must(t, err)
		must(t, cs.MarkDialed("LEG1", base.Add(time.Second)))
		must(t, r.Store.SaveSession(ctx, cs))
		must(t, stale.MarkFailed("late", base.Add(2*time.Second)))
		if err := r.Store.SaveSession(ctx, stale); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("stale save = %v, want ErrConflict", err)
		}
		want(t, r)
		got, err := r.Store.Session(ctx, cs.ID)
		must(t, err)
		if got.Status() != call.StatusInitiated {
			t.Fatalf("stored status %s after the refused save, want initiated", got.Status())
		}
	})

	t.Run("each session is announced", func(t *testing.T) {
		r := newRig(t)
		var ids []string
		for range 3 {
			cs := newSession(t, r.Store)
			must(t, cs.MarkDialed("LEG", base.Add(time.Second)))
			must(t, r.Store.SaveSession(ctx, cs))
			if _, err := cs.Advance(call.StatusCompleted, base.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			must(t, r.Store.SaveSession(ctx, cs))
			ids = append(ids, cs.ID)
		}
		want(t, r, ids...)
	})
}
