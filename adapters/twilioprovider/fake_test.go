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

// fakeTwilio is the shared carrier fake (internal/fakecarrier) answering Twilio's create-call
// endpoint, scripted by a createcalltest.Scenario.
type fakeTwilio struct {
	*fakecarrier.Carrier
	URL string
}

// startFake starts a fake for sc; Refused gives an address where nothing listens. opts, if any,
// shape the fake further (Echo, say).
func startFake(t *testing.T, sc createcalltest.Scenario, opts ...fakecarrier.Options) *fakeTwilio {
	t.Helper()
	var o fakecarrier.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, u := testkit.FakeCarrier(t, sc, o)
	return &fakeTwilio{Carrier: c, URL: u}
}

// Dials is how many dial requests reached the fake.
func (f *fakeTwilio) Dials() int { return int(f.Carrier.Dials()) }

// Placed is how many calls the fake placed.
func (f *fakeTwilio) Placed() int { return int(f.Accepted()) }

// Last is the last dial request as the fake saw it.
func (f *fakeTwilio) Last() fakecarrier.Dial { return f.Received() }

// twilioError writes Twilio's JSON error body.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)
}
