package exotelprovider

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
	"github.com/kupe-voice/kupe/internal/testkit"
)

const (
	testKey     = "key_7f3a9c"
	testToken   = "tok_5b1e8d2c4a"
	testAccount = "kupe42"
	testLine    = "+918047112233"
	testDest    = "+919876543210"
	testTimeout = 300 * time.Millisecond
)

func testRequest() createcall.DialRequest {
	return createcall.DialRequest{
		SessionID: "ses_01J8ZK", RequestID: "req_01J8ZK", LineID: "line_1",
		From: testLine, To: testDest,
		Credentials: call.Credentials{CredAPIKey: testKey, CredAPIToken: testToken, CredAccountSID: testAccount},
	}
}

func testConfig(base string) Config {
	return Config{
		APIBaseURL:        base,
		Timeout:           testTimeout,
		StatusCallbackURL: func(id string) string { return "https://kupe.test/hooks/exotel/" + id },
		StreamURL:         func(r createcall.DialRequest) string { return "wss://kupe.test/stream/" + r.SessionID },
	}
}

// newFakeExotel serves the shared carrier fake (internal/fakecarrier) answering Exotel's connect
// endpoint for the test line's key and token, scripted by sc.
func newFakeExotel(t *testing.T, sc createcalltest.Scenario) *testkit.Fake {
	t.Helper()
	return testkit.FakeCarrier(t, sc, fakecarrier.Options{ExotelKeys: map[string]string{testKey: testToken}})
}

// canned answers every request with one status and body, counting them.
type canned struct {
	status int
	body   string
	header http.Header
	n      atomic.Int64
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	fmt.Fprint(w, c.body)
}
