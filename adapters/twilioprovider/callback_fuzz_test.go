package twilioprovider_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
)

// FuzzParseStatusCallback: a status callback body, whatever it holds, never panics the parser,
// and what it reads is fit to apply: a known status or none, a leg id fit to store and log, a
// duration that is not negative, and neither the session nor the provider (the caller sets
// those from the URL, never from the body).
func FuzzParseStatusCallback(f *testing.F) {
	for _, s := range [][2]string{
		{"application/x-www-form-urlencoded", "CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed&CallDuration=42&Timestamp=Sat,+28+Nov+2026+09:00:00+%2B0000"},
		{"application/x-www-form-urlencoded; charset=utf-8", "CallStatus=ringing&CallSid=CA1"},
		{"", "CallStatus=in-progress&CallSid=%zz"},
		{"application/json", `{"CallStatus":"completed"}`},
		{"multipart/form-data; boundary=x", "--x--"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev, err := twilioprovider.ParseStatusCallback(contentType, body)
		if err != nil {
			return
		}
		if ev.Status != 0 && !ev.Status.Valid() {
			t.Fatalf("status %v is not a status", ev.Status)
		}
		if ev.LegID != "" && !carrierhttp.ValidID(ev.LegID) {
			t.Fatalf("leg id %q is not fit to store", ev.LegID)
		}
		if ev.Duration < 0 {
			t.Fatalf("duration %v", ev.Duration)
		}
		if ev.SessionID != "" || ev.Provider != 0 {
			t.Fatalf("the body set the session %q or the provider %v", ev.SessionID, ev.Provider)
		}
	})
}

// FuzzParseAMDCallback: a machine-detection callback body never panics the parser, and what it
// reads carries a detection result and nothing else a caller could mistake for progress.
func FuzzParseAMDCallback(f *testing.F) {
	for _, s := range [][2]string{
		{"application/x-www-form-urlencoded", "CallSid=CA0123456789abcdef0123456789abcdef&AnsweredBy=machine_end_beep&MachineDetectionDuration=4100"},
		{"application/x-www-form-urlencoded; charset=utf-8", "AnsweredBy=HUMAN&CallSid=CA1&CallStatus=completed"},
		{"", "AnsweredBy=fax&CallSid=%zz"},
		{"application/json", `{"AnsweredBy":"human"}`},
		{"application/x-www-form-urlencoded", "AnsweredBy=&AnsweredBy=human"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev, err := twilioprovider.ParseAMDCallback(contentType, body)
		if err != nil {
			return
		}
		if !ev.AnsweredBy.Valid() {
			t.Fatalf("answered_by %v is not a result", ev.AnsweredBy)
		}
		if ev.Status != 0 || ev.Duration != 0 || ev.SessionID != "" || ev.Provider != 0 {
			t.Fatalf("an AMD callback read as progress: %+v", ev)
		}
		if ev.LegID != "" && !carrierhttp.ValidID(ev.LegID) {
			t.Fatalf("leg id %q is not fit to store", ev.LegID)
		}
	})
}
