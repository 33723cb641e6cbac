package calleventstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// RunLedgerSuite is callevents.Ledger's acceptance test, with the carrier events use case run
// on top of it. newStore returns an empty store.
func RunLedgerSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	// completed makes a user with 10 credits and one of its sessions, settled as completed.
	completed := func(t *testing.T, s Store) (userID string, sess *call.Session) {
		t.Helper()
		u := newUser(t, s, base)
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
			Provider: call.ProviderTwilio, From: "+14155550100", To: "+14155550123"}, base)
		must(t, s.CreateSession(ctx, cs))
		must(t, cs.MarkDialed("CA1", base))
		_, _ = cs.Advance(call.StatusCompleted, base.Add(time.Minute))
		cs.Duration = 62 * time.Second
		must(t, s.SaveSession(ctx, cs))
		return u.ID, cs
	}
	credits := func(t *testing.T, s Store, userID string) money.Amount {
		t.Helper()
		u, err := s.User(ctx, userID)
		must(t, err)
		return u.Credits
	}

	t.Run("a session is charged once", func(t *testing.T) {
		s := newStore(t)
		uid, cs := completed(t, s)
		before := cs.Version()
		charged, err := s.ChargeSession(ctx, cs.ID, uid, money.Amount(100_000), 120, base.Add(time.Minute))
		must(t, err)
		if !charged {
			t.Fatal("first ChargeSession charged nothing")
		}
		if got := credits(t, s, uid); got != money.FromUnits(10)-100_000 {
			t.Fatalf("credits after the charge = %v, want 9.9", got)
		}
		got, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got.Cost != 100_000 || got.Version() <= before || got.Status() != call.StatusCompleted || got.Duration != 62*time.Second {
			t.Fatalf("charged session: cost %v version %d (was %d) status %s duration %v", got.Cost, got.Version(), before, got.Status(), got.Duration)
		}
		// A save from a read before the charge would put the cost back: it is refused.
		cs.Detail = "stale"
		if err := s.SaveSession(ctx, cs); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("SaveSession from before the charge = %v, want ErrConflict", err)
		}

		charged, err = s.ChargeSession(ctx, cs.ID, uid, money.Amount(999_999), 600, base.Add(2*time.Minute))
		must(t, err)
		if charged {
			t.Fatal("second ChargeSession charged again")
		}
		if got := credits(t, s, uid); got != money.FromUnits(10)-100_000 {
			t.Fatalf("credits after a second charge = %v, want still 9.9", got)
		}
		if got, _ := s.Session(ctx, cs.ID); got.Cost != 100_000 {
			t.Fatalf("cost after a second charge = %v, want still 0.1", got.Cost)
		}
	})

	t.Run("concurrent charges of one session charge once", func(t *testing.T) {
		s := newStore(t)
		uid, cs := completed(t, s)
		const n = 8
		var (
			wg      sync.WaitGroup
			results [n]bool
			errs    [n]error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.ChargeSession(ctx, cs.ID, uid, money.Amount(50_000), 60, base)
			}()
		}
		wg.Wait()
		charges := 0
		for i := range n {
			must(t, errs[i])
			if results[i] {
				charges++
			}
		}
		if charges != 1 {
			t.Fatalf("%d of %d concurrent charges charged, want exactly 1", charges, n)
		}
		if got := credits(t, s, uid); got != money.FromUnits(10)-50_000 {
			t.Fatalf("credits = %v, want 9.95", got)
		}
	})

	t.Run("unknown session or owner charges nothing", func(t *testing.T) {
		s := newStore(t)
		uid, cs := completed(t, s)
		other := newUser(t, s, base)
		for name, ids := range map[string][2]string{
			"unknown session":   {uuid.NewString(), uid},
			"unknown user":      {cs.ID, uuid.NewString()},
			"another's session": {cs.ID, other.ID},
			"malformed ids":     {"42", "x"},
		} {
			if charged, err := s.ChargeSession(ctx, ids[0], ids[1], money.Amount(1), 1, base); charged || !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("%s: ChargeSession = %v, %v; want ErrNotFound", name, charged, err)
			}
		}
		if credits(t, s, other.ID) != money.FromUnits(10) || credits(t, s, uid) != money.FromUnits(10) {
			t.Fatal("a refused charge changed a balance")
		}
		// A refused charge leaves no trace: the session can still be charged.
		charged, err := s.ChargeSession(ctx, cs.ID, uid, 0, 0, base)
		must(t, err)
		if !charged {
			t.Fatal("a session a refused charge named could not be charged after")
		}
	})

	t.Run("carrier events settle and charge a call", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		line := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550100", Provider: call.ProviderTwilio,
			Active: true, CreatedAt: base, Credentials: call.Credentials{"account_sid": "AC1", "auth_token": "tok"}}
		must(t, s.CreateLine(ctx, line))
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID, LineID: line.ID,
			Provider: call.ProviderTwilio, From: line.Number, To: "+14155550123"}, base)
		must(t, s.CreateSession(ctx, cs))
		h := &callevents.CarrierEvents{Sessions: s, Lines: s, Ledger: s,
			Tariff: call.Tariff{PerMinute: 50_000, IncrementSeconds: 60}, Now: func() time.Time { return base.Add(time.Hour) }}

		creds, err := h.Credentials(ctx, call.ProviderTwilio, cs.ID)
		must(t, err)
		if creds["auth_token"] != "tok" {
			t.Fatal("Credentials did not return the line's")
		}
		if _, err := h.Credentials(ctx, call.ProviderExotel, cs.ID); !errors.Is(err, call.ErrSessionNotFound) {
			t.Fatalf("Credentials for another provider = %v, want ErrSessionNotFound", err)
		}

		ev := func(st call.Status, sec int, d time.Duration) callevents.CarrierEvent {
			return callevents.CarrierEvent{SessionID: cs.ID, Provider: call.ProviderTwilio, Status: st, LegID: "CA9",
				Duration: d, At: base.Add(time.Duration(sec) * time.Second)}
		}
		// Ringing lands before create_call recorded the dial; completed comes twice, a late
		// ringing after.
		for _, e := range []callevents.CarrierEvent{
			ev(call.StatusRinging, 2, 0), ev(call.StatusInitiated, 1, 0), ev(call.StatusInProgress, 10, 0),
			ev(call.StatusCompleted, 72, 62*time.Second), ev(call.StatusCompleted, 73, 62*time.Second), ev(call.StatusRinging, 74, 0),
		} {
			must(t, h.Apply(ctx, e))
		}
		got, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got.Status() != call.StatusCompleted || got.LegID != "CA9" || got.Duration != 62*time.Second ||
			!got.AnsweredAt.Equal(base.Add(10*time.Second)) || !got.EndedAt.Equal(base.Add(72*time.Second)) || got.Cost != 100_000 {
			t.Fatalf("session after the events: status %s leg %q duration %v answered %v ended %v cost %v",
				got.Status(), got.LegID, got.Duration, got.AnsweredAt, got.EndedAt, got.Cost)
		}
		if c := credits(t, s, u.ID); c != money.FromUnits(10)-100_000 {
			t.Fatalf("credits = %v, want 9.9 (charged once)", c)
		}
		if err := h.Apply(ctx, callevents.CarrierEvent{SessionID: uuid.NewString(), Provider: call.ProviderTwilio,
			Status: call.StatusCompleted}); !errors.Is(err, call.ErrSessionNotFound) {
			t.Fatalf("Apply to an unknown session = %v, want ErrSessionNotFound", err)
		}
	})
}
