package simprovider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

const (
	answered = "+14155550123"
	busy     = "+14155550198"
	noAnswer = "+14155550197"
	machine  = "+14155550196"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// world is the simulated carrier playing calls into the real carrier-event use case and
// create_call, on memstore, with a manual clock shared by all three.
type world struct {
	t       *testing.T
	clock   *simprovider.ManualClock
	store   *memstore.Store
	events  *callevents.CarrierEvents
	carrier *simprovider.Carrier
	create  *createcall.Handler
	hangups *callevents.HangupHandler
	userID  string
	errs    []error
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: simprovider.NewManualClock(t0), store: memstore.New()}
	w.events = &callevents.CarrierEvents{Sessions: w.store, Lines: w.store, Ledger: w.store,
		Tariff: call.Tariff{PerMinute: money.Amount(50_000), IncrementSeconds: 60}, Now: w.clock.Now}
	w.carrier = w.newCarrier(w.clock)
	w.carrier.Start()
	w.create = &createcall.Handler{Plans: w.store, Sessions: w.store,
		Carriers: createcall.CarrierSet{call.ProviderSimulated: w.carrier}, Now: w.clock.Now}
	w.hangups = &callevents.HangupHandler{Sessions: w.store, Lines: w.store,
		Carriers: createcall.CarrierSet{call.ProviderSimulated: w.carrier}}
	ctx := context.Background()
	acc := &accounts.Accounts{Store: w.store}
	u, err := acc.CreateUser(ctx, "sim@example.com", money.FromUnits(10))
	if err != nil {
		t.Fatal(err)
	}
	w.userID = u.ID
	line, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "simulated"})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sim"})
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.SetMapping(ctx, line.ID, call.Target{AgentID: agent.ID}); err != nil {
		t.Fatal(err)
	}
	return w
}

// newCarrier is a carrier of the default configuration's numbers on clock, reporting to w.
func (w *world) newCarrier(clock simprovider.Clock) *simprovider.Carrier {
	return simprovider.New(simprovider.Config{Reject: []string{rejected}, Busy: []string{busy},
		NoAnswer: []string{noAnswer}, Machine: []string{machine}, Clock: clock, Events: w.events,
		OnError: func(_ string, err error) { w.errs = append(w.errs, err) }})
}

func (w *world) call(to string, opts ...string) string {
	w.t.Helper()
	cmd := createcall.Command{UserID: w.userID, To: to}
	if len(opts) == 3 {
		cmd.RingTimeoutSeconds, cmd.MaxDurationSeconds, cmd.MachineDetection = opts[0], opts[1], opts[2]
	}
	res, err := w.create.Handle(context.Background(), cmd)
	if err != nil || !res.Success {
		w.t.Fatalf("create_call to %s: %+v, %v", to, res, err)
	}
	return res.SessionID
}

func (w *world) session(id string) *call.Session {
	w.t.Helper()
	s, err := w.store.Session(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) credits() money.Amount {
	w.t.Helper()
	u, err := w.store.User(context.Background(), w.userID)
	if err != nil {
		w.t.Fatal(err)
	}
	return u.Credits
}

// at advances the clock to t0+d and checks the session's status.
func (w *world) at(d time.Duration, id string, want call.Status) *call.Session {
	w.t.Helper()
	w.clock.Advance(t0.Add(d).Sub(w.clock.Now()))
	s := w.session(id)
	if s.Status() != want {
		w.t.Fatalf("at +%v: status %s, want %s", d, s.Status(), want)
	}
	return s
}

func TestAnsweredCallRingsCompletesAndIsChargedOnce(t *testing.T) {
	w := newWorld(t)
	id := w.call(answered)
	w.at(999*time.Millisecond, id, call.StatusInitiated)
	w.at(time.Second, id, call.StatusRinging)
	s := w.at(2*time.Second, id, call.StatusInProgress)
	if !s.AnsweredAt.Equal(t0.Add(2*time.Second)) || s.AnsweredBy.Valid() {
		t.Fatalf("answered at %v by %q; want +2s, no detection result", s.AnsweredAt, s.AnsweredBy)
	}
	w.at(6*time.Second, id, call.StatusInProgress)
	s = w.at(7*time.Second, id, call.StatusCompleted)
	if s.Duration != 5*time.Second || s.Cost != 50_000 || !s.EndedAt.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("completed: duration %v cost %v ended %v", s.Duration, s.Cost, s.EndedAt)
	}
	if c := w.credits(); c != money.FromUnits(10)-50_000 {
		t.Fatalf("credits %v, want 9.95", c)
	}
	// Nothing is left to play, and time passing charges nothing more.
	if w.carrier.Playing() != 0 || w.clock.Pending() != 0 {
		t.Fatalf("after the end: %d calls in play, %d timers", w.carrier.Playing(), w.clock.Pending())
	}
	w.clock.Advance(time.Hour)
	if c := w.credits(); c != money.FromUnits(10)-50_000 {
		t.Fatalf("credits %v an hour later", c)
	}
	if len(w.errs) != 0 {
		t.Fatalf("report errors: %v", w.errs)
	}
}

