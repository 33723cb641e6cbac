package twilioprovider_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
	"github.com/kupe-voice/kupe/internal/testkit"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "f00dfacef00dfacef00dfacef00dface"
)

// startFake serves the shared carrier fake (internal/fakecarrier) answering Twilio's create-call
// endpoint, scripted by sc; Refused gives an address where nothing listens. opts, if any, shape
// the fake further (Echo, say).
func startFake(t *testing.T, sc createcalltest.Scenario, opts ...fakecarrier.Options) *testkit.Fake {
	t.Helper()
	var o fakecarrier.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return testkit.FakeCarrier(t, sc, o)
}

// twilioError writes Twilio's JSON error body.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)
}
