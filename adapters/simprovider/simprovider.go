// Package simprovider is the simulated carrier behind the embedded default: it "places" every
// call without any network and then plays it as a carrier would, reporting ringing, the answer
// and the end through the same carrier-event use case as real callbacks, so that the service can
// be run and tried end to end without a telephony account. Destinations listed in its Config
// are refused, busy, never answered, or answered by a machine.
package simprovider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// LegPrefix starts every leg id the simulated carrier hands out.
const LegPrefix = "SIM"

// Defaults for the zero fields of Config.
const (
	DefaultRingAfter   = time.Second
	DefaultTalk        = 5 * time.Second
	DefaultRingTimeout = 3 * time.Second
)

// Events is where the simulated carrier reports on the calls it plays: the carrier-event use
// case (callevents.CarrierEvents), exactly as the HTTP adapter hands it real callbacks.
type Events interface {
	Apply(ctx context.Context, ev callevents.CarrierEvent) error
}

// OpenSessions lists the simulated sessions still open, for Adopt (createcall.CallStore has it).
type OpenSessions interface {
	OpenSessions(ctx context.Context, p call.Provider, after string, limit int) ([]*call.Session, error)
}

// Config sets up the simulated carrier. Destination lists hold E.164 numbers; a number in
// several lists takes the first of Reject, Busy, NoAnswer, Machine.
type Config struct {
	// Reject lists destinations refused at dial as invalid or unreachable.
	Reject []string
	// Busy lists destinations that end busy, without ringing.
	Busy []string
	// NoAnswer lists destinations that ring and end no_answer after RingTimeout (or the call's
	// ring_timeout_seconds).
	NoAnswer []string
	// Machine lists destinations answered by a machine: with machine detection asked for, the
	// session records answered_by machine (every other answered call: human).
	Machine []string
	// RingAfter is how long after the dial the call rings, and then how long it rings before an
	// answer. Default DefaultRingAfter.
	RingAfter time.Duration
	// Talk is how long an answered call lasts (capped by the call's max_duration_seconds).
	// Default DefaultTalk.
	Talk time.Duration
	// RingTimeout is how long a NoAnswer destination rings. Default DefaultRingTimeout.
	RingTimeout time.Duration
	// Clock times the calls; default the real clock (tests pass a ManualClock).
	Clock Clock
	// Events receives the reports. Without it the carrier plays nothing and cannot hang up:
	// calls stay initiated, as with a carrier whose callbacks never arrive.
	Events Events
	// OnError hears of a report that could not be applied, after its retries; nil ignores it.
	// The error names the session, never a number.
	OnError func(sessionID string, err error)
}

// How a report that fails to apply (the database is busy, say) is retried.
const (
	retryAfter   = time.Second
	retryReports = 5
)

// Carrier is the simulated createcall.Carrier (also a createcall.OptionCarrier, honouring every
// option, and a callevents.Hanger). It is safe for concurrent use.
type Carrier struct {
	cfg                           Config
	reject, busy, noAnswer, robot map[string]struct{}
	dials                         atomic.Int64
	placed                        atomic.Int64

	mu       sync.Mutex
	lastOpts call.Options // the options of the last dial placed, for the tests
	playing  bool
	stopped  bool
	calls    map[string]*simCall // by session id
}

// New returns a simulated carrier. It plays calls once Start is called.
func New(cfg Config) *Carrier {
	if cfg.RingAfter <= 0 {
		cfg.RingAfter = DefaultRingAfter
	}
	if cfg.Talk <= 0 {
		cfg.Talk = DefaultTalk
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = DefaultRingTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	set := func(ns []string) map[string]struct{} {
		m := make(map[string]struct{}, len(ns))
		for _, n := range ns {
			m[n] = struct{}{}
		}
		return m
	}
	return &Carrier{cfg: cfg, reject: set(cfg.Reject), busy: set(cfg.Busy), noAnswer: set(cfg.NoAnswer),
		robot: set(cfg.Machine), calls: map[string]*simCall{}}
}

var (
	_ createcall.Carrier       = (*Carrier)(nil)
	_ createcall.OptionCarrier = (*Carrier)(nil)
	_ callevents.Hanger        = (*Carrier)(nil)
)

// Start makes the carrier play the calls it places from now on (and those Adopt hands it). A
// process that only dials (kupectl) does not start it: the server adopts its calls.
func (c *Carrier) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.playing = c.cfg.Events != nil && !c.stopped
}

