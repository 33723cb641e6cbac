package elisonprovider

import (
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
	"github.com/kupe-voice/kupe/internal/testkit"
)

const (
	testUser    = "kupe-ops"
	testPass    = "pw_9c2e7f1a"
	testLine    = "+918047112233"
	testDest    = "+919876543210"
	testTimeout = 300 * time.Millisecond
)

func testRequest() createcall.DialRequest {
	return createcall.DialRequest{
		SessionID: "ses_01J8ZK", RequestID: "req_01J8ZK", LineID: "line_1",
		From: testLine, To: testDest,
		Credentials: call.Credentials{CredUsername: testUser, CredPassword: testPass},
	}
}

func testConfig(base string) Config {
	return Config{
		APIBaseURL:        base,
		Timeout:           testTimeout,
		StatusCallbackURL: func(id string) string { return "https://kupe.test/hooks/elison/" + id },
		StreamURL:         func(r createcall.DialRequest) string { return "wss://kupe.test/stream/" + r.SessionID },
	}
}

// newFakeDialer serves the shared carrier fake (internal/fakecarrier) answering Elison's logins
// and leads for the test user, scripted by sc and shaped further by opts. A refused caller id
// names the line's DID, as Elison's answer does, so that the tests see it kept out of errors.
func newFakeDialer(t *testing.T, sc createcalltest.Scenario, opts fakecarrier.Options) *testkit.Fake {
	t.Helper()
	opts.ElisonUsers = map[string]string{testUser: testPass}
	if sc == createcalltest.CallerNotAllowed {
		opts.Echo = " (DID 8047112233)"
	}
	return testkit.FakeCarrier(t, sc, opts)
}
