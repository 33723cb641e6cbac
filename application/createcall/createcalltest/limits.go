package createcalltest

import (
	"context"
	"errors"
	"reflect"
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

		"a begun session keeps every field through its saves": func(t *testing.T) {
			u := newUser(t, s, base)
			line := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550100", Provider: call.ProviderSimulated,
				Active: true, CreatedAt: base}
			must(t, s.CreateLine(ctx, line))
			agent := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "A", Active: true, CreatedAt: base}
			must(t, s.CreateAgent(ctx, agent))
			cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
				AgentID: agent.ID, LineID: line.ID, Provider: call.ProviderSimulated, From: line.Number, To: "+919876543210",
				VariableValues:       map[string]string{"name": "Alex", "balance": "$50"},
				RenderedSystemPrompt: "Call Alex", RenderedFirstMessage: "Hello Alex",
				Options: call.Options{RingTimeout: 25 * time.Second, MaxDuration: 10 * time.Minute,
					MachineDetection: call.MachineDetectionDetect}}, base)
			must(t, begin(cs, 5, nil))
			same := func(name string, want *call.Session) {
				t.Helper()
				got, err := s.Session(ctx, want.ID)
				must(t, err)
				if got.Status() != want.Status() || got.Version() != want.Version() || got.UserID != u.ID ||
					got.AgentID != agent.ID || got.LineID != line.ID || got.Provider != want.Provider || got.From != want.From ||
					got.To != want.To || !reflect.DeepEqual(got.VariableValues, want.VariableValues) ||
					got.RenderedSystemPrompt != want.RenderedSystemPrompt || got.RenderedFirstMessage != want.RenderedFirstMessage ||
					got.Options != want.Options || got.LegID != want.LegID || got.Detail != want.Detail ||
					got.AnsweredBy != want.AnsweredBy || got.Duration != want.Duration || got.Cost != want.Cost ||
					!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
					!got.AnsweredAt.Equal(want.AnsweredAt) || !got.EndedAt.Equal(want.EndedAt) {
					t.Fatalf("%s: stored %+v (status %s, version %d), want %+v (status %s, version %d)", name,
						got, got.Status(), got.Version(), want, want.Status(), want.Version())
				}
			}
			same("begun", cs)
			must(t, cs.MarkDialed("LEG-1", base.Add(time.Second)))
			must(t, s.SaveSession(ctx, cs))
			same("dialed", cs)
			cs.RecordAnsweredBy(call.AnsweredByMachine, base.Add(2*time.Second))
			_, _ = cs.Advance(call.StatusInProgress, base.Add(3*time.Second))
			must(t, s.SaveSession(ctx, cs))
			same("answered", cs)
			_, _ = cs.Advance(call.StatusCompleted, base.Add(63*time.Second))
			cs.Duration, cs.Cost = 60*time.Second, money.Amount(20_000)
			must(t, s.SaveSession(ctx, cs))
			same("ended", cs)
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

		"a release racing claims never lets the user past the cap": func(t *testing.T) {
			u := newUser(t, s, base)
			const limit, claimers, rounds = 3, 6, 8
			var held []*call.Session
			for range limit {
				cs := session(u.ID, base)
				must(t, begin(cs, limit, nil))
				held = append(held, cs)
			}
			for round := range rounds {
				// Every held call ends while twice as many new ones try to begin: the new ones can
				// only take the slots the ending ones give back.
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					won     []*call.Session
					refused int
				)
				start := make(chan struct{})
				for _, cs := range held {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if err := cs.MarkFailed("busy", base); err != nil {
							t.Error(err)
							return
						}
						if err := s.SaveSession(ctx, cs); err != nil {
							t.Errorf("SaveSession: %v", err)
						}
					}()
				}
				for range claimers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						cs := session(u.ID, base)
						err := begin(cs, limit, nil)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							won = append(won, cs)
						case errors.Is(err, createcall.ErrConcurrencyLimit):
							refused++
						default:
							t.Errorf("BeginCall: %v", err)
						}
					}()
				}
				close(start)
				wg.Wait()
				if len(won) > limit || len(won)+refused != claimers {
					t.Fatalf("round %d: %d began and %d were refused of %d, under a cap of %d", round, len(won), refused, claimers, limit)
				}
				// The slots held are exactly the calls that began: the rest of the cap is free, and
				// no more.
				for len(won) < limit {
					cs := session(u.ID, base)
					if err := begin(cs, limit, nil); err != nil {
						t.Fatalf("round %d: with %d of %d slots held, BeginCall = %v", round, len(won), limit, err)
					}
					won = append(won, cs)
				}
				if err := begin(session(u.ID, base), limit, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
					t.Fatalf("round %d: past the cap, BeginCall = %v", round, err)
				}
				held = won
			}
			// The claims and releases left no count to correct. (The other cases share the store:
			// the cutoff is older than any session of theirs.)
			rep, err := s.RepairActiveCalls(ctx, base.Add(-100_000*time.Hour))
			must(t, err)
			if rep.Corrected != 0 || rep.Released != 0 {
				t.Fatalf("RepairActiveCalls after the races = %+v, want nothing to do", rep)
			}
		},

		"a lowered cap admits no call until the calls beyond it end": func(t *testing.T) {
			u := newUser(t, s, base)
			var held []*call.Session
			for range 5 {
				cs := session(u.ID, base)
				must(t, begin(cs, 5, nil))
				held = append(held, cs)
			}
			end := func(n int) {
				t.Helper()
				for _, cs := range held[:n] {
					must(t, cs.MarkFailed("busy", base))
					must(t, s.SaveSession(ctx, cs))
				}
				held = held[n:]
			}
			for _, ending := range []int{0, 3} {
				end(ending)
				if err := begin(session(u.ID, base), 2, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
					t.Fatalf("%d active under a cap lowered to 2: BeginCall = %v, want ErrConcurrencyLimit", len(held), err)
				}
			}
			end(len(held))
			must(t, begin(session(u.ID, base), 2, nil))
			must(t, begin(session(u.ID, base), 2, nil))
			if err := begin(session(u.ID, base), 2, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("third call under a cap of 2 = %v", err)
			}
		},

		"only sessions begun under the cap hold a slot, once": func(t *testing.T) {
			u := newUser(t, s, base)
			// A session written by CreateSession (tools, tests) holds none, and ending it frees none.
			plain := session(u.ID, base)
			must(t, s.CreateSession(ctx, plain))
			a := session(u.ID, base)
			must(t, begin(a, 1, nil))
			must(t, plain.MarkFailed("busy", base))
			must(t, s.SaveSession(ctx, plain))
			if err := begin(session(u.ID, base), 1, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("after a session without a slot ended, BeginCall = %v, want ErrConcurrencyLimit", err)
			}
			// A session that ended gives its slot back once: saving it again gives back nothing.
			must(t, a.MarkDialed("LEG", base))
			_, _ = a.Advance(call.StatusCompleted, base.Add(time.Minute))
			must(t, s.SaveSession(ctx, a))
			b := session(u.ID, base)
			must(t, begin(b, 1, nil))
			a.Cost = money.Amount(1000)
			must(t, s.SaveSession(ctx, a))
			if err := begin(session(u.ID, base), 1, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("after an ended session was saved again, BeginCall = %v, want ErrConcurrencyLimit", err)
			}
		},

		"the reconciler's repair releases stale slots": func(t *testing.T) {
			u := newUser(t, s, base)
			// Two calls that never got a final event, long ago, and one of today.
			old1, old2 := session(u.ID, base.Add(-3*time.Hour)), session(u.ID, base.Add(-3*time.Hour))
			for _, cs := range []*call.Session{old1, old2} {
				must(t, s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 3, ActiveSince: base.Add(-4 * time.Hour)}))
			}
			must(t, old1.MarkDialed("LEG1", base.Add(-3*time.Hour)))
			must(t, s.SaveSession(ctx, old1))
			recent := session(u.ID, base)
			must(t, begin(recent, 3, nil))
			rep, err := s.RepairActiveCalls(ctx, base.Add(-2*time.Hour))
			must(t, err)
			if rep.Released < 2 {
				t.Fatalf("RepairActiveCalls = %+v, want the 2 stale slots released", rep)
			}
			// The slot went with a new version: a save from the copy read before is refused, and
			// the session ending later gives nothing back a second time.
			_, _ = old1.Advance(call.StatusCompleted, base)
			if err := s.SaveSession(ctx, old1); !errors.Is(err, fault.ErrConflict) {
				t.Fatalf("SaveSession from before the release = %v, want ErrConflict", err)
			}
			must(t, createcall.UpdateSession(ctx, s, old1, func(cs *call.Session) error {
				_, err := cs.Advance(call.StatusCompleted, base)
				return err
			}))
			for range 2 {
				must(t, begin(session(u.ID, base), 3, nil))
			}
			if err := begin(session(u.ID, base), 3, nil); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("with 3 of 3 slots held, BeginCall = %v, want ErrConcurrencyLimit", err)
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
