package calleventstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
)

// FetchRig is one callevents.CallFetcher wired to a fresh local fake of its carrier.
type FetchRig struct {
	Fetcher callevents.CallFetcher
	// Request carries credentials the fake accepts; the suite sets LegID.
	Request callevents.FetchRequest
	// Place makes the fake hold a call the carrier reports in status st, and returns its leg id.
	Place func(st call.Status) string
	// Lookups reports how many lookups reached the fake.
	Lookups func() int
}

// FetchHarness starts rigs for RunCallFetcherSuite, scripted with a scenario: Accept (the
// carrier answers lookups), Unavailable (server errors), Hang (no answer within the timeout) or
// Refused (nothing listens). ok false skips a scenario the carrier cannot be made to show.
type FetchHarness struct {
	Start   func(t *testing.T, sc createcalltest.Scenario) (rig FetchRig, ok bool)
	Timeout time.Duration
}

// RunCallFetcherSuite is the acceptance test of the optional carrier capability
// callevents.CallFetcher, which the reconciler relies on to settle sessions left in dialing.
func RunCallFetcherSuite(t *testing.T, h FetchHarness) {
	start := func(t *testing.T, sc createcalltest.Scenario) FetchRig {
		t.Helper()
		rig, ok := h.Start(t, sc)
		if !ok {
			t.Skipf("this carrier cannot be made to show scenario %s", sc)
		}
		return rig
	}
	fetch := func(rig FetchRig, leg string) (call.Status, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := rig.Request
		req.LegID = leg
		return rig.Fetcher.FetchCall(ctx, req)
	}
	kindOf := func(err error) createcall.DialErrorKind {
		var de *createcall.DialError
		if errors.As(err, &de) {
			return de.Kind
		}
		return 0
	}

	t.Run("reports every status a carrier reports", func(t *testing.T) {
		rig := start(t, createcalltest.Accept)
		for _, st := range []call.Status{call.StatusInitiated, call.StatusRinging, call.StatusInProgress,
			call.StatusCompleted, call.StatusBusy, call.StatusNoAnswer, call.StatusFailed, call.StatusCanceled} {
			got, err := fetch(rig, rig.Place(st))
			if err != nil || got != st {
				t.Errorf("FetchCall of a call in %s = %s, %v", st, got, err)
			}
		}
	})
	t.Run("a leg the carrier does not know", func(t *testing.T) {
		rig := start(t, createcalltest.Accept)
		rig.Place(call.StatusCompleted)
		if _, err := fetch(rig, "CA00000000000000000000000000000000"); !errors.Is(err, callevents.ErrLegNotFound) {
			t.Fatalf("FetchCall of an unknown leg = %v, want ErrLegNotFound", err)
		}
	})
	t.Run("a leg id that cannot be one is not sent", func(t *testing.T) {
		rig := start(t, createcalltest.Accept)
		before := rig.Lookups()
		for _, leg := range []string{"", "../x", "a b", "x?y=1", "a/b"} {
			if _, err := fetch(rig, leg); !errors.Is(err, callevents.ErrLegNotFound) {
				t.Fatalf("FetchCall(%q) = %v, want ErrLegNotFound", leg, err)
			}
		}
		if n := rig.Lookups() - before; n != 0 {
			t.Fatalf("%d lookups reached the carrier for leg ids that cannot be", n)
		}
	})
	t.Run("carrier unavailable", func(t *testing.T) {
		rig := start(t, createcalltest.Unavailable)
		if _, err := fetch(rig, "CA0123456789abcdef0123456789abcdef"); kindOf(err) != createcall.DialUnavailable {
			t.Fatalf("FetchCall = %v, want a DialUnavailable error", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		rig := start(t, createcalltest.Refused)
		if _, err := fetch(rig, "CA0123456789abcdef0123456789abcdef"); kindOf(err) != createcall.DialUnavailable {
			t.Fatalf("FetchCall = %v, want a DialUnavailable error", err)
		}
	})
	t.Run("hang is bounded by the timeout", func(t *testing.T) {
		rig := start(t, createcalltest.Hang)
		t0 := time.Now()
		_, err := fetch(rig, "CA0123456789abcdef0123456789abcdef")
		if kindOf(err) != createcall.DialUnknown {
			t.Fatalf("FetchCall = %v, want a DialUnknown error", err)
		}
		if h.Timeout > 0 && time.Since(t0) > 10*h.Timeout+5*time.Second {
			t.Fatalf("FetchCall took %v with a timeout of %v", time.Since(t0), h.Timeout)
		}
		if rig.Lookups() != 1 {
			t.Fatalf("%d lookups, want exactly 1", rig.Lookups())
		}
	})
}
