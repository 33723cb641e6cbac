package accountstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// RunCatalogStoreSuite is the acceptance test of accounts.CatalogStore's owner-scoped methods
// (lines, agents, workflows, mappings). Every case checks that
// another user's id reads as fault.ErrNotFound and changes nothing. newStore returns an
// empty store; the cases share one, each with users of its own.
func RunCatalogStoreSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)
	s := newStore(t)

	user := func(t *testing.T) identity.User {
		t.Helper()
		return newUser(t, s, base)
	}
	line := func(t *testing.T, userID, number string, at time.Time, creds call.Credentials) call.Line {
		t.Helper()
		l := call.Line{ID: uuid.NewString(), UserID: userID, Number: number, Provider: call.ProviderTwilio, Active: true,
			CreatedAt: at, Credentials: creds, FriendlyName: "Front desk", CountryCode: "US", Region: "CA"}
		must(t, s.CreateLine(ctx, l))
		return l
	}
	agent := func(t *testing.T, userID string, at time.Time) call.Agent {
		t.Helper()
		a := call.Agent{ID: uuid.NewString(), UserID: userID, Name: "Sales", SystemPrompt: "Hi {{name}}",
			FirstMessage: "Hello", Active: true, CreatedAt: at}
		must(t, s.CreateAgent(ctx, a))
		return a
	}
	workflow := func(t *testing.T, userID string, at time.Time) call.Workflow {
		t.Helper()
		w := call.Workflow{ID: uuid.NewString(), UserID: userID, Name: "Flow", Active: true, CreatedAt: at}
		must(t, s.CreateWorkflow(ctx, w))
		return w
	}
	notFound := func(t *testing.T, what string, err error) {
		t.Helper()
		if !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("%s = %v, want ErrNotFound", what, err)
		}
	}
	creds := call.Credentials{"account_sid": "AC1", "auth_token": "tok"}

	t.Run("lines are read by their owner only, without credentials", func(t *testing.T) {
		u, other := user(t), user(t)
		second := line(t, u.ID, "+14155550124", base.Add(time.Second), creds)
		first := line(t, u.ID, "+14155550123", base, nil)
		theirs := line(t, other.ID, "+14155550123", base, creds)
		a := agent(t, u.ID, base)
		must(t, s.SetMapping(ctx, first.ID, call.Target{AgentID: a.ID}))

		got, err := s.UserLines(ctx, u.ID)
		must(t, err)
		if len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
			t.Fatalf("UserLines = %v, want the user's two lines, oldest first", ownedLineIDs(got))
		}
		l := got[0]
		if l.UserID != u.ID || l.Number != first.Number || l.Provider != call.ProviderTwilio || !l.Active ||
			!l.CreatedAt.Equal(base) || l.FriendlyName != "Front desk" || l.CountryCode != "US" || l.Region != "CA" ||
			l.Mapping != (call.Target{AgentID: a.ID}) {
			t.Fatalf("UserLines[0] = %+v", l)
		}
		for _, l := range got {
			if l.Credentials != nil {
				t.Fatal("UserLines returned credentials")
			}
		}
		one, err := s.UserLine(ctx, u.ID, second.ID)
		must(t, err)
		if one.ID != second.ID || one.Number != second.Number || one.Credentials != nil || !one.Mapping.IsZero() {
			t.Fatalf("UserLine = %+v (credentials %v)", one, one.Credentials != nil)
		}
		_, err = s.UserLine(ctx, u.ID, theirs.ID)
		notFound(t, "UserLine(another user's line)", err)
		_, err = s.UserLine(ctx, u.ID, uuid.NewString())
		notFound(t, "UserLine(unknown)", err)
		_, err = s.UserLine(ctx, u.ID, "not-a-uuid")
		notFound(t, "UserLine(malformed)", err)
		none, err := s.UserLines(ctx, uuid.NewString())
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("UserLines(unknown user) = %v", ownedLineIDs(none))
		}
	})

	t.Run("update line", func(t *testing.T) {
		u, other := user(t), user(t)
		l := line(t, u.ID, "+14155550123", base, creds)
		theirs := line(t, other.ID, "+14155550125", base, creds)

		got, err := s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error {
			if l.FriendlyName != "Front desk" || !l.Active || l.Credentials != nil {
				return fmt.Errorf("fn saw %+v (credentials %v)", *l, l.Credentials != nil)
			}
			l.FriendlyName, l.Active = "Back office", false
			// Not the caller's to change: not stored.
			l.Number, l.UserID, l.Provider, l.CountryCode = "+14155550199", other.ID, call.ProviderSimulated, "GB"
			return nil
		})
		must(t, err)
		if got.FriendlyName != "Back office" || got.Active || got.Credentials != nil || got.ID != l.ID || got.Number != l.Number ||
			got.UserID != u.ID || got.Provider != call.ProviderTwilio || got.CountryCode != "US" || got.Region != "CA" ||
			!got.CreatedAt.Equal(base) {
			t.Fatalf("UpdateLine returned %+v, want the line as stored", got)
		}
		stored, err := s.Line(ctx, l.ID)
		must(t, err)
		if stored.FriendlyName != "Back office" || stored.Active || stored.Number != l.Number || stored.UserID != u.ID ||
			stored.Provider != call.ProviderTwilio || stored.CountryCode != "US" || stored.Credentials["auth_token"] != "tok" {
			t.Fatalf("stored after update = %+v (credentials kept: %v)", stored, stored.Credentials["auth_token"] == "tok")
		}

		// New credentials replace the old as a whole; empty ones remove them.
		_, err = s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error {
			l.Credentials = call.Credentials{"api_key": "k2"}
			return nil
		})
		must(t, err)
		stored, _ = s.Line(ctx, l.ID)
		if !reflect.DeepEqual(map[string]string(stored.Credentials), map[string]string{"api_key": "k2"}) || stored.FriendlyName != "Back office" {
			t.Fatalf("credentials after replace: %d entries, api_key set %v", len(stored.Credentials), stored.Credentials["api_key"] == "k2")
		}
		_, err = s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error { l.Credentials = call.Credentials{}; return nil })
		must(t, err)
		if stored, _ = s.Line(ctx, l.ID); len(stored.Credentials) != 0 {
			t.Fatalf("credentials after removal: %d entries", len(stored.Credentials))
		}

		// An error from fn stores nothing.
		boom := errors.New("boom")
		if _, err := s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error { l.FriendlyName = "x"; return boom }); !errors.Is(err, boom) {
			t.Fatalf("UpdateLine with a failing fn = %v", err)
		}
		if stored, _ = s.Line(ctx, l.ID); stored.FriendlyName != "Back office" {
			t.Fatalf("a failed update stored %q", stored.FriendlyName)
		}

		// Another user's line: not found, not called, unchanged.
		called := false
		_, err = s.UpdateLine(ctx, u.ID, theirs.ID, func(l *call.Line) error { called = true; l.Active = false; return nil })
		notFound(t, "UpdateLine(another user's line)", err)
		if called {
			t.Fatal("UpdateLine called fn on another user's line")
		}
		if st, _ := s.Line(ctx, theirs.ID); !st.Active || st.FriendlyName != "Front desk" || st.Credentials["auth_token"] != "tok" {
			t.Fatalf("another user's line changed: %+v", st)
		}
		_, err = s.UpdateLine(ctx, u.ID, "not-a-uuid", func(*call.Line) error { return nil })
		notFound(t, "UpdateLine(malformed)", err)

		// Concurrent updates are applied one after the other: none is lost.
		const n = 8
		_, err = s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error { l.FriendlyName = ""; return nil })
		must(t, err)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UpdateLine(ctx, u.ID, l.ID, func(l *call.Line) error {
					time.Sleep(time.Millisecond) // between the read and the write, where a lost update happens
					l.FriendlyName += "x"
					return nil
				})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		if got, _ := s.UserLine(ctx, u.ID, l.ID); got.FriendlyName != strings.Repeat("x", n) {
			t.Fatalf("after %d concurrent appends friendly name is %q: an update was lost", n, got.FriendlyName)
		}
	})

	t.Run("delete line takes its mapping and leaves its sessions", func(t *testing.T) {
		u, other := user(t), user(t)
		l := line(t, u.ID, "+14155550123", base, creds)
		theirs := line(t, other.ID, "+14155550123", base, nil)
		a := agent(t, u.ID, base)
		must(t, s.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID, AgentID: a.ID,
			LineID: l.ID, Provider: l.Provider, From: l.Number, To: "+919876543210"}, base)
		must(t, s.CreateSession(ctx, cs))

		notFound(t, "DeleteLine(another user's line)", s.DeleteLine(ctx, u.ID, theirs.ID))
		if _, err := s.UserLine(ctx, other.ID, theirs.ID); err != nil {
			t.Fatalf("another user's line after a refused delete: %v", err)
		}
		must(t, s.DeleteLine(ctx, u.ID, l.ID))
		_, err := s.UserLine(ctx, u.ID, l.ID)
		notFound(t, "UserLine(deleted)", err)
		notFound(t, "DeleteLine twice", s.DeleteLine(ctx, u.ID, l.ID))
		notFound(t, "DeleteMapping(deleted line)", s.DeleteMapping(ctx, u.ID, l.ID))
		notFound(t, "SetMapping(deleted line)", s.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
		got, err := s.Session(ctx, cs.ID)
		must(t, err)
		if got.LineID != l.ID || got.From != l.Number || got.AgentID != a.ID {
			t.Fatalf("session after its line went: %+v", got)
		}
		// The number is free again for the user.
		line(t, u.ID, "+14155550123", base, nil)
		notFound(t, "DeleteLine(malformed)", s.DeleteLine(ctx, u.ID, "not-a-uuid"))
	})

	t.Run("delete mapping", func(t *testing.T) {
		u, other := user(t), user(t)
		l := line(t, u.ID, "+14155550123", base, nil)
		theirs := line(t, other.ID, "+14155550123", base, nil)
		w := workflow(t, u.ID, base)
		tw := workflow(t, other.ID, base)
		must(t, s.SetMapping(ctx, l.ID, call.Target{WorkflowID: w.ID}))
		must(t, s.SetMapping(ctx, theirs.ID, call.Target{WorkflowID: tw.ID}))

		notFound(t, "DeleteMapping(another user's line)", s.DeleteMapping(ctx, u.ID, theirs.ID))
		if got, _ := s.UserLine(ctx, other.ID, theirs.ID); got.Mapping != (call.Target{WorkflowID: tw.ID}) {
			t.Fatalf("another user's mapping after a refused delete: %+v", got.Mapping)
		}
		must(t, s.DeleteMapping(ctx, u.ID, l.ID))
		if got, _ := s.UserLine(ctx, u.ID, l.ID); !got.Mapping.IsZero() {
			t.Fatalf("mapping after delete: %+v", got.Mapping)
		}
		notFound(t, "DeleteMapping of an unmapped line", s.DeleteMapping(ctx, u.ID, l.ID))
		notFound(t, "DeleteMapping(malformed)", s.DeleteMapping(ctx, u.ID, "not-a-uuid"))
		// The workflow is still there, and the line can be mapped again.
		if _, err := s.UserWorkflow(ctx, u.ID, w.ID); err != nil {
			t.Fatalf("workflow after its mapping went: %v", err)
		}
		must(t, s.SetMapping(ctx, l.ID, call.Target{WorkflowID: w.ID}))
	})

	t.Run("agents", func(t *testing.T) {
		u, other := user(t), user(t)
		second := agent(t, u.ID, base.Add(time.Second))
		first := agent(t, u.ID, base)
		theirs := agent(t, other.ID, base)

		got, total, err := s.UserAgents(ctx, u.ID, accounts.AgentQuery{Limit: 10})
		must(t, err)
		if total != 2 || len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
			t.Fatalf("UserAgents = %v (total %d), want the user's two, oldest first", ownedAgentIDs(got), total)
		}
		if a := got[0]; a.Name != "Sales" || a.SystemPrompt != "Hi {{name}}" || a.FirstMessage != "Hello" || !a.Active ||
			a.UserID != u.ID || !a.CreatedAt.Equal(base) {
			t.Fatalf("UserAgents[0] = %+v", a)
		}
		one, err := s.UserAgent(ctx, u.ID, second.ID)
		must(t, err)
		if one != second {
			t.Fatalf("UserAgent = %+v, want %+v", one, second)
		}
		_, err = s.UserAgent(ctx, u.ID, theirs.ID)
		notFound(t, "UserAgent(another user's agent)", err)
		_, err = s.UserAgent(ctx, u.ID, "not-a-uuid")
		notFound(t, "UserAgent(malformed)", err)

		upd, err := s.UpdateAgent(ctx, u.ID, first.ID, func(a *call.Agent) error {
			a.Name, a.SystemPrompt, a.FirstMessage, a.Active = "Support", "You help {{name}}", "Hi there", false
			a.ID, a.UserID, a.CreatedAt = uuid.NewString(), other.ID, base.Add(time.Hour) // not stored
			return nil
		})
		must(t, err)
		want := call.Agent{ID: first.ID, UserID: u.ID, Name: "Support", SystemPrompt: "You help {{name}}",
			FirstMessage: "Hi there", Active: false, CreatedAt: base}
		if upd != want {
			t.Fatalf("UpdateAgent returned %+v, want %+v", upd, want)
		}
		if got, _ := s.Agent(ctx, first.ID); got != want {
			t.Fatalf("stored agent %+v, want %+v", got, want)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateAgent(ctx, u.ID, first.ID, func(a *call.Agent) error { a.Name = "x"; return boom }); !errors.Is(err, boom) {
			t.Fatalf("UpdateAgent with a failing fn = %v", err)
		}
		called := false
		_, err = s.UpdateAgent(ctx, u.ID, theirs.ID, func(a *call.Agent) error { called = true; a.Name = "hijacked"; return nil })
		notFound(t, "UpdateAgent(another user's agent)", err)
		if got, _ := s.Agent(ctx, theirs.ID); called || got != theirs {
			t.Fatalf("another user's agent changed: %+v (fn called %v)", got, called)
		}
		if got, _ := s.Agent(ctx, first.ID); got != want {
			t.Fatalf("a failed update stored %+v", got)
		}

		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UpdateAgent(ctx, u.ID, second.ID, func(a *call.Agent) error {
					time.Sleep(time.Millisecond)
					a.SystemPrompt += "x"
					return nil
				})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		if got, _ := s.UserAgent(ctx, u.ID, second.ID); got.SystemPrompt != "Hi {{name}}"+strings.Repeat("x", n) {
			t.Fatalf("after %d concurrent appends the prompt is %q: an update was lost", n, got.SystemPrompt)
		}
	})

	t.Run("agents are paged and searched by name in the store", func(t *testing.T) {
		u, other := user(t), user(t)
		names := []string{"Sales East", "support", "Billing", "SALES west", "Presales 100%", "sales_ops"}
		var mine []call.Agent
		for i, name := range names {
			a := call.Agent{ID: uuid.NewString(), UserID: u.ID, Name: name, Active: true, CreatedAt: base.Add(time.Duration(i) * time.Second)}
			must(t, s.CreateAgent(ctx, a))
			mine = append(mine, a)
		}
		// Two agents created at the same instant come in id order.
		tie := call.Agent{ID: "ffffffff-ffff-4fff-8fff-ffffffffffff", UserID: u.ID, Name: "Tie", Active: true, CreatedAt: base}
		must(t, s.CreateAgent(ctx, tie))
		must(t, s.CreateAgent(ctx, call.Agent{ID: uuid.NewString(), UserID: other.ID, Name: "Sales", Active: true, CreatedAt: base}))
		all := append([]call.Agent{mine[0], tie}, mine[1:]...)
		for _, tc := range []struct {
			name  string
			q     accounts.AgentQuery
			want  []call.Agent
			total int
		}{
			{"first page", accounts.AgentQuery{Limit: 3}, all[:3], 7},
			{"second page", accounts.AgentQuery{Offset: 3, Limit: 3}, all[3:6], 7},
			{"last page", accounts.AgentQuery{Offset: 6, Limit: 3}, all[6:], 7},
			{"past the end", accounts.AgentQuery{Offset: 7, Limit: 3}, nil, 7},
			{"count only", accounts.AgentQuery{}, nil, 7},
			{"name contains, any case", accounts.AgentQuery{NameContains: "sAlEs", Limit: 10}, []call.Agent{mine[0], mine[3], mine[4], mine[5]}, 4},
			{"a page of a search", accounts.AgentQuery{NameContains: "sales", Offset: 1, Limit: 2}, []call.Agent{mine[3], mine[4]}, 4},
			{"percent is literal", accounts.AgentQuery{NameContains: "0%", Limit: 10}, []call.Agent{mine[4]}, 1},
			{"underscore is literal", accounts.AgentQuery{NameContains: "s_o", Limit: 10}, []call.Agent{mine[5]}, 1},
			{"no match", accounts.AgentQuery{NameContains: "zzz", Limit: 10}, nil, 0},
		} {
			got, total, err := s.UserAgents(ctx, u.ID, tc.q)
			must(t, err)
			if total != tc.total || !reflect.DeepEqual(ownedAgentIDs(got), ownedAgentIDs(tc.want)) || got == nil {
				t.Errorf("%s: UserAgents = %v (total %d), want %v (total %d)", tc.name, ownedAgentIDs(got), total, ownedAgentIDs(tc.want), tc.total)
			}
		}
		if got, total, err := s.UserAgents(ctx, "not-a-uuid", accounts.AgentQuery{Limit: 10}); err != nil || total != 0 || len(got) != 0 {
			t.Fatalf("UserAgents(malformed user) = %v, %d, %v", got, total, err)
		}
	})

	t.Run("agent stats count the owner's sessions per agent and status", func(t *testing.T) {
		u, other := user(t), user(t)
		busy := agent(t, u.ID, base)
		idle := agent(t, u.ID, base.Add(time.Second))
		_, err := s.UpdateAgent(ctx, u.ID, idle.ID, func(a *call.Agent) error { a.Active = false; return nil })
		must(t, err)
		theirs := agent(t, other.ID, base)
		flow := workflow(t, u.ID, base)
		session := func(userID, agentID, workflowID string, st call.Status, d time.Duration, cost money.Amount) {
			t.Helper()
			cs := call.RestoreSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: userID,
				AgentID: agentID, WorkflowID: workflowID, Provider: call.ProviderSimulated, From: "+14155550100",
				To: "+14155550123", Duration: d, Cost: cost, CreatedAt: base, UpdatedAt: base}, st, 1)
			must(t, s.CreateSession(ctx, cs))
		}
		session(u.ID, busy.ID, "", call.StatusCompleted, 61*time.Second, money.FromUnits(2))
		session(u.ID, busy.ID, "", call.StatusCompleted, 30*time.Second, money.FromUnits(1))
		session(u.ID, busy.ID, "", call.StatusFailed, 0, 0)
		session(u.ID, busy.ID, "", call.StatusInitiated, 0, 0)
		session(u.ID, "", flow.ID, call.StatusCompleted, time.Minute, money.FromUnits(5))   // a workflow's: not an agent's
		session(other.ID, busy.ID, "", call.StatusCompleted, time.Hour, money.FromUnits(9)) // another user's, naming the agent
		session(other.ID, theirs.ID, "", call.StatusBusy, 0, 0)

		got, err := s.UserAgentStats(ctx, u.ID)
		must(t, err)
		want := []accounts.AgentCallStats{
			{AgentID: busy.ID, Name: busy.Name, Active: true,
				ByStatus: map[call.Status]int{call.StatusCompleted: 2, call.StatusFailed: 1, call.StatusInitiated: 1},
				TalkTime: 91 * time.Second, Cost: money.FromUnits(3)},
			{AgentID: idle.ID, Name: idle.Name, Active: false, ByStatus: map[call.Status]int{}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("UserAgentStats =\n%+v\nwant\n%+v", got, want)
		}
		none, err := s.UserAgentStats(ctx, uuid.NewString())
		must(t, err)
		if none == nil || len(none) != 0 {
			t.Fatalf("UserAgentStats(unknown user) = %#v, want an empty list", none)
		}
	})

	t.Run("workflows", func(t *testing.T) {
		u, other := user(t), user(t)
		second := workflow(t, u.ID, base.Add(time.Second))
		first := workflow(t, u.ID, base)
		theirs := workflow(t, other.ID, base)
		got, err := s.UserWorkflows(ctx, u.ID)
		must(t, err)
		if len(got) != 2 || got[0] != first || got[1] != second {
			t.Fatalf("UserWorkflows = %+v, want the user's two, oldest first", got)
		}
		one, err := s.UserWorkflow(ctx, u.ID, second.ID)
		must(t, err)
		if one != second {
			t.Fatalf("UserWorkflow = %+v, want %+v", one, second)
		}
		_, err = s.UserWorkflow(ctx, u.ID, theirs.ID)
		notFound(t, "UserWorkflow(another user's workflow)", err)
		_, err = s.UserWorkflow(ctx, u.ID, "not-a-uuid")
		notFound(t, "UserWorkflow(malformed)", err)
		none, err := s.UserWorkflows(ctx, uuid.NewString())
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("UserWorkflows(unknown user) = %+v", none)
		}
	})

}

func ownedLineIDs(ls []call.Line) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func ownedAgentIDs(as []call.Agent) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}
