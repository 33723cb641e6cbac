package callevents_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// fetchingCarrier is a carrier that can be asked about calls. It counts dials: the reconciler
// must never make one.
type fetchingCarrier struct {
	mu      sync.Mutex
	dials   int
	fetches []callevents.FetchRequest
	status  map[string]call.Status // by leg id
	err     error
	during  func(callevents.FetchRequest)
}

func (c *fetchingCarrier) Dial(context.Context, createcall.DialRequest) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dials++
	return "LEG-NEW", nil
}

func (c *fetchingCarrier) FetchCall(_ context.Context, req callevents.FetchRequest) (call.Status, error) {
	c.mu.Lock()
	c.fetches = append(c.fetches, req)
	during := c.during
	c.mu.Unlock()
	if during != nil {
		during(req)
	}
	if c.err != nil {
		return 0, c.err
	}
	st, ok := c.status[req.LegID]
	if !ok {
		return 0, callevents.ErrLegNotFound
	}
	return st, nil
}

// dialOnlyCarrier cannot be asked about calls.
type dialOnlyCarrier struct{ dials int }

func (c *dialOnlyCarrier) Dial(context.Context, createcall.DialRequest) (string, error) {
	c.dials++
	return "LEG-NEW", nil
}

type reconcileRig struct {
	store   *memstore.Store
	carrier *fetchingCarrier
	r       *callevents.Reconciler
	userID  string
	line    call.Line
	now     time.Time
}

var reconcileBase = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func newReconcileRig(t *testing.T) *reconcileRig {
	t.Helper()
	ctx := context.Background()
	store := memstore.New()
	acc := &accounts.Accounts{Store: store}
	u, err := acc.CreateUser(ctx, "ada@example.com", money.FromUnits(10))
	if err != nil {
		t.Fatal(err)
	}
	line, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "twilio",
		Credentials: map[string]string{"account_sid": "AC1", "auth_token": "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	rig := &reconcileRig{store: store, carrier: &fetchingCarrier{status: map[string]call.Status{}}, userID: u.ID, line: line,
		now: reconcileBase.Add(time.Hour)}
	rig.r = &callevents.Reconciler{Sessions: store, Lines: store,
		Carriers:   createcall.CarrierSet{call.ProviderTwilio: rig.carrier},
		StaleAfter: 2 * time.Minute, GiveUpAfter: 2 * time.Hour, Now: func() time.Time { return rig.now }}
	return rig
}

