package call

import (
	"errors"
	"time"

	"github.com/kupe-voice/kupe/domain/money"
)

// ErrSessionNotFound means no session with that id belongs to the caller.
var ErrSessionNotFound = errors.New("call session not found")

// Session is one outbound dial and what became of it. It is written, in status dialing, before
// the carrier is asked to dial, so that no call the carrier places is ever without a record.
type Session struct {
	ID             string
	RequestID      string
	UserID         string
	AgentID        string // empty when the call runs a workflow
	WorkflowID     string // empty when the call runs an agent
	LineID         string
	Provider       Provider
	From           string // the line's number, E.164
	To             string // the destination, E.164
	VariableValues map[string]string
	// The agent's system prompt and first message with VariableValues filled in, for the voice
	// runtime; empty when the call runs a workflow.
	RenderedSystemPrompt string
	RenderedFirstMessage string
	// Options are the caller's choices for the call (ring timeout, length, machine detection).
	Options Options
	LegID   string // the carrier's id for the call leg, once known
	// AnsweredBy is what the carrier's machine detection found, once it reports.
	AnsweredBy AnsweredBy
	Detail     string // why the session failed, readable by the customer
	Duration   time.Duration
	Cost       money.Amount
	AnsweredAt time.Time
	EndedAt    time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time

	status  Status
	version int64
}

// NewSession starts a session in status dialing.
func NewSession(s Session, at time.Time) *Session {
	s.status = StatusDialing
	s.version = 1
	s.CreatedAt, s.UpdatedAt = at, at
	return &s
}

// RestoreSession rebuilds a stored session; only repositories call it.
func RestoreSession(s Session, status Status, version int64) *Session {
	s.status = status
	s.version = version
	return &s
}

// Status is where the session is in its lifecycle.
func (s *Session) Status() Status { return s.status }

// Version counts the session's saved changes; repositories use it to refuse a write based on a
// stale read.
func (s *Session) Version() int64 { return s.version }

// Advance moves the session to a later status. A repeat of the current status is no change and
// no error; a move back, or out of a terminal status, is a *TransitionError.
func (s *Session) Advance(to Status, at time.Time) (changed bool, err error) {
	if to == s.status {
		return false, nil
	}
	if !CanTransition(s.status, to) {
		return false, &TransitionError{From: s.status, To: to}
	}
	s.status = to
	if to == StatusInProgress && s.AnsweredAt.IsZero() {
		s.AnsweredAt = at
	}
	if to.Terminal() && s.EndedAt.IsZero() {
		s.EndedAt = at
	}
	s.touch(at)
	return true, nil
}

// MarkDialed records the carrier's leg id. A carrier event may already have moved the session
// past initiated; the leg id is kept and the status is never moved back.
func (s *Session) MarkDialed(legID string, at time.Time) error {
	s.LegID = legID
	if s.status == StatusDialing {
		s.status = StatusInitiated
	}
	s.touch(at)
	return nil
}

// MarkFailed ends the session as failed with a reason the customer can read.
func (s *Session) MarkFailed(reason string, at time.Time) error {
	if _, err := s.Advance(StatusFailed, at); err != nil {
		return err
	}
	s.Detail = reason
	return nil
}

// NoteUnknownOutcome records that the carrier may or may not have placed the call. The session
// stays open so that the carrier's own events can settle it.
func (s *Session) NoteUnknownOutcome(reason string, at time.Time) {
	s.Detail = reason
	s.touch(at)
}

// RecordAnsweredBy records the carrier's machine-detection result, which may come after the
// call ended. The first result stands: a repeat or a later one changes nothing.
func (s *Session) RecordAnsweredBy(a AnsweredBy, at time.Time) (changed bool) {
	if !a.Valid() || s.AnsweredBy.Valid() {
		return false
	}
	s.AnsweredBy = a
	s.touch(at)
	return true
}

// Saved tells the session that a repository stored it; the next save must build on this one.
func (s *Session) Saved() { s.version++ }

func (s *Session) touch(at time.Time) {
	if at.After(s.UpdatedAt) {
		s.UpdatedAt = at
	}
}
