package createcall_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// testClock is the handler's and the limiter's clock, moved by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// limitedFixture is newFixture with a clock and the in-process rate limiter on it.
func limitedFixture(t *testing.T) (*fixture, *testClock) {
	t.Helper()
	f := newFixture(t)
	c := &testClock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	f.h.Now = c.now
	f.h.Limiter = ratelimit.New(c.now)
	return f, c
}

func (f *fixture) setLimits(t *testing.T, fn func(*identity.Limits)) {
	t.Helper()
	if _, err := f.store.UpdateLimits(context.Background(), f.userID, func(l *identity.Limits) error { fn(l); return nil }); err != nil {
		t.Fatal(err)
	}
}

// limitErr asserts a *LimitError of the given kind and returns it.
func limitErr(t *testing.T, err error, kind error) *createcall.LimitError {
	t.Helper()
	var le *createcall.LimitError
	if !errors.As(err, &le) || !errors.Is(err, kind) {
		t.Fatalf("error = %v, want a LimitError of %v", err, kind)
	}
	return le
}

func (f *fixture) sessions(t *testing.T) int {
	t.Helper()
	_, n, err := f.store.ListSessions(context.Background(), f.userID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// answer is what a Result tells the caller, as an idempotency record keeps it: without whether
// it was replayed or recorded.
func answer(res createcall.Result) createcall.Result {
	res.Replayed, res.Unrecorded = false, nil
	return res
}

func TestRateLimitPerUser(t *testing.T) {
	ctx := context.Background()
	f, clock := limitedFixture(t)
	f.h.Limits.DefaultRequestsPerSecond = 1 // a burst of 2
	call1 := createcall.Command{UserID: f.userID, To: "+14155550123"}
	for i := range 2 {
		if _, err := f.h.Handle(ctx, call1); err != nil {
			t.Fatalf("request %d of the burst: %v", i, err)
		}
	}
	_, err := f.h.Handle(ctx, call1)
	le := limitErr(t, err, createcall.ErrRateLimited)
	if le.Detail != "Rate limit exceeded: 1 requests per second" || le.RetryAfter != time.Second {
		t.Fatalf("refusal = %q, retry after %v", le.Detail, le.RetryAfter)
	}
	if len(f.carrier.dials) != 2 || f.sessions(t) != 2 {
		t.Fatalf("%d dials and %d sessions after a refused request, want 2 and 2", len(f.carrier.dials), f.sessions(t))
	}
	clock.add(time.Second)
	if _, err := f.h.Handle(ctx, call1); err != nil {
		t.Fatalf("after a second: %v", err)
	}

	// A user's own rate replaces the default.
	f.setLimits(t, func(l *identity.Limits) { l.RequestsPerSecond = 2.5 }) // a burst of 5
	clock.add(time.Hour)
	n := 0
	for ; n < 20; n++ {
		if _, err := f.h.Handle(ctx, call1); err != nil {
			if le := limitErr(t, err, createcall.ErrRateLimited); le.Detail != "Rate limit exceeded: 2.5 requests per second" {
				t.Fatalf("detail = %q", le.Detail)
			}
			break
		}
	}
	if n != 5 {
		t.Fatalf("%d requests passed at 2.5 a second, want the burst of 5", n)
	}
}

func TestConcurrencyCap(t *testing.T) {
	ctx := context.Background()
	f, clock := limitedFixture(t)
	f.setLimits(t, func(l *identity.Limits) { l.MaxConcurrentCalls = 2 })
	f.h.Limits.ActiveCallStaleAfter = time.Hour
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123"}
	var first string
	for i := range 2 {
		res, err := f.h.Handle(ctx, cmd)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		first = res.SessionID
	}
	_, err := f.h.Handle(ctx, cmd)
	le := limitErr(t, err, createcall.ErrConcurrencyLimit)
	if le.Detail != "Concurrent call limit reached: this account may have at most 2 active calls" || le.RetryAfter <= 0 {
		t.Fatalf("refusal %q, retry after %v", le.Detail, le.RetryAfter)
	}
	if len(f.carrier.dials) != 2 || f.sessions(t) != 2 {
		t.Fatalf("%d dials, %d sessions; the refused call must leave neither", len(f.carrier.dials), f.sessions(t))
	}
	// A call that ends frees its slot.
	s := f.stored(t, first)
	if err := createcall.UpdateSession(ctx, f.store, s, func(s *call.Session) error {
		_, err := s.Advance(call.StatusCompleted, clock.now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Handle(ctx, cmd); err != nil {
		t.Fatalf("after a call ended: %v", err)
	}
	// Calls that never got a final event stop counting after the stale window.
	if _, err := f.h.Handle(ctx, cmd); !errors.Is(err, createcall.ErrConcurrencyLimit) {
		t.Fatalf("at the cap again: %v", err)
	}
	clock.add(time.Hour + time.Second)
	if _, err := f.h.Handle(ctx, cmd); err != nil {
		t.Fatalf("after the stale window: %v", err)
	}
}

func TestDestinationGuards(t *testing.T) {
	ctx := context.Background()
	f, _ := limitedFixture(t)
	usIN, err := call.NewDestinationPolicy([]string{"US", "IN"}, createcall.DefaultBlockedNumberTypes())
	if err != nil {
		t.Fatal(err)
	}
	f.h.Limits.Destinations = &usIN
	refused := func(to, detail string) {
		t.Helper()
		_, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: to})
		if le := limitErr(t, err, call.ErrDestinationNotAllowed); le.Detail != detail {
			t.Fatalf("%s refused with %q, want %q", call.MaskNumber(to), le.Detail, detail)
		}
	}
	refused("+19005550123", "Destination not allowed: premium_rate numbers are refused")
	refused("+442071838750", "Destination not allowed: country GB is not on the allow-list")
	refused("+18765550123", "Destination not allowed: country JM is not on the allow-list") // +1, but Jamaica
	for _, to := range []string{"+14155550123", "+919876543210"} {
		if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: to}); err != nil {
			t.Fatalf("%s: %v", call.MaskNumber(to), err)
		}
	}
	// A user's own list narrows the deployment's, and never widens it.
	f.setLimits(t, func(l *identity.Limits) { l.AllowedCountries = []string{"IN", "GB"} })
	refused("+14155550123", "Destination not allowed: country US is not on the allow-list")
	refused("+442071838750", "Destination not allowed: country GB is not on the allow-list")
	if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+919876543210"}); err != nil {
		t.Fatalf("IN for a user allowed IN: %v", err)
	}
	if len(f.carrier.dials) != 3 {
		t.Fatalf("%d dials, want only the 3 allowed calls", len(f.carrier.dials))
	}

	// With no policy configured, premium-rate numbers are refused all the same.
	g := newFixture(t)
	if _, err := g.h.Handle(ctx, createcall.Command{UserID: g.userID, To: "+19005550123"}); !errors.Is(err, call.ErrDestinationNotAllowed) {
		t.Fatalf("premium rate with the default policy: %v", err)
	}
}

