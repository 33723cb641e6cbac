package createcall

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// CallStore keeps call sessions: the one port of the calls aggregate. create_call writes
// through it; callevents (carrier events, the reconciler) and accounts' call logs read and
// update through it. Its contract suite is createcalltest.RunCallStoreSuite.
type CallStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *call.Session) error
	// SaveSession stores the changes made to s since it was read or last saved, and fails with
	// fault.ErrConflict if the stored session has changed since (its version moved on). Saving a
	// session in a final status gives back its slot of the user's cap, if it holds one, in the
	// same write.
	SaveSession(ctx context.Context, s *call.Session) error
	// Session reads one session by id, whoever it belongs to (carrier callbacks are not a user).
	Session(ctx context.Context, id string) (*call.Session, error)

	// BeginCall writes the session and, when given, its pending idempotency record, provided
	// the user holds fewer than MaxActive slots of their cap on active calls: the session then
	// takes a slot, which it holds until SaveSession stores it in a final status (or until it
	// goes stale: created before ActiveSince). The check and the write are atomic across every
	// process using the store, and no lock is held between round trips: a user's create_calls
	// never wait for each other. Otherwise nothing is written and it returns
	// ErrConcurrencyLimit, or ErrIdempotencyInProgress when the user already holds a live record
	// for the key. An expired record for the key is replaced. Only sessions written by BeginCall
	// hold slots; CreateSession's do not.
	BeginCall(ctx context.Context, b BeginCall) error
	// RepairActiveCalls is the reconciler's upkeep of the caps: it releases the slots of
	// sessions created at or before staleBefore that still hold one (calls that never got a
	// final carrier event), then sets each user's count of slots held to the number of their
	// sessions holding one wherever the two disagree (drift: a row changed by hand, a bug).
	RepairActiveCalls(ctx context.Context, staleBefore time.Time) (ActiveCallRepair, error)
	// CompleteIdempotency stores the Result of the request that holds the user's key: the
	// record becomes done with that Result (its Replayed and Unrecorded are not stored).
	// fault.ErrNotFound when there is no such record.
	CompleteIdempotency(ctx context.Context, userID, key string, res Result) error
	// PurgeIdempotencyKeys deletes at most limit records that expired at or before before, and
	// says how many it deleted.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int, error)

	// StaleDialingSessions returns at most limit sessions still in status dialing that were
	// created before cutoff, oldest first: those create_call wrote and never settled (the
	// process died between the dial and the write, or the write itself failed).
	StaleDialingSessions(ctx context.Context, cutoff time.Time, limit int) ([]*call.Session, error)
	// OpenSessions returns at most limit sessions placed through provider p that have not ended
	// (initiated, ringing, in progress), whoever they belong to, in id order from the first id
	// after after ("" starts at the first): the simulated carrier picks up with it, after a
	// restart, the calls it was playing.
	OpenSessions(ctx context.Context, p call.Provider, after string, limit int) ([]*call.Session, error)

	// SessionByRequestID returns the user's session with that request id, or fault.ErrNotFound.
	SessionByRequestID(ctx context.Context, userID, requestID string) (*call.Session, error)
	// ListSessions returns one page of the user's sessions, newest first, and how many there are.
	ListSessions(ctx context.Context, userID string, offset, limit int) ([]*call.Session, int, error)
	// FindSessions is ListSessions narrowed to the sessions that match f.
	FindSessions(ctx context.Context, userID string, f SessionFilter, offset, limit int) ([]*call.Session, int, error)
	// SessionsCreated returns at most limit of the user's sessions created in r, oldest first
	// (ties by id), after r's cursor: one page of a keyset read, which costs the same however
	// deep it goes, for exports.
	SessionsCreated(ctx context.Context, userID string, r SessionRange, limit int) ([]*call.Session, error)
}

// SessionRange is a span of creation times, [From, To), with the keyset cursor of a read that
// pages through it: a page holds only the sessions after (AfterCreatedAt, AfterID), the last
// session of the previous page. An empty AfterID starts at From.
type SessionRange struct {
	From, To       time.Time
	AfterCreatedAt time.Time
	AfterID        string
}

// After moves r's cursor past s.
func (r SessionRange) After(s *call.Session) SessionRange {
	r.AfterCreatedAt, r.AfterID = s.CreatedAt, s.ID
	return r
}

// Includes reports whether a session created at createdAt with id is in r and after its cursor.
func (r SessionRange) Includes(createdAt time.Time, id string) bool {
	if createdAt.Before(r.From) || !createdAt.Before(r.To) {
		return false
	}
	if r.AfterID == "" {
		return true
	}
	return createdAt.After(r.AfterCreatedAt) || (createdAt.Equal(r.AfterCreatedAt) && id > r.AfterID)
}

// BeginCall is a session to write under its user's active-call cap.
type BeginCall struct {
	// Session is new, in status dialing.
	Session *call.Session
	// Idempotency, when set, is the pending record of the request's key, written with the session.
	Idempotency *IdempotencyRecord
	// MaxActive is the user's cap on active sessions (dialing, initiated, ringing, in progress).
	MaxActive int
	// ActiveSince: sessions created at or before it no longer hold a slot, whatever their
	// status, so that a call that never got a final carrier event cannot hold one for ever. A
	// store may release them when the cap is reached, before it refuses.
	ActiveSince time.Time
}

// ActiveCallRepair says what one RepairActiveCalls did.
type ActiveCallRepair struct {
	// Released is how many stale sessions gave their slot back.
	Released int
	// Corrected is how many users' counts disagreed with their sessions and were set right.
	Corrected int
}

// UpdateSession applies fn to s and saves it. When the stored session has moved on meanwhile (a
// carrier event landed between our read and our write), it reads the session again and applies
// fn to the fresh copy, so neither change is lost. A *call.TransitionError from fn is returned
// as is: the caller decides whether an out-of-order event matters. create_call records a dial's
// outcome with it, and callevents every carrier event and reconciliation.
func UpdateSession(ctx context.Context, store CallStore, s *call.Session, fn func(*call.Session) error) error {
	const attempts = 5
	for i := 0; ; i++ {
		if err := fn(s); err != nil {
			return err
		}
		err := store.SaveSession(ctx, s)
		if err == nil || !errors.Is(err, fault.ErrConflict) || i == attempts-1 {
			return err
		}
		fresh, err := store.Session(ctx, s.ID)
		if err != nil {
			return err
		}
		*s = *fresh
	}
}

// SessionFilter narrows a call log. Its zero value matches every session.
type SessionFilter struct {
	// RequestIDPrefix, when set, is lower-case hex digits and dashes: the sessions whose request
	// id starts with it (a whole request id matches its one session).
	RequestIDPrefix string
	// Status, when valid, is the one status the sessions must be in.
	Status call.Status
}

// maxRequestIDLen is a UUID's length in text.
const maxRequestIDLen = 36

// ParseSessionFilter reads the call log's filter parameter: a status name ("failed",
// "in_progress", "in-progress", any case), else a request id or its first characters. ok is
// false for text that can be neither, which matches no session.
func ParseSessionFilter(s string) (f SessionFilter, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return SessionFilter{}, true
	}
	if st, err := call.ParseStatus(strings.ReplaceAll(s, "-", "_")); err == nil {
		return SessionFilter{Status: st}, true
	}
	if len(s) > maxRequestIDLen {
		return SessionFilter{}, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') && c != '-' {
			return SessionFilter{}, false
		}
	}
	return SessionFilter{RequestIDPrefix: s}, true
}
