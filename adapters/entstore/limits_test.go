package entstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
)

// The limits cost create_call no extra read: they, the day's spend and the key's record come
// with the dial plan. On PostgreSQL the write is one statement (the key's record, the claim of a
// slot and the INSERT), and so is the save that ends the call and gives the slot back; on SQLite
// each is one short transaction: BEGIN, the key's record, the read of the user's slot shards,
// the claim, the INSERT, COMMIT, and BEGIN, the release, the UPDATE, COMMIT.
func TestCallLimitsRoundTrips(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite: entstoretest.NewSQLite, entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u := newUser(t, s)
			l := newLine(t, s, u.ID, "+14155550123")
			counted, n := entstore.Counting(s)
			step := func(name string, want int, f func() error) {
				t.Helper()
				before := n.Load()
				must(t, f())
				if got := n.Load() - before; got != int64(want) {
					t.Errorf("%s took %d statements, want %d", name, got, want)
				}
			}
			// A cap of 64 deals two slots to each of 32 shards, so that the two sessions below
			// never find their drawn shard full (with a cap of 5, one shard each, the second
			// drew the first's a fifth of the time, and took the exact path's extra statements).
			const maxActive = 64
			begin, keyed, final := 5, 6, 4
			if dialect == entstore.Postgres {
				begin, keyed, final = 1, 1, 1
			}
			step("DialPlan with a key", 1, func() error {
				_, err := counted.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Now: base, IdempotencyKey: "k"})
				return err
			})
			step("BeginCall", begin, func() error {
				return counted.BeginCall(ctx, createcall.BeginCall{Session: newSession(u.ID, l, base), MaxActive: maxActive,
					ActiveSince: base.Add(-time.Hour)})
			})
			cs := newSession(u.ID, l, base)
			step("BeginCall with a key", keyed, func() error {
				return counted.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: maxActive, ActiveSince: base.Add(-time.Hour),
					Idempotency: &createcall.IdempotencyRecord{UserID: u.ID, Key: "k", RequestHash: "h", SessionID: cs.ID,
						CreatedAt: base, ExpiresAt: base.Add(createcall.IdempotencyKeyTTL)}})
			})
			step("CompleteIdempotency", 1, func() error { return counted.CompleteIdempotency(ctx, u.ID, "k", createcall.Result{}) })
			must(t, cs.MarkDialed("CA1", base))
			step("SaveSession", 1, func() error { return counted.SaveSession(ctx, cs) })
			_, _ = cs.Advance(call.StatusCompleted, base.Add(time.Minute))
			step("SaveSession of a final status", final, func() error { return counted.SaveSession(ctx, cs) })
		})
	}
}

// BenchmarkBeginCall is create_call's two writes, the session and then its dial outcome, with
// the session written by BeginCall (under the cap, with or without a key) and, for comparison,
// by the plain INSERT it replaced. The outcome ends each call, so the user stays within the cap.
func BenchmarkBeginCall(b *testing.B) {
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite: entstoretest.NewSQLite, entstore.Postgres: entstoretest.NewPostgres,
	} {
		s := open(b)
		u := identity.User{ID: uuid.NewString(), Email: "bench@example.com", Credits: 1e9, CreatedAt: base}
		mustB(b, s.CreateUser(ctx, u))
		l := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderSimulated,
			Active: true, CreatedAt: base}
		mustB(b, s.CreateLine(ctx, l))
		run := func(name string, write func(cs *call.Session) error) {
			b.Run(dialect+"/"+name, func(b *testing.B) {
				for b.Loop() {
					cs := newSession(u.ID, l, base)
					mustB(b, write(cs))
					mustB(b, cs.MarkFailed("busy", base))
					mustB(b, s.SaveSession(ctx, cs))
				}
			})
		}
		run("CreateSession", func(cs *call.Session) error { return s.CreateSession(ctx, cs) })
		run("BeginCall", func(cs *call.Session) error {
			return s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 20, ActiveSince: base.Add(-time.Hour)})
		})
		run("BeginCall with a key", func(cs *call.Session) error {
			return s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 20, ActiveSince: base.Add(-time.Hour),
				Idempotency: &createcall.IdempotencyRecord{UserID: u.ID, Key: uuid.NewString(), RequestHash: "h",
					SessionID: cs.ID, CreatedAt: base, ExpiresAt: base.Add(createcall.IdempotencyKeyTTL)}})
		})
	}
}