// TestDoNotCallList: a destination on the user's do-not-call list is refused with a 422's
// LimitError before anything is written or dialled; another user's list does not apply, and
// a number taken off the list may be called again.
func TestDoNotCallList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	g := newFixture(t)
	const listed = "+14155550123"
	if _, err := f.store.AddSuppressions(ctx, f.userID, []string{listed}, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: listed})
	if le := limitErr(t, err, call.ErrDestinationNotAllowed); le.Detail != "Destination is on your do-not-call list" {
		t.Fatalf("refused with %q", le.Detail)
	}
	if len(f.carrier.dials) != 0 {
		t.Fatalf("%d dials to a listed number", len(f.carrier.dials))
	}
	if _, total, _ := f.store.ListSessions(ctx, f.userID, 0, 10); total != 0 {
		t.Fatalf("%d sessions written for a listed number", total)
	}
	if _, err := g.h.Handle(ctx, createcall.Command{UserID: g.userID, To: listed}); err != nil {
		t.Fatalf("another user's list applied: %v", err)
	}
	if err := f.store.DeleteSuppression(ctx, f.userID, listed); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: listed}); err != nil {
		t.Fatalf("after removal from the list: %v", err)
	}
}

func TestDailySpendCap(t *testing.T) {
	ctx := context.Background()
	f, clock := limitedFixture(t)
	res, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ChargeSession(ctx, res.SessionID, f.userID, money.FromUnits(2), 120, clock.now()); err != nil {
		t.Fatal(err)
	}
	f.setLimits(t, func(l *identity.Limits) { c := money.FromUnits(2); l.DailySpendCap = &c })
	_, err = f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"})
	if le := limitErr(t, err, createcall.ErrDailySpendCap); !strings.Contains(le.Detail, "at most 2 a day") ||
		le.RetryAfter != 15*time.Hour { // until midnight UTC
		t.Fatalf("detail = %q, retry after %v", le.Detail, le.RetryAfter)
	}
	f.setLimits(t, func(l *identity.Limits) { c := money.Amount(2_000_001); l.DailySpendCap = &c })
	if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"}); err != nil {
		t.Fatalf("under the cap: %v", err)
	}
	f.setLimits(t, func(l *identity.Limits) { c := money.FromUnits(1); l.DailySpendCap = &c })
	clock.add(24 * time.Hour) // a new day: yesterday's charges do not count
	if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"}); err != nil {
		t.Fatalf("the next day: %v", err)
	}
	if len(f.carrier.dials) != 3 {
		t.Fatalf("%d dials, want 3", len(f.carrier.dials))
	}
}

