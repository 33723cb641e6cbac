package callevents_test

import (
	"context"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
)

// A machine-detection result is recorded whenever it lands, even after the call ended, and
// the first result stands.
func TestAnsweredByIsRecordedOnceEvenAfterTheEnd(t *testing.T) {
	r := newEventsRig(t)
	s := r.session(true)
	r.apply(s, call.StatusInProgress, 10, 0, "LEG1")
	r.apply(s, call.StatusCompleted, 40, 30*time.Second, "LEG1")
	amd := func(a call.AnsweredBy) {
		t.Helper()
		if err := r.h.Apply(context.Background(), callevents.CarrierEvent{SessionID: s.ID, Provider: call.ProviderTwilio,
			LegID: "LEG1", AnsweredBy: a, At: eventsBase.Add(41 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	amd(call.AnsweredByMachine)
	got := r.stored(s)
	if got.AnsweredBy != call.AnsweredByMachine || got.Status() != call.StatusCompleted || got.Cost != 50_000 {
		t.Fatalf("after the result: answered_by %q status %s cost %v", got.AnsweredBy, got.Status(), got.Cost)
	}
	v := got.Version()
	amd(call.AnsweredByHuman)
	if again := r.stored(s); again.AnsweredBy != call.AnsweredByMachine || again.Version() != v {
		t.Fatalf("a second result: answered_by %q version %d (was %d)", again.AnsweredBy, again.Version(), v)
	}
	if c := r.credits(); c != 10_000_000-50_000 {
		t.Fatalf("credits %v: the result must not charge again", c)
	}
}
