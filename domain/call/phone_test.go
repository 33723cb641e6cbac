package call_test

import (
	"errors"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestParsePhoneNumber(t *testing.T) {
	tests := []struct {
		in, want, region string
	}{
		{"+14155550123", "+14155550123", "US"},
		{" 14155550123", "+14155550123", "US"}, // an unencoded "+" decoded as a space
		{"+1 (415) 555-0123", "+14155550123", "US"},
		{"+1.415.555.0123", "+14155550123", "US"},
		{"14155550123", "+14155550123", "US"},
		{"+919876543210", "+919876543210", "IN"},
		{"+91 98765 43210", "+919876543210", "IN"},
		{" 919876543210 ", "+919876543210", "IN"},
		{"+442071838750", "+442071838750", "GB"},
	}
	for _, tt := range tests {
		got, err := call.ParsePhoneNumber(tt.in)
		if err != nil {
			t.Errorf("ParsePhoneNumber(%q) error: %v", tt.in, err)
			continue
		}
		if got.String() != tt.want || got.Region() != tt.region {
			t.Errorf("ParsePhoneNumber(%q) = %s (%s), want %s (%s)", tt.in, got, got.Region(), tt.want, tt.region)
		}
	}
}

func TestParsePhoneNumberRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"+15551234567", // Kupe's own example: the 555 area code does not exist
		"+1415555012",  // too short
		"+141555501234",
		"+9198765",
		"+91 98765 4321", // one digit short
		"4155550123",     // no country code: read as +41, not a valid Swiss number
		"++14155550123",
		"+1-415-555-0123x12",
		"+1415555O123", // letter O
		"tel:+14155550123",
		"+14155550123; DROP TABLE",
		"%2B14155550123", // still encoded
		"+",
		"+0",
		"+1 415 555 0123 4567 8901 2345 6789 0123 4567 8901 2345 6789 0123 4567 8901",
	} {
		if got, err := call.ParsePhoneNumber(in); !errors.Is(err, call.ErrInvalidPhoneNumber) {
			t.Errorf("ParsePhoneNumber(%q) = %v, %v; want ErrInvalidPhoneNumber", in, got, err)
		}
	}
}

func TestMask(t *testing.T) {
	if got := call.MustParsePhoneNumber("+919876543210").Masked(); got != "+91******3210" {
		t.Errorf("Masked = %q", got)
	}
	if got := call.MaskNumber("12345"); got != "*****" {
		t.Errorf("MaskNumber(short) = %q", got)
	}
}

func FuzzParsePhoneNumber(f *testing.F) {
	for _, s := range []string{"+14155550123", " 14155550123", "+1 (415) 555-0123", "+919876543210", "", "+", "++1", "+15551234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := call.ParsePhoneNumber(s)
		if err != nil {
			return
		}
		// A number that parsed is E.164 and parses again to itself.
		e := p.String()
		if len(e) < 3 || len(e) > 16 || e[0] != '+' {
			t.Fatalf("ParsePhoneNumber(%q) = %q, not E.164", s, e)
		}
		again, err := call.ParsePhoneNumber(e)
		if err != nil || again != p {
			t.Fatalf("reparse of %q = %v, %v", e, again, err)
		}
	})
}

// BenchmarkParsePhoneNumber is create_call's parse of its destination: a number written in full,
// as the API documents it, of a country code shared by many regions (+1) and of one region (+91).
func BenchmarkParsePhoneNumber(b *testing.B) {
	for _, s := range []string{"+14155550123", "+919876543210"} {
		b.Run(s[:3], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call.ParsePhoneNumber(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
