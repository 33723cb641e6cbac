package createcalltest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Scenario is how a carrier fake answers the dials it receives.
type Scenario int

const (
	// Accept: the carrier places the call and returns a leg id.
	Accept Scenario = iota + 1
	// InvalidDestination: the carrier refuses the destination number.
	InvalidDestination
	// CallerNotAllowed: the carrier refuses the line's number as caller id.
	CallerNotAllowed
	// BadCredentials: the carrier refuses the line's credentials.
	BadCredentials
	// RateLimited: the carrier answers every dial with its rate-limit refusal.
	RateLimited
	// RateLimitedOnce: the first dial is refused as rate limited, the next accepted. The adapter
	// may retry, since the carrier provably did not act.
	RateLimitedOnce
	// Unavailable: the carrier fails with a server error page and does not act.
	Unavailable
	// Hang: the carrier accepts the connection and never answers within the adapter's timeout.
	Hang
	// Refused: nothing listens at the carrier's address; the connection is refused.
	Refused
)

var scenarioNames = map[Scenario]string{
	Accept: "accept", InvalidDestination: "invalid_destination", CallerNotAllowed: "caller_not_allowed",
	BadCredentials: "bad_credentials", RateLimited: "rate_limited", RateLimitedOnce: "rate_limited_once",
	Unavailable: "unavailable", Hang: "hang", Refused: "refused",
}

func (s Scenario) String() string { return scenarioNames[s] }

// CarrierRig is one carrier adapter wired to a fresh local fake scripted with a scenario.
type CarrierRig struct {
	Carrier createcall.Carrier
	// Request is a dial the fake understands (its credentials, a destination).
	Request createcall.DialRequest
	// Dials reports how many dial requests reached the fake.
	Dials func() int
	// Placed reports how many calls the fake placed (accepted dials).
	Placed func() int
	// Honoured reports the call options of the last dial as the fake read them off the wire
	// (for Accept); the suite compares the options the dial set, since a carrier's defaults
	// look on the wire like any value. Nil for a carrier that honours no option: the suite then checks that it
	// refuses each one.
	Honoured func() call.Options
}

// CarrierHarness starts rigs for the suite. Start returns ok false for a scenario the carrier
// cannot be made to show (the simulated carrier has no network to hang); the suite then says so.
type CarrierHarness struct {
	Start func(t *testing.T, sc Scenario) (rig CarrierRig, ok bool)
	// Timeout is the adapter's per-request timeout as configured by Start; Hang takes this long.
	Timeout time.Duration
}

// Dial places req through c, within 30 seconds, and returns the leg id or the carrier's refusal;
// an error that is not a *createcall.DialError fails the test.
func Dial(t testing.TB, c createcall.Carrier, req createcall.DialRequest) (string, *createcall.DialError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leg, err := c.Dial(ctx, req)
	if err == nil {
		return leg, nil
	}
	var de *createcall.DialError
	if !errors.As(err, &de) {
		t.Fatalf("Dial error %T %v is not a *createcall.DialError", err, err)
	}
	return leg, de
}

