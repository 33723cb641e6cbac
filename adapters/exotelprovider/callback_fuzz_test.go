package exotelprovider_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
)

// FuzzParseStatusCallback: a status callback body, whatever it holds, never panics the parser,
// and what it reads is fit to apply: a known status or none, a leg id fit to store and log, a
// duration that is not negative, and neither the session nor the provider (the caller sets
// those from the URL, never from the body).
func FuzzParseStatusCallback(f *testing.F) {
	for _, s := range [][2]string{
		{"application/json", `{"CallSid":"b6cfaf0f","Status":"completed","ConversationDuration":"42"}`},
		{"application/json", `{"CallSid":"x","EventType":"answered"}`},
		{"multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\nbusy\r\n--xyz--\r\n"},
		{"application/x-www-form-urlencoded", "CallSid=abc&Status=no-answer"},
		{"", `{"Status":"busy","status":"completed"}`},
		{"multipart/form-data", "--"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev, err := exotelprovider.ParseStatusCallback(contentType, body)
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
