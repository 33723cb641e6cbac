package twilioprovider_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
)

// Every option is on the create's form as Twilio names it; without options, the configured
// defaults are.
func TestCallOptionsOnTheWire(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	c := newCarrier(t, testConfig(f.URL))
	req := testRequest()
	req.Options = call.Options{RingTimeout: 25 * time.Second, MaxDuration: 900 * time.Second, MachineDetection: call.MachineDetectionEndOfGreeting}
	if _, de := dial(t, c, req); de != nil {
		t.Fatal(de)
	}
	form := f.Received().Form
	want := url.Values{"Timeout": {"25"}, "TimeLimit": {"900"}, "MachineDetection": {"DetectMessageEnd"}, "AsyncAmd": {"true"},
		"AsyncAmdStatusCallback":       {"https://kupe.example/api/call/amd-callback/twilio/" + req.SessionID},
		"AsyncAmdStatusCallbackMethod": {"POST"}}
	for k, v := range want {
		if got := form[k]; len(got) != 1 || got[0] != v[0] {
			t.Errorf("%s = %q, want %q", k, got, v[0])
		}
	}

	if _, de := dial(t, c, testRequest()); de != nil {
		t.Fatal(de)
	}
	form = f.Received().Form
	if form.Get("Timeout") != "30" || form.Get("TimeLimit") != "3600" || form.Has("MachineDetection") || form.Has("AsyncAmd") {
		t.Fatalf("a dial without options sent Timeout %q TimeLimit %q MachineDetection %q AsyncAmd %q",
			form.Get("Timeout"), form.Get("TimeLimit"), form.Get("MachineDetection"), form.Get("AsyncAmd"))
	}
}

func TestMachineDetectionNeedsItsCallback(t *testing.T) {
	cfg := testConfig("https://api.twilio.example")
	cfg.AMDCallbackURL = nil
	c := newCarrier(t, cfg)
	if got := c.UnhonouredOption(call.Options{MachineDetection: call.MachineDetectionDetect}); got != call.OptionMachineDetection {
		t.Fatalf("machine detection without a callback address: refused %q", got)
	}
	if got := c.UnhonouredOption(call.Options{RingTimeout: 5 * time.Second, MaxDuration: 14400 * time.Second}); got != "" {
		t.Fatalf("ring timeout and length refused as %q", got)
	}
}

func TestParseAMDCallback(t *testing.T) {
	for body, want := range map[string]call.AnsweredBy{
		"CallSid=CA1&AnsweredBy=human&MachineDetectionDuration=2400": call.AnsweredByHuman,
		"CallSid=CA1&AnsweredBy=machine_start":                       call.AnsweredByMachine,
		"CallSid=CA1&AnsweredBy=machine_end_beep":                    call.AnsweredByMachine,
		"CallSid=CA1&AnsweredBy=machine_end_silence":                 call.AnsweredByMachine,
		"CallSid=CA1&AnsweredBy=machine_end_other":                   call.AnsweredByMachine,
		"CallSid=CA1&AnsweredBy=fax":                                 call.AnsweredByMachine,
		"CallSid=CA1&AnsweredBy=unknown":                             call.AnsweredByUnknown,
	} {
		ev, err := twilioprovider.ParseAMDCallback("application/x-www-form-urlencoded", []byte(body))
		if err != nil || ev.AnsweredBy != want || ev.LegID != "CA1" || ev.Status.Valid() {
			t.Errorf("%s: %+v, %v; want %s", body, ev, err, want)
		}
	}
	for _, body := range []string{"CallSid=CA1", "CallSid=CA1&AnsweredBy=robot", "%zz"} {
		if _, err := twilioprovider.ParseAMDCallback("application/x-www-form-urlencoded", []byte(body)); err == nil {
			t.Errorf("%q parsed as an AMD result", body)
		}
	}
	// A synchronous detection's result rides on the status callback.
	ev, err := twilioprovider.ParseStatusCallback("application/x-www-form-urlencoded", []byte("CallSid=CA1&CallStatus=in-progress&AnsweredBy=human"))
	if err != nil || ev.AnsweredBy != call.AnsweredByHuman || ev.Status != call.StatusInProgress {
		t.Fatalf("status callback with AnsweredBy: %+v, %v", ev, err)
	}
}
