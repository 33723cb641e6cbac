package twilioprovider_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit"
)

const formType = "application/x-www-form-urlencoded"

func TestVerifyStatusCallback(t *testing.T) {
	const cbURL = "https://kupe.example/api/call/status-callback/twilio/6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01"
	creds := call.Credentials{"account_sid": testSID, "auth_token": testToken}
	form := url.Values{"CallSid": {"CA1"}, "CallStatus": {"ringing"}, "AccountSid": {testSID}, "To": {testTo}}
	body := []byte(form.Encode())
	sig := testkit.TwilioSignature(testToken, cbURL, form)

	if !twilioprovider.VerifyStatusCallback(creds, cbURL, formType, body, sig) {
		t.Fatal("a genuine signature does not verify")
	}
	if !twilioprovider.VerifyStatusCallback(creds, cbURL, "", body, sig) {
		t.Fatal("a genuine signature without a Content-Type does not verify")
	}
	tampered := url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}, "AccountSid": {testSID}, "To": {testTo}}
	for name, tc := range map[string]struct {
		creds call.Credentials
		url   string
		body  []byte
		sig   string
	}{
		"missing signature":  {creds, cbURL, body, ""},
		"another token":      {creds, cbURL, body, testkit.TwilioSignature("0000000000000000000000000000000a", cbURL, form)},
		"another URL":        {creds, cbURL + "x", body, sig},
		"altered body":       {creds, cbURL, []byte(tampered.Encode()), sig},
		"line without token": {call.Credentials{"account_sid": testSID}, cbURL, body, sig},
		"no credentials":     {nil, cbURL, body, sig},
	} {
		if twilioprovider.VerifyStatusCallback(tc.creds, tc.url, formType, tc.body, tc.sig) {
			t.Errorf("%s: verified", name)
		}
	}
	if twilioprovider.VerifyStatusCallback(creds, cbURL, "application/json", body, sig) {
		t.Error("a JSON Content-Type verified a form signature")
	}
}

func TestParseStatusCallback(t *testing.T) {
	form := url.Values{"CallSid": {"CA0123"}, "CallStatus": {"completed"}, "CallDuration": {"62"},
		"Timestamp": {"Sat, 28 Nov 2026 09:01:12 +0000"}, "To": {testTo}}
	ev, err := twilioprovider.ParseStatusCallback(formType+"; charset=utf-8", []byte(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != call.StatusCompleted || ev.LegID != "CA0123" || ev.Duration != 62*time.Second ||
		!ev.At.Equal(time.Date(2026, 11, 28, 9, 1, 12, 0, time.UTC)) {
		t.Fatalf("event %+v", ev)
	}
	ev, err = twilioprovider.ParseStatusCallback(formType, []byte("CallStatus=surprise&CallSid=CA+1&CallDuration=-3&Timestamp=yesterday"))
	if err != nil || ev.Status.Valid() || ev.LegID != "" || ev.Duration != 0 || !ev.At.IsZero() {
		t.Fatalf("odd values read as %+v, %v; want nothing", ev, err)
	}
	if _, err := twilioprovider.ParseStatusCallback("application/json", []byte(`{"CallStatus":"ringing"}`)); err == nil {
		t.Fatal("a JSON body parsed")
	}
	if _, err := twilioprovider.ParseStatusCallback(formType, []byte("%zz")); err == nil {
		t.Fatal("a malformed form parsed")
	}
}

func TestMapStatus(t *testing.T) {
	for in, want := range map[string]call.Status{
		"queued": call.StatusInitiated, "initiated": call.StatusInitiated, "ringing": call.StatusRinging,
		"in-progress": call.StatusInProgress, "completed": call.StatusCompleted, "busy": call.StatusBusy,
		"no-answer": call.StatusNoAnswer, "failed": call.StatusFailed, "canceled": call.StatusCanceled, " Ringing ": call.StatusRinging,
	} {
		if got, ok := twilioprovider.MapStatus(in); !ok || got != want {
			t.Errorf("MapStatus(%q) = %s, %v; want %s", in, got, ok, want)
		}
	}
	if _, ok := twilioprovider.MapStatus("paused"); ok {
		t.Error("an unknown status mapped")
	}
}
