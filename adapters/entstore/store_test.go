package entstore_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// TestStore holds the cases particular to this adapter. They share one database per dialect:
// each makes its own users, so they run side by side, and a PostgreSQL database costs the
// better part of a second to create and drop.
func TestStore(t *testing.T) {
	t.Parallel()
	cases := map[string]func(t *testing.T, s *entstore.Store){
		"create_call path round trips":        testCreateCallPathRoundTrips,
		"save session keeps versions":         testSaveSessionKeepsVersions,
		"dial plan holds only the user's own": testDialPlanHoldsOnlyTheUsersOwn,
		"mapping names exactly one target":    testMappingNamesExactlyOneTarget,
		"sessions outlive their line":         testSessionsOutliveTheirLine,
		"list sessions breaks ties by id":     testListSessionsBreaksTiesByID,
		"users without email":                 testUsersWithoutEmail,
		"malformed ids are not found":         testMalformedIDsAreNotFound,
	}
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite:   entstoretest.NewSQLite,
		entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for name, f := range cases {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					f(t, s)
				})
			}
		})
	}
}

var (
	ctx  = context.Background()
	base = time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)
)

func newUser(t *testing.T, s *entstore.Store) identity.User {
	t.Helper()
	u := identity.User{ID: uuid.NewString(), Email: uuid.NewString()[:8] + "@example.com", Credits: money.FromUnits(10), CreatedAt: base}
	must(t, s.CreateUser(ctx, u))
	return u
}

func newLine(t *testing.T, s *entstore.Store, userID, number string) call.Line {
	t.Helper()
	l := call.Line{ID: uuid.NewString(), UserID: userID, Number: number, Provider: call.ProviderTwilio, Active: true,
		CreatedAt: base, Credentials: call.Credentials{"account_sid": "AC1", "auth_token": "secret"}}
	must(t, s.CreateLine(ctx, l))
	return l
}

func newAgent(t *testing.T, s *entstore.Store, userID string) call.Agent {
	t.Helper()
	a := call.Agent{ID: uuid.NewString(), UserID: userID, Name: "A", Active: true, CreatedAt: base}
	must(t, s.CreateAgent(ctx, a))
	return a
}

func newSession(userID string, l call.Line, at time.Time) *call.Session {
	return call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
		LineID: l.ID, Provider: l.Provider, From: l.Number, To: "+919876543210"}, at)
}

// The create_call path pays one round trip per port call.
func testCreateCallPathRoundTrips(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	a := newAgent(t, s, u.ID)
	must(t, s.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
	plain := identity.NewAPIKey()
	must(t, s.CreateAPIKey(ctx, identity.APIKey{ID: uuid.NewString(), UserID: u.ID, Prefix: "kupe_x",
		Hash: identity.HashAPIKey(plain), CreatedAt: base}))

	s, n := entstore.Counting(s)
	step := func(name string, f func() error) {
		t.Helper()
		before := n.Load()
		must(t, f())
		if got := n.Load() - before; got != 1 {
			t.Errorf("%s took %d statements, want 1", name, got)
		}
	}
	step("APIKeyByHash", func() error { _, err := s.APIKeyByHash(ctx, identity.HashAPIKey(plain)); return err })
	step("DialPlan", func() error {
		plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{}})
		if err == nil && (len(plan.Lines) != 1 || len(plan.Agents) != 1) {
			t.Errorf("plan = %+v, want the line and its agent", plan)
		}
		return err
	})
	cs := newSession(u.ID, l, base)
	step("CreateSession", func() error { return s.CreateSession(ctx, cs) })
	step("SaveSession", func() error { return s.SaveSession(ctx, cs) })
}

// An unkeyed create_call authenticated by its x-api-key costs PostgreSQL three statements: the
// key with the dial plan, the claim of a slot with the session's INSERT, and the dial's outcome
// (docs/performance.md lists them). SQLite runs the write in a short transaction instead.
func TestCreateCallStatements(t *testing.T) {
	t.Parallel()
	for dialect, open := range map[string]func(testing.TB) *entstore.Store{
		entstore.SQLite: entstoretest.NewSQLite, entstore.Postgres: entstoretest.NewPostgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u := newUser(t, s)
			l := newLine(t, s, u.ID, "+14155550123")
			a := newAgent(t, s, u.ID)
			must(t, s.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
			plain := identity.NewAPIKey()
			must(t, s.CreateAPIKey(ctx, identity.APIKey{ID: uuid.NewString(), UserID: u.ID, Prefix: "kupe_x",
				Hash: identity.HashAPIKey(plain), CreatedAt: base}))
			counted, n := entstore.Counting(s)
			h := &createcall.Handler{Plans: counted, Sessions: counted,
				Carriers: createcall.CarrierSet{call.ProviderTwilio: legCarrier{}}}
			want := map[string]int64{entstore.Postgres: 3, entstore.SQLite: 7}[dialect]
			for i := range 3 {
				before := n.Load()
				res, err := h.Handle(ctx, createcall.Command{KeyHash: identity.HashAPIKey(plain), To: "+919876543210"})
				must(t, err)
				if !res.Success || res.UserID != u.ID || res.Unrecorded != nil {
					t.Fatalf("call %d: %+v", i, res)
				}
				if got := n.Load() - before; got != want {
					t.Fatalf("call %d took %d statements, want %d", i, got, want)
				}
			}
		})
	}
}

