package createcall_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// scriptedCarrier answers every dial with err (or a fresh leg id) and counts dials.
type scriptedCarrier struct {
	mu    sync.Mutex
	err   error
	dials []createcall.DialRequest
	// during runs inside Dial, to change the world while the carrier "is dialling".
	during func(req createcall.DialRequest)
}

func (c *scriptedCarrier) Dial(_ context.Context, req createcall.DialRequest) (string, error) {
	c.mu.Lock()
	c.dials = append(c.dials, req)
	n := len(c.dials)
	c.mu.Unlock()
	if c.during != nil {
		c.during(req)
	}
	if c.err != nil {
		return "", c.err
	}
	return fmt.Sprintf("LEG%d", n), nil
}

type fixture struct {
	store    *memstore.Store
	accounts *accounts.Accounts
	carrier  *scriptedCarrier
	h        *createcall.Handler
	userID   string
	line     call.Line
	agent    call.Agent
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: memstore.New(), carrier: &scriptedCarrier{}}
	f.accounts = &accounts.Accounts{Store: f.store}
	f.h = &createcall.Handler{Plans: f.store, Sessions: f.store,
		Carriers: createcall.CarrierSet{call.ProviderSimulated: f.carrier, call.ProviderTwilio: f.carrier}}
	u, err := f.accounts.CreateUser(ctx, "ada@example.com", money.FromUnits(5))
	if err != nil {
		t.Fatal(err)
	}
	f.userID = u.ID
	f.line, err = f.accounts.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "simulated",
		Credentials: map[string]string{"token": "secret-token"}})
	if err != nil {
		t.Fatal(err)
	}
	f.agent, err = f.accounts.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales",
		SystemPrompt: "You call {{name}} about {{ topic }}.", FirstMessage: "Hi {{name}}!"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.accounts.SetMapping(ctx, f.line.ID, call.Target{AgentID: f.agent.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) stored(t *testing.T, id string) *call.Session {
	t.Helper()
	s, err := f.store.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateCallSuccess(t *testing.T) {
	f := newFixture(t)
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: " 1 (415) 555-0123",
		VariableValues: map[string]any{"name": "Alex", "n": 3.5, "vip": true}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.LegID != "LEG1" || res.To != "+14155550123" || res.From != "+14155550100" {
		t.Fatalf("result %+v", res)
	}
	s := f.stored(t, res.SessionID)
	if s.Status() != call.StatusInitiated || s.LegID != "LEG1" || s.AgentID != f.agent.ID || s.LineID != f.line.ID ||
		s.VariableValues["n"] != "3.5" || s.VariableValues["vip"] != "true" || s.RequestID == "" || s.RequestID == s.ID ||
		s.RenderedSystemPrompt != "You call Alex about {{ topic }}." || s.RenderedFirstMessage != "Hi Alex!" {
		t.Fatalf("stored session %+v status %s", s, s.Status())
	}
	d := f.carrier.dials[0]
	if d.SessionID != s.ID || d.RequestID != s.RequestID || d.To != "+14155550123" || d.Credentials["token"] != "secret-token" {
		t.Fatalf("dial request %+v", d)
	}
}

// Objects and arrays, which Kupe's CreateCallBody allows, fill placeholders as compact JSON and
// are kept so in the session.
func TestCreateCallNestedVariables(t *testing.T) {
	f := newFixture(t)
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550123",
		VariableValues: map[string]any{"name": []any{"Alex", "Sam"}, "topic": map[string]any{"plan": "pro", "due": []any{1, 2}}}})
	if err != nil || !res.Success {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	s := f.stored(t, res.SessionID)
	if s.RenderedSystemPrompt != `You call ["Alex","Sam"] about {"due":[1,2],"plan":"pro"}.` ||
		s.RenderedFirstMessage != `Hi ["Alex","Sam"]!` || s.VariableValues["topic"] != `{"due":[1,2],"plan":"pro"}` {
		t.Fatalf("session prompt %q, first message %q, variables %v", s.RenderedSystemPrompt, s.RenderedFirstMessage, s.VariableValues)
	}
}

func TestSessionIsWrittenBeforeTheDial(t *testing.T) {
	f := newFixture(t)
	var seen call.Status
	f.carrier.during = func(req createcall.DialRequest) {
		s, err := f.store.Session(context.Background(), req.SessionID)
		if err != nil {
			t.Errorf("session not stored before the dial: %v", err)
			return
		}
		seen = s.Status()
	}
	if _, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550123"}); err != nil {
		t.Fatal(err)
	}
	if seen != call.StatusDialing {
		t.Fatalf("status during the dial = %s, want dialing", seen)
	}
}