// Stop stops playing: no report is made after it returns, and the calls in play stay where they
// are, for the next start to adopt.
func (c *Carrier) Stop() {
	c.mu.Lock()
	c.playing, c.stopped = false, true
	calls := make([]*simCall, 0, len(c.calls))
	for _, sc := range c.calls {
		calls = append(calls, sc)
	}
	c.calls = map[string]*simCall{}
	c.mu.Unlock()
	for _, sc := range calls {
		// Taking the call's lock waits for a report in flight; the stopped flag keeps it from
		// scheduling another.
		sc.mu.Lock()
		sc.done = true
		if sc.timer != nil {
			sc.timer.Stop()
		}
		sc.mu.Unlock()
	}
}

// Dial places the call at once and returns a fresh leg id, or refuses a rejected destination.
// Once started, the carrier then plays the call.
func (c *Carrier) Dial(_ context.Context, req createcall.DialRequest) (string, error) {
	c.dials.Add(1)
	if _, refused := c.reject[req.To]; refused || req.To == "" {
		return "", &createcall.DialError{
			Kind:   createcall.DialInvalidDestination,
			Reason: "The destination number is invalid or cannot be reached",
		}
	}
	c.placed.Add(1)
	c.mu.Lock()
	c.lastOpts = req.Options
	c.mu.Unlock()
	leg := newLegID()
	c.play(req.SessionID, leg, req.To, req.Options, c.cfg.Clock.Now())
	return leg, nil
}

// UnhonouredOption implements createcall.OptionCarrier: the simulation honours every option.
func (c *Carrier) UnhonouredOption(call.Options) string { return "" }

// Dials reports how many dials the carrier received, refused or not.
func (c *Carrier) Dials() int { return int(c.dials.Load()) }

// Placed reports how many calls the carrier placed.
func (c *Carrier) Placed() int { return int(c.placed.Load()) }

// Playing reports how many calls the carrier is playing.
func (c *Carrier) Playing() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// adoptPage is how many open sessions one read of Adopt returns.
const adoptPage = 100

// Adopt plays the open simulated sessions that the carrier is not playing: those a previous
// run of the service was playing when it stopped, and those placed by a process that does not
// play (kupectl). Each plays from when it was created, so a call whose time has passed ends at
// once, as it would have. It returns how many it adopted.
func (c *Carrier) Adopt(ctx context.Context, store OpenSessions) (int, error) {
	n, after := 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		page, err := store.OpenSessions(ctx, call.ProviderSimulated, after, adoptPage)
		if err != nil {
			return n, err
		}
		for _, s := range page {
			if c.play(s.ID, s.LegID, s.To, s.Options, s.CreatedAt) {
				n++
			}
		}
		if len(page) < adoptPage {
			return n, nil
		}
		after = page[len(page)-1].ID
	}
}

// step is one report of a call's plan, at an offset from the dial.
type step struct {
	after time.Duration
	ev    callevents.CarrierEvent
}

// simCall is a call in play.
type simCall struct {
	mu      sync.Mutex
	session string
	start   time.Time
	steps   []step
	next    int
	retries int
	timer   Timer
	done    bool
}

// plan is what becomes of a call to to with options o, as offsets from its dial.
func (c *Carrier) plan(sessionID, legID, to string, o call.Options) []step {
	ev := func(st call.Status) callevents.CarrierEvent {
		return callevents.CarrierEvent{SessionID: sessionID, Provider: call.ProviderSimulated, Status: st, LegID: legID}
	}
	r := c.cfg.RingAfter
	ringing := step{r, ev(call.StatusRinging)}
	if _, ok := c.busy[to]; ok {
		return []step{{r, ev(call.StatusBusy)}}
	}
	ringFor := c.cfg.RingTimeout
	if o.RingTimeout > 0 {
		ringFor = o.RingTimeout
	}
	if _, ok := c.noAnswer[to]; ok || ringFor < r {
		// Unanswered, or answered later than the call may ring.
		return []step{ringing, {r + ringFor, ev(call.StatusNoAnswer)}}
	}
	answer := step{2 * r, ev(call.StatusInProgress)}
	if o.MachineDetection != call.MachineDetectionOff {
		answer.ev.AnsweredBy = call.AnsweredByHuman
		if _, ok := c.robot[to]; ok {
			answer.ev.AnsweredBy = call.AnsweredByMachine
		}
	}
	talk := c.cfg.Talk
	if o.MaxDuration > 0 && o.MaxDuration < talk {
		talk = o.MaxDuration
	}
	end := step{2*r + talk, ev(call.StatusCompleted)}
	end.ev.Duration = talk
	return []step{ringing, answer, end}
}

