package elisonprovider

import (
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
)

// FuzzParseResponse feeds arbitrary answers to the lead and login parsers and the mappings built
// on them: none may panic, a leg id or token is always one fit to store, a login failure is never
// an unknown outcome, and a refusal's reason never carries any of the dialer's own text.
func FuzzParseResponse(f *testing.F) {
	f.Add(200, []byte(`{"status":"success","queue_id":"Q-1f2e3d"}`))
	f.Add(422, []byte(`{"status":"error","code":"INVALID_PHONE","message":"Phone 9876543210 is invalid"}`))
	f.Add(200, []byte(`{"token":"eyJhbGciOi.x.y","expires_in":3600}`))
	f.Add(503, []byte(`<html><body>503 Service Unavailable</body></html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		checkReason := func(de *createcall.DialError) {
			if de.Reason == "" || strings.ContainsAny(de.Reason, "{<") || strings.Contains(strings.ToLower(de.Reason), "elis") {
				t.Fatalf("reason %q", de.Reason)
			}
			if strings.Contains(de.Error(), testPass) {
				t.Fatalf("error %q holds a secret", de.Error())
			}
		}
		leg, de := leadOutcome(status, body, testPass)
		switch {
		case de == nil && (!carrierhttp.ValidID(leg) || status < 200 || status > 299):
			t.Fatalf("leadOutcome(%d) = leg %q without a refusal", status, leg)
		case de != nil && leg != "":
			t.Fatalf("leadOutcome returned both leg %q and %v", leg, de)
		case de != nil:
			checkReason(de)
		}
		token, ttl, de := loginOutcome(status, body, testPass)
		switch {
		case de == nil && (!carrierhttp.ValidID(token) || ttl <= 0 || ttl > maxTokenLifetime):
			t.Fatalf("loginOutcome(%d) = token %q for %v", status, token, ttl)
		case de != nil && de.Kind == createcall.DialUnknown:
			t.Fatalf("a login failure is never an unknown outcome: %v", de)
		case de != nil:
			checkReason(de)
		}
	})
}
