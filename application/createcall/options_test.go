package createcall_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// optionCarrier is a scriptedCarrier that honours only the options it is told.
type optionCarrier struct {
	scriptedCarrier
	honours map[string]bool
}

func (c *optionCarrier) UnhonouredOption(o call.Options) string {
	for _, name := range o.Asked() {
		if !c.honours[name] {
			return name
		}
	}
	return ""
}

func TestCallOptionsReachTheCarrierAndTheSession(t *testing.T) {
	f := newFixture(t)
	oc := &optionCarrier{honours: map[string]bool{call.OptionRingTimeout: true, call.OptionMaxDuration: true, call.OptionMachineDetection: true}}
	f.h.Carriers = createcall.CarrierSet{call.ProviderSimulated: oc}
	res, err := f.h.Handle(context.Background(), createcall.Command{UserID: f.userID, To: "+14155550123",
		RingTimeoutSeconds: "20", MaxDurationSeconds: "600", MachineDetection: "detect"})
	if err != nil || !res.Success {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	want := call.Options{RingTimeout: 20 * time.Second, MaxDuration: 10 * time.Minute, MachineDetection: call.MachineDetectionDetect}
	if got := oc.dials[0].Options; got != want {
		t.Fatalf("dial options = %+v, want %+v", got, want)
	}
	if got := f.stored(t, res.SessionID).Options; got != want {
		t.Fatalf("session options = %+v, want %+v", got, want)
	}
}

func TestCallOptionsOutOfRangeAreRefusedBeforeAnything(t *testing.T) {
	f := newFixture(t)
	for _, cmd := range []createcall.Command{
		{RingTimeoutSeconds: "4"}, {RingTimeoutSeconds: "121"}, {MaxDurationSeconds: "9"},
		{MaxDurationSeconds: "14401"}, {MachineDetection: "maybe"},
	} {
		cmd.UserID, cmd.To = f.userID, "+14155550123"
		_, err := f.h.Handle(context.Background(), cmd)
		var inv *fault.InvalidInputError
		if !errors.As(err, &inv) {
			t.Errorf("%+v: error %v, want invalid input", cmd, err)
		}
	}
	if n := len(f.carrier.dials); n != 0 {
		t.Fatalf("%d dials for refused options", n)
	}
}

// A carrier that cannot honour an option refuses the call with a 422 naming the option and the
// carrier kind, before a session is written or anything dialled; one without OptionCarrier
// honours none.
func TestCallOptionsACarrierCannotHonourAreRefusedBeforeTheDial(t *testing.T) {
	f := newFixture(t)
	oc := &optionCarrier{honours: map[string]bool{call.OptionRingTimeout: true, call.OptionMaxDuration: true}}
	f.h.Carriers = createcall.CarrierSet{call.ProviderSimulated: oc}
	ctx := context.Background()
	_, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123", RingTimeoutSeconds: "30",
		MachineDetection: "detect_end_of_greeting"})
	var inv *fault.InvalidInputError
	if !errors.As(err, &inv) || !strings.Contains(inv.Detail, "machine_detection") || !strings.Contains(inv.Detail, "simulated") {
		t.Fatalf("error %v, want an invalid input naming machine_detection and the carrier", err)
	}
	// off is no option at all.
	if res, err := f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123", RingTimeoutSeconds: "30",
		MachineDetection: "off"}); err != nil || !res.Success {
		t.Fatalf("machine_detection=off on a carrier without it: %+v, %v", res, err)
	}

	f.h.Carriers = createcall.CarrierSet{call.ProviderSimulated: f.carrier} // no OptionCarrier
	_, err = f.h.Handle(ctx, createcall.Command{UserID: f.userID, To: "+14155550123", MaxDurationSeconds: "60"})
	if !errors.As(err, &inv) || !strings.Contains(inv.Detail, "max_duration_seconds") {
		t.Fatalf("error %v, want an invalid input naming max_duration_seconds", err)
	}
	if len(f.carrier.dials) != 0 || len(oc.dials) != 1 {
		t.Fatalf("dials: %d and %d, want 0 and 1", len(f.carrier.dials), len(oc.dials))
	}
	if _, n, _ := f.store.ListSessions(ctx, f.userID, 0, 10); n != 1 {
		t.Fatalf("%d sessions written, want only the accepted call's", n)
	}
}

// The options are part of what an Idempotency-Key stands for.
func TestCallOptionsArePartOfTheIdempotentRequest(t *testing.T) {
	f := newFixture(t)
	f.h.Carriers = createcall.CarrierSet{call.ProviderSimulated: &optionCarrier{honours: map[string]bool{call.OptionRingTimeout: true}}}
	ctx := context.Background()
	cmd := createcall.Command{UserID: f.userID, To: "+14155550123", RingTimeoutSeconds: "30", IdempotencyKey: "k-1"}
	if _, err := f.h.Handle(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	again, err := f.h.Handle(ctx, cmd)
	if err != nil || !again.Replayed {
		t.Fatalf("same request again = %+v, %v; want a replay", again, err)
	}
	cmd.RingTimeoutSeconds = "40"
	if _, err := f.h.Handle(ctx, cmd); !errors.Is(err, createcall.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other options = %v, want ErrIdempotencyMismatch", err)
	}
}
