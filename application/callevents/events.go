// Package callevents keeps call sessions true to what the carriers did after create_call
// dialled: it applies the carriers' status callbacks (CarrierEvents), charges completed calls
// through the Ledger, and settles the sessions create_call left in dialing (Reconciler), asking
// the carrier where it can (CallFetcher). It never dials.
package callevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// CarrierEvent is one report a carrier sent about a call it placed, verified as the carrier's
// and read into the lifecycle's terms by the carrier's adapter.
type CarrierEvent struct {
	SessionID string
	Provider  call.Provider
	// Status is where the carrier says the call is. The zero value names no status: the event
	// then only serves for its leg id.
	Status call.Status
	// LegID is the carrier's id for the call, when the report carries one.
	LegID string
	// Duration is the talk time the carrier reports with a terminal status; zero when it
	// reports none.
	Duration time.Duration
	// At is when the carrier says the event happened; zero (or a time still to come) means
	// when it arrived.
	At time.Time
	// AnsweredBy is the carrier's machine-detection result, when the report carries one. It is
	// recorded even after the call ended (the result may come late), and only the first counts.
	AnsweredBy call.AnsweredBy
}

// Ledger charges completed calls: the one port of the ledger. Its contract suite is
// calleventstest.RunLedgerSuite.
type Ledger interface {
	// ChargeSession charges a session's owner for it, at most once per session, in one
	// transaction: a ledger entry of -amount linked to the session, amount taken off the user's
	// credits, and the session's cost and billed seconds set (which moves its version on). A
	// session already charged is left as it is and charged is false, not an error. An unknown
	// session or user is fault.ErrNotFound.
	ChargeSession(ctx context.Context, sessionID, userID string, amount money.Amount, billedSeconds int, at time.Time) (charged bool, err error)
}

// CarrierEvents applies the carriers' status callbacks to call sessions, and charges a session
// when it completes.
type CarrierEvents struct {
	Sessions createcall.CallStore
	// Lines reads the line a session was placed from, for the credentials its carrier signs
	// callbacks with; nil knows no credentials.
	Lines  accounts.CatalogStore
	Ledger Ledger
	// Tariff prices a completed call's talk time.
	Tariff call.Tariff
	Now    func() time.Time
}

// errNoChange stops an update that would store nothing new.
var errNoChange = errors.New("event changes nothing")