// play starts playing a call placed at start, unless the carrier is not playing or already
// plays it, and reports whether it did.
func (c *Carrier) play(sessionID, legID, to string, o call.Options, start time.Time) bool {
	c.mu.Lock()
	if !c.playing || sessionID == "" {
		c.mu.Unlock()
		return false
	}
	if _, ok := c.calls[sessionID]; ok {
		c.mu.Unlock()
		return false
	}
	sc := &simCall{session: sessionID, start: start, steps: c.plan(sessionID, legID, to, o)}
	for i := range sc.steps {
		sc.steps[i].ev.At = start.Add(sc.steps[i].after)
	}
	c.calls[sessionID] = sc
	c.mu.Unlock()
	c.advance(sc)
	return true
}

// advance makes the reports that are due and schedules the next.
func (c *Carrier) advance(sc *simCall) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.done {
		return
	}
	now := c.cfg.Clock.Now()
	for sc.next < len(sc.steps) && !sc.steps[sc.next].ev.At.After(now) {
		if c.isStopped() {
			return
		}
		err := c.cfg.Events.Apply(context.Background(), sc.steps[sc.next].ev)
		switch {
		case errors.Is(err, call.ErrSessionNotFound):
			c.finish(sc)
			return
		case err != nil && sc.retries < retryReports:
			sc.retries++
			sc.timer = c.cfg.Clock.AfterFunc(retryAfter, func() { c.advance(sc) })
			return
		case err != nil:
			if c.cfg.OnError != nil {
				c.cfg.OnError(sc.session, err)
			}
		}
		sc.retries = 0
		sc.next++
	}
	if sc.next == len(sc.steps) {
		c.finish(sc)
		return
	}
	if c.isStopped() {
		return
	}
	sc.timer = c.cfg.Clock.AfterFunc(sc.steps[sc.next].ev.At.Sub(now), func() { c.advance(sc) })
}

// finish forgets a call whose plan is played out; the caller holds its lock.
func (c *Carrier) finish(sc *simCall) {
	sc.done = true
	c.mu.Lock()
	if c.calls[sc.session] == sc {
		delete(c.calls, sc.session)
	}
	c.mu.Unlock()
}

func (c *Carrier) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// Hangup implements callevents.Hanger: it ends the call at once, reporting it completed with
// the talk time so far if it was answered, else canceled. It works whether or not the carrier
// plays the call (kupectl hangs up calls the server plays: the server's later reports then
// change nothing).
func (c *Carrier) Hangup(ctx context.Context, req callevents.HangupRequest) error {
	if c.cfg.Events == nil {
		return callevents.ErrHangupUnsupported
	}
	status, answeredAt := req.Status, req.AnsweredAt
	c.mu.Lock()
	sc := c.calls[req.SessionID]
	c.mu.Unlock()
	if sc != nil {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.timer != nil {
			sc.timer.Stop()
		}
		// Where the carrier's own plan has the call beats the stored status, which may lag.
		for _, st := range sc.steps[:sc.next] {
			if st.ev.Status == call.StatusInProgress {
				status, answeredAt = call.StatusInProgress, st.ev.At
			}
		}
		c.finish(sc)
	}
	now := c.cfg.Clock.Now()
	ev := callevents.CarrierEvent{SessionID: req.SessionID, Provider: call.ProviderSimulated, LegID: req.LegID,
		Status: call.StatusCanceled, At: now}
	if status == call.StatusInProgress {
		ev.Status = call.StatusCompleted
		if !answeredAt.IsZero() && now.After(answeredAt) {
			ev.Duration = now.Sub(answeredAt).Truncate(time.Second)
		}
	}
	return c.cfg.Events.Apply(ctx, ev)
}

func newLegID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return LegPrefix + hex.EncodeToString(b[:])
}
