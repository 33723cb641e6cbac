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

// BenchmarkCreateCallPath is the store's share of one create_call: find the key, read the dial
// plan, write the session, record the dial.
func BenchmarkCreateCallPath(b *testing.B) {
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		b.Run(dialect, func(b *testing.B) {
			s := open(b)
			u := identity.User{ID: uuid.NewString(), Email: "b@example.com", Credits: 1e9, CreatedAt: base}
			mustB(b, s.CreateUser(ctx, u))
			var lines []call.Line
			for _, n := range []string{"+14155550123", "+14155550124", "+919876543210"} {
				l := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: n, Provider: call.ProviderTwilio, Active: true,
					CreatedAt: base, Credentials: call.Credentials{"account_sid": "AC1", "auth_token": "t"}}
				mustB(b, s.CreateLine(ctx, l))
				lines = append(lines, l)
			}
			a := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "A", Active: true, CreatedAt: base}
			mustB(b, s.CreateAgent(ctx, a))
			mustB(b, s.SetMapping(ctx, lines[0].ID, call.Target{AgentID: a.ID}))
			plain := identity.NewAPIKey()
			mustB(b, s.CreateAPIKey(ctx, identity.APIKey{ID: uuid.NewString(), UserID: u.ID, Prefix: "p",
				Hash: identity.HashAPIKey(plain), CreatedAt: base}))
			hash := identity.HashAPIKey(plain)

			b.ResetTimer()
			for b.Loop() {
				if _, err := s.APIKeyByHash(ctx, hash); err != nil {
					b.Fatal(err)
				}
				plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{AgentID: a.ID}})
				if err != nil || len(plan.Lines) != 3 {
					b.Fatal(err, len(plan.Lines))
				}
				cs := newSession(u.ID, plan.Lines[0], base)
				mustB(b, s.CreateSession(ctx, cs))
				mustB(b, cs.MarkDialed("CA1", base))
				mustB(b, s.SaveSession(ctx, cs))
			}
		})
	}
}

func mustB(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSessionsCreated reads one page of an export's keyset at its start and deep into
// 20,000 sessions: the deep page costs what the first does, so an export's cost grows with its
// sessions, not with their square.
func BenchmarkSessionsCreated(b *testing.B) {
	s := entstoretest.NewSQLite(b)
	u := identity.User{ID: uuid.NewString(), Email: "b@example.com", CreatedAt: base}
	mustB(b, s.CreateUser(ctx, u))
	const n = 20_000
	var deep *call.Session
	for i := range n {
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
			Provider: call.ProviderSimulated, From: "+14155550100", To: "+14155550123"}, base.Add(time.Duration(i)*time.Millisecond))
		mustB(b, s.CreateSession(ctx, cs))
		if i == n-1000 {
			deep = cs
		}
	}
	r := createcall.SessionRange{From: base, To: base.Add(time.Hour)}
	for name, q := range map[string]createcall.SessionRange{"first page": r, "page at 19,000": r.After(deep)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.SessionsCreated(ctx, u.ID, q, 500)
				if err != nil || len(page) != 500 {
					b.Fatal(err, len(page))
				}
			}
		})
	}
}