func TestLinePacing(t *testing.T) {
	ctx := context.Background()
	f, _ := limitedFixture(t) // the clock stands still: every wait is the pacing's own
	paced, err := f.accounts.AddLine(ctx, accounts.AddLine{UserID: f.userID, Number: "+14155550105", Provider: "simulated", MaxCPS: 50})
	if err != nil {
		t.Fatal(err)
	}
	f.h.Limits.MaxPacingWait = 70 * time.Millisecond
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123", LineID: paced.ID, AgentID: f.agent.ID}
	start := time.Now()
	for i := range 4 { // at 50 a second: at once, then after 20, 40 and 60 ms
		if _, err := f.h.Handle(ctx, cmd); err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("4 dials at 50 a second took %v, want the waits of 20+40+60ms", took)
	}
	_, err = f.h.Handle(ctx, cmd) // would wait 80ms
	le := limitErr(t, err, createcall.ErrLinePaced)
	if le.Detail != "Line call rate exceeded: this phone number places at most 50 calls per second" || le.RetryAfter != 80*time.Millisecond {
		t.Fatalf("refusal %q, retry after %v", le.Detail, le.RetryAfter)
	}
	// The unpaced line is not held up.
	if _, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123"}); err != nil {
		t.Fatal(err)
	}
	// A caller that gives up while waiting dials nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	f.h.Limits.MaxPacingWait = time.Second
	if _, err := f.h.Handle(cctx, cmd); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while paced: %v", err)
	}
	if len(f.carrier.dials) != 5 {
		t.Fatalf("%d dials, want 5", len(f.carrier.dials))
	}
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	f, clock := limitedFixture(t)
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123", AgentID: f.agent.ID,
		VariableValues: map[string]any{"name": "Ada", "n": 2}, IdempotencyKey: "order-42"}
	first, err := f.h.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed || first.Unrecorded != nil || !first.Success || first.SessionID == "" || first.LegID == "" {
		t.Fatalf("first answer %+v", first)
	}
	// The same request, written differently, replays the first answer without a dial.
	again := cmd
	again.To = " 1 (415) 555-0123"
	again.VariableValues = map[string]any{"n": "2", "name": "Ada"}
	clock.add(time.Hour)
	res, err := f.h.Handle(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Replayed || answer(res) != answer(first) {
		t.Fatalf("replay %+v, want the first answer %+v", res, first)
	}
	if len(f.carrier.dials) != 1 || f.sessions(t) != 1 {
		t.Fatalf("%d dials, %d sessions after a replay; want 1 and 1", len(f.carrier.dials), f.sessions(t))
	}
	// A different request under the same key is refused, field by field.
	for name, change := range map[string]func(*createcall.Command){
		"destination": func(c *createcall.Command) { c.To = "+14155550124" },
		"agent":       func(c *createcall.Command) { c.AgentID = "" },
		"workflow":    func(c *createcall.Command) { c.AgentID, c.WorkflowID = "", uuid.NewString() },
		"line":        func(c *createcall.Command) { c.LineID = f.line.ID },
		"variables":   func(c *createcall.Command) { c.VariableValues = map[string]any{"name": "Bob", "n": 2} },
	} {
		other := cmd
		change(&other)
		if _, err := f.h.Handle(ctx, other); !errors.Is(err, createcall.ErrIdempotencyMismatch) {
			t.Errorf("another %s under the key: %v, want ErrIdempotencyMismatch", name, err)
		}
	}
	// Keys are per user, and a new key is a new call.
	other := cmd
	other.IdempotencyKey = "order-43"
	if res, err := f.h.Handle(ctx, other); err != nil || res.Replayed {
		t.Fatalf("a new key: %+v, %v", res, err)
	}
	// After 24 hours the key may be used afresh.
	clock.add(createcall.IdempotencyKeyTTL)
	if res, err := f.h.Handle(ctx, cmd); err != nil || res.Replayed || answer(res) == answer(first) {
		t.Fatalf("an expired key: replayed %v, %v", res.Replayed, err)
	}
	if len(f.carrier.dials) != 3 {
		t.Fatalf("%d dials, want 3", len(f.carrier.dials))
	}

	for _, bad := range []string{strings.Repeat("k", 256), "tab\there", "line\nbreak", "caf\u00e9"} {
		c := cmd
		c.IdempotencyKey = bad
		var ie *fault.InvalidInputError
		if _, err := f.h.Handle(ctx, c); !errors.As(err, &ie) || ie.Detail != "Idempotency-Key must be 1 to 255 printable ASCII characters" {
			t.Errorf("key %q: %v", bad, err)
		}
	}
	c := cmd
	c.IdempotencyKey = strings.Repeat("k", 255)
	if _, err := f.h.Handle(ctx, c); err != nil {
		t.Fatalf("a key of 255 characters: %v", err)
	}
}

