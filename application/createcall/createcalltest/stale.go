package createcalltest

import (
	"context"
	"reflect"
	"sort"
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

	t.Run("open sessions of one provider, in id order, page by page", func(t *testing.T) {
		s := newStore(t)
		u, other := newUser(t, s, base), newUser(t, s, base)
		mk := func(userID string, p call.Provider, to call.Status) *call.Session {
			t.Helper()
			cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
				Provider: p, From: "+14155550123", To: "+14155550124",
				Options: call.Options{RingTimeout: 7 * time.Second}}, base)
			must(t, s.CreateSession(ctx, cs))
			if to == call.StatusDialing {
				return cs
			}
			must(t, cs.MarkDialed("SIM1", base.Add(time.Second)))
			if to == call.StatusFailed {
				must(t, cs.MarkFailed("refused", base.Add(time.Second)))
			} else if _, err := cs.Advance(to, base.Add(2*time.Second)); err != nil {
				t.Fatal(err)
			}
			must(t, s.SaveSession(ctx, cs))
			return cs
		}
		var open []string
		for _, st := range []call.Status{call.StatusInitiated, call.StatusRinging, call.StatusInProgress} {
			open = append(open, mk(u.ID, call.ProviderSimulated, st).ID, mk(other.ID, call.ProviderSimulated, st).ID)
		}
		// Not open, or not the provider's: never listed.
		mk(u.ID, call.ProviderSimulated, call.StatusDialing)
		mk(u.ID, call.ProviderSimulated, call.StatusCompleted)
		mk(u.ID, call.ProviderSimulated, call.StatusNoAnswer)
		mk(u.ID, call.ProviderSimulated, call.StatusFailed)
		mk(u.ID, call.ProviderTwilio, call.StatusInProgress)
		sort.Strings(open)

		var got []string
		after := ""
		for range 10 {
			page, err := s.OpenSessions(ctx, call.ProviderSimulated, after, 4)
			must(t, err)
			for _, cs := range page {
				got = append(got, cs.ID)
			}
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1].ID
		}
		if !reflect.DeepEqual(got, open) {
			t.Fatalf("open sessions = %v, want %v", got, open)
		}
		first, err := s.OpenSessions(ctx, call.ProviderSimulated, "", 1)
		must(t, err)
		if len(first) != 1 || first[0].Options.RingTimeout != 7*time.Second || first[0].LegID != "SIM1" || !first[0].Status().Active() {
			t.Fatalf("first open session read back as %+v", first)
		}
		if none, err := s.OpenSessions(ctx, call.ProviderExotel, "", 10); err != nil || none == nil || len(none) != 0 {
			t.Fatalf("open Exotel sessions = %v, %v; want an empty, non-nil slice", none, err)
		}
	})
}
