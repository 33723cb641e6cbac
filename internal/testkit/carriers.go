package testkit

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

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

// Dial places req through c, within 10 seconds, and returns the leg id or the carrier's refusal;
// an error that is not a *createcall.DialError fails the test.
func Dial(t testing.TB, c createcall.Carrier, req createcall.DialRequest) (string, *createcall.DialError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leg, err := c.Dial(ctx, req)
	if err == nil {
		return leg, nil
	}
	var de *createcall.DialError
	if !errors.As(err, &de) {
		t.Fatalf("Dial error %T %v is not a *createcall.DialError", err, err)
	}
	return leg, de
}
