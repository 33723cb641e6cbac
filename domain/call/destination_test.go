package call_test

import (
	"errors"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestNumberTypes(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   call.NumberType
		region string
	}{
		{"+19005550123", call.NumberPremiumRate, "US"},
		{"+18005550123", call.NumberTollFree, "US"},
		{"+14155550123", call.NumberFixedLineOrMobile, "US"},
		{"+18765550123", call.NumberMobile, "JM"}, // +1, but Jamaica
		{"+919876543210", call.NumberMobile, "IN"},
		{"+442071838750", call.NumberFixedLine, "GB"},
		{"+447911123456", call.NumberMobile, "GG"}, // a Guernsey mobile, not a British one
	} {
		p, err := call.ParsePhoneNumber(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if p.Type() != tt.want || p.Region() != tt.region {
			t.Errorf("%s: type %s region %s, want %s %s", tt.in, p.Type(), p.Region(), tt.want, tt.region)
		}
	}
	// Every type libphonenumber knows maps onto one of ours, by way of its example numbers.
	for _, lt := range []phonenumbers.PhoneNumberType{phonenumbers.SHARED_COST, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.UAN, phonenumbers.VOIP, phonenumbers.PAGER, phonenumbers.VOICEMAIL} {
		name := map[phonenumbers.PhoneNumberType]string{phonenumbers.SHARED_COST: "shared_cost",
			phonenumbers.PERSONAL_NUMBER: "personal_number", phonenumbers.UAN: "uan", phonenumbers.VOIP: "voip",
			phonenumbers.PAGER: "pager", phonenumbers.VOICEMAIL: "voicemail"}[lt]
		found := false
		for region := range phonenumbers.GetSupportedRegions() {
			ex := phonenumbers.GetExampleNumberForType(region, lt)
			if ex == nil {
				continue
			}
			p, err := call.ParsePhoneNumber(phonenumbers.Format(ex, phonenumbers.E164))
			if err != nil || p.Type().String() != name {
				continue
			}
			found = true
			break
		}
		if !found {
			t.Errorf("no example number parsed as %s", name)
		}
	}
}

func TestParseNumberType(t *testing.T) {
	for _, name := range []string{"premium_rate", " Shared_Cost ", "personal_number", "uan", "voip", "toll_free"} {
		if _, err := call.ParseNumberType(name); err != nil {
			t.Errorf("ParseNumberType(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "premium", "unknown", "PREMIUM-RATE"} {
		if _, err := call.ParseNumberType(name); err == nil {
			t.Errorf("ParseNumberType(%q) accepted", name)
		}
	}
}

func TestDestinationPolicy(t *testing.T) {
	p, err := call.NewDestinationPolicy([]string{"us", " IN"}, []call.NumberType{call.NumberPremiumRate, call.NumberSharedCost})
	if err != nil {
		t.Fatal(err)
	}
	check := func(p call.DestinationPolicy, number string) error {
		t.Helper()
		return p.Check(call.MustParsePhoneNumber(number))
	}
	for _, ok := range []string{"+14155550123", "+919876543210", "+18005550123"} {
		if err := check(p, ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for number, want := range map[string]string{
		"+19005550123":  "Destination not allowed: premium_rate numbers are refused",
		"+442071838750": "Destination not allowed: country GB is not on the allow-list",
		"+18765550123":  "Destination not allowed: country JM is not on the allow-list",
	} {
		err := check(p, number)
		var de *call.DestinationError
		if !errors.As(err, &de) || !errors.Is(err, call.ErrDestinationNotAllowed) || err.Error() != want {
			t.Errorf("%s: %v, want %q", number, err, want)
		}
	}

	// A user's list narrows: the intersection, never more.
	narrow := p.Narrow([]string{"IN", "GB"})
	if check(narrow, "+919876543210") != nil || check(narrow, "+14155550123") == nil || check(narrow, "+442071838750") == nil {
		t.Error("Narrow did not give the intersection")
	}
	if check(narrow, "+19005550123") == nil {
		t.Error("Narrow dropped the blocked types")
	}
	if check(p.Narrow(nil), "+14155550123") != nil {
		t.Error("Narrow(nil) changed the policy")
	}
	if check(p.Narrow([]string{"GB"}), "+14155550123") == nil || check(p.Narrow([]string{"GB"}), "+442071838750") == nil {
		t.Error("a disjoint list allowed something")
	}

	// Any region, and the zero policy.
	anyRegion, err := call.NewDestinationPolicy([]string{"*"}, []call.NumberType{call.NumberPremiumRate})
	if err != nil {
		t.Fatal(err)
	}
	if check(anyRegion, "+442071838750") != nil || check(anyRegion, "+19005550123") == nil {
		t.Error("* with premium rate blocked")
	}
	if check(anyRegion.Narrow([]string{"GB"}), "+14155550123") == nil {
		t.Error("narrowing * to GB still allows US")
	}
	var zero call.DestinationPolicy
	if check(zero, "+19005550123") != nil {
		t.Error("the zero policy refused something")
	}

	if _, err := call.NewDestinationPolicy([]string{"US", "XX"}, nil); err == nil {
		t.Error("an unknown country code was accepted")
	}
	if got, err := call.ParseRegions([]string{"in", "US", "IN"}); err != nil || len(got) != 2 || got[0] != "IN" || got[1] != "US" {
		t.Errorf("ParseRegions = %v, %v", got, err)
	}
}

func BenchmarkParseAndCheckDestination(b *testing.B) {
	p, _ := call.NewDestinationPolicy([]string{"US", "IN"}, []call.NumberType{call.NumberPremiumRate})
	for b.Loop() {
		n, err := call.ParsePhoneNumber("+14155550123")
		if err != nil || p.Check(n) != nil {
			b.Fatal(err)
		}
	}
}
