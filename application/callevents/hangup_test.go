package callevents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// hanger is a carrier that hangs up by reporting the end through events, as the simulated
// carrier does, or only accepts the request (report false), as Twilio does.
type hanger struct {
	events *callevents.CarrierEvents
	report bool
	err    error
	got    []callevents.HangupRequest
}

func (h *hanger) Dial(context.Context, createcall.DialRequest) (string, error) { return "LEG1", nil }

func (h *hanger) Hangup(ctx context.Context, req callevents.HangupRequest) error {
	h.got = append(h.got, req)
	if h.err != nil || !h.report {
		return h.err
	}
	st := call.StatusCanceled
	if req.Status == call.StatusInProgress {
		st = call.StatusCompleted
	}
	return h.events.Apply(ctx, callevents.CarrierEvent{SessionID: req.SessionID, Provider: call.ProviderTwilio,
		Status: st, LegID: req.LegID, Duration: 61 * time.Second})
}

// dialOnly cannot hang up.
type dialOnly struct{}

func (dialOnly) Dial(context.Context, createcall.DialRequest) (string, error) { return "LEG1", nil }

func hangupRig(t *testing.T, c createcall.Carrier) (*eventsRig, *callevents.HangupHandler) {
	r := newEventsRig(t)
	if h, ok := c.(*hanger); ok {
		h.events = r.h
	}
	return r, &callevents.HangupHandler{Sessions: r.store, Lines: r.store, Carriers: createcall.CarrierSet{call.ProviderTwilio: c}}
}

func TestHangupOfAnAnsweredCallEndsAndChargesIt(t *testing.T) {
	c := &hanger{report: true}
	r, h := hangupRig(t, c)
	s := r.session(true)
	r.apply(s, call.StatusInProgress, 10, 0, "LEG1")
	res, err := h.Handle(context.Background(), callevents.Hangup{UserID: r.userID, SessionID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ended || res.Session.Status() != call.StatusCompleted || res.Session.Cost != 100_000 {
		t.Fatalf("result: ended %v status %s cost %v", res.Ended, res.Session.Status(), res.Session.Cost)
	}
	if len(c.got) != 1 || c.got[0].LegID != "LEG1" || c.got[0].Status != call.StatusInProgress ||
		c.got[0].Credentials["auth_token"] != "tok" || !c.got[0].AnsweredAt.Equal(eventsBase.Add(10*time.Second)) {
		t.Fatalf("hang-up requests %+v", c.got)
	}
	// Now final: a second hang-up is refused and asks the carrier nothing.
	if _, err := h.Handle(context.Background(), callevents.Hangup{UserID: r.userID, SessionID: s.ID}); !errors.Is(err, callevents.ErrCallEnded) {
		t.Fatalf("second hang-up = %v, want ErrCallEnded", err)
	}
	if len(c.got) != 1 {
		t.Fatalf("the carrier was asked %d times", len(c.got))
	}
}

func TestHangupByTheOperator(t *testing.T) {
	r, h := hangupRig(t, &hanger{report: true})
	s := r.session(true)
	res, err := h.Handle(context.Background(), callevents.Hangup{Operator: true, SessionID: s.ID})
	if err != nil || res.Session.Status() != call.StatusCanceled {
		t.Fatalf("the operator's hang-up = %+v, %v", res, err)
	}
	if _, err := h.Handle(context.Background(), callevents.Hangup{Operator: true, SessionID: uuid.NewString()}); !errors.Is(err, call.ErrSessionNotFound) {
		t.Fatalf("the operator's hang-up of an unknown session = %v", err)
	}
}

func TestHangupWhileRingingCancels(t *testing.T) {
	c := &hanger{report: true}
	r, h := hangupRig(t, c)
	s := r.session(true)
	r.apply(s, call.StatusRinging, 3, 0, "LEG1")
	res, err := h.Handle(context.Background(), callevents.Hangup{UserID: r.userID, SessionID: s.ID})
	if err != nil || !res.Ended || res.Session.Status() != call.StatusCanceled || res.Session.Cost != 0 {
		t.Fatalf("hang-up while ringing = %+v, %v", res, err)
	}
}

func TestHangupAcceptedBeforeTheCarriersReport(t *testing.T) {
	c := &hanger{}
	r, h := hangupRig(t, c)
	s := r.session(true)
	res, err := h.Handle(context.Background(), callevents.Hangup{UserID: r.userID, SessionID: s.ID})
	if err != nil || res.Ended || res.Session.Status() != call.StatusInitiated {
		t.Fatalf("hang-up whose end is still to come = %+v, %v", res, err)
	}
}

func TestHangupRefusals(t *testing.T) {
	ctx := context.Background()
	c := &hanger{report: true}
	r, h := hangupRig(t, c)
	s := r.session(true)
	for name, tc := range map[string]struct {
		cmd  callevents.Hangup
		want error
	}{
		"another user's session": {callevents.Hangup{UserID: uuid.NewString(), SessionID: s.ID}, call.ErrSessionNotFound},
		"an unknown session":     {callevents.Hangup{UserID: r.userID, SessionID: uuid.NewString()}, call.ErrSessionNotFound},
		"no one":                 {callevents.Hangup{SessionID: s.ID}, fault.ErrUnauthenticated},
	} {
		if _, err := h.Handle(ctx, tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	var inv *fault.InvalidInputError
	if _, err := h.Handle(ctx, callevents.Hangup{UserID: r.userID, SessionID: "nope"}); !errors.As(err, &inv) {
		t.Errorf("a session id that is not a UUID: %v, want invalid input", err)
	}
	dialing := r.session(false)
	if _, err := h.Handle(ctx, callevents.Hangup{UserID: r.userID, SessionID: dialing.ID}); !errors.Is(err, callevents.ErrCallNotPlaced) {
		t.Errorf("a session still dialing: %v, want ErrCallNotPlaced", err)
	}
	c.err = callevents.ErrLegNotFound
	if _, err := h.Handle(ctx, callevents.Hangup{UserID: r.userID, SessionID: s.ID}); !errors.Is(err, callevents.ErrCallEnded) {
		t.Errorf("a call the carrier no longer has: %v, want ErrCallEnded", err)
	}
	if len(c.got) != 1 {
		t.Errorf("the carrier was asked %d times, want once (the refusals ask nothing)", len(c.got))
	}

	_, unable := hangupRig(t, dialOnly{})
	unable.Sessions, unable.Lines = r.store, r.store
	if _, err := unable.Handle(ctx, callevents.Hangup{UserID: r.userID, SessionID: s.ID}); !errors.Is(err, callevents.ErrHangupUnsupported) {
		t.Errorf("a carrier without hang-up: %v, want ErrHangupUnsupported", err)
	}
}
