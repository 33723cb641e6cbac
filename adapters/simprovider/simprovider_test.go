package simprovider_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

const rejected = "+14155550199"

func request(to string) createcall.DialRequest {
	return createcall.DialRequest{
		SessionID: "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01",
		RequestID: "0b7e7c2a-5a43-4f4e-8f59-7f3f5d1a2b3c",
		LineID:    "c1d2e3f4-0000-4000-8000-000000000001",
		From:      "+14155550100",
		To:        to,
	}
}

func TestCarrierSuite(t *testing.T) {
	createcalltest.RunCarrierSuite(t, createcalltest.CarrierHarness{
		Start: func(t *testing.T, sc createcalltest.Scenario) (createcalltest.CarrierRig, bool) {
			c := simprovider.New(simprovider.Config{Reject: []string{rejected}})
			rig := createcalltest.CarrierRig{Carrier: c, Dials: c.Dials, Placed: c.Placed, Honoured: c.LastOptions}
			switch sc {
			case createcalltest.Accept:
				rig.Request = request("+14155550123")
			case createcalltest.InvalidDestination:
				rig.Request = request(rejected)
			default:
				// No network, no credentials, no rate limit: nothing else can be made to happen.
				return createcalltest.CarrierRig{}, false
			}
			return rig, true
		},
	})
}

func TestLegIDsAndCounters(t *testing.T) {
	c := simprovider.New(simprovider.Config{Reject: []string{rejected}})
	leg, err := c.Dial(context.Background(), request("+14155550123"))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if !regexp.MustCompile(`^SIM[0-9a-f]{32}$`).MatchString(leg) {
		t.Fatalf("leg id %q, want SIM followed by 32 hex digits", leg)
	}
	_, err = c.Dial(context.Background(), request(rejected))
	var de *createcall.DialError
	if !errors.As(err, &de) || de.Kind != createcall.DialInvalidDestination {
		t.Fatalf("Dial(%s) = %v, want an invalid destination", rejected, err)
	}
	if c.Dials() != 2 || c.Placed() != 1 {
		t.Fatalf("Dials, Placed = %d, %d; want 2, 1", c.Dials(), c.Placed())
	}
}

func TestNoRejectListPlacesEverything(t *testing.T) {
	c := simprovider.New(simprovider.Config{})
	if _, err := c.Dial(context.Background(), request(rejected)); err != nil {
		t.Fatalf("Dial without a reject list: %v", err)
	}
}
