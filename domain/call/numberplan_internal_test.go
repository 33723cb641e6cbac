package call

import (
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// classify answers as libphonenumber does, for the example number of every type of every
// region (and of every calling code of no country), for those numbers with a digit changed, and
// for numbers of the wrong length.
func TestClassifyMatchesLibphonenumber(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(raw string) {
		num, err := phonenumbers.Parse(raw, "")
		if err != nil {
			return
		}
		checked++
		gotType, gotRegion := classify(num)
		wantType, wantRegion := phonenumbers.GetNumberType(num), phonenumbers.GetRegionCodeForNumber(num)
		if gotType != wantType || gotRegion != wantRegion {
			t.Errorf("%s: classify = %v %q, libphonenumber %v %q", raw, gotType, gotRegion, wantType, wantRegion)
		}
	}
	for _, m := range coll.GetMetadata() {
		cc := strconv.Itoa(int(m.GetCountryCode()))
		for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetGeneralDesc(), m.GetFixedLine(), m.GetMobile(),
			m.GetTollFree(), m.GetPremiumRate(), m.GetSharedCost(), m.GetPersonalNumber(), m.GetVoip(),
			m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			ex := d.GetExampleNumber()
			if ex == "" {
				continue
			}
			check("+" + cc + ex)
			check("+" + cc + ex + "1")
			check("+" + cc + ex[:len(ex)-1])
			for i := range len(ex) {
				b := []byte(ex)
				b[i] = '0' + (b[i]-'0'+3)%10
				check("+" + cc + string(b))
			}
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d numbers checked", checked)
	}
}
