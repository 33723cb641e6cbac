// Package createcalltest holds the contract suites of create_call's ports: the calls aggregate
// (createcall.CallStore), the dial plan (createcall.DialPlanStore) and the carriers
// (createcall.Carrier). Every store runs the store suites (the in-memory store, ent on SQLite
// and ent on PostgreSQL), every carrier adapter the carrier suite against a fake of its wire
// protocol.
package createcalltest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/accounts/accountstest"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// Store is what the create_call suites run on: the calls and dial-plan ports, with the
// accounts' ports to make users and lines and the ledger to charge calls.
type Store interface {
	accountstest.Store
	createcall.DialPlanStore
	callevents.Ledger
	// AddSuppressions puts numbers on a user's do-not-call list (campaigns.SuppressionStore),
	// which the dial plan reads.
	AddSuppressions(ctx context.Context, userID string, numbers []string, at time.Time) (int, error)
}

var (
	must    = accountstest.Must
	newUser = accountstest.NewUser
)

// RunCallStoreSuite is the acceptance test of createcall.CallStore's sessions: create, save
// with its version, read, list. newStore returns an empty store.
func RunCallStoreSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	// Stores keep time to the microsecond at least (PostgreSQL's precision).
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	t.Run("sessions", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		other := newUser(t, s, base)
		line := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderSimulated, Active: true, CreatedAt: base}
		must(t, s.CreateLine(ctx, line))
		agent := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "A", Active: true, CreatedAt: base}
		must(t, s.CreateAgent(ctx, agent))

		cs := call.NewSession(call.Session{
			ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID, AgentID: agent.ID, LineID: line.ID,
			Provider: call.ProviderSimulated, From: line.Number, To: "+919876543210",
			VariableValues:       map[string]string{"name": "Alex", "balance": "$50"},
			RenderedSystemPrompt: "Call Alex",
			RenderedFirstMessage: "Hello Alex",
			Options: call.Options{RingTimeout: 25 * time.Second, MaxDuration: 600 * time.Second,
				MachineDetection: call.MachineDetectionEndOfGreeting},
		}, base)
		must(t, s.CreateSession(ctx, cs))
		got, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got.Status() != call.StatusDialing || got.Version() != cs.Version() || got.RequestID != cs.RequestID ||
			got.UserID != u.ID || got.AgentID != agent.ID || got.WorkflowID != "" || got.LineID != line.ID ||
			got.Provider != call.ProviderSimulated || got.From != line.Number || got.To != "+919876543210" ||
			got.VariableValues["name"] != "Alex" || got.VariableValues["balance"] != "$50" || !got.CreatedAt.Equal(base) ||
			got.RenderedSystemPrompt != "Call Alex" || got.RenderedFirstMessage != "Hello Alex" ||
			got.Options != cs.Options || got.AnsweredBy.Valid() {
			t.Fatalf("Session = %+v (status %s), want %+v", got, got.Status(), cs)
		}
		if _, err := s.Session(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Session(unknown) = %v, want ErrNotFound", err)
		}
		again := *cs
		again.ID = uuid.NewString()
		if err := s.CreateSession(ctx, call.NewSession(again, base)); err == nil {
			t.Fatal("CreateSession with a request id in use succeeded")
		}

		// A save based on the current version goes through and moves the version on.
		v := got.Version()
		must(t, got.MarkDialed("LEG1", base.Add(time.Second)))
		must(t, s.SaveSession(ctx, got))
		if got.Version() != v+1 {
			t.Fatalf("version after save = %d, want %d", got.Version(), v+1)
		}
		// A save based on a stale read is refused.
		must(t, cs.MarkFailed("late", base.Add(2*time.Second)))
		if err := s.SaveSession(ctx, cs); !errors.Is(err, fault.ErrConflict) {
			t.Fatalf("stale SaveSession = %v, want ErrConflict", err)
		}
		got, err = s.Session(ctx, cs.ID)
		must(t, err)
		if got.Status() != call.StatusInitiated || got.LegID != "LEG1" || got.Detail != "" {
			t.Fatalf("after stale save: status %s leg %q detail %q", got.Status(), got.LegID, got.Detail)
		}
		// Every field a settled session carries survives a round trip.
		_, _ = got.Advance(call.StatusInProgress, base.Add(3*time.Second))
		_, _ = got.Advance(call.StatusCompleted, base.Add(65*time.Second))
		got.Duration = 62 * time.Second
		got.Cost = money.Amount(21_500)
		got.RecordAnsweredBy(call.AnsweredByMachine, base.Add(66*time.Second))
		must(t, s.SaveSession(ctx, got))
		got2, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got2.Status() != call.StatusCompleted || got2.Duration != 62*time.Second || got2.Cost != 21_500 ||
			got2.AnsweredBy != call.AnsweredByMachine || got2.Options != cs.Options ||
			!got2.AnsweredAt.Equal(base.Add(3*time.Second)) || !got2.EndedAt.Equal(base.Add(65*time.Second)) ||
			!got2.UpdatedAt.Equal(base.Add(66*time.Second)) || got2.Version() != got.Version() {
			t.Fatalf("settled session round trip = %+v (status %s, version %d)", got2, got2.Status(), got2.Version())
		}

		// Two writers from the same read: exactly one wins.
		a, _ := s.Session(ctx, cs.ID)
		b, _ := s.Session(ctx, cs.ID)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, x := range []*call.Session{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x.Detail = fmt.Sprint("writer ", i)
				errs[i] = s.SaveSession(ctx, x)
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("concurrent saves from one read: %v, %v; want exactly one ErrConflict", errs[0], errs[1])
		}

		// Lookups by request id and lists are the owner's alone.
		byReq, err := s.SessionByRequestID(ctx, u.ID, cs.RequestID)
		must(t, err)
		if byReq.ID != cs.ID {
			t.Fatalf("SessionByRequestID = %s, want %s", byReq.ID, cs.ID)
		}
		if _, err := s.SessionByRequestID(ctx, other.ID, cs.RequestID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("another user's SessionByRequestID = %v, want ErrNotFound", err)
		}
	})

	t.Run("list sessions newest first", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		other := newUser(t, s, base)
		var ids []string
		for i := 0; i < 5; i++ {
			cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
				Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, base.Add(time.Duration(i)*time.Second))
			must(t, s.CreateSession(ctx, cs))
			ids = append(ids, cs.ID)
		}
		must(t, s.CreateSession(ctx, call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: other.ID,
			Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, base.Add(time.Hour))))
		page, total, err := s.ListSessions(ctx, u.ID, 0, 2)
		must(t, err)
		if total != 5 || len(page) != 2 || page[0].ID != ids[4] || page[1].ID != ids[3] {
			t.Fatalf("first page: total %d, %d items", total, len(page))
		}
		page, total, err = s.ListSessions(ctx, u.ID, 4, 2)
		must(t, err)
		if total != 5 || len(page) != 1 || page[0].ID != ids[0] {
			t.Fatalf("last page: total %d, %d items", total, len(page))
		}
		page, _, err = s.ListSessions(ctx, u.ID, 10, 2)
		must(t, err)
		if len(page) != 0 {
			t.Fatalf("page past the end has %d items", len(page))
		}
	})

	t.Run("find sessions by status and request id prefix", func(t *testing.T) {
		s := newStore(t)
		u, other := newUser(t, s, base), newUser(t, s, base)
		// Request ids with chosen beginnings: abcd0000-..., abcd0001-..., ..., and one ffff....
		rid := func(prefix string, i int) string { return fmt.Sprintf("%s%04x-0000-4000-8000-%012x", prefix, i, i) }
		var all []*call.Session // newest first
		for i := range 5 {
			cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: rid("abcd", i), UserID: u.ID,
				Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, base.Add(time.Duration(i)*time.Second))
			if i%2 == 1 {
				must(t, cs.MarkFailed("refused", cs.CreatedAt))
			}
			must(t, s.CreateSession(ctx, cs))
			all = append([]*call.Session{cs}, all...)
		}
		lone := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: rid("ffff", 9), UserID: u.ID,
			Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, base.Add(time.Minute))
		must(t, s.CreateSession(ctx, lone))
		all = append([]*call.Session{lone}, all...)
		// Another user's sessions share the prefix and the status: never found for u.
		for i := range 2 {
			cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: rid("abcd", 100+i), UserID: other.ID,
				Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, base.Add(time.Hour))
			must(t, cs.MarkFailed("refused", base.Add(time.Hour)))
			must(t, s.CreateSession(ctx, cs))
		}
		failed := call.StatusFailed
		for _, tc := range []struct {
			name          string
			f             createcall.SessionFilter
			offset, limit int
			want          []string
			total         int
		}{
			{"no filter", createcall.SessionFilter{}, 0, 10, ownedSessionIDs(all), 6},
			{"prefix", createcall.SessionFilter{RequestIDPrefix: "abcd"}, 0, 10, ownedSessionIDs(all[1:]), 5},
			{"prefix, paged", createcall.SessionFilter{RequestIDPrefix: "abcd"}, 1, 2, ownedSessionIDs(all[2:4]), 5},
			{"prefix past the end", createcall.SessionFilter{RequestIDPrefix: "abcd"}, 5, 2, []string{}, 5},
			{"longer prefix", createcall.SessionFilter{RequestIDPrefix: "abcd0003-"}, 0, 10, []string{all[2].ID}, 1},
			{"whole request id", createcall.SessionFilter{RequestIDPrefix: lone.RequestID}, 0, 10, []string{lone.ID}, 1},
			{"another user's request id", createcall.SessionFilter{RequestIDPrefix: rid("abcd", 100)}, 0, 10, []string{}, 0},
			{"status", createcall.SessionFilter{Status: failed}, 0, 10, []string{all[2].ID, all[4].ID}, 2},
			{"status, paged", createcall.SessionFilter{Status: failed}, 1, 1, []string{all[4].ID}, 2},
			{"status and prefix", createcall.SessionFilter{Status: call.StatusDialing, RequestIDPrefix: "abcd"}, 0, 10,
				[]string{all[1].ID, all[3].ID, all[5].ID}, 3},
			{"no match", createcall.SessionFilter{RequestIDPrefix: "0"}, 0, 10, []string{}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, total, err := s.FindSessions(ctx, u.ID, tc.f, tc.offset, tc.limit)
				must(t, err)
				if total != tc.total || !reflect.DeepEqual(ownedSessionIDs(page), tc.want) {
					t.Fatalf("FindSessions = %v (total %d), want %v (total %d)", ownedSessionIDs(page), total, tc.want, tc.total)
				}
				for _, cs := range page {
					if cs.UserID != u.ID {
						t.Fatalf("another user's session %s found", cs.ID)
					}
				}
			})
		}
		page, total, err := s.FindSessions(ctx, "not-a-uuid", createcall.SessionFilter{}, 0, 10)
		if err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("FindSessions(malformed user) = %v, %d, %v", ownedSessionIDs(page), total, err)
		}
	})
	t.Run("sessions created in a range, paged by keyset", func(t *testing.T) {
		s := newStore(t)
		u, other := newUser(t, s, base), newUser(t, s, base)
		mk := func(userID, id string, at time.Time) *call.Session {
			cs := call.NewSession(call.Session{ID: id, RequestID: uuid.NewString(), UserID: userID,
				Provider: call.ProviderSimulated, From: "+14155550123", To: "+14155550124"}, at)
			must(t, s.CreateSession(ctx, cs))
			return cs
		}
		day := base.Truncate(24 * time.Hour)
		mk(u.ID, uuid.NewString(), day.Add(-time.Microsecond)) // the day before
		var want []string
		// Three at the same instant, told apart by id; then one a microsecond later, one later still.
		for _, id := range []string{"30000000-0000-4000-8000-000000000000", "10000000-0000-4000-8000-000000000000", "20000000-0000-4000-8000-000000000000"} {
			mk(u.ID, id, day)
		}
		want = append(want, "10000000-0000-4000-8000-000000000000", "20000000-0000-4000-8000-000000000000", "30000000-0000-4000-8000-000000000000")
		want = append(want, mk(u.ID, uuid.NewString(), day.Add(time.Microsecond)).ID, mk(u.ID, uuid.NewString(), day.Add(23*time.Hour)).ID)
		mk(u.ID, uuid.NewString(), day.Add(24*time.Hour)) // the next day: To is excluded
		mk(other.ID, uuid.NewString(), day.Add(time.Hour))

		r := createcall.SessionRange{From: day, To: day.Add(24 * time.Hour)}
		var got []string
		for pages := 0; ; pages++ {
			page, err := s.SessionsCreated(ctx, u.ID, r, 2)
			must(t, err)
			if len(page) > 2 || pages > 5 {
				t.Fatalf("page %d holds %d sessions", pages, len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, cs := range page {
				if cs.UserID != u.ID {
					t.Fatalf("another user's session %s", cs.ID)
				}
				got = append(got, cs.ID)
			}
			r = r.After(page[len(page)-1])
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("SessionsCreated pages = %v, want %v", got, want)
		}
		one, err := s.SessionsCreated(ctx, u.ID, createcall.SessionRange{From: day, To: day.Add(24 * time.Hour)}, 1)
		must(t, err)
		if len(one) != 1 || one[0].ID != want[0] || one[0].To != "+14155550124" || !one[0].CreatedAt.Equal(day) {
			t.Fatalf("first session = %+v", one)
		}
		for name, q := range map[string]struct {
			user  string
			limit int
		}{"malformed user": {"not-a-uuid", 10}, "no limit": {u.ID, 0}} {
			if page, err := s.SessionsCreated(ctx, q.user, createcall.SessionRange{From: day, To: day.Add(24 * time.Hour)}, q.limit); err != nil || len(page) != 0 {
				t.Fatalf("%s: SessionsCreated = %v, %v", name, ownedSessionIDs(page), err)
			}
		}
	})
}

// RunDialPlanSuite is the acceptance test of createcall.DialPlanStore: the lines, agents,
// workflows and mappings a user's plan holds, and none of another user's. newStore returns an
// empty store.
func RunDialPlanSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	// Stores keep time to the microsecond at least (PostgreSQL's precision).
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	t.Run("the destination's place on the do-not-call list", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		other := newUser(t, s, base)
		_, err := s.AddSuppressions(ctx, u.ID, []string{"+14155550123"}, base)
		must(t, err)
		for _, c := range []struct {
			user, dest string
			want       bool
		}{
			{u.ID, "+14155550123", true},
			{u.ID, "+14155550124", false},
			{u.ID, "", false},
			{other.ID, "+14155550123", false},
		} {
			plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: c.user, Destination: c.dest, Now: base})
			must(t, err)
			if plan.Suppressed != c.want {
				t.Errorf("Suppressed for destination %q (owner %v) = %v, want %v", c.dest, c.user == u.ID, plan.Suppressed, c.want)
			}
		}
	})

	t.Run("lines, agents, workflows and mappings make the dial plan", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		other := newUser(t, s, base)
		creds := call.Credentials{"account_sid": "AC123", "auth_token": "tok456"}
		sim := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderSimulated, Active: true, CreatedAt: base}
		tw := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550124", Provider: call.ProviderTwilio, Active: true, CreatedAt: base.Add(time.Second), Credentials: creds}
		off := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+919876543210", Provider: call.ProviderExotel, Active: false, CreatedAt: base}
		theirs := call.Line{ID: uuid.NewString(), UserID: other.ID, Number: "+14155550123", Provider: call.ProviderSimulated, Active: true, CreatedAt: base}
		for _, l := range []call.Line{sim, tw, off, theirs} {
			must(t, s.CreateLine(ctx, l))
		}
		dup := sim
		dup.ID = uuid.NewString()
		if err := s.CreateLine(ctx, dup); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("CreateLine with the user's number again = %v, want ErrAlreadyExists", err)
		}
		gotLine, err := s.Line(ctx, tw.ID)
		must(t, err)
		if gotLine.Number != tw.Number || gotLine.Provider != call.ProviderTwilio || !gotLine.Active ||
			gotLine.UserID != u.ID || gotLine.Credentials["auth_token"] != "tok456" || gotLine.Credentials["account_sid"] != "AC123" {
			t.Fatalf("Line = %+v (credentials %v)", gotLine, map[string]string(gotLine.Credentials))
		}
		if _, err := s.Line(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Line(unknown) = %v, want ErrNotFound", err)
		}

		agent := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "Sales", SystemPrompt: "Hi {{name}}", FirstMessage: "Hello", Active: true, CreatedAt: base}
		mapped := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "Support", Active: false, CreatedAt: base}
		foreign := call.Agent{ID: uuid.NewString(), UserID: other.ID, Name: "Theirs", Active: true, CreatedAt: base}
		wf := call.Workflow{ID: uuid.NewString(), UserID: u.ID, Name: "Flow", Active: true, CreatedAt: base}
		for _, a := range []call.Agent{agent, mapped, foreign} {
			must(t, s.CreateAgent(ctx, a))
		}
		must(t, s.CreateWorkflow(ctx, wf))
		gotAgent, err := s.Agent(ctx, agent.ID)
		must(t, err)
		if gotAgent.Name != "Sales" || gotAgent.SystemPrompt != "Hi {{name}}" || gotAgent.FirstMessage != "Hello" || !gotAgent.Active || gotAgent.UserID != u.ID {
			t.Fatalf("Agent = %+v", gotAgent)
		}
		gotWf, err := s.Workflow(ctx, wf.ID)
		must(t, err)
		if gotWf.Name != "Flow" || !gotWf.Active || gotWf.UserID != u.ID {
			t.Fatalf("Workflow = %+v", gotWf)
		}
		if _, err := s.Agent(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Agent(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := s.Workflow(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Workflow(unknown) = %v, want ErrNotFound", err)
		}

		must(t, s.SetMapping(ctx, sim.ID, call.Target{WorkflowID: wf.ID}))
		must(t, s.SetMapping(ctx, sim.ID, call.Target{AgentID: mapped.ID})) // replaces the workflow
		if err := s.SetMapping(ctx, uuid.NewString(), call.Target{AgentID: agent.ID}); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("SetMapping(unknown line) = %v, want ErrNotFound", err)
		}

		plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{AgentID: agent.ID}})
		must(t, err)
		if plan.Credits != money.FromUnits(10) {
			t.Fatalf("plan credits = %v, want 10", plan.Credits)
		}
		if len(plan.Lines) != 3 {
			t.Fatalf("plan has %d lines, want the user's 3 (active or not)", len(plan.Lines))
		}
		byID := map[string]call.Line{}
		for _, l := range plan.Lines {
			byID[l.ID] = l
		}
		if l := byID[sim.ID]; l.Mapping != (call.Target{AgentID: mapped.ID}) || l.Number != sim.Number || !l.CreatedAt.Equal(base) {
			t.Fatalf("plan line %+v, want mapped to %s", l, mapped.ID)
		}
		if l := byID[tw.ID]; l.Credentials["auth_token"] != "tok456" || l.Provider != call.ProviderTwilio || !l.Mapping.IsZero() {
			t.Fatalf("plan line %+v lacks its provider, credentials or has a mapping", l)
		}
		if l := byID[off.ID]; l.Active {
			t.Fatalf("inactive line came back active")
		}
		if _, ok := byID[theirs.ID]; ok {
			t.Fatal("plan holds another user's line")
		}
		if a, ok := plan.Agents[agent.ID]; !ok || a.Name != "Sales" || !a.Active {
			t.Fatalf("plan lacks the requested agent: %+v", plan.Agents)
		}
		if a, ok := plan.Agents[mapped.ID]; !ok || a.Active {
			t.Fatalf("plan lacks the mapped (inactive) agent: %+v", plan.Agents)
		}
		if len(plan.Agents) != 2 || len(plan.Workflows) != 0 {
			t.Fatalf("plan agents %v workflows %v, want exactly the requested and the mapped agent", plan.Agents, plan.Workflows)
		}

		// Another user's agent, asked for by id, is not in the plan.
		plan, err = s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{AgentID: foreign.ID}})
		must(t, err)
		if _, ok := plan.Agents[foreign.ID]; ok {
			t.Fatal("plan holds another user's agent")
		}
		plan, err = s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{WorkflowID: wf.ID}})
		must(t, err)
		if w, ok := plan.Workflows[wf.ID]; !ok || w.Name != "Flow" {
			t.Fatalf("plan lacks the requested workflow: %+v", plan.Workflows)
		}

		// A user with nothing has an empty plan.
		plan, err = s.DialPlan(ctx, createcall.DialPlanQuery{UserID: uuid.NewString(), Requested: call.Target{}})
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("DialPlan(unknown user) = %v", err)
		}
		if len(plan.Lines) != 0 || plan.Credits.Positive() {
			t.Fatalf("unknown user's plan = %+v", plan)
		}
	})
}