// A count that disagrees with the sessions (changed by hand, say) is set right by the
// reconciler's repair, in either direction, and a shard's row deleted by hand is made again.
func TestRepairActiveCallsCorrectsDrift(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite: entstoretest.NewSQLite, entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u := newUser(t, s)
			l := newLine(t, s, u.ID, "+14155550123")
			const limit = 4 // a shard each
			begin := func() error {
				return s.BeginCall(ctx, createcall.BeginCall{Session: newSession(u.ID, l, base), MaxActive: limit,
					ActiveSince: base.Add(-time.Hour)})
			}
			must(t, begin())
			must(t, begin())
			held := func() int {
				t.Helper()
				var n int
				must(t, entstore.QueryRow(ctx, s, "SELECT COALESCE(SUM(held), 0) FROM call_slots WHERE user_id = $1", u.ID).Scan(&n))
				return n
			}
			for name, drift := range map[string]string{
				"too many":    "UPDATE call_slots SET held = held + 3 WHERE user_id = $1",
				"too few":     "UPDATE call_slots SET held = 0 WHERE user_id = $1",
				"row deleted": "DELETE FROM call_slots WHERE user_id = $1",
			} {
				must(t, entstore.Exec(ctx, s, drift, u.ID))
				rep, err := s.RepairActiveCalls(ctx, base.Add(-time.Hour))
				must(t, err)
				if rep.Corrected == 0 || rep.Released != 0 {
					t.Fatalf("%s: repair = %+v, want counts corrected", name, rep)
				}
				if n := held(); n != 2 {
					t.Fatalf("%s: slots held after the repair = %d, want the 2 sessions'", name, n)
				}
			}
			must(t, begin())
			must(t, begin())
			if err := begin(); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("fifth call under a cap of 4 = %v", err)
			}
		})
	}
}

// Migration 0003 gives the sessions still active a slot, dealt round their user's shards as
// create_call deals them, and counts them: the cap holds at once for calls placed before it.
func TestActiveCallsMigrationCountsActiveSessions(t *testing.T) {
	t.Parallel()
	for dialect, url := range map[string]func(testing.TB) string{
		entstore.SQLite: entstoretest.SQLiteURL, entstore.Postgres: entstoretest.PostgresURL,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := entstoretest.Open(t, url(t))
			must(t, entstore.MigrateTo(ctx, s, 2))
			uid := uuid.NewString()
			must(t, entstore.Exec(ctx, s, `INSERT INTO users (id, created_at, credits, max_concurrent_calls) VALUES ($1, $2, 0, 3)`, uid, base))
			for i, status := range []string{"dialing", "ringing", "completed", "failed"} {
				must(t, entstore.Exec(ctx, s, `INSERT INTO call_sessions (id, created_at, request_id, user_id, provider, from_number,
					to_number, status, detail, duration_seconds, cost, updated_at, version)
					VALUES ($1, $2, $3, $4, 'simulated', '+14155550100', '+14155550123', $5, '', 0, 0, $2, 1)`,
					uuid.NewString(), base.Add(time.Duration(i)*time.Second), uuid.NewString(), uid, status))
			}
			must(t, s.Migrate(ctx))
			var slots, held int
			must(t, entstore.QueryRow(ctx, s, `SELECT COUNT(*) FROM call_sessions WHERE user_id = $1 AND slot IS NOT NULL`, uid).Scan(&slots))
			must(t, entstore.QueryRow(ctx, s, `SELECT COALESCE(SUM(held), 0) FROM call_slots WHERE user_id = $1`, uid).Scan(&held))
			if slots != 2 || held != 2 {
				t.Fatalf("after the migration %d sessions hold slots and the counts hold %d, want the 2 active", slots, held)
			}
			begin := func() error {
				return s.BeginCall(ctx, createcall.BeginCall{Session: call.NewSession(call.Session{ID: uuid.NewString(),
					RequestID: uuid.NewString(), UserID: uid, Provider: call.ProviderSimulated, From: "+14155550100",
					To: "+14155550123"}, base), MaxActive: 3, ActiveSince: base.Add(-time.Hour)})
			}
			must(t, begin())
			if err := begin(); !errors.Is(err, createcall.ErrConcurrencyLimit) {
				t.Fatalf("fourth call under a cap of 3 = %v", err)
			}
			rep, err := s.RepairActiveCalls(ctx, base.Add(-time.Hour))
			must(t, err)
			if rep.Corrected != 0 {
				t.Fatalf("repair after the migration = %+v, want nothing to correct", rep)
			}
		})
	}
}

// The save of a dial's outcome changes status, leg_id, detail, updated_at and version: while no
// index of call_sessions holds one of them (in its key or its predicate), PostgreSQL can make
// that save a HOT update, which writes no index entry (docs/performance.md).
func TestOutcomeColumnsAreNotIndexed(t *testing.T) {
	t.Parallel()
	s := entstoretest.NewPostgres(t)
	rows, err := s.DB().QueryContext(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = 'call_sessions'`)
	must(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var def string
		must(t, rows.Scan(&def))
		n++
		for _, col := range []string{"status", "leg_id", "detail", "updated_at", "version"} {
			if strings.Contains(def, col) {
				t.Errorf("index %s holds %s, which the save of every dial's outcome changes", def, col)
			}
		}
	}
	must(t, rows.Err())
	if n < 3 {
		t.Fatalf("%d indexes on call_sessions, want the key, the call log's and the reconciler's at least", n)
	}
}
