package callevents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

var eventsBase = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// eventsRig is the carrier events use case on memstore, with one user holding 10 credits and a
// Twilio line.
type eventsRig struct {
	t      *testing.T
	store  *memstore.Store
	h      *callevents.CarrierEvents
	userID string
	line   call.Line
}

func newEventsRig(t *testing.T) *eventsRig {
	t.Helper()
	ctx := context.Background()
	r := &eventsRig{t: t, store: memstore.New()}
	r.userID = uuid.NewString()
	if err := r.store.CreateUser(ctx, identity.User{ID: r.userID, Email: "ev@example.com", Credits: money.FromUnits(10), CreatedAt: eventsBase}); err != nil {
		t.Fatal(err)
	}
	r.line = call.Line{ID: uuid.NewString(), UserID: r.userID, Number: "+14155550100", Provider: call.ProviderTwilio, Active: true,
		CreatedAt: eventsBase, Credentials: call.Credentials{"account_sid": "AC1", "auth_token": "tok"}}
	if err := r.store.CreateLine(ctx, r.line); err != nil {
		t.Fatal(err)
	}
	r.h = &callevents.CarrierEvents{Sessions: r.store, Lines: r.store, Ledger: r.store,
		Tariff: call.Tariff{PerMinute: 50_000, IncrementSeconds: 60}, Now: func() time.Time { return eventsBase.Add(time.Hour) }}
	return r
}

// session stores a session in status dialing; dialed moves it to initiated with leg id LEG1,
// as create_call does.
func (r *eventsRig) session(dialed bool) *call.Session {
	r.t.Helper()
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: r.userID, LineID: r.line.ID,
		Provider: call.ProviderTwilio, From: r.line.Number, To: "+14155550123"}, eventsBase)
	if err := r.store.CreateSession(context.Background(), s); err != nil {
		r.t.Fatal(err)
	}
	if dialed {
		_ = s.MarkDialed("LEG1", eventsBase)
		if err := r.store.SaveSession(context.Background(), s); err != nil {
			r.t.Fatal(err)
		}
	}
	return s
}

func (r *eventsRig) apply(s *call.Session, st call.Status, sec int, d time.Duration, leg string) {
	r.t.Helper()
	err := r.h.Apply(context.Background(), callevents.CarrierEvent{SessionID: s.ID, Provider: call.ProviderTwilio,
		Status: st, LegID: leg, Duration: d, At: eventsBase.Add(time.Duration(sec) * time.Second)})
	if err != nil {
		r.t.Fatalf("Apply %s: %v", st, err)
	}
}

