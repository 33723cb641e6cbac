package testkit

import (
	"net/http/httptest"
	"testing"

	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
)

var faults = map[createcalltest.Scenario]fakecarrier.Fault{
	createcalltest.Accept:             fakecarrier.NoFault,
	createcalltest.InvalidDestination: fakecarrier.InvalidDestination,
	createcalltest.CallerNotAllowed:   fakecarrier.CallerNotAllowed,
	createcalltest.BadCredentials:     fakecarrier.BadCredentials,
	createcalltest.RateLimited:        fakecarrier.RateLimited,
	createcalltest.RateLimitedOnce:    fakecarrier.RateLimitedOnce,
	createcalltest.Unavailable:        fakecarrier.Unavailable,
	createcalltest.Hang:               fakecarrier.Hang,
	createcalltest.Refused:            fakecarrier.NoFault,
}

// FakeCarrier serves a fake of the carriers' APIs (internal/fakecarrier: Twilio, Exotel, Elison)
// scripted to show sc, for the life of the test, and returns it with its base URL. For
// createcalltest.Refused the URL is one where nothing listens, and the fake sees nothing.
func FakeCarrier(t testing.TB, sc createcalltest.Scenario, opts fakecarrier.Options) (*fakecarrier.Carrier, string) {
	t.Helper()
	f, ok := faults[sc]
	if !ok {
		t.Fatalf("testkit: no carrier fault for scenario %d", sc)
	}
	opts.Fault = f
	c := fakecarrier.New(opts)
	if sc == createcalltest.Refused {
		return c, RefusedURL(t)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Cleanup(c.Release) // runs first: lets a hanging request go, so that Close returns
	return c, srv.URL
}
