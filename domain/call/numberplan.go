package call

import (
	"regexp"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// classify is phonenumbers.GetNumberType and phonenumbers.GetRegionCodeForNumber together, by
// the same rules on the same metadata, with each pattern compiled once. The library builds
// every pattern's text anew on each test ("^(?:" + pattern + ")$") and looks it up in its
// cache, and GetNumberType finds the region again: per create_call that was a hundred
// allocations and the better part of the number's parse (BenchmarkParsePhoneNumber).
// TestClassifyMatchesLibphonenumber holds it to the library's answers.
func classify(num *phonenumbers.PhoneNumber) (phonenumbers.PhoneNumberType, string) {
	cc := int(num.GetCountryCode())
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 0 {
		return phonenumbers.UNKNOWN, ""
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	region := ""
	if len(regions) == 1 {
		region = regions[0]
	} else {
		// getRegionCodeForNumberFromRegionList: the first region whose leading digits match, or
		// for one without, for which the number has a type.
		for _, r := range regions {
			p := planFor(r, cc)
			if p == nil {
				continue
			}
			if p.leadingDigits != nil {
				if p.leadingDigits.MatchString(nsn) {
					region = r
					break
				}
			} else if t := p.numberType(nsn); t != phonenumbers.UNKNOWN {
				return t, r
			}
		}
	}
	p := planFor(region, cc)
	if p == nil {
		return phonenumbers.UNKNOWN, region
	}
	return p.numberType(nsn), region
}

// regionPlan is one region's metadata with its patterns compiled.
type regionPlan struct {
	leadingDigits *regexp.Regexp // nil when the region has none
	general       numberDesc
	// types, in the order getNumberTypeHelper tests them.
	types                         []typedDesc
	fixedLine, mobile             numberDesc
	sameMobileAndFixedLinePattern bool
}

type typedDesc struct {
	t    phonenumbers.PhoneNumberType
	desc numberDesc
}

// numberDesc is isNumberMatchingDesc's test: one of the lengths (when there are any) and the
// whole national number matching the pattern.
type numberDesc struct {
	lengths []int32
	pattern *regexp.Regexp
}

func (d numberDesc) matches(nsn string) bool {
	if len(d.lengths) > 0 {
		ok := false
		for _, l := range d.lengths {
			if int32(len(nsn)) == l {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return d.pattern.MatchString(nsn)
}

// numberType is getNumberTypeHelper.
func (p *regionPlan) numberType(nsn string) phonenumbers.PhoneNumberType {
	if !p.general.matches(nsn) {
		return phonenumbers.UNKNOWN
	}
	for _, d := range p.types {
		if d.desc.matches(nsn) {
			return d.t
		}
	}
	if p.fixedLine.matches(nsn) {
		if p.sameMobileAndFixedLinePattern || p.mobile.matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	}
	if !p.sameMobileAndFixedLinePattern && p.mobile.matches(nsn) {
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// plans holds the compiled metadata: by region, and by country calling code for the regions of
// no country ("001", +800 and the like).
var plans = sync.OnceValue(func() *numberPlans {
	ps := &numberPlans{byRegion: map[string]*phonenumbers.PhoneMetadata{}, nonGeo: map[int32]*phonenumbers.PhoneMetadata{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return ps // every lookup then answers UNKNOWN, and numbers are refused
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
			ps.nonGeo[m.GetCountryCode()] = m
		} else {
			ps.byRegion[m.GetId()] = m
		}
	}
	return ps
})

type numberPlans struct {
	byRegion map[string]*phonenumbers.PhoneMetadata
	nonGeo   map[int32]*phonenumbers.PhoneMetadata
	compiled sync.Map // *phonenumbers.PhoneMetadata -> *regionPlan
}

// planFor is getMetadataForRegionOrCallingCode, compiled; nil for a region without metadata.
func planFor(region string, cc int) *regionPlan {
	ps := plans()
	var m *phonenumbers.PhoneMetadata
	if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		m = ps.nonGeo[int32(cc)]
	} else {
		m = ps.byRegion[region]
	}
	if m == nil {
		return nil
	}
	if p, ok := ps.compiled.Load(m); ok {
		return p.(*regionPlan)
	}
	p, _ := ps.compiled.LoadOrStore(m, compilePlan(m))
	return p.(*regionPlan)
}

func compilePlan(m *phonenumbers.PhoneMetadata) *regionPlan {
	desc := func(d *phonenumbers.PhoneNumberDesc) numberDesc {
		// A missing description has no pattern, which matches only the empty number, as the
		// library's "^(?:)$" does.
		return numberDesc{lengths: d.GetPossibleLength(), pattern: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
	}
	p := &regionPlan{
		general: desc(m.GetGeneralDesc()),
		types: []typedDesc{
			{phonenumbers.PREMIUM_RATE, desc(m.GetPremiumRate())},
			{phonenumbers.TOLL_FREE, desc(m.GetTollFree())},
			{phonenumbers.SHARED_COST, desc(m.GetSharedCost())},
			{phonenumbers.VOIP, desc(m.GetVoip())},
			{phonenumbers.PERSONAL_NUMBER, desc(m.GetPersonalNumber())},
			{phonenumbers.PAGER, desc(m.GetPager())},
			{phonenumbers.UAN, desc(m.GetUan())},
			{phonenumbers.VOICEMAIL, desc(m.GetVoicemail())},
		},
		fixedLine:                     desc(m.GetFixedLine()),
		mobile:                        desc(m.GetMobile()),
		sameMobileAndFixedLinePattern: m.GetSameMobileAndFixedLinePattern(),
	}
	if ld := m.GetLeadingDigits(); ld != "" {
		p.leadingDigits = regexp.MustCompile("^(?:" + ld + ")")
	}
	return p
}
