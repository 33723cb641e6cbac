package call

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NumberType is what kind of line a number is, as libphonenumber classifies it from the
// numbering plan (phonenumbers.GetNumberType). Its zero value is not a type: a number whose type
// cannot be told is not a valid number.
type NumberType uint8

const (
	numberTypeUnknown NumberType = iota
	NumberFixedLine
	NumberMobile
	NumberFixedLineOrMobile // plans where the two cannot be told apart (the US, India)
	NumberTollFree
	NumberPremiumRate
	NumberSharedCost
	NumberVoIP
	NumberPersonal // personal numbers that forward anywhere (the UK's 070)
	NumberPager
	NumberUAN // universal access numbers (company numbers routed by the operator)
	NumberVoicemail
)

var numberTypeNames = [...]string{
	NumberFixedLine:         "fixed_line",
	NumberMobile:            "mobile",
	NumberFixedLineOrMobile: "fixed_line_or_mobile",
	NumberTollFree:          "toll_free",
	NumberPremiumRate:       "premium_rate",
	NumberSharedCost:        "shared_cost",
	NumberVoIP:              "voip",
	NumberPersonal:          "personal_number",
	NumberPager:             "pager",
	NumberUAN:               "uan",
	NumberVoicemail:         "voicemail",
}

// numberTypeOf maps libphonenumber's classification; UNKNOWN (an invalid number) is the zero
// NumberType.
func numberTypeOf(t phonenumbers.PhoneNumberType) NumberType {
	switch t {
	case phonenumbers.FIXED_LINE:
		return NumberFixedLine
	case phonenumbers.MOBILE:
		return NumberMobile
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return NumberFixedLineOrMobile
	case phonenumbers.TOLL_FREE:
		return NumberTollFree
	case phonenumbers.PREMIUM_RATE:
		return NumberPremiumRate
	case phonenumbers.SHARED_COST:
		return NumberSharedCost
	case phonenumbers.VOIP:
		return NumberVoIP
	case phonenumbers.PERSONAL_NUMBER:
		return NumberPersonal
	case phonenumbers.PAGER:
		return NumberPager
	case phonenumbers.UAN:
		return NumberUAN
	case phonenumbers.VOICEMAIL:
		return NumberVoicemail
	}
	return numberTypeUnknown
}

// ParseNumberType reads a type by its name ("premium_rate"), as configuration names it.
func ParseNumberType(s string) (NumberType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for t, name := range numberTypeNames {
		if name != "" && name == s {
			return NumberType(t), nil
		}
	}
	return numberTypeUnknown, fmt.Errorf("unknown number type %q: want one of %s", s, strings.Join(numberTypeNames[1:], ", "))
}

func (t NumberType) String() string {
	if int(t) < len(numberTypeNames) && numberTypeNames[t] != "" {
		return numberTypeNames[t]
	}
	return fmt.Sprintf("NumberType(%d)", uint8(t))
}

// Valid reports whether t is a known type.
func (t NumberType) Valid() bool { return t >= NumberFixedLine && t <= NumberVoicemail }

// ErrDestinationNotAllowed matches every *DestinationError.
var ErrDestinationNotAllowed = errors.New("destination not allowed")

// DestinationError is a destination the policy refuses: a region off the allow-list, or a
// number type on the block-list. Its message is safe to show the customer: it names the region
// or the type, never the number.
type DestinationError struct {
	Region string     // set when the region is not allowed
	Type   NumberType // set when the number's type is refused
}

func (e *DestinationError) Error() string {
	if e.Type.Valid() {
		return "Destination not allowed: " + e.Type.String() + " numbers are refused"
	}
	region := e.Region
	if region == "" || region == phonenumbers.UNKNOWN_REGION || region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		return "Destination not allowed: the number belongs to no country on the allow-list"
	}
	return "Destination not allowed: country " + region + " is not on the allow-list"
}

// Is makes errors.Is(err, ErrDestinationNotAllowed) hold.
func (e *DestinationError) Is(target error) bool { return target == ErrDestinationNotAllowed }

// DestinationPolicy decides where calls may go: an allow-list of ISO 3166 regions and a
// block-list of number types. The zero policy allows every destination.
type DestinationPolicy struct {
	regions map[string]struct{} // nil: every region
	blocked uint32              // bit t set: NumberType t is refused
}

// AnyRegion, as the only entry of an allow-list, allows every region.
const AnyRegion = "*"

// NewDestinationPolicy builds a policy. regions are ISO 3166 codes ("US", "in"), or AnyRegion
// alone; an empty list allows every region too. An unknown code is an error, so that a typo in
// configuration does not quietly refuse (or allow) a country.
func NewDestinationPolicy(regions []string, blocked []NumberType) (DestinationPolicy, error) {
	var p DestinationPolicy
	if len(regions) > 0 && !(len(regions) == 1 && strings.TrimSpace(regions[0]) == AnyRegion) {
		set, err := regionSet(regions)
		if err != nil {
			return DestinationPolicy{}, err
		}
		p.regions = set
	}
	for _, t := range blocked {
		if !t.Valid() {
			return DestinationPolicy{}, fmt.Errorf("unknown number type %d", t)
		}
		p.blocked |= 1 << t
	}
	return p, nil
}

// ParseRegions reads a list of ISO 3166 region codes, as a user's allow-list holds them:
// upper-cased, checked against the numbering plans libphonenumber knows, sorted, without
// repeats.
func ParseRegions(regions []string) ([]string, error) {
	set, err := regionSet(regions)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out, nil
}

func regionSet(regions []string) (map[string]struct{}, error) {
	supported := phonenumbers.GetSupportedRegions()
	set := make(map[string]struct{}, len(regions))
	for _, r := range regions {
		r = strings.ToUpper(strings.TrimSpace(r))
		if !supported[r] {
			return nil, fmt.Errorf("unknown country code %q: want ISO 3166 codes such as US or IN", r)
		}
		set[r] = struct{}{}
	}
	return set, nil
}

// Narrow returns the policy that allows only what both p and the regions allow: a user's own
// allow-list narrows the deployment's, never widens it. No regions leaves p as it is.
func (p DestinationPolicy) Narrow(regions []string) DestinationPolicy {
	if len(regions) == 0 {
		return p
	}
	n := DestinationPolicy{blocked: p.blocked, regions: make(map[string]struct{}, len(regions))}
	for _, r := range regions {
		if _, ok := p.regions[r]; ok || p.regions == nil {
			n.regions[r] = struct{}{}
		}
	}
	return n
}

// Blocks reports whether numbers of type t are refused.
func (p DestinationPolicy) Blocks(t NumberType) bool { return p.blocked&(1<<t) != 0 }

// Check refuses a destination the policy does not allow with a *DestinationError. It reads what
// ParsePhoneNumber already worked out, so it costs no parsing.
func (p DestinationPolicy) Check(n PhoneNumber) error {
	if p.Blocks(n.kind) {
		return &DestinationError{Type: n.kind}
	}
	if p.regions != nil {
		if _, ok := p.regions[n.region]; !ok {
			return &DestinationError{Region: n.region}
		}
	}
	return nil
}