func (r *eventsRig) stored(s *call.Session) *call.Session {
	r.t.Helper()
	got, err := r.store.Session(context.Background(), s.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return got
}

func (r *eventsRig) credits() money.Amount {
	r.t.Helper()
	u, err := r.store.User(context.Background(), r.userID)
	if err != nil {
		r.t.Fatal(err)
	}
	return u.Credits
}

func TestCarrierEventsLifecycle(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	r.apply(s, call.StatusInitiated, 1, 0, "LEG1")
	r.apply(s, call.StatusRinging, 3, 0, "LEG1")
	r.apply(s, call.StatusInProgress, 10, 0, "LEG1")
	r.apply(s, call.StatusCompleted, 72, 62*time.Second, "LEG1")
	got := r.stored(s)
	if got.Status() != call.StatusCompleted || got.Duration != 62*time.Second || !got.AnsweredAt.Equal(eventsBase.Add(10*time.Second)) ||
		!got.EndedAt.Equal(eventsBase.Add(72*time.Second)) || got.Cost != 100_000 {
		t.Fatalf("completed session: %s duration %v answered %v ended %v cost %v", got.Status(), got.Duration, got.AnsweredAt, got.EndedAt, got.Cost)
	}
	if c := r.credits(); c != money.FromUnits(10)-100_000 {
		t.Fatalf("credits %v, want 9.9", c)
	}

	// Repeats and late events change nothing, and are not even written.
	v := got.Version()
	r.apply(s, call.StatusCompleted, 80, 90*time.Second, "LEG1")
	r.apply(s, call.StatusRinging, 81, 0, "LEG1")
	r.apply(s, call.StatusFailed, 82, 0, "LEG1")
	after := r.stored(s)
	if after.Version() != v || after.Status() != call.StatusCompleted || after.Duration != 62*time.Second || after.Cost != 100_000 {
		t.Fatalf("after repeats: version %d (was %d) status %s duration %v cost %v", after.Version(), v, after.Status(), after.Duration, after.Cost)
	}
	if c := r.credits(); c != money.FromUnits(10)-100_000 {
		t.Fatalf("credits %v after a repeated completed, want still 9.9", c)
	}
}

func TestCarrierEventSettlesASessionCreateCallLeftDialing(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(false) // the dial timed out: the leg id was never recorded
	r.apply(s, call.StatusCompleted, 40, 30*time.Second, "CA77")
	got := r.stored(s)
	if got.Status() != call.StatusCompleted || got.LegID != "CA77" || got.Duration != 30*time.Second ||
		!got.AnsweredAt.Equal(eventsBase.Add(10*time.Second)) || got.Cost != 50_000 {
		t.Fatalf("session: %s leg %q duration %v answered %v cost %v", got.Status(), got.LegID, got.Duration, got.AnsweredAt, got.Cost)
	}

	failed := r.session(false)
	r.apply(failed, call.StatusFailed, 5, 0, "")
	if got := r.stored(failed); got.Status() != call.StatusFailed || got.Cost != 0 {
		t.Fatalf("dialing session after failed: %s cost %v", got.Status(), got.Cost)
	}
}

func TestCarrierEventKeepsTheLegIDCreateCallRecorded(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true) // leg LEG1: a queue id, say, where the carrier's call id differs
	r.apply(s, call.StatusRinging, 2, 0, "DIALER-9")
	if got := r.stored(s); got.LegID != "LEG1" || got.Status() != call.StatusRinging {
		t.Fatalf("leg %q status %s; want LEG1 kept, ringing", got.LegID, got.Status())
	}
}

func TestCarrierEventsDurationWithoutTheCarriersFigure(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	r.apply(s, call.StatusInProgress, 10, 0, "")
	r.apply(s, call.StatusCompleted, 131, 0, "")
	if got := r.stored(s); got.Duration != 121*time.Second || got.Cost != 150_000 {
		t.Fatalf("duration %v cost %v; want 121s from answer to end, three started minutes", got.Duration, got.Cost)
	}

	// Completed with no talk at all: charged nothing, but charged (a later figure cannot bill it).
	z := r.session(true)
	r.apply(z, call.StatusCompleted, 5, 0, "")
	r.apply(z, call.StatusCompleted, 6, 5*time.Minute, "")
	if got := r.stored(z); got.Duration != 0 || got.Cost != 0 {
		t.Fatalf("duration %v cost %v; want none", got.Duration, got.Cost)
	}
	if c := r.credits(); c != money.FromUnits(10)-150_000 {
		t.Fatalf("credits %v, want 9.85", c)
	}
}

func TestCarrierEventsUnansweredCallsAreFree(t *testing.T) {
	r := newEventsRig(t)
	for _, st := range []call.Status{call.StatusBusy, call.StatusNoAnswer, call.StatusCanceled, call.StatusFailed} {
		s := r.session(true)
		r.apply(s, call.StatusRinging, 1, 0, "")
		r.apply(s, st, 20, 0, "")
		if got := r.stored(s); got.Status() != st || got.Cost != 0 || !got.EndedAt.Equal(eventsBase.Add(20*time.Second)) {
			t.Fatalf("%s: status %s cost %v ended %v", st, got.Status(), got.Cost, got.EndedAt)
		}
	}
	if c := r.credits(); c != money.FromUnits(10) {
		t.Fatalf("credits %v, want 10", c)
	}
}

// A completion whose charge never happened (the process stopped in between) is charged by the
// carrier's repeat of it.
func TestRepeatedCompletedCatchesUpOnAMissedCharge(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	_, _ = s.Advance(call.StatusCompleted, eventsBase.Add(time.Minute))
	s.Duration = 45 * time.Second
	if err := r.store.SaveSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	r.apply(s, call.StatusCompleted, 61, 45*time.Second, "")
	if got := r.stored(s); got.Cost != 50_000 {
		t.Fatalf("cost %v, want 0.05", got.Cost)
	}
}