// Credentials returns the credentials of the line session sessionID was placed from, which a
// carrier that signs its callbacks (Twilio) signs them with. A session that does not exist, or
// that another provider placed, is call.ErrSessionNotFound. A session whose line is gone has no
// credentials: nil, and its signed callbacks can no longer be verified.
func (h *CarrierEvents) Credentials(ctx context.Context, p call.Provider, sessionID string) (call.Credentials, error) {
	s, err := h.session(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if s.LineID == "" || h.Lines == nil {
		return nil, nil
	}
	line, err := h.Lines.Line(ctx, s.LineID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read line of session %s: %w", s.ID, err)
	}
	return line.Credentials, nil
}

// Apply records ev on its session. Events may come twice or out of order: one that would move
// the session back, or out of a terminal status, changes nothing and is no error. The first
// event to carry a leg id gives the session its leg id if create_call has not yet recorded one;
// a terminal event records the talk time; and a completed event charges the owner, once (a
// repeated one charges nothing). An unknown session, or one another provider placed, is
// call.ErrSessionNotFound.
func (h *CarrierEvents) Apply(ctx context.Context, ev CarrierEvent) error {
	s, err := h.session(ctx, ev.Provider, ev.SessionID)
	if err != nil {
		return err
	}
	// From here the carrier has told us something true: a client that goes away must not stop
	// it from being recorded (and charged).
	ctx = context.WithoutCancel(ctx)
	// The carrier's clock is trusted for when things happened, but not into the future.
	at, now := ev.At, h.now()
	if at.IsZero() || at.After(now) {
		at = now
	}
	// A call that this event completes is charged first: saving its final status queues the
	// call_final job, whose call.completed webhook must carry the cost. (The charge moves the
	// session's version on, so the save below reads it again and keeps the cost.)
	charged := false
	if ev.Status == call.StatusCompleted && s.Status() != call.StatusCompleted {
		preview := *s
		if applyEvent(&preview, ev, at) == nil && preview.Status() == call.StatusCompleted {
			if err := h.charge(ctx, &preview, at); err != nil {
				return err
			}
			charged = true
		}
	}
	err = createcall.UpdateSession(ctx, h.Sessions, s, func(s *call.Session) error { return applyEvent(s, ev, at) })
	if err != nil && !errors.Is(err, errNoChange) {
		return fmt.Errorf("apply %s event to session %s: %w", ev.Provider, s.ID, err)
	}
	// A repeated completed event charges too: the ledger charges a session once, so this only
	// catches up on a charge that an earlier event recorded the completion for but never made.
	if !charged && ev.Status == call.StatusCompleted && s.Status() == call.StatusCompleted {
		return h.charge(ctx, s, at)
	}
	return nil
}

func (h *CarrierEvents) session(ctx context.Context, p call.Provider, id string) (*call.Session, error) {
	s, err := h.Sessions.Session(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, call.ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if s.Provider != p {
		return nil, call.ErrSessionNotFound
	}
	return s, nil
}

// applyEvent changes s as ev says, or returns errNoChange.
func applyEvent(s *call.Session, ev CarrierEvent, at time.Time) error {
	changed := false
	switch {
	case ev.LegID == "":
	case s.Status() == call.StatusDialing && ev.Status != call.StatusFailed:
		// create_call has not recorded the dial yet (or never will: it timed out). The carrier's
		// own report about the leg proves the call was placed.
		if err := s.MarkDialed(ev.LegID, at); err != nil {
			return err
		}
		changed = true
	case s.LegID == "":
		s.LegID = ev.LegID
		changed = true
	}
	if ev.Status.Valid() {
		moved, err := s.Advance(ev.Status, at)
		var te *call.TransitionError
		if err != nil && !errors.As(err, &te) {
			return err
		}
		if moved {
			changed = true
			if ev.Status.Terminal() {
				settleDuration(s, ev.Duration)
			}
		}
	}
	if s.RecordAnsweredBy(ev.AnsweredBy, at) {
		changed = true
	}
	if !changed {
		return errNoChange
	}
	return nil
}

// settleDuration records an ended call's talk time: the carrier's figure, else the time from
// answer to end. A call reported completed without an answer event gets its answer time back
// from the carrier's figure.
func settleDuration(s *call.Session, reported time.Duration) {
	switch {
	case reported > 0:
		s.Duration = reported
	case !s.AnsweredAt.IsZero() && s.EndedAt.After(s.AnsweredAt):
		s.Duration = s.EndedAt.Sub(s.AnsweredAt).Truncate(time.Second)
	}
	if s.Status() == call.StatusCompleted && s.AnsweredAt.IsZero() && s.Duration > 0 {
		s.AnsweredAt = s.EndedAt.Add(-s.Duration)
	}
}

// charge bills a completed session's talk time to its owner, once.
func (h *CarrierEvents) charge(ctx context.Context, s *call.Session, at time.Time) error {
	if h.Ledger == nil {
		return errors.New("charge completed session: no ledger configured")
	}
	billed, cost, err := h.Tariff.Charge(s.Duration)
	if err != nil {
		return fmt.Errorf("price session %s: %w", s.ID, err)
	}
	if _, err := h.Ledger.ChargeSession(ctx, s.ID, s.UserID, cost, billed, at); err != nil {
		return fmt.Errorf("charge session %s: %w", s.ID, err)
	}
	return nil
}

func (h *CarrierEvents) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now().UTC()
}