// dialing stores a session left in dialing, created at, with legID recorded if not empty.
func (g *reconcileRig) dialing(t *testing.T, at time.Time, legID string) *call.Session {
	t.Helper()
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: g.userID,
		LineID: g.line.ID, Provider: g.line.Provider, From: g.line.Number, To: "+14155550123"}, at)
	if err := g.store.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if legID != "" {
		s.LegID = legID
		if err := g.store.SaveSession(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (g *reconcileRig) stored(t *testing.T, id string) *call.Session {
	t.Helper()
	s, err := g.store.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (g *reconcileRig) run(t *testing.T) callevents.ReconcileReport {
	t.Helper()
	rep, err := g.r.ReconcileOnce(context.Background())
	if err != nil {
		t.Fatalf("ReconcileOnce: %v", err)
	}
	return rep
}

func TestReconcileWithoutLegIDMarksOutcomeUnknown(t *testing.T) {
	g := newReconcileRig(t)
	s := g.dialing(t, reconcileBase, "")
	rep := g.run(t)
	got := g.stored(t, s.ID)
	if got.Status() != call.StatusFailed || !strings.HasPrefix(got.Detail, "Outcome unknown:") || !got.EndedAt.Equal(g.now) {
		t.Fatalf("session %s detail %q ended %v; want failed, outcome unknown", got.Status(), got.Detail, got.EndedAt)
	}
	if rep != (callevents.ReconcileReport{Failed: 1}) {
		t.Fatalf("report %+v", rep)
	}
	if g.carrier.dials != 0 || len(g.carrier.fetches) != 0 {
		t.Fatalf("the reconciler dialled %d times and fetched %d times; a session without a leg id needs neither",
			g.carrier.dials, len(g.carrier.fetches))
	}
}

func TestReconcileSettlesFromTheCarrier(t *testing.T) {
	g := newReconcileRig(t)
	done := g.dialing(t, reconcileBase, "CA-done")
	ringing := g.dialing(t, reconcileBase.Add(time.Second), "CA-ringing")
	failed := g.dialing(t, reconcileBase.Add(2*time.Second), "CA-failed")
	gone := g.dialing(t, reconcileBase.Add(3*time.Second), "CA-gone")
	g.carrier.status["CA-done"] = call.StatusCompleted
	g.carrier.status["CA-ringing"] = call.StatusRinging
	g.carrier.status["CA-failed"] = call.StatusFailed

	rep := g.run(t)
	if rep != (callevents.ReconcileReport{Settled: 2, Failed: 2}) {
		t.Fatalf("report %+v, want 2 settled and 2 failed", rep)
	}
	if s := g.stored(t, done.ID); s.Status() != call.StatusCompleted || s.LegID != "CA-done" || s.EndedAt.IsZero() {
		t.Fatalf("completed call: %s leg %q ended %v", s.Status(), s.LegID, s.EndedAt)
	}
	if s := g.stored(t, ringing.ID); s.Status() != call.StatusRinging || !s.EndedAt.IsZero() {
		t.Fatalf("ringing call: %s ended %v; the carrier's events settle it from here", s.Status(), s.EndedAt)
	}
	if s := g.stored(t, failed.ID); s.Status() != call.StatusFailed || s.Detail != "The carrier reports that the call failed" {
		t.Fatalf("failed call: %s %q", s.Status(), s.Detail)
	}
	if s := g.stored(t, gone.ID); s.Status() != call.StatusFailed || !strings.Contains(s.Detail, "no record") {
		t.Fatalf("call the carrier does not know: %s %q", s.Status(), s.Detail)
	}
	if len(g.carrier.fetches) != 4 || g.carrier.dials != 0 {
		t.Fatalf("%d fetches and %d dials, want 4 fetches and no dial", len(g.carrier.fetches), g.carrier.dials)
	}
	f := g.carrier.fetches[0]
	if f.LegID != "CA-done" || f.SessionID != done.ID || f.Credentials["auth_token"] != "tok" {
		t.Fatalf("fetch request %+v lacks the leg id, session id or the line's credentials", f)
	}
}

func TestReconcileLeavesFreshAndSettledSessionsAlone(t *testing.T) {
	g := newReconcileRig(t)
	fresh := g.dialing(t, g.now.Add(-time.Minute), "")
	settled := g.dialing(t, reconcileBase, "")
	if err := settled.MarkDialed("CA1", reconcileBase.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := g.store.SaveSession(context.Background(), settled); err != nil {
		t.Fatal(err)
	}
	if rep := g.run(t); rep != (callevents.ReconcileReport{}) {
		t.Fatalf("report %+v, want nothing done", rep)
	}
	if s := g.stored(t, fresh.ID); s.Status() != call.StatusDialing || s.Version() != fresh.Version() {
		t.Fatalf("a session dialling for a minute was touched: %s v%d", s.Status(), s.Version())
	}
	if s := g.stored(t, settled.ID); s.Status() != call.StatusInitiated {
		t.Fatalf("an initiated session became %s", s.Status())
	}
}

func TestReconcileDefersWhileTheCarrierIsDown(t *testing.T) {
	g := newReconcileRig(t)
	s := g.dialing(t, reconcileBase, "CA1")
	g.carrier.err = &createcall.DialError{Kind: createcall.DialUnavailable, Reason: "carrier unavailable"}
	rep, err := g.r.ReconcileOnce(context.Background())
	var de *createcall.DialError
	if !errors.As(err, &de) || rep != (callevents.ReconcileReport{Deferred: 1}) {
		t.Fatalf("report %+v, error %v; want the session deferred and the carrier's error", rep, err)
	}
	if got := g.stored(t, s.ID); got.Status() != call.StatusDialing {
		t.Fatalf("status %s, want dialing until the carrier answers", got.Status())
	}
	// Past GiveUpAfter it is settled all the same.
	g.now = reconcileBase.Add(3 * time.Hour)
	rep, _ = g.r.ReconcileOnce(context.Background())
	got := g.stored(t, s.ID)
	if rep != (callevents.ReconcileReport{Failed: 1}) || got.Status() != call.StatusFailed || !strings.HasPrefix(got.Detail, "Outcome unknown:") {
		t.Fatalf("after giving up: report %+v, %s %q", rep, got.Status(), got.Detail)
	}
	if g.carrier.dials != 0 {
		t.Fatalf("dialled %d times", g.carrier.dials)
	}
}

func TestReconcileWithoutFetchCapabilityOrLine(t *testing.T) {
	g := newReconcileRig(t)
	dialer := &dialOnlyCarrier{}
	g.r.Carriers = createcall.CarrierSet{call.ProviderTwilio: dialer}
	a := g.dialing(t, reconcileBase, "CA1")
	if rep := g.run(t); rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	if s := g.stored(t, a.ID); s.Status() != call.StatusFailed || !strings.HasPrefix(s.Detail, "Outcome unknown:") || dialer.dials != 0 {
		t.Fatalf("%s %q after %d dials", s.Status(), s.Detail, dialer.dials)
	}

	// No carrier configured for the provider at all.
	g.r.Carriers = createcall.CarrierSet{}
	b := g.dialing(t, reconcileBase, "CA2")
	g.run(t)
	if s := g.stored(t, b.ID); s.Status() != call.StatusFailed {
		t.Fatalf("%s, want failed", s.Status())
	}
}

func TestReconcileKeepsAnEventThatLandsMeanwhile(t *testing.T) {
	g := newReconcileRig(t)
	s := g.dialing(t, reconcileBase, "CA1")
	g.carrier.status["CA1"] = call.StatusCompleted
	// The carrier's ringing callback lands while the reconciler asks the carrier.
	g.carrier.during = func(callevents.FetchRequest) {
		cur, _ := g.store.Session(context.Background(), s.ID)
		if err := createcall.UpdateSession(context.Background(), g.store, cur, func(c *call.Session) error {
			if err := c.MarkDialed("CA1", g.now); err != nil {
				return err
			}
			_, err := c.Advance(call.StatusRinging, g.now)
			return err
		}); err != nil {
			t.Error(err)
		}
	}
	rep := g.run(t)
	if rep != (callevents.ReconcileReport{Moved: 1}) {
		t.Fatalf("report %+v, want the session counted as moved on", rep)
	}
	if got := g.stored(t, s.ID); got.Status() != call.StatusRinging {
		t.Fatalf("status %s, want the event's ringing kept", got.Status())
	}
}

func TestReconcileWorksThroughManyBatches(t *testing.T) {
	g := newReconcileRig(t)
	g.r.Batch = 7
	for i := range 30 {
		g.dialing(t, reconcileBase.Add(time.Duration(i)*time.Second), "")
	}
	if rep := g.run(t); rep.Failed != 30 {
		t.Fatalf("report %+v, want all 30 failed in one run", rep)
	}
	// A full batch of sessions that can only be deferred ends the run instead of looping.
	for i := range 10 {
		g.dialing(t, reconcileBase.Add(time.Duration(i)*time.Second), "CA-x")
	}
	g.carrier.err = &createcall.DialError{Kind: createcall.DialUnknown, Reason: "timeout"}
	done := make(chan callevents.ReconcileReport, 1)
	go func() {
		rep, _ := g.r.ReconcileOnce(context.Background())
		done <- rep
	}()
	select {
	case rep := <-done:
		if rep.Deferred != 7 {
			t.Fatalf("report %+v, want one batch of 7 deferred", rep)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReconcileOnce loops on sessions it cannot settle")
	}
}

// Each run also gives back the slots of the cap held by calls older than SlotStaleAfter that
// never got a final event, and reports how many.
func TestReconcileReleasesStaleSlots(t *testing.T) {
	ctx := context.Background()
	g := newReconcileRig(t)
	g.r.SlotStaleAfter = 30 * time.Minute
	begin := func(at time.Time) *call.Session {
		t.Helper()
		s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: g.userID,
			LineID: g.line.ID, Provider: g.line.Provider, From: g.line.Number, To: "+14155550123"}, at)
		if err := g.store.BeginCall(ctx, createcall.BeginCall{Session: s, MaxActive: 2, ActiveSince: at.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDialed("LEG-"+s.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := g.store.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	begin(g.now.Add(-45 * time.Minute)) // ringing for ever
	begin(g.now.Add(-10 * time.Minute))
	if rep := g.run(t); rep.SlotsReleased != 1 || rep.CountsCorrected != 0 {
		t.Fatalf("report = %+v, want the one stale slot released", rep)
	}
	// The freed slot is usable; the cap of 2 still holds.
	begin(g.now)
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: g.userID,
		Provider: g.line.Provider, From: g.line.Number, To: "+14155550123"}, g.now)
	if err := g.store.BeginCall(ctx, createcall.BeginCall{Session: s, MaxActive: 2, ActiveSince: g.now.Add(-time.Hour)}); !errors.Is(err, createcall.ErrConcurrencyLimit) {
		t.Fatalf("third call under a cap of 2 = %v", err)
	}
	if g.carrier.dials != 0 {
		t.Fatalf("the reconciler dialled %d calls", g.carrier.dials)
	}
}