// legCarrier accepts every dial.
type legCarrier struct{}

func (legCarrier) Dial(context.Context, createcall.DialRequest) (string, error) {
	return "CA" + uuid.NewString(), nil
}

func testSaveSessionKeepsVersions(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	cs := newSession(u.ID, l, base)
	must(t, s.CreateSession(ctx, cs))
	stale, err := s.Session(ctx, cs.ID)
	must(t, err)
	for i := range 3 {
		cs.Detail = strings.Repeat("x", i)
		must(t, s.SaveSession(ctx, cs))
		got, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got.Version() != cs.Version() || got.Detail != cs.Detail {
			t.Fatalf("stored version %d detail %q, in memory %d %q", got.Version(), got.Detail, cs.Version(), cs.Detail)
		}
	}
	v := stale.Version()
	must(t, stale.MarkFailed("stale", base.Add(time.Minute)))
	if err := s.SaveSession(ctx, stale); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("stale save = %v, want ErrConflict", err)
	}
	if stale.Version() != v {
		t.Fatalf("a refused save moved the version from %d to %d", v, stale.Version())
	}
	gone := newSession(u.ID, l, base)
	if err := s.SaveSession(ctx, gone); !errors.Is(err, fault.ErrConflict) {
		t.Fatalf("save of a session never created = %v, want ErrConflict", err)
	}
}

func testDialPlanHoldsOnlyTheUsersOwn(t *testing.T, s *entstore.Store) {
	u, other := newUser(t, s), newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	newLine(t, s, other.ID, "+14155550124")
	foreign := newAgent(t, s, other.ID)
	foreignWf := call.Workflow{ID: uuid.NewString(), UserID: other.ID, Name: "W", Active: true, CreatedAt: base}
	must(t, s.CreateWorkflow(ctx, foreignWf))
	// The use case refuses such a mapping; the plan must not trust that it did.
	must(t, s.SetMapping(ctx, l.ID, call.Target{AgentID: foreign.ID}))

	plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{WorkflowID: foreignWf.ID}})
	must(t, err)
	if len(plan.Agents) != 0 || len(plan.Workflows) != 0 {
		t.Fatalf("plan holds another user's agents %v or workflows %v", plan.Agents, plan.Workflows)
	}
	if len(plan.Lines) != 1 || plan.Lines[0].ID != l.ID || plan.Lines[0].Credentials["auth_token"] != "secret" {
		t.Fatalf("plan lines = %+v", plan.Lines)
	}
	if plan.Credits != money.FromUnits(10) {
		t.Fatalf("plan credits = %v", plan.Credits)
	}

	// No such user, or an id that is no UUID: an empty plan, not an error.
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: id, Requested: call.Target{AgentID: "nor-this"}})
		must(t, err)
		if plan.Credits != 0 || len(plan.Lines) != 0 || plan.Agents == nil || plan.Workflows == nil {
			t.Fatalf("DialPlan(%q) = %+v, want an empty plan", id, plan)
		}
	}
}

func testMappingNamesExactlyOneTarget(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	a := newAgent(t, s, u.ID)
	w := call.Workflow{ID: uuid.NewString(), UserID: u.ID, Name: "W", Active: true, CreatedAt: base}
	must(t, s.CreateWorkflow(ctx, w))
	var invalid *fault.InvalidInputError
	for _, tg := range []call.Target{{}, {AgentID: a.ID, WorkflowID: w.ID}} {
		if err := s.SetMapping(ctx, l.ID, tg); !errors.As(err, &invalid) {
			t.Fatalf("SetMapping(%+v) = %v, want InvalidInputError", tg, err)
		}
	}
	if err := s.SetMapping(ctx, l.ID, call.Target{AgentID: uuid.NewString()}); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("SetMapping(unknown agent) = %v, want ErrNotFound", err)
	}
	// The database refuses it too, whoever writes.
	err := entstore.Exec(ctx, s, "INSERT INTO phone_mappings (id, phone_number_id, agent_id, workflow_id) VALUES ($1, $2, $3, $4)",
		uuid.NewString(), l.ID, a.ID, w.ID)
	if err == nil || !strings.Contains(err.Error(), "phone_mappings_one_target") {
		t.Fatalf("insert of a mapping with two targets = %v, want the check constraint's refusal", err)
	}
}

