package call

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhoneNumber is returned for any input that is not a valid, dialable E.164 number.
var ErrInvalidPhoneNumber = errors.New("invalid phone number")

// maxPhoneInput bounds the work done on hostile input: no real number with separators comes close.
const maxPhoneInput = 64

// PhoneNumber is a valid telephone number in E.164 form (+14155550123). Its zero value is not a
// number; build one with ParsePhoneNumber.
type PhoneNumber struct {
	e164 string
	// region and kind are worked out once, while parsing: the destination checks read them on
	// every call, and classifying a number is the costly part of parsing it.
	region string
	kind   NumberType
}

// ParsePhoneNumber accepts a number with its country code, tolerating what reaches an HTTP query
// in practice: a leading space where an unencoded "+" was turned into a space, and the usual
// separators ("+1 (415) 555-0123"). It refuses anything libphonenumber does not consider valid,
// so numbers in unassigned ranges (the US 555 area code, for one) are rejected before any dial.
func ParsePhoneNumber(s string) (PhoneNumber, error) {
	if len(s) > maxPhoneInput {
		return PhoneNumber{}, ErrInvalidPhoneNumber
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return PhoneNumber{}, ErrInvalidPhoneNumber
	}
	// A "+" that arrived unencoded in a query string is decoded as a space and trimmed above; a
	// number that starts with its country code's digits is still meant as international.
	if s[0] != '+' {
		if s[0] < '0' || s[0] > '9' {
			return PhoneNumber{}, ErrInvalidPhoneNumber
		}
		s = "+" + s
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return PhoneNumber{}, ErrInvalidPhoneNumber
		}
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil {
		return PhoneNumber{}, ErrInvalidPhoneNumber
	}
	// The number's type is IsValidNumber's own test (an invalid number has no type), with the
	// type kept instead of thrown away; classify finds the region with it (numberplan.go).
	t, region := classify(num)
	kind := numberTypeOf(t)
	if kind == numberTypeUnknown {
		return PhoneNumber{}, ErrInvalidPhoneNumber
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) > maxE164Len {
		// libphonenumber's metadata accepts some national numbers (German ones, for one) longer
		// than E.164's 15 digits, which carriers refuse (found by FuzzParsePhoneNumber).
		return PhoneNumber{}, ErrInvalidPhoneNumber
	}
	if !sameDigits(s, e164) {
		// libphonenumber dropped digits written after the country code, as a national prefix
		// ("+44 (0)20 ..."). The number dialled is the canonical form, so it must be valid on its
		// own: for some inputs it is not ("+375 0810..." becomes +375810..., found by
		// FuzzParsePhoneNumber). Inputs written in full skip this second parse.
		again, err := phonenumbers.Parse(e164, "")
		if err != nil || phonenumbers.Format(again, phonenumbers.E164) != e164 {
			return PhoneNumber{}, ErrInvalidPhoneNumber
		}
		t, region = classify(again)
		if kind = numberTypeOf(t); kind == numberTypeUnknown {
			return PhoneNumber{}, ErrInvalidPhoneNumber
		}
	}
	return PhoneNumber{e164: e164, region: region, kind: kind}, nil
}

// maxE164Len is "+" and E.164's at most 15 digits.
const maxE164Len = 16

// sameDigits reports whether input, less its separators, is e164's digits: then parsing e164
// is parsing input again, and gives the same number.
func sameDigits(input, e164 string) bool {
	j := 1 // past e164's "+"
	for i := 0; i < len(input); i++ {
		c := input[i]
		if c < '0' || c > '9' {
			continue
		}
		if j >= len(e164) || e164[j] != c {
			return false
		}
		j++
	}
	return j == len(e164)
}

// MustParsePhoneNumber is ParsePhoneNumber for constants in tests and examples; it panics on error.
func MustParsePhoneNumber(s string) PhoneNumber {
	p, err := ParsePhoneNumber(s)
	if err != nil {
		panic("call: " + s + ": " + err.Error())
	}
	return p
}

// String returns the E.164 form.
func (p PhoneNumber) String() string { return p.e164 }

// IsZero reports whether p was never parsed.
func (p PhoneNumber) IsZero() bool { return p.e164 == "" }

// Region is the ISO 3166 region the number belongs to ("US", "IN"; "001" for a number of no
// country, such as +800).
func (p PhoneNumber) Region() string { return p.region }

// Type is what kind of line the number is (mobile, premium rate, ...).
func (p PhoneNumber) Type() NumberType { return p.kind }

// Masked hides all but the country code's first digits and the last four, for logs:
// +14155550123 becomes +14*****0123.
func (p PhoneNumber) Masked() string { return MaskNumber(p.e164) }

// MaskNumber masks any number-like string the way Masked does, for strings that never became a
// PhoneNumber.
func MaskNumber(s string) string {
	if len(s) <= 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}
