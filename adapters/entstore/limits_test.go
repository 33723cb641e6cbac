package entstore_test

import (
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
// with the dial plan. The write is one transaction: on PostgreSQL BEGIN, the user's lock, the
// count, the INSERT (and the key's record) and COMMIT; SQLite, whose BEGIN takes the write lock,
// needs no lock statement.
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
			lock := 0
			if dialect == entstore.Postgres {
				lock = 1
			}
			step("DialPlan with a key", 1, func() error {
				_, err := counted.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Now: base, IdempotencyKey: "k"})
				return err
			})
			step("BeginCall", 4+lock, func() error {
				return counted.BeginCall(ctx, createcall.BeginCall{Session: newSession(u.ID, l, base), MaxActive: 5,
					ActiveSince: base.Add(-time.Hour)})
			})
			cs := newSession(u.ID, l, base)
			step("BeginCall with a key", 5+lock, func() error {
				return counted.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 5, ActiveSince: base.Add(-time.Hour),
					Idempotency: &createcall.IdempotencyRecord{UserID: u.ID, Key: "k", RequestHash: "h", SessionID: cs.ID,
						CreatedAt: base, ExpiresAt: base.Add(createcall.IdempotencyKeyTTL)}})
			})
			step("CompleteIdempotency", 1, func() error { return counted.CompleteIdempotency(ctx, u.ID, "k", createcall.Result{}) })
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