func TestOutcomesByDestination(t *testing.T) {
	for _, tc := range []struct {
		name     string
		to       string
		opts     []string
		end      time.Duration
		before   call.Status // just before the end
		want     call.Status
		duration time.Duration
		by       call.AnsweredBy
	}{
		{name: "busy", to: busy, end: time.Second, before: call.StatusInitiated, want: call.StatusBusy},
		{name: "no answer after the ring timeout", to: noAnswer, end: 4 * time.Second, before: call.StatusRinging, want: call.StatusNoAnswer},
		{name: "no answer after the call's own ring timeout", to: noAnswer, opts: []string{"9", "", ""}, end: 10 * time.Second, before: call.StatusRinging, want: call.StatusNoAnswer},
		{name: "machine, detected", to: machine, opts: []string{"", "", "detect"}, end: 7 * time.Second, before: call.StatusInProgress,
			want: call.StatusCompleted, duration: 5 * time.Second, by: call.AnsweredByMachine},
		{name: "machine, waiting for the greeting's end", to: machine, opts: []string{"", "", "detect_end_of_greeting"}, end: 7 * time.Second, before: call.StatusInProgress,
			want: call.StatusCompleted, duration: 5 * time.Second, by: call.AnsweredByMachine},
		{name: "machine, no detection asked", to: machine, end: 7 * time.Second, before: call.StatusInProgress, want: call.StatusCompleted, duration: 5 * time.Second},
		{name: "person, detected", to: answered, opts: []string{"", "", "detect"}, end: 7 * time.Second, before: call.StatusInProgress,
			want: call.StatusCompleted, duration: 5 * time.Second, by: call.AnsweredByHuman},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id := w.call(tc.to, tc.opts...)
			w.at(tc.end-time.Millisecond, id, tc.before)
			s := w.at(tc.end, id, tc.want)
			if s.Duration != tc.duration || s.AnsweredBy != tc.by {
				t.Fatalf("duration %v answered_by %q; want %v, %q", s.Duration, s.AnsweredBy, tc.duration, tc.by)
			}
			wantCost := money.Amount(0)
			if tc.want == call.StatusCompleted {
				wantCost = 50_000
			}
			if s.Cost != wantCost || w.credits() != money.FromUnits(10)-wantCost {
				t.Fatalf("cost %v credits %v", s.Cost, w.credits())
			}
		})
	}
}

func TestMaxDurationCapsTheTalk(t *testing.T) {
	w := newWorld(t)
	w.carrier = nil
	long := simprovider.New(simprovider.Config{Talk: 3 * time.Minute, Clock: w.clock, Events: w.events})
	long.Start()
	w.create.Carriers = createcall.CarrierSet{call.ProviderSimulated: long}
	id := w.call(answered, "", "30", "")
	w.at(31*time.Second, id, call.StatusInProgress)
	s := w.at(32*time.Second, id, call.StatusCompleted)
	if s.Duration != 30*time.Second {
		t.Fatalf("duration %v, want the 30 s cap", s.Duration)
	}
}

func TestRingTimeoutShorterThanTheRingEndsUnanswered(t *testing.T) {
	w := newWorld(t)
	slow := simprovider.New(simprovider.Config{RingAfter: 10 * time.Second, Clock: w.clock, Events: w.events})
	slow.Start()
	w.create.Carriers = createcall.CarrierSet{call.ProviderSimulated: slow}
	id := w.call(answered, "5", "", "")
	w.at(10*time.Second, id, call.StatusRinging)
	w.at(15*time.Second, id, call.StatusNoAnswer)
}

func TestRejectedDestinationIsRefusedAtDial(t *testing.T) {
	w := newWorld(t)
	res, err := w.create.Handle(context.Background(), createcall.Command{UserID: w.userID, To: rejected})
	if err != nil || res.Success {
		t.Fatalf("create_call to %s = %+v, %v; want a refused dial", rejected, res, err)
	}
	if s := w.session(res.SessionID); s.Status() != call.StatusFailed || w.carrier.Playing() != 0 {
		t.Fatalf("status %s, %d in play", s.Status(), w.carrier.Playing())
	}
}

