package testkit

import (
	"net/http/httptest"
	"testing"

	"github.com/kupe-voice/kupe/application/createcall"
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
func FakeCarrier(t testing.TB, sc createcalltest.Scenario, opts fakecarrier.Options) *Fake {
	t.Helper()
	f, ok := faults[sc]
	if !ok {
		t.Fatalf("testkit: no carrier fault for scenario %d", sc)
	}
	opts.Fault = f
	c := fakecarrier.New(opts)
	if sc == createcalltest.Refused {
		return &Fake{Carrier: c, URL: RefusedURL(t)}
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	t.Cleanup(c.Release) // runs first: lets a hanging request go, so that Close returns
	return &Fake{Carrier: c, URL: srv.URL}
}

// Fake is a carrier fake being served.
type Fake struct {
	*fakecarrier.Carrier
	// URL is the base URL to point a carrier adapter at.
	URL string
}

// Rig is the carrier suite's rig for c, an adapter pointed at the fake, dialing req.
func (f *Fake) Rig(c createcall.Carrier, req createcall.DialRequest) createcalltest.CarrierRig {
	return createcalltest.CarrierRig{Carrier: c, Request: req,
		Dials:  func() int { return int(f.Dials()) },
		Placed: func() int { return int(f.Accepted()) }}
}
