package call_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestStatusNames(t *testing.T) {
	want := []string{"dialing", "initiated", "ringing", "in_progress", "completed", "busy", "no_answer", "failed", "canceled"}
	for i, st := range call.AllStatuses() {
		if st.String() != want[i] {
			t.Errorf("status %d = %q, want %q", i, st, want[i])
		}
		back, err := call.ParseStatus(want[i])
		if err != nil || back != st {
			t.Errorf("ParseStatus(%q) = %v, %v", want[i], back, err)
		}
	}
	if _, err := call.ParseStatus("queued"); err == nil {
		t.Error("ParseStatus accepted an unknown status")
	}
	var zero call.Status
	if zero.Valid() || call.CanTransition(zero, call.StatusDialing) {
		t.Error("the zero status is usable")
	}
}

// TestEveryTransition checks all 81 pairs against the lifecycle:
// dialing → initiated → ringing → in_progress → completed|busy|no_answer|failed|canceled,
// skips allowed, dialing may end only as failed, nothing moves back or out of a terminal state.
func TestEveryTransition(t *testing.T) {
	const (
		D = call.StatusDialing
		I = call.StatusInitiated
		R = call.StatusRinging
		P = call.StatusInProgress
		C = call.StatusCompleted
		B = call.StatusBusy
		N = call.StatusNoAnswer
		F = call.StatusFailed
		X = call.StatusCanceled
	)
	allowed := map[call.Status][]call.Status{
		D: {I, R, P, F},
		I: {R, P, C, B, N, F, X},
		R: {P, C, B, N, F, X},
		P: {C, B, N, F, X},
	}
	for _, from := range call.AllStatuses() {
		ok := map[call.Status]bool{}
		for _, to := range allowed[from] {
			ok[to] = true
		}
		for _, to := range call.AllStatuses() {
			if got := call.CanTransition(from, to); got != ok[to] {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, ok[to])
			}
			s := call.RestoreSession(call.Session{}, from, 1)
			changed, err := s.Advance(to, time.Unix(100, 0))
			switch {
			case from == to:
				if changed || err != nil {
					t.Errorf("%s → itself: changed %v err %v; want a harmless no-op", from, changed, err)
				}
			case ok[to]:
				if !changed || err != nil || s.Status() != to {
					t.Errorf("%s → %s: changed %v err %v status %s", from, to, changed, err, s.Status())
				}
			default:
				var te *call.TransitionError
				if changed || !errors.As(err, &te) || s.Status() != from {
					t.Errorf("%s → %s: changed %v err %v status %s; want a TransitionError and no change", from, to, changed, err, s.Status())
				}
			}
		}
	}
}

func TestSessionTimesAndLateEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := call.NewSession(call.Session{ID: "s"}, t0)
	if s.Status() != call.StatusDialing || s.Version() != 1 {
		t.Fatalf("new session: %s v%d", s.Status(), s.Version())
	}
	// The carrier's ringing event lands before our own write of the leg id.
	if _, err := s.Advance(call.StatusRinging, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDialed("CA1", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if s.Status() != call.StatusRinging || s.LegID != "CA1" {
		t.Fatalf("MarkDialed moved a ringing session to %s (leg %q)", s.Status(), s.LegID)
	}
	s.Advance(call.StatusInProgress, t0.Add(5*time.Second))
	s.Advance(call.StatusCompleted, t0.Add(65*time.Second))
	if !s.AnsweredAt.Equal(t0.Add(5*time.Second)) || !s.EndedAt.Equal(t0.Add(65*time.Second)) {
		t.Fatalf("answered %v ended %v", s.AnsweredAt, s.EndedAt)
	}
	// A repeated or late event changes nothing.
	if changed, _ := s.Advance(call.StatusCompleted, t0.Add(70*time.Second)); changed || !s.EndedAt.Equal(t0.Add(65*time.Second)) {
		t.Fatal("a repeated completed event changed the session")
	}
	if _, err := s.Advance(call.StatusRinging, t0.Add(80*time.Second)); err == nil || s.Status() != call.StatusCompleted {
		t.Fatal("a late ringing event moved a completed session back")
	}
	if err := s.MarkFailed("x", t0); err == nil || s.Detail != "" {
		t.Fatal("a completed session was marked failed")
	}
}

func TestUnknownOutcomeKeepsSessionOpen(t *testing.T) {
	s := call.NewSession(call.Session{}, time.Unix(0, 0))
	s.NoteUnknownOutcome("may still connect", time.Unix(1, 0))
	if s.Status() != call.StatusDialing || !s.Status().Active() || s.Detail == "" {
		t.Fatalf("status %s detail %q", s.Status(), s.Detail)
	}
}