// The concurrency slot is released by the final report: with the default cap of 20, a 21st
// call is refused while 20 are in play and accepted once they completed.
func TestTwentyFirstCallIsAcceptedOnceTwentyCompleted(t *testing.T) {
	w := newWorld(t)
	for range 20 {
		w.call(answered)
	}
	_, err := w.create.Handle(context.Background(), createcall.Command{UserID: w.userID, To: answered})
	if !errors.Is(err, createcall.ErrConcurrencyLimit) {
		t.Fatalf("21st call while 20 are in play: %v, want the concurrency limit", err)
	}
	w.clock.Advance(7 * time.Second)
	if w.carrier.Playing() != 0 {
		t.Fatalf("%d calls still in play", w.carrier.Playing())
	}
	id := w.call(answered)
	if w.session(id).Status() != call.StatusInitiated {
		t.Fatal("the 21st call was not placed")
	}
	if c := w.credits(); c != money.FromUnits(10)-20*50_000 {
		t.Fatalf("credits %v, want 20 calls charged once each", c)
	}
}

func TestNotStartedPlaysNothing(t *testing.T) {
	w := newWorld(t)
	idle := w.newCarrier(w.clock) // never started, as in kupectl
	w.create.Carriers = createcall.CarrierSet{call.ProviderSimulated: idle}
	id := w.call(answered)
	w.clock.Advance(time.Minute)
	if s := w.session(id); s.Status() != call.StatusInitiated || idle.Playing() != 0 {
		t.Fatalf("status %s, %d in play", s.Status(), idle.Playing())
	}
	// The server's carrier adopts it: the call's time has passed, so it ends at once, with the
	// talk time it would have had.
	n, err := w.carrier.Adopt(context.Background(), w.store)
	if err != nil || n != 1 {
		t.Fatalf("Adopt = %d, %v", n, err)
	}
	if s := w.session(id); s.Status() != call.StatusCompleted || s.Duration != 5*time.Second || s.Cost != 50_000 {
		t.Fatalf("adopted: status %s duration %v cost %v", s.Status(), s.Duration, s.Cost)
	}
}

// A restart mid-call: the first carrier stops with the call ringing; the next one adopts the
// open session and plays it to its end, charging it once.
func TestRestartMidCallResumesTheSimulation(t *testing.T) {
	w := newWorld(t)
	ringing := w.call(answered)
	talking := w.call(machine, "", "", "detect")
	w.at(time.Second, ringing, call.StatusRinging)
	w.carrier.Stop()
	w.at(1500*time.Millisecond, ringing, call.StatusRinging) // the first run is gone
	if w.clock.Pending() != 0 {
		t.Fatalf("%d timers left after Stop", w.clock.Pending())
	}

	next := w.newCarrier(w.clock)
	next.Start()
	n, err := next.Adopt(context.Background(), w.store)
	if err != nil || n != 2 {
		t.Fatalf("Adopt = %d, %v; want both open calls", n, err)
	}
	// Adopting again, or adopting what it plays, takes nothing twice.
	if n, err := next.Adopt(context.Background(), w.store); err != nil || n != 0 {
		t.Fatalf("second Adopt = %d, %v", n, err)
	}
	w.at(2*time.Second, ringing, call.StatusInProgress)
	s := w.at(7*time.Second, talking, call.StatusCompleted)
	if s.AnsweredBy != call.AnsweredByMachine || s.Duration != 5*time.Second {
		t.Fatalf("resumed machine call: answered_by %q duration %v", s.AnsweredBy, s.Duration)
	}
	if s := w.session(ringing); s.Status() != call.StatusCompleted || s.Cost != 50_000 {
		t.Fatalf("resumed call: %s cost %v", s.Status(), s.Cost)
	}
	if c := w.credits(); c != money.FromUnits(10)-100_000 {
		t.Fatalf("credits %v, want two calls charged once each", c)
	}
}

// A restart long after the calls' time: adopting them ends each at once as it would have ended.
func TestAdoptAfterTheCallsTimeEndsThemAsPlanned(t *testing.T) {
	w := newWorld(t)
	a, b, c := w.call(answered), w.call(busy), w.call(noAnswer)
	w.carrier.Stop()
	w.clock.Advance(time.Hour)
	next := w.newCarrier(w.clock)
	next.Start()
	if n, err := next.Adopt(context.Background(), w.store); err != nil || n != 3 {
		t.Fatalf("Adopt = %d, %v", n, err)
	}
	for id, want := range map[string]call.Status{a: call.StatusCompleted, b: call.StatusBusy, c: call.StatusNoAnswer} {
		if s := w.session(id); s.Status() != want {
			t.Errorf("session to %s: %s, want %s", call.MaskNumber(s.To), s.Status(), want)
		}
	}
	if s := w.session(a); s.Duration != 5*time.Second || !s.EndedAt.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("adopted call: duration %v ended %v; want its planned 5 s ending at +7s", s.Duration, s.EndedAt)
	}
}

