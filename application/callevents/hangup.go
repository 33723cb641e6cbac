package callevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Hanger is a capability some carriers have beside createcall.Carrier: ending a call they
// placed. A carrier without it cannot hang up, and a hang-up of its calls is refused with
// ErrHangupUnsupported.
type Hanger interface {
	// Hangup asks the carrier to end the call: to cancel it while it is not answered, to hang
	// it up once it is. The carrier reports the end as it reports any (a status callback), or,
	// for a carrier that plays its calls itself, applies it before Hangup returns.
	// ErrLegNotFound means the carrier has no such call in progress; ErrHangupUnsupported that
	// this carrier (or this line) cannot; other failures are a *createcall.DialError.
	Hangup(ctx context.Context, req HangupRequest) error
}

// HangupRequest asks a carrier to end one call leg.
type HangupRequest struct {
	SessionID string
	LegID     string
	// Status is where the session is: initiated or ringing (cancel), in progress (hang up).
	Status call.Status
	// AnsweredAt is when the call was answered, if it was.
	AnsweredAt  time.Time
	Credentials call.Credentials
}

var (
	// ErrHangupUnsupported: the call's carrier cannot end a call remotely.
	ErrHangupUnsupported = errors.New("the carrier cannot hang up a call remotely")
	// ErrCallEnded: the call has already ended; there is nothing to hang up.
	ErrCallEnded = errors.New("the call has already ended")
	// ErrCallNotPlaced: the carrier has not confirmed the call yet (the session is dialing), so
	// there is no leg to end; the caller may try again in a moment.
	ErrCallNotPlaced = errors.New("the call is still being placed")
)

// Hangup asks to end one of a user's calls.
type Hangup struct {
	UserID    string
	SessionID string
	// Operator, for kupectl, acts for whoever owns the session; UserID is then not needed.
	Operator bool
}

// HangupResult is the session after the carrier was asked to end it.
type HangupResult struct {
	Session *call.Session
	// Ended says the session is final already; otherwise the carrier accepted the hang-up and
	// its final event is still to come.
	Ended bool
}

// HangupHandler ends calls in progress through their carriers.
type HangupHandler struct {
	Sessions createcall.CallStore
	// Lines reads the line a session was placed from, for its carrier credentials.
	Lines    accounts.CatalogStore
	Carriers createcall.Carriers
}

// Handle ends the call. Another user's session is call.ErrSessionNotFound, as an unknown one
// is; a session already final is ErrCallEnded; one still dialing is ErrCallNotPlaced; one whose
// carrier cannot hang up is ErrHangupUnsupported. Nothing is written here: the end is recorded
// from the carrier's own report, like any other, so that talk time and the charge are the
// carrier's.
func (h *HangupHandler) Handle(ctx context.Context, cmd Hangup) (HangupResult, error) {
	if cmd.UserID == "" && !cmd.Operator {
		return HangupResult{}, fault.ErrUnauthenticated
	}
	id, err := ids.Require("call_session_id", cmd.SessionID)
	if err != nil {
		return HangupResult{}, err
	}
	s, err := h.Sessions.Session(ctx, id)
	if errors.Is(err, fault.ErrNotFound) || (err == nil && !cmd.Operator && s.UserID != cmd.UserID) {
		return HangupResult{}, call.ErrSessionNotFound
	}
	if err != nil {
		return HangupResult{}, fmt.Errorf("read session: %w", err)
	}
	switch {
	case s.Status().Terminal():
		return HangupResult{}, ErrCallEnded
	case s.Status() == call.StatusDialing && s.LegID == "":
		return HangupResult{}, ErrCallNotPlaced
	}
	carrier, ok := h.Carriers.Carrier(s.Provider)
	hanger, can := carrier.(Hanger)
	if !ok || !can {
		return HangupResult{}, ErrHangupUnsupported
	}
	var creds call.Credentials
	if s.LineID != "" && h.Lines != nil {
		line, err := h.Lines.Line(ctx, s.LineID)
		switch {
		case err == nil:
			creds = line.Credentials
		case !errors.Is(err, fault.ErrNotFound):
			return HangupResult{}, fmt.Errorf("read line of session %s: %w", s.ID, err)
		}
	}
	err = hanger.Hangup(ctx, HangupRequest{SessionID: s.ID, LegID: s.LegID, Status: s.Status(),
		AnsweredAt: s.AnsweredAt, Credentials: creds})
	switch {
	case errors.Is(err, ErrLegNotFound):
		return HangupResult{}, ErrCallEnded
	case errors.Is(err, ErrHangupUnsupported):
		return HangupResult{}, ErrHangupUnsupported
	case err != nil:
		return HangupResult{}, fmt.Errorf("hang up session %s: %w", s.ID, err)
	}
	// The carrier may have reported the end already (the simulated carrier always has).
	ctx = context.WithoutCancel(ctx)
	after, err := h.Sessions.Session(ctx, s.ID)
	if err != nil {
		return HangupResult{}, fmt.Errorf("read session after the hang-up: %w", err)
	}
	return HangupResult{Session: after, Ended: after.Status().Terminal()}, nil
}
