package createcalltest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
)

// RunStaleSessionSuite is the acceptance test of createcall.CallStore.StaleDialingSessions, for
// the reconciler. newStore returns an empty store.
func RunStaleSessionSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)
	session := func(t *testing.T, s Store, userID string, at time.Time) *call.Session {
		t.Helper()
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
			Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, at)
		must(t, s.CreateSession(ctx, cs))
		return cs
	}
	ids := func(ss []*call.Session) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.ID
		}
		return out
	}

	t.Run("only dialing sessions older than the cutoff, oldest first, across users", func(t *testing.T) {
		s := newStore(t)
		u, other := newUser(t, s, base), newUser(t, s, base)
		oldest := session(t, s, other.ID, base)
		old := session(t, s, u.ID, base.Add(time.Second))
		fresh := session(t, s, u.ID, base.Add(10*time.Minute))
		atCutoff := session(t, s, u.ID, base.Add(5*time.Minute))
		dialed := session(t, s, u.ID, base.Add(2*time.Second))
		must(t, dialed.MarkDialed("LEG1", base.Add(3*time.Second)))
		must(t, s.SaveSession(ctx, dialed))
		failed := session(t, s, u.ID, base.Add(2*time.Second))
		must(t, failed.MarkFailed("refused", base.Add(3*time.Second)))
		must(t, s.SaveSession(ctx, failed))
		// A session whose dial outcome was unknown is still dialing: it is stale too.
		unknown := session(t, s, u.ID, base.Add(4*time.Second))
		unknown.NoteUnknownOutcome("timeout", base.Add(30*time.Second))
		must(t, s.SaveSession(ctx, unknown))

		got, err := s.StaleDialingSessions(ctx, base.Add(5*time.Minute), 10)
		must(t, err)
		want := []string{oldest.ID, old.ID, unknown.ID}
		if g := ids(got); len(g) != len(want) || g[0] != want[0] || g[1] != want[1] || g[2] != want[2] {
			t.Fatalf("stale sessions = %v, want %v (not %s at the cutoff, nor fresh %s)", g, want, atCutoff.ID, fresh.ID)
		}
		first := got[0]
		if first.Status() != call.StatusDialing || first.UserID != other.ID || first.Version() != oldest.Version() ||
			!first.CreatedAt.Equal(base) || first.To != "+14155550124" || first.Provider != call.ProviderSimulated {
			t.Fatalf("stale session %+v (status %s, version %d) is not the stored one", first, first.Status(), first.Version())
		}
		if got[2].Detail != "timeout" || got[2].Version() != unknown.Version() {
			t.Fatalf("unknown-outcome session read back as %+v, version %d", got[2], got[2].Version())
		}
	})

	t.Run("limit and an empty answer", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		var made []*call.Session
		for i := range 5 {
			made = append(made, session(t, s, u.ID, base.Add(time.Duration(i)*time.Second)))
		}
		got, err := s.StaleDialingSessions(ctx, base.Add(time.Hour), 2)
		must(t, err)
		if g := ids(got); len(g) != 2 || g[0] != made[0].ID || g[1] != made[1].ID {
			t.Fatalf("first 2 stale sessions = %v, want the 2 oldest", g)
		}
		got, err = s.StaleDialingSessions(ctx, base, 10)
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Fatalf("stale sessions before any was made = %v, want an empty, non-nil slice", got)
		}
	})

	t.Run("a stale session read back saves with its version", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		session(t, s, u.ID, base)
		got, err := s.StaleDialingSessions(ctx, base.Add(time.Minute), 1)
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("%d stale sessions, want 1", len(got))
		}
		must(t, got[0].MarkFailed("Outcome unknown", base.Add(2*time.Minute)))
		must(t, s.SaveSession(ctx, got[0]))
		if again, err := s.StaleDialingSessions(ctx, base.Add(time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("after settling: %d stale sessions, %v", len(again), err)
		}
	})
}