// A retry while the first request is still dialling is told to come back, and is not dialled.
func TestIdempotencyKeyInProgress(t *testing.T) {
	ctx := context.Background()
	f, _ := limitedFixture(t)
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123", IdempotencyKey: "k1"}
	var retry error
	f.carrier.during = func(createcall.DialRequest) {
		if retry == nil {
			_, retry = f.h.Handle(ctx, cmd)
		}
	}
	first, err := f.h.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if le := limitErr(t, retry, createcall.ErrIdempotencyInProgress); le.RetryAfter != time.Second {
		t.Fatalf("retry after %v, want 1s", le.RetryAfter)
	}
	res, err := f.h.Handle(ctx, cmd)
	if err != nil || !res.Replayed || answer(res) != answer(first) {
		t.Fatalf("retry after the first finished: %+v, %v", res, err)
	}
	if len(f.carrier.dials) != 1 {
		t.Fatalf("%d dials, want 1", len(f.carrier.dials))
	}
}

// A request that died between writing its session and storing its answer leaves a pending
// record; once it is older than the pending timeout, a retry is answered from the session.
func TestIdempotencyKeyOfADeadRequest(t *testing.T) {
	ctx := context.Background()
	f, clock := limitedFixture(t)
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123", IdempotencyKey: "k1"}
	// The process dies during the dial: its session and record stay as BeginCall wrote them.
	f.carrier.during = func(createcall.DialRequest) { panic("killed") }
	func() {
		defer func() { _ = recover() }()
		_, _ = f.h.Handle(ctx, cmd)
	}()
	f.carrier.during = nil
	if _, err := f.h.Handle(ctx, cmd); !errors.Is(err, createcall.ErrIdempotencyInProgress) {
		t.Fatalf("retry at once: %v", err)
	}
	clock.add(createcall.DefaultIdempotencyPendingTimeout)
	res, err := f.h.Handle(ctx, cmd)
	if err != nil || !res.Replayed || res.Success || !strings.HasPrefix(res.Detail, "Outcome unknown") {
		t.Fatalf("retry of a dead request still dialing: %+v, %v", res, err)
	}
	// The reconciler settles the session; the next retry answers from it, and that answer stays.
	s := f.stored(t, res.SessionID)
	if err := createcall.UpdateSession(ctx, f.store, s, func(s *call.Session) error {
		return s.MarkFailed("The carrier has no record of this call", clock.now())
	}); err != nil {
		t.Fatal(err)
	}
	settled, err := f.h.Handle(ctx, cmd)
	if err != nil || !settled.Replayed || settled.Detail != "The carrier has no record of this call" {
		t.Fatalf("retry after the session settled: %+v, %v", settled, err)
	}
	later, err := f.h.Handle(ctx, cmd)
	if err != nil || later != settled {
		t.Fatalf("a later retry: %+v, %v; want the stored answer", later, err)
	}
	if len(f.carrier.dials) != 1 {
		t.Fatalf("%d dials, want the first only", len(f.carrier.dials))
	}

	// A dead request whose call the carrier's events show placed was a success, whatever the
	// call did since.
	placed := cmd
	placed.IdempotencyKey = "k2"
	f.carrier.during = func(createcall.DialRequest) { panic("killed") }
	func() {
		defer func() { _ = recover() }()
		_, _ = f.h.Handle(ctx, placed)
	}()
	f.carrier.during = nil
	newest, _, err := f.store.ListSessions(ctx, f.userID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	s = newest[0]
	if err := createcall.UpdateSession(ctx, f.store, s, func(s *call.Session) error {
		if err := s.MarkDialed("LEG-FROM-CALLBACK", clock.now()); err != nil {
			return err
		}
		_, err := s.Advance(call.StatusNoAnswer, clock.now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clock.add(createcall.DefaultIdempotencyPendingTimeout)
	if res, err := f.h.Handle(ctx, placed); err != nil || !res.Replayed || !res.Success || res.LegID != "LEG-FROM-CALLBACK" {
		t.Fatalf("retry of a dead request whose call was placed: %+v, %v", res, err)
	}
}
