package campaign_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

func zoneNames(zs []*time.Location) []string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = z.String()
	}
	return out
}

func TestZonesForNumber(t *testing.T) {
	cases := []struct {
		number string
		want   []string
	}{
		{"+14155550123", []string{"America/Los_Angeles"}},
		{"+12125551234", []string{"America/New_York"}},
		{"+919876543210", []string{"Asia/Calcutta"}},
		{"+447911123456", []string{"Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London"}},
		// +800 (international freephone) belongs to no country: UTC.
		{"+80012345678", []string{"UTC"}},
	}
	for _, c := range cases {
		got := zoneNames(campaign.ZonesForNumber(call.MustParsePhoneNumber(c.number)))
		if !slices.Equal(got, c.want) {
			t.Errorf("ZonesForNumber(%s) = %v, want %v", c.number, got, c.want)
		}
	}
	// A US toll-free number has no geography: every zone of +1, from Guam to Newfoundland.
	tollFree := zoneNames(campaign.ZonesForNumber(call.MustParsePhoneNumber("+18002530000")))
	if len(tollFree) < 20 || !slices.Contains(tollFree, "Pacific/Guam") || !slices.Contains(tollFree, "America/St_Johns") {
		t.Errorf("ZonesForNumber(US toll-free) = %v", tollFree)
	}
	if got := zoneNames(campaign.ZonesForNumber(call.PhoneNumber{})); !slices.Equal(got, []string{"UTC"}) {
		t.Errorf("ZonesForNumber(zero) = %v", got)
	}
}

func TestRecipientZones(t *testing.T) {
	us := call.MustParsePhoneNumber("+12125551234")
	got, err := campaign.RecipientZones(us, "Asia/Kolkata")
	if err != nil || !slices.Equal(zoneNames(got), []string{"Asia/Kolkata"}) {
		t.Fatalf("explicit zone: %v, %v", zoneNames(got), err)
	}
	got, err = campaign.RecipientZones(us, "")
	if err != nil || !slices.Equal(zoneNames(got), []string{"America/New_York"}) {
		t.Fatalf("zone from the number: %v, %v", zoneNames(got), err)
	}
	for _, bad := range []string{"Local", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "America/New_York\x00", string(make([]byte, 100))} {
		if _, err := campaign.RecipientZones(us, bad); !errors.Is(err, campaign.ErrUnknownTimeZone) {
			t.Errorf("RecipientZones(%q) = %v, want ErrUnknownTimeZone", bad, err)
		}
	}
}

func TestLoadTimeZoneSharesLoadedZones(t *testing.T) {
	a, err := campaign.LoadTimeZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := campaign.LoadTimeZone("Europe/Berlin")
	if a != b {
		t.Fatal("the same zone loaded twice")
	}
}