// RunDialPlanByKeySuite is the acceptance test of a dial plan read by API key
// (createcall.DialPlanQuery.KeyHash): the plan of the key's owner, with the key, and
// fault.ErrUnauthenticated for a key that names nobody. newStore returns an empty store.
func RunDialPlanByKeySuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)
	s := newStore(t)
	u, other := newUser(t, s, base), newUser(t, s, base)
	line := call.Line{ID: uuid.NewString(), UserID: u.ID, Number: "+14155550123", Provider: call.ProviderSimulated, Active: true, CreatedAt: base}
	must(t, s.CreateLine(ctx, line))
	agent := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: "Sales", Active: true, CreatedAt: base}
	must(t, s.CreateAgent(ctx, agent))
	must(t, s.SetMapping(ctx, line.ID, call.Target{AgentID: agent.ID}))
	must(t, s.CreateLine(ctx, call.Line{ID: uuid.NewString(), UserID: other.ID, Number: "+14155550124",
		Provider: call.ProviderSimulated, Active: true, CreatedAt: base}))
	plain := identity.NewAPIKey()
	key := identity.APIKey{ID: uuid.NewString(), UserID: u.ID, Name: "k", Prefix: identity.DisplayPrefix(plain),
		Hash: identity.HashAPIKey(plain), CreatedAt: base}
	must(t, s.CreateAPIKey(ctx, key))
	used := base.Add(time.Hour)
	if _, err := s.TouchAPIKey(ctx, key.ID, used, used); err != nil {
		t.Fatal(err)
	}

	plan, err := s.DialPlan(ctx, createcall.DialPlanQuery{KeyHash: key.Hash, Requested: call.Target{}, Now: base})
	must(t, err)
	if plan.UserID != u.ID || plan.Key == nil || plan.Key.ID != key.ID || plan.Key.UserID != u.ID ||
		!plan.Key.LastUsedAt.Equal(used) || plan.Key.Hash != key.Hash {
		t.Fatalf("plan by key: user %s key %+v, want user %s and key %s last used %v", plan.UserID, plan.Key, u.ID, key.ID, used)
	}
	if len(plan.Lines) != 1 || plan.Lines[0].ID != line.ID || plan.Lines[0].UserID != u.ID ||
		plan.Lines[0].Mapping.AgentID != agent.ID || plan.Credits != money.FromUnits(10) {
		t.Fatalf("plan by key: lines %+v credits %v, want the owner's line", plan.Lines, plan.Credits)
	}
	if a, ok := plan.Agents[agent.ID]; !ok || a.UserID != u.ID || len(plan.Agents) != 1 {
		t.Fatalf("plan by key: agents %+v, want the owner's mapped agent", plan.Agents)
	}
	// The same plan as by user id, but for the key.
	byUser, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Now: base})
	must(t, err)
	if byUser.UserID != u.ID || byUser.Key != nil || !reflect.DeepEqual(byUser.Lines, plan.Lines) || !reflect.DeepEqual(byUser.Agents, plan.Agents) {
		t.Fatalf("plan by user id %+v differs from the plan by key %+v", byUser, plan)
	}
	// A key nobody has, and a revoked one, are no one.
	if _, err := s.DialPlan(ctx, createcall.DialPlanQuery{KeyHash: identity.HashAPIKey(identity.NewAPIKey())}); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("plan by an unknown key = %v, want ErrUnauthenticated", err)
	}
	must(t, s.RevokeUserAPIKey(ctx, u.ID, key.ID, base.Add(2*time.Hour)))
	if _, err := s.DialPlan(ctx, createcall.DialPlanQuery{KeyHash: key.Hash}); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("plan by a revoked key = %v, want ErrUnauthenticated", err)
	}
}

func ownedSessionIDs(ss []*call.Session) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}
