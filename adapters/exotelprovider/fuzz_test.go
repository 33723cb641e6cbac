package exotelprovider

import (
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
)

// FuzzParseResponse feeds arbitrary answers to the parser and the mapping built on it: neither
// may panic, a leg id is always one fit to store, and a refusal's reason never carries any of
// the carrier's own text.
func FuzzParseResponse(f *testing.F) {
	f.Add(200, []byte(`{"Call":{"Sid":"b6cfaf4d0e3f1c7a","Status":"in-progress"}}`))
	f.Add(400, []byte(`{"RestException":{"Status":400,"Message":"Invalid number","Code":34001}}`))
	f.Add(200, []byte(`{"restexception":{"status":"403","message":"CallerId","code":"x"}}`))
	f.Add(502, []byte(`<html><body>502 Bad Gateway</body></html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := parseResponse(body)
		if err != nil && (r.Call != nil || r.RestException != nil) {
			t.Fatalf("parse failed (%v) but returned %+v", err, r)
		}
		leg, de := outcome(status, body, testToken)
		if de == nil {
			if !carrierhttp.ValidID(leg) || status < 200 || status > 299 || r.RestException != nil {
				t.Fatalf("outcome(%d) = leg %q without a refusal", status, leg)
			}
			return
		}
		if leg != "" {
			t.Fatalf("outcome returned both leg %q and %v", leg, de)
		}
		if _, ok := map[createcall.DialErrorKind]bool{createcall.DialUnknown: true, createcall.DialInvalidDestination: true,
			createcall.DialCallerNotAllowed: true, createcall.DialBadCredentials: true, createcall.DialRateLimited: true,
			createcall.DialUnavailable: true, createcall.DialRejected: true}[de.Kind]; !ok {
			t.Fatalf("invalid kind %v", de.Kind)
		}
		if de.Reason == "" || strings.ContainsAny(de.Reason, "{<") || strings.Contains(strings.ToLower(de.Reason), "exotel") {
			t.Fatalf("reason %q", de.Reason)
		}
		if strings.Contains(de.Error(), testToken) {
			t.Fatalf("error %q holds a secret", de.Error())
		}
	})
}
