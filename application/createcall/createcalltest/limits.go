package createcalltest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// RunCallLimitsSuite is the acceptance test of the ports behind create_call's limits and
// idempotency keys: createcall.CallStore, accounts.UserStore and what DialPlan reads for
// them. newStore returns an empty store; the cases share it (each makes its own users) and run
// side by side.
func RunCallLimitsSuite(t *testing.T, newStore func(t *testing.T) Store) {
	s := newStore(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	session := func(userID string, at time.Time) *call.Session {
		return call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
			Provider: call.ProviderSimulated, From: "+14155550100", To: "+14155550123"}, at)
	}
	begin := func(cs *call.Session, maxActive int, rec *createcall.IdempotencyRecord) error {
		return s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: maxActive,
			ActiveSince: base.Add(-time.Hour), Idempotency: rec})
	}
	stored := func(t *testing.T, id string) bool {
		t.Helper()
		_, err := s.Session(ctx, id)
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	plan := func(t *testing.T, q createcall.DialPlanQuery) createcall.DialPlan {
		t.Helper()
		p, err := s.DialPlan(ctx, q)
		must(t, err)
		return p
	}
	cases := map[string]func(t *testing.T){
		"limits default, change and ride along in the dial plan": func(t *testing.T) {
			u := newUser(t, s, base)
			if l := plan(t, createcall.DialPlanQuery{UserID: u.ID}).Limits; l.MaxConcurrentCalls != identity.DefaultMaxConcurrentCalls ||
				l.RequestsPerSecond != 0 || l.DailySpendCap != nil || len(l.AllowedCountries) != 0 {
				t.Fatalf("a new user's limits = %+v, want the defaults", l)
			}
			spendCap := money.FromUnits(7)
			got, err := s.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error {
				l.MaxConcurrentCalls, l.RequestsPerSecond = 3, 2.5
				l.DailySpendCap, l.AllowedCountries = &spendCap, []string{"IN", "US"}
				return nil
			})
			must(t, err)
			for name, l := range map[string]identity.Limits{"UpdateLimits": got, "DialPlan": plan(t, createcall.DialPlanQuery{UserID: u.ID}).Limits} {
				if l.MaxConcurrentCalls != 3 || l.RequestsPerSecond != 2.5 || l.DailySpendCap == nil ||
					*l.DailySpendCap != spendCap || !slices.Equal(l.AllowedCountries, []string{"IN", "US"}) {
					t.Fatalf("%s limits = %+v", name, l)
				}
			}
			// A failing change stores nothing.
			boom := errors.New("boom")
			if _, err := s.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error { l.MaxConcurrentCalls = 1; return boom }); !errors.Is(err, boom) {
				t.Fatalf("UpdateLimits with a failing fn = %v", err)
			}
			got, err = s.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error {
				if l.MaxConcurrentCalls != 3 {
					t.Errorf("fn sees %d active calls, want the stored 3", l.MaxConcurrentCalls)
				}
				l.RequestsPerSecond, l.DailySpendCap, l.AllowedCountries = 0, nil, nil
				return nil
			})
			must(t, err)
			if got.MaxConcurrentCalls != 3 || got.RequestsPerSecond != 0 || got.DailySpendCap != nil || len(got.AllowedCountries) != 0 {
				t.Fatalf("limits after clearing = %+v", got)
			}
			if l := plan(t, createcall.DialPlanQuery{UserID: u.ID}).Limits; l.DailySpendCap != nil || len(l.AllowedCountries) != 0 || l.RequestsPerSecond != 0 {
				t.Fatalf("dial plan limits after clearing = %+v", l)
			}
			if _, err := s.UpdateLimits(ctx, uuid.NewString(), func(*identity.Limits) error { return nil }); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("UpdateLimits(unknown user) = %v, want ErrNotFound", err)
			}
			if l := plan(t, createcall.DialPlanQuery{UserID: uuid.NewString()}).Limits; l.MaxConcurrentCalls != identity.DefaultMaxConcurrentCalls {
				t.Fatalf("an unknown user's plan limits = %+v, want the defaults", l)
			}
		},

		"spent today counts the day's call charges": func(t *testing.T) {
			u := newUser(t, s, base)
			other := newUser(t, s, base)
			day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
			charge := func(userID string, amount money.Amount, at time.Time) {
				t.Helper()
				cs := session(userID, at)
				must(t, s.CreateSession(ctx, cs))
				if ok, err := s.ChargeSession(ctx, cs.ID, userID, amount, 60, at); err != nil || !ok {
					t.Fatalf("ChargeSession = %v, %v", ok, err)
				}
			}
			charge(u.ID, money.FromUnits(1), day.Add(-time.Microsecond)) // yesterday
			charge(u.ID, money.Amount(250_000), day)                     // the first moment of today
			charge(u.ID, money.Amount(500_000), day.Add(20*time.Hour))
			charge(other.ID, money.FromUnits(3), day.Add(time.Hour))
			// Without a cap the sum is not read.
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: day.Add(21 * time.Hour)}); p.SpentToday != 0 {
				t.Fatalf("SpentToday without a cap = %v, want it not read", p.SpentToday)
			}
			spendCap := money.FromUnits(5)
			_, err := s.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error { l.DailySpendCap = &spendCap; return nil })
			must(t, err)
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: day.Add(21 * time.Hour)}); p.SpentToday != money.Amount(750_000) {
				t.Fatalf("SpentToday = %v, want 0.75 (today's two charges)", p.SpentToday)
			}
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: day.Add(25 * time.Hour)}); p.SpentToday != 0 {
				t.Fatalf("SpentToday the next day = %v, want 0", p.SpentToday)
			}
		},

		"the cap counts active sessions": func(t *testing.T) {
			u := newUser(t, s, base)
			other := newUser(t, s, base)
			a, b := session(u.ID, base), session(u.ID, base)
			must(t, begin(a, 2, nil))
			must(t, begin(b, 2, nil))
			must(t, begin(session(other.ID, base), 1, nil)) // another user's slots are their own
			c := session(u.ID, base)
			if err := begin(c, 2, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("third session under a cap of 2 = %v, want ErrConcurrencyLimit", err)
			}
			if stored(t, c.ID) {
				t.Fatal("a session refused by the cap was stored")
			}
			// Every active status holds a slot; a session that ended frees it.
			must(t, a.MarkDialed("LEG", base))
			_, _ = a.Advance(call.StatusInProgress, base)
			must(t, s.SaveSession(ctx, a))
			if err := begin(c, 2, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("with a call in progress = %v, want ErrConcurrencyLimit", err)
			}
			must(t, b.MarkFailed("busy line", base))
			must(t, s.SaveSession(ctx, b))
			must(t, begin(c, 2, nil))
			// A session older than the stale window no longer counts, whatever its status.
			old := session(u.ID, base.Add(-2*time.Hour))
			must(t, s.BeginCall(ctx, createcall.BeginCall{Session: old, MaxActive: 3, ActiveSince: base.Add(-3 * time.Hour)}))
			must(t, begin(session(u.ID, base), 3, nil))
			if err := begin(session(u.ID, base), 3, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("fourth within the window = %v, want ErrConcurrencyLimit", err)
			}
			if err := begin(session(u.ID, base), 0, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("a cap of 0 = %v, want ErrConcurrencyLimit", err)
			}
			if err := begin(session(uuid.NewString(), base), 5, nil); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("BeginCall for no user = %v, want ErrNotFound", err)
			}
			dup := session(other.ID, base)
			dup.RequestID = c.RequestID
			if err := begin(dup, 5, nil); !errors.Is(err, fault.ErrAlreadyExists) {
				t.Fatalf("BeginCall with a request id in use = %v, want ErrAlreadyExists", err)
			}
		},

		"the cap holds under simultaneous writes": func(t *testing.T) {
			u := newUser(t, s, base)
			const n, limit = 20, 3
			var (
				wg                 sync.WaitGroup
				mu                 sync.Mutex
				ok, refused, other int
			)
			start := make(chan struct{})
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := begin(session(u.ID, base), limit, nil)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, createcall.ErrConcurrencyLimit):
						refused++
					default:
						other++
						t.Errorf("BeginCall: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if ok != limit || refused != n-limit {
				t.Fatalf("%d simultaneous begins under a cap of %d: %d written, %d refused, %d failed", n, limit, ok, refused, other)
			}
		},

		"idempotency records": func(t *testing.T) {
			u := newUser(t, s, base)
			other := newUser(t, s, base)
			rec := func(userID, key, hash string, cs *call.Session, at time.Time) *createcall.IdempotencyRecord {
				return &createcall.IdempotencyRecord{UserID: userID, Key: key, RequestHash: hash, SessionID: cs.ID,
					CreatedAt: at, ExpiresAt: at.Add(createcall.IdempotencyKeyTTL)}
			}
			const key = "order-42 retry/1"
			first := session(u.ID, base)
			must(t, begin(first, 5, rec(u.ID, key, "hash-1", first, base)))
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: base}); p.Idempotency != nil {
				t.Fatalf("a plan that named no key holds a record: %+v", p.Idempotency)
			}
			p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: base.Add(time.Second), IdempotencyKey: key})
			if r := p.Idempotency; r == nil || r.Done || r.RequestHash != "hash-1" || r.SessionID != first.ID ||
				!r.CreatedAt.Equal(base) || r.Key != key || r.UserID != u.ID {
				t.Fatalf("pending record = %+v", r)
			}
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, IdempotencyKey: "order-43", Now: base}); p.Idempotency != nil {
				t.Fatalf("another key's plan holds a record: %+v", p.Idempotency)
			}
			// The same key again, while the record lives: nothing is written.
			again := session(u.ID, base.Add(time.Second))
			if err := begin(again, 5, rec(u.ID, key, "hash-2", again, base.Add(time.Second))); !errors.Is(err, createcall.ErrIdempotencyInProgress) {
				t.Fatalf("BeginCall with a live key = %v, want ErrIdempotencyInProgress", err)
			}
			if stored(t, again.ID) {
				t.Fatal("the session of a refused key was stored")
			}
			// Keys are the user's own.
			theirs := session(other.ID, base)
			must(t, begin(theirs, 5, rec(other.ID, key, "hash-9", theirs, base)))

			// Every field of the Result comes back as it was, text of any kind included; Replayed
			// and Unrecorded say something of one answer and are not stored.
			want := createcall.Result{Success: true, SessionID: first.ID, RequestID: first.RequestID, UserID: u.ID,
				From: "+14155550100", To: "+14155550123", LegID: "CA\"42\u2028", Detail: "quote \" and \x00 é"}
			sent := want
			sent.Replayed, sent.Unrecorded = true, errors.New("outcome not written")
			must(t, s.CompleteIdempotency(ctx, u.ID, key, sent))
			p = plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: base.Add(time.Minute), IdempotencyKey: key})
			if r := p.Idempotency; r == nil || !r.Done || r.Result != want || r.RequestHash != "hash-1" {
				t.Fatalf("done record = %+v, want the result %+v", r, want)
			}
			if err := s.CompleteIdempotency(ctx, u.ID, "never-used", want); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("CompleteIdempotency(unknown key) = %v, want ErrNotFound", err)
			}

			// After its TTL the record is gone from the plan, and the key may be used afresh.
			later := base.Add(createcall.IdempotencyKeyTTL)
			if p := plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: later, IdempotencyKey: key}); p.Idempotency != nil {
				t.Fatalf("expired record in the plan: %+v", p.Idempotency)
			}
			fresh := session(u.ID, later)
			must(t, s.BeginCall(ctx, createcall.BeginCall{Session: fresh, MaxActive: 5, ActiveSince: later.Add(-time.Hour),
				Idempotency: rec(u.ID, key, "hash-3", fresh, later)}))
			p = plan(t, createcall.DialPlanQuery{UserID: u.ID, Now: later.Add(time.Second), IdempotencyKey: key})
			if r := p.Idempotency; r == nil || r.Done || r.RequestHash != "hash-3" || r.SessionID != fresh.ID || r.Result != (createcall.Result{}) {
				t.Fatalf("record after reuse of an expired key = %+v", r)
			}

			// A request the cap refuses leaves no record behind.
			full := newUser(t, s, base)
			must(t, begin(session(full.ID, base), 1, nil))
			refused := session(full.ID, base)
			if err := begin(refused, 1, rec(full.ID, key, "hash-4", refused, base)); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("BeginCall over the cap = %v", err)
			}
			if p := plan(t, createcall.DialPlanQuery{UserID: full.ID, Now: base, IdempotencyKey: key}); p.Idempotency != nil {
				t.Fatalf("a refused request left a record: %+v", p.Idempotency)
			}
		},

		"expired idempotency records are purged": func(t *testing.T) {
			// Long before base, so that the other cases' records (which expire a day after base)
			// are not purged with these.
			at := base.Add(-1000 * time.Hour)
			u := newUser(t, s, base)
			var keys []string
			for _, age := range []time.Duration{-2 * time.Hour, -time.Hour, 0, time.Hour} {
				cs := session(u.ID, at)
				k := uuid.NewString()
				keys = append(keys, k)
				must(t, s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 10, ActiveSince: at.Add(-time.Hour),
					Idempotency: &createcall.IdempotencyRecord{UserID: u.ID, Key: k, RequestHash: "h", SessionID: cs.ID,
						CreatedAt: at.Add(age - createcall.IdempotencyKeyTTL), ExpiresAt: at.Add(age)}}))
			}
			n, err := s.PurgeIdempotencyKeys(ctx, at, 1)
			must(t, err)
			if n != 1 {
				t.Fatalf("first batch purged %d, want 1", n)
			}
			n, err = s.PurgeIdempotencyKeys(ctx, at, 100)
			must(t, err)
			if n != 2 {
				t.Fatalf("second batch purged %d, want the 2 other expired records", n)
			}
			err = s.CompleteIdempotency(ctx, u.ID, keys[3], createcall.Result{})
			if err != nil {
				t.Fatalf("the live record went too: %v", err)
			}
			for _, k := range keys[:3] {
				if err := s.CompleteIdempotency(ctx, u.ID, k, createcall.Result{}); !errors.Is(err, fault.ErrNotFound) {
					t.Fatalf("an expired record survived: %v", err)
				}
			}
		},

		"a line's pacing is kept": func(t *testing.T) {
			u := newUser(t, s, base)
			paced := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550100", Provider: call.ProviderExotel,
				Active: true, CreatedAt: base, MaxCPS: 3.3}
			free := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550101", Provider: call.ProviderTwilio,
				Active: true, CreatedAt: base}
			must(t, s.CreateLine(ctx, paced))
			must(t, s.CreateLine(ctx, free))
			got, err := s.Line(ctx, paced.ID)
			must(t, err)
			if got.MaxCPS != 3.3 {
				t.Fatalf("Line MaxCPS = %v, want 3.3", got.MaxCPS)
			}
			for _, l := range plan(t, createcall.DialPlanQuery{UserID: u.ID}).Lines {
				if want := map[string]float64{paced.ID: 3.3, free.ID: 0}[l.ID]; l.MaxCPS != want {
					t.Fatalf("plan line %s MaxCPS = %v, want %v", l.Number, l.MaxCPS, want)
				}
			}
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t)
		})
	}
}
