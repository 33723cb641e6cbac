package elisonprovider_test

import (
	"testing"

	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
)

// FuzzParseStatusCallback: a status callback body, whatever it holds, never panics the parser,
// and what it reads is fit to apply: a known status or none, a leg id fit to store and log, a
// duration that is not negative, and neither the session nor the provider (the caller sets
// those from the URL, never from the body).
func FuzzParseStatusCallback(f *testing.F) {
	for _, s := range [][2]string{
		{"application/json", `{"queue_id":"Q-1","status":"completed","duration":"42","timestamp":"2026-11-28T09:00:00Z"}`},
		{"application/json", `{"queue_id":12345,"call_id":"C1","status":"no answer","duration":7}`},
		{"application/x-www-form-urlencoded", "queue_id=Q-2&status=busy&duration=abc"},
		{"", `{"status":null}`},
		{"text/plain", "status=completed"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev, err := elisonprovider.ParseStatusCallback(contentType, body)
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