// RunCarrierSuite is the telephony port's acceptance test.
func RunCarrierSuite(t *testing.T, h CarrierHarness) {
	start := func(t *testing.T, sc Scenario) CarrierRig {
		t.Helper()
		rig, ok := h.Start(t, sc)
		if !ok {
			t.Skipf("this carrier cannot be made to show scenario %s", sc)
		}
		return rig
	}
	dial := func(rig CarrierRig) (string, *createcall.DialError) { return Dial(t, rig.Carrier, rig.Request) }
	rejected := func(t *testing.T, sc Scenario, want createcall.DialErrorKind) {
		rig := start(t, sc)
		leg, de := dial(rig)
		if de == nil {
			t.Fatalf("Dial = leg %q, want a %s refusal", leg, want)
		}
		if de.Kind != want {
			t.Fatalf("Dial error kind = %s (%v), want %s", de.Kind, de, want)
		}
		checkReason(t, de.Reason, rig.Request)
		if rig.Placed != nil && rig.Placed() != 0 {
			t.Fatalf("the carrier placed %d calls on a refused dial", rig.Placed())
		}
	}

	t.Run("accept returns a leg id", func(t *testing.T) {
		rig := start(t, Accept)
		leg, de := dial(rig)
		if de != nil {
			t.Fatalf("Dial: %v", de)
		}
		if strings.TrimSpace(leg) == "" {
			t.Fatal("Dial returned an empty leg id")
		}
		if got := rig.Placed(); got != 1 {
			t.Fatalf("the carrier placed %d calls, want 1", got)
		}
		// Two dials are two legs.
		leg2, de := dial(rig)
		if de != nil || leg2 == leg {
			t.Fatalf("second Dial = %q, %v; want a new leg id", leg2, de)
		}
	})
	t.Run("call options are honoured on the wire or refused by name", func(t *testing.T) {
		rig := start(t, Accept)
		oc, _ := rig.Carrier.(createcall.OptionCarrier)
		for _, o := range []call.Options{
			{RingTimeout: 45 * time.Second}, {MaxDuration: 900 * time.Second},
			{MachineDetection: call.MachineDetectionDetect}, {MachineDetection: call.MachineDetectionEndOfGreeting},
			{RingTimeout: 5 * time.Second, MaxDuration: 14400 * time.Second, MachineDetection: call.MachineDetectionDetect},
		} {
			name := o.Asked()[0]
			refused := name
			if oc != nil {
				refused = oc.UnhonouredOption(o)
			}
			if refused != "" {
				if !slices.Contains(o.Asked(), refused) {
					t.Errorf("options %+v refused as %q, which they do not set", o, refused)
				}
				continue
			}
			if rig.Honoured == nil {
				t.Errorf("options %+v are honoured, but the rig cannot show what the fake received", o)
				continue
			}
			req := rig.Request
			req.Options = o
			if _, de := dial(CarrierRig{Carrier: rig.Carrier, Request: req}); de != nil {
				t.Fatalf("Dial with options %+v: %v", o, de)
			}
			got := rig.Honoured()
			if (o.RingTimeout > 0 && got.RingTimeout != o.RingTimeout) || (o.MaxDuration > 0 && got.MaxDuration != o.MaxDuration) ||
				(o.MachineDetection != call.MachineDetectionOff && got.MachineDetection != o.MachineDetection) {
				t.Errorf("dial with options %+v reached the carrier as %+v", o, got)
			}
		}
		if (call.Options{}).Asked() != nil || (oc != nil && oc.UnhonouredOption(call.Options{}) != "") {
			t.Error("no options at all must never be refused")
		}
	})
	t.Run("invalid destination", func(t *testing.T) { rejected(t, InvalidDestination, createcall.DialInvalidDestination) })
	t.Run("caller not allowed", func(t *testing.T) { rejected(t, CallerNotAllowed, createcall.DialCallerNotAllowed) })
	t.Run("bad credentials", func(t *testing.T) { rejected(t, BadCredentials, createcall.DialBadCredentials) })
	t.Run("rate limited", func(t *testing.T) { rejected(t, RateLimited, createcall.DialRateLimited) })
	t.Run("unavailable", func(t *testing.T) { rejected(t, Unavailable, createcall.DialUnavailable) })
	t.Run("rate limited once is retried", func(t *testing.T) {
		rig := start(t, RateLimitedOnce)
		leg, de := dial(rig)
		if de != nil || leg == "" {
			t.Fatalf("Dial = %q, %v; want the retry to succeed", leg, de)
		}
		if rig.Placed() != 1 {
			t.Fatalf("placed %d calls, want exactly 1", rig.Placed())
		}
	})
	t.Run("connection refused is unavailable", func(t *testing.T) {
		rig := start(t, Refused)
		_, de := dial(rig)
		if de == nil || de.Kind != createcall.DialUnavailable {
			t.Fatalf("Dial error = %v, want unavailable", de)
		}
		checkReason(t, de.Reason, rig.Request)
	})
	t.Run("hang is an unknown outcome, dialled once", func(t *testing.T) {
		rig := start(t, Hang)
		t0 := time.Now()
		_, de := dial(rig)
		if de == nil || de.Kind != createcall.DialUnknown {
			t.Fatalf("Dial error = %v, want unknown outcome", de)
		}
		if h.Timeout > 0 && time.Since(t0) > 10*h.Timeout+5*time.Second {
			t.Fatalf("Dial took %v with a timeout of %v", time.Since(t0), h.Timeout)
		}
		if got := rig.Dials(); got != 1 {
			t.Fatalf("the fake received %d dial requests, want exactly 1: a request that may have reached the carrier is never retried", got)
		}
		checkReason(t, de.Reason, rig.Request)
	})
}

// checkReason: a customer-facing reason is readable, names no vendor and carries no secret.
func checkReason(t *testing.T, reason string, req createcall.DialRequest) {
	t.Helper()
	if strings.TrimSpace(reason) == "" {
		t.Fatal("refusal has no reason")
	}
	lower := strings.ToLower(reason)
	for _, vendor := range []string{"twilio", "exotel", "elison", "elision"} {
		if strings.Contains(lower, vendor) {
			t.Fatalf("reason %q names the vendor", reason)
		}
	}
	for _, c := range []string{"{", "<"} {
		if strings.Contains(reason, c) {
			t.Fatalf("reason %q looks like a raw carrier payload", reason)
		}
	}
	for name, v := range req.Credentials {
		if len(v) >= 4 && strings.Contains(reason, v) {
			t.Fatalf("reason %q contains credential %s", reason, name)
		}
	}
}