func testSessionsOutliveTheirLine(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	a := newAgent(t, s, u.ID)
	must(t, s.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
	cs := newSession(u.ID, l, base)
	cs.AgentID = a.ID
	must(t, s.CreateSession(ctx, cs))

	must(t, entstore.Exec(ctx, s, "DELETE FROM phone_numbers WHERE id = $1", l.ID))
	must(t, entstore.Exec(ctx, s, "DELETE FROM agents WHERE id = $1", a.ID))
	got, err := s.Session(ctx, cs.ID)
	must(t, err)
	if got.LineID != l.ID || got.AgentID != a.ID || got.From != l.Number {
		t.Fatalf("session after its line and agent went: %+v", got)
	}
	var n int
	must(t, entstore.QueryRow(ctx, s, "SELECT COUNT(*) FROM phone_mappings WHERE phone_number_id = $1", l.ID).Scan(&n))
	if n != 0 {
		t.Fatalf("%d mappings outlived their line", n)
	}
}

func testListSessionsBreaksTiesByID(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")
	var ids []string
	for range 4 {
		cs := newSession(u.ID, l, base)
		must(t, s.CreateSession(ctx, cs))
		ids = append(ids, cs.ID)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	page, total, err := s.ListSessions(ctx, u.ID, 1, 2)
	must(t, err)
	if total != 4 || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] {
		t.Fatalf("page 2 of 2: total %d, got %v, want %v", total, sessionIDs(page), ids[1:3])
	}
}

func sessionIDs(ss []*call.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func testUsersWithoutEmail(t *testing.T, s *entstore.Store) {
	for range 2 {
		must(t, s.CreateUser(ctx, identity.User{ID: uuid.NewString(), CreatedAt: base}))
	}
	u := identity.User{ID: uuid.NewString(), Email: "ada@example.com", CreatedAt: base}
	must(t, s.CreateUser(ctx, u))
	if err := s.CreateUser(ctx, u); !errors.Is(err, fault.ErrAlreadyExists) {
		t.Fatalf("CreateUser with a taken id = %v, want ErrAlreadyExists", err)
	}
}

// Ids that are not UUIDs name nothing: ErrNotFound, never a database error.
func testMalformedIDsAreNotFound(t *testing.T, s *entstore.Store) {
	u := newUser(t, s)
	const bad = "not-a-uuid"
	checks := map[string]error{}
	_, checks["User"] = s.User(ctx, bad)
	_, checks["Line"] = s.Line(ctx, bad)
	_, checks["Agent"] = s.Agent(ctx, bad)
	_, checks["Workflow"] = s.Workflow(ctx, bad)
	_, checks["Session"] = s.Session(ctx, bad)
	_, checks["SessionByRequestID"] = s.SessionByRequestID(ctx, u.ID, bad)
	checks["SetCredits"] = s.SetCredits(ctx, bad, 1)
	checks["RevokeAPIKey"] = s.RevokeAPIKey(ctx, bad, base)
	checks["SetMapping"] = s.SetMapping(ctx, bad, call.Target{AgentID: uuid.NewString()})
	checks["CreateLine"] = s.CreateLine(ctx, call.Line{ID: uuid.NewString(), UserID: bad, Number: "+14155550123",
		Provider: call.ProviderTwilio, CreatedAt: base})
	for name, err := range checks {
		if !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("%s(%q) = %v, want ErrNotFound", name, bad, err)
		}
	}
	page, total, err := s.ListSessions(ctx, bad, 0, 10)
	if err != nil || total != 0 || len(page) != 0 {
		t.Errorf("ListSessions(%q) = %v, %d, %v", bad, page, total, err)
	}
}

func TestOpenRefusesOtherURLs(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "mysql://kupe:hunter2@db/kupe", "data/kupe.db", "file:"} {
		s, err := entstore.Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open's error repeats the password: %v", err)
		}
	}
}

func TestOpenSQLiteCreatesItsDirectory(t *testing.T) {
	t.Parallel()
	dsn := "file:" + t.TempDir() + "/nested/dir/kupe.db?_pragma=journal_mode(DELETE)"
	s := entstoretest.Open(t, dsn)
	must(t, s.Migrate(ctx))
	if s.Dialect() != entstore.SQLite {
		t.Fatalf("Dialect = %q", s.Dialect())
	}
	var fk int
	var mode string
	must(t, entstore.QueryRow(ctx, s, "PRAGMA foreign_keys").Scan(&fk))
	must(t, entstore.QueryRow(ctx, s, "PRAGMA journal_mode").Scan(&mode))
	if fk != 1 || mode != "delete" {
		t.Fatalf("foreign_keys = %d, journal_mode = %q; want 1 and the URL's delete", fk, mode)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