func TestHangup(t *testing.T) {
	ctx := context.Background()
	t.Run("while talking: completed with the talk so far, charged", func(t *testing.T) {
		w := newWorld(t)
		id := w.call(answered)
		w.at(4500*time.Millisecond, id, call.StatusInProgress)
		res, err := w.hangups.Handle(ctx, callevents.Hangup{UserID: w.userID, SessionID: id})
		if err != nil || !res.Ended || res.Session.Status() != call.StatusCompleted || res.Session.Duration != 2*time.Second ||
			res.Session.Cost != 50_000 {
			t.Fatalf("hang-up = %+v (%v), %v", res.Session, res.Session.Status(), err)
		}
		w.clock.Advance(time.Minute)
		if s := w.session(id); s.Duration != 2*time.Second || w.credits() != money.FromUnits(10)-50_000 {
			t.Fatalf("after the planned end: duration %v credits %v", s.Duration, w.credits())
		}
		if _, err := w.hangups.Handle(ctx, callevents.Hangup{UserID: w.userID, SessionID: id}); !errors.Is(err, callevents.ErrCallEnded) {
			t.Fatalf("hang-up of an ended call: %v", err)
		}
	})
	t.Run("while ringing: canceled, free", func(t *testing.T) {
		w := newWorld(t)
		id := w.call(answered)
		w.at(time.Second, id, call.StatusRinging)
		res, err := w.hangups.Handle(ctx, callevents.Hangup{UserID: w.userID, SessionID: id})
		if err != nil || res.Session.Status() != call.StatusCanceled || res.Session.Cost != 0 || w.carrier.Playing() != 0 {
			t.Fatalf("hang-up = %v, %v; %d in play", res.Session.Status(), err, w.carrier.Playing())
		}
		w.clock.Advance(time.Minute)
		if s := w.session(id); s.Status() != call.StatusCanceled {
			t.Fatalf("after the planned end: %s", s.Status())
		}
	})
	t.Run("a call another process plays", func(t *testing.T) {
		w := newWorld(t)
		id := w.call(answered)
		w.at(3*time.Second, id, call.StatusInProgress)
		// kupectl's carrier: not started, knows nothing of the call.
		other := &callevents.HangupHandler{Sessions: w.store, Lines: w.store,
			Carriers: createcall.CarrierSet{call.ProviderSimulated: w.newCarrier(w.clock)}}
		res, err := other.Handle(ctx, callevents.Hangup{UserID: w.userID, SessionID: id})
		if err != nil || res.Session.Status() != call.StatusCompleted || res.Session.Duration != time.Second {
			t.Fatalf("hang-up from another process = %v %v, %v", res.Session.Status(), res.Session.Duration, err)
		}
		w.clock.Advance(time.Minute) // the server's own reports now change nothing
		if s := w.session(id); s.Duration != time.Second || w.credits() != money.FromUnits(10)-50_000 {
			t.Fatalf("after the server's plan: duration %v credits %v", s.Duration, w.credits())
		}
	})
	t.Run("without events it cannot", func(t *testing.T) {
		c := simprovider.New(simprovider.Config{})
		if err := c.Hangup(ctx, callevents.HangupRequest{SessionID: "s"}); !errors.Is(err, callevents.ErrHangupUnsupported) {
			t.Fatalf("Hangup = %v", err)
		}
	})
}

// flaky fails its first n reports, as a busy database would.
type flaky struct {
	mu   sync.Mutex
	n    int
	next simprovider.Events
}

func (f *flaky) Apply(ctx context.Context, ev callevents.CarrierEvent) error {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return errors.New("database is locked")
	}
	return f.next.Apply(ctx, ev)
}

func TestAReportThatFailsIsRetried(t *testing.T) {
	w := newWorld(t)
	ev := &flaky{n: 3, next: w.events}
	c := simprovider.New(simprovider.Config{Clock: w.clock, Events: ev})
	c.Start()
	w.create.Carriers = createcall.CarrierSet{call.ProviderSimulated: c}
	id := w.call(answered)
	w.at(time.Second, id, call.StatusInitiated) // first try failed
	w.at(4*time.Second, id, call.StatusInProgress)
	w.at(10*time.Second, id, call.StatusCompleted)
}

func TestStopMakesNoMoreReports(t *testing.T) {
	w := newWorld(t)
	id := w.call(answered)
	w.carrier.Stop()
	w.clock.Advance(time.Minute)
	if s := w.session(id); s.Status() != call.StatusInitiated {
		t.Fatalf("status %s after Stop", s.Status())
	}
	// A stopped carrier does not start again, nor play new calls.
	w.carrier.Start()
	id2 := w.call(answered)
	w.clock.Advance(time.Minute)
	if s := w.session(id2); s.Status() != call.StatusInitiated || w.carrier.Playing() != 0 {
		t.Fatalf("a call placed after Stop: %s, %d in play", s.Status(), w.carrier.Playing())
	}
}