func TestCarrierEventDuringDialIsKept(t *testing.T) {
	f := newFixture(t)
	// The carrier's ringing callback lands before create_call records the leg id.
	f.carrier.during = func(req createcall.DialRequest) {
		s, _ := f.store.Session(context.Background(), req.SessionID)
		err := createcall.UpdateSession(context.Background(), f.store, s, func(s *call.Session) error {
			_, err := s.Advance(call.StatusRinging, time.Now())
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	s := f.stored(t, res.SessionID)
	if s.Status() != call.StatusRinging || s.LegID != "LEG1" {
		t.Fatalf("status %s leg %q; want ringing with the leg id recorded", s.Status(), s.LegID)
	}
}

func TestCreateCallCarrierRefusal(t *testing.T) {
	f := newFixture(t)
	f.carrier.err = &createcall.DialError{Kind: createcall.DialInvalidDestination, Reason: "The destination number is invalid", Err: errors.New("raw 21211 payload")}
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Success || res.Detail != "The destination number is invalid" {
		t.Fatalf("result %+v", res)
	}
	s := f.stored(t, res.SessionID)
	if s.Status() != call.StatusFailed || s.Detail != res.Detail || s.EndedAt.IsZero() {
		t.Fatalf("stored %s %q", s.Status(), s.Detail)
	}
}

func TestCreateCallUnknownOutcomeStaysOpen(t *testing.T) {
	f := newFixture(t)
	f.carrier.err = context.DeadlineExceeded // unclassified: may have reached the carrier
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Success || res.Detail == "" {
		t.Fatalf("result %+v", res)
	}
	s := f.stored(t, res.SessionID)
	if s.Status() != call.StatusDialing || len(f.carrier.dials) != 1 {
		t.Fatalf("status %s after %d dials; want dialing after exactly one", s.Status(), len(f.carrier.dials))
	}
}

func TestCreateCallOutcomeSurvivesCancelledClient(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.carrier.during = func(createcall.DialRequest) { cancel() } // the client hangs up mid-dial
	res, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.stored(t, res.SessionID); s.Status() != call.StatusInitiated || s.LegID == "" {
		t.Fatalf("status %s leg %q", s.Status(), s.LegID)
	}
}

func TestCreateCallRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other, _ := f.accounts.CreateUser(ctx, "bob@example.com", money.FromUnits(5))
	theirAgent, _ := f.accounts.CreateAgent(ctx, accounts.CreateAgent{UserID: other.ID, Name: "X"})
	theirLine, _ := f.accounts.AddLine(ctx, accounts.AddLine{UserID: other.ID, Number: "+14155550101", Provider: "simulated"})
	theirFlow, _ := f.accounts.CreateWorkflow(ctx, other.ID, "Flow")
	offLine, _ := f.accounts.AddLine(ctx, accounts.AddLine{UserID: f.userID, Number: "+14155550102", Provider: "simulated", Inactive: true})
	unmapped, _ := f.accounts.AddLine(ctx, accounts.AddLine{UserID: f.userID, Number: "+14155550103", Provider: "twilio"})
	invalid := func(err error) bool {
		var ie *fault.InvalidInputError
		return errors.As(err, &ie)
	}
	is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	tests := []struct {
		name string
		cmd  createcall.Command
		ok   func(error) bool
	}{
		{"no user", createcall.Command{To: "+14155550123"}, is(fault.ErrUnauthenticated)},
		{"no number", createcall.Command{UserID: f.userID}, invalid},
		{"invalid number", createcall.Command{UserID: f.userID, To: "+15551234567"}, invalid},
		{"malformed agent id", createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: "42"}, invalid},
		{"malformed line id", createcall.Command{UserID: f.userID, To: "+14155550123", LineID: "x"}, invalid},
		{"both agent and workflow", createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: f.agent.ID, WorkflowID: theirFlow.ID}, is(call.ErrTargetBoth)},
		{"another user's agent", createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: theirAgent.ID}, is(call.ErrAgentNotFound)},
		{"unknown agent", createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: uuid.NewString()}, is(call.ErrAgentNotFound)},
		{"another user's workflow", createcall.Command{UserID: f.userID, To: "+14155550123", WorkflowID: theirFlow.ID}, is(call.ErrWorkflowNotFound)},
		{"another user's line", createcall.Command{UserID: f.userID, To: "+14155550123", LineID: theirLine.ID}, is(call.ErrLineNotFound)},
		{"inactive explicit line", createcall.Command{UserID: f.userID, To: "+14155550123", LineID: offLine.ID}, is(call.ErrLineInactive)},
		{"unmapped explicit line, no agent", createcall.Command{UserID: f.userID, To: "+14155550123", LineID: unmapped.ID}, is(call.ErrNoTarget)},
		{"variable too long as JSON", createcall.Command{UserID: f.userID, To: "+14155550123",
			VariableValues: map[string]any{"a": map[string]any{"b": strings.Repeat("x", 4096)}}}, invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.h.Handle(ctx, tt.cmd)
			if !tt.ok(err) {
				t.Fatalf("Handle error = %v", err)
			}
		})
	}
	if n := len(f.carrier.dials); n != 0 {
		t.Fatalf("refused requests dialled %d times", n)
	}
	if _, total, _ := f.store.ListSessions(ctx, f.userID, 0, 10); total != 0 {
		t.Fatalf("refused requests left %d sessions", total)
	}

	t.Run("inactive mapped agent", func(t *testing.T) {
		g := newFixture(t)
		off := call.Agent{ID: uuid.NewString(), UserID: g.userID, Name: "Off", Active: false, CreatedAt: time.Now()}
		if err := g.store.CreateAgent(ctx, off); err != nil {
			t.Fatal(err)
		}
		if err := g.accounts.SetMapping(ctx, g.line.ID, call.Target{AgentID: off.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.h.Handle(ctx, createcall.Command{UserID: g.userID, To: "+14155550123"}); !errors.Is(err, call.ErrAgentInactive) {
			t.Fatalf("error = %v, want ErrAgentInactive", err)
		}
	})
	t.Run("no credits", func(t *testing.T) {
		g := newFixture(t)
		_ = g.accounts.SetCredits(ctx, g.userID, 0)
		if _, err := g.h.Handle(ctx, createcall.Command{UserID: g.userID, To: "+14155550123"}); !errors.Is(err, createcall.ErrInsufficientCredits) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("no active line", func(t *testing.T) {
		g := newFixture(t)
		u, _ := g.accounts.CreateUser(ctx, "lineless@example.com", money.FromUnits(1))
		if _, err := g.h.Handle(ctx, createcall.Command{UserID: u.ID, To: "+14155550123"}); !errors.Is(err, call.ErrNoActiveLine) {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestCreateCallChoosesMappedLine(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// A twilio line ranks before the simulated one, but the agent is mapped to the simulated one.
	tw, _ := f.accounts.AddLine(ctx, accounts.AddLine{UserID: f.userID, Number: "+14155550104", Provider: "twilio"})
	res, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: f.agent.ID})
	if err != nil || f.stored(t, res.SessionID).LineID != f.line.ID {
		t.Fatalf("mapped agent used line %s (%v), want %s", f.stored(t, res.SessionID).LineID, err, f.line.ID)
	}
	wf, _ := f.accounts.CreateWorkflow(ctx, f.userID, "Flow")
	res, err = f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123", WorkflowID: wf.ID})
	if err != nil || f.stored(t, res.SessionID).LineID != tw.ID || f.stored(t, res.SessionID).WorkflowID != wf.ID {
		t.Fatalf("unmapped workflow used line %s (%v), want the first active line %s", f.stored(t, res.SessionID).LineID, err, tw.ID)
	}
}

func TestSeedDemoOnlyOnAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	acc := &accounts.Accounts{Store: store}
	demo, ok, err := acc.SeedDemo(ctx, money.FromUnits(100))
	if err != nil || !ok {
		t.Fatalf("SeedDemo = %v, %v", ok, err)
	}
	auth := &accounts.Authenticator{Keys: store}
	p, err := auth.APIKey(ctx, demo.APIKey)
	if err != nil || p.UserID != demo.UserID {
		t.Fatalf("demo key authenticates as %+v, %v", p, err)
	}
	h := &createcall.Handler{Plans: store, Sessions: store,
		Carriers: createcall.CarrierSet{call.ProviderSimulated: &scriptedCarrier{}}}
	res, err := h.Handle(ctx, createcall.Command{UserID: demo.UserID, To: "+14155550123"})
	if err != nil || !res.Success {
		t.Fatalf("demo call: %+v, %v", res, err)
	}
	if s, err := store.Session(ctx, res.SessionID); err != nil || s.AgentID != demo.AgentID || s.LineID != demo.LineID {
		t.Fatalf("demo call's session: %+v, %v", s, err)
	}
	if _, ok, err := acc.SeedDemo(ctx, money.FromUnits(100)); ok || err != nil {
		t.Fatalf("second SeedDemo = %v, %v; want nothing done", ok, err)
	}
	if n, _ := store.CountUsers(ctx); n != 1 {
		t.Fatalf("%d users after two seeds", n)
	}
}

type notedKeys struct {
	mu   sync.Mutex
	keys []identity.APIKey
}

func (n *notedKeys) NoteUse(k identity.APIKey) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.keys = append(n.keys, k)
}

// A Command may name its user by the hash of its API key, not yet looked up: Handle reads the
// key with the dial plan, acts for its owner, and says who the key is. A key that names nobody
// is refused as unauthenticated before anything else, a malformed request included.
func TestHandleByAPIKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	used := &notedKeys{}
	f.h.KeyUsage = used
	key, err := f.accounts.CreateAPIKey(ctx, f.userID, "load")
	if err != nil {
		t.Fatal(err)
	}
	plain := key.Plain
	res, err := f.h.Handle(ctx, createcall.Command{KeyHash: identity.HashAPIKey(plain), To: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.UserID != f.userID || f.stored(t, res.SessionID).UserID != f.userID {
		t.Fatalf("call by key = %+v, want one placed for the key's owner", res)
	}
	if len(used.keys) != 1 || used.keys[0].ID != key.ID || used.keys[0].UserID != f.userID {
		t.Fatalf("keys noted as used = %+v, want %s", used.keys, key.ID)
	}

	stranger := identity.HashAPIKey(identity.NewAPIKey())
	for name, cmd := range map[string]createcall.Command{
		"a valid request":    {KeyHash: stranger, To: "+14155550123"},
		"an invalid number":  {KeyHash: stranger, To: "12"},
		"no number":          {KeyHash: stranger},
		"a malformed key id": {KeyHash: stranger, To: "+14155550123", AgentID: "not-an-id"},
	} {
		if _, err := f.h.Handle(ctx, cmd); !errors.Is(err, fault.ErrUnauthenticated) {
			t.Errorf("%s with an unknown key = %v, want ErrUnauthenticated", name, err)
		}
	}
	// The owner's bad request is told what is wrong with it.
	var invalid *fault.InvalidInputError
	if _, err := f.h.Handle(ctx, createcall.Command{KeyHash: identity.HashAPIKey(plain), To: "12"}); !errors.As(err, &invalid) {
		t.Fatalf("an invalid number with a good key = %v, want an InvalidInputError", err)
	}
	if len(f.carrier.dials) != 1 {
		t.Fatalf("%d dials, want the one call by the good key", len(f.carrier.dials))
	}
}