func TestCarrierEventsRefusals(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	ctx := context.Background()
	for name, ev := range map[string]callevents.CarrierEvent{
		"unknown session":    {SessionID: uuid.NewString(), Provider: call.ProviderTwilio, Status: call.StatusRinging},
		"malformed id":       {SessionID: "nope", Provider: call.ProviderTwilio, Status: call.StatusRinging},
		"another's provider": {SessionID: s.ID, Provider: call.ProviderExotel, Status: call.StatusRinging},
	} {
		if err := r.h.Apply(ctx, ev); !errors.Is(err, call.ErrSessionNotFound) {
			t.Errorf("%s: Apply = %v, want ErrSessionNotFound", name, err)
		}
	}
	if got := r.stored(s); got.Status() != call.StatusInitiated {
		t.Fatalf("a refused event moved the session to %s", got.Status())
	}

	creds, err := r.h.Credentials(ctx, call.ProviderTwilio, s.ID)
	if err != nil || creds["auth_token"] != "tok" {
		t.Fatalf("Credentials = %v", err)
	}
	if _, err := r.h.Credentials(ctx, call.ProviderElison, s.ID); !errors.Is(err, call.ErrSessionNotFound) {
		t.Fatalf("Credentials for another provider = %v", err)
	}
	lineless := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: r.userID,
		LineID: uuid.NewString(), Provider: call.ProviderTwilio, From: "+14155550100", To: "+14155550123"}, eventsBase)
	if err := r.store.CreateSession(ctx, lineless); err != nil {
		t.Fatal(err)
	}
	if creds, err := r.h.Credentials(ctx, call.ProviderTwilio, lineless.ID); err != nil || creds != nil {
		t.Fatalf("Credentials of a session whose line is gone = %v, %v; want none", creds, err)
	}
}

func TestCarrierEventTimesAreNeverInTheFuture(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	r.apply(s, call.StatusInProgress, 10, 0, "")
	// The carrier's clock runs two days ahead.
	r.apply(s, call.StatusCompleted, 48*3600, 30*time.Second, "")
	if got := r.stored(s); !got.EndedAt.Equal(eventsBase.Add(time.Hour)) {
		t.Fatalf("ended at %v, want the arrival time %v", got.EndedAt, eventsBase.Add(time.Hour))
	}
}

// finalSaves records, for each save of a session in a final status, the cost the session had
// when it was saved: what the call_final job queued in that save's transaction reads.
type finalSaves struct {
	*memstore.Store
	costs []money.Amount
}

func (f *finalSaves) SaveSession(ctx context.Context, s *call.Session) error {
	err := f.Store.SaveSession(ctx, s)
	if err == nil && s.Status().Terminal() {
		f.costs = append(f.costs, s.Cost)
	}
	return err
}

// The completed status is saved after the charge, with its cost: the save queues the call_final
// job, and the call.completed webhook built from it must not say the call was free.
func TestACompletedCallIsChargedBeforeItsFinalStatusIsSaved(t *testing.T) {
	r := newEventsRig(t)
	saves := &finalSaves{Store: r.store}
	r.h.Sessions = saves
	s := r.session(true)
	r.apply(s, call.StatusInProgress, 10, 0, "LEG1")
	r.apply(s, call.StatusCompleted, 72, 62*time.Second, "LEG1")
	if len(saves.costs) != 1 || saves.costs[0] != 100_000 {
		t.Fatalf("final saves with costs %v, want one, with the cost 0.10", saves.costs)
	}
	if c := r.credits(); c != money.FromUnits(10)-100_000 {
		t.Fatalf("credits %v, want 9.9: charged once", c)
	}
	r.apply(s, call.StatusCompleted, 80, 62*time.Second, "LEG1")
	if c := r.credits(); c != money.FromUnits(10)-100_000 || len(saves.costs) != 1 {
		t.Fatalf("after a repeat: credits %v, %d final saves; want 9.9 and one", c, len(saves.costs))
	}
}
