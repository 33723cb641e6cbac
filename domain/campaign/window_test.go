package campaign_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/campaign"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	z, err := campaign.LoadTimeZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func at(t testing.TB, z *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, z)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseCallWindow(t *testing.T) {
	ok := []struct {
		start, end string
		days       []string
		wantDays   string
		overnight  bool
	}{
		{"09:00", "20:00", []string{"mon", "tue", "wed", "thu", "fri"}, "mon,tue,wed,thu,fri", false},
		{"09:00", "20:00", nil, "mon,tue,wed,thu,fri,sat,sun", false},
		{"09:00", "20:00", []string{}, "mon,tue,wed,thu,fri,sat,sun", false},
		{"20:00", "02:00", []string{"fri", "SAT"}, "fri,sat", true},
		{"00:00", "24:00", []string{"sun"}, "sun", false},
		{"23:59", "00:00", nil, "mon,tue,wed,thu,fri,sat,sun", true},
	}
	for _, c := range ok {
		w, err := campaign.ParseCallWindow(c.start, c.end, c.days)
		if err != nil {
			t.Errorf("ParseCallWindow(%q, %q, %q): %v", c.start, c.end, c.days, err)
			continue
		}
		if w.Start() != c.start || w.End() != c.end || strings.Join(w.Days(), ",") != c.wantDays || w.Overnight() != c.overnight || w.IsZero() {
			t.Errorf("ParseCallWindow(%q, %q, %q) = %s (overnight %v)", c.start, c.end, c.days, w, w.Overnight())
		}
		again, err := campaign.ParseCallWindow(w.Start(), w.End(), w.Days())
		if err != nil || again != w {
			t.Errorf("round trip of %s: %v, %v", w, again, err)
		}
	}
	bad := []struct {
		start, end string
		days       []string
	}{
		{"09:00", "09:00", nil},
		{"9:00", "20:00", nil},
		{"09:00", "20:0", nil},
		{"24:00", "20:00", nil},
		{"09:60", "20:00", nil},
		{"25:00", "20:00", nil},
		{"09:00", "24:01", nil},
		{"", "20:00", nil},
		{"09-00", "20:00", nil},
		{"０9:00", "20:00", nil},
		{"09:00", "20:00", []string{"monday"}},
		{"09:00", "20:00", []string{"mon", "mon"}},
		{"09:00", "20:00", []string{""}},
		{"09:00", "20:00", []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun", "mon"}},
	}
	for _, c := range bad {
		if w, err := campaign.ParseCallWindow(c.start, c.end, c.days); !errors.Is(err, campaign.ErrInvalidWindow) {
			t.Errorf("ParseCallWindow(%q, %q, %q) = %s, %v; want ErrInvalidWindow", c.start, c.end, c.days, w, err)
		}
	}
}

func TestZeroWindowIsAlwaysOpen(t *testing.T) {
	var w campaign.CallWindow
	now := time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC)
	if !w.IsZero() || !w.OpenAt(now, nil) {
		t.Fatal("the zero window is not open")
	}
	if next, ok := w.NextOpen(now, nil); !ok || !next.Equal(now) {
		t.Fatalf("NextOpen = %v, %v", next, ok)
	}
	if w.Start() != "" || w.Days() != nil || w.String() != "always" {
		t.Fatalf("zero window reads as %q %q %v", w.Start(), w.String(), w.Days())
	}
}

func TestOpenAtWeekdays(t *testing.T) {
	ny := zone(t, "America/New_York")
	w := campaign.MustParseCallWindow("09:00", "20:00", "mon", "tue", "wed", "thu", "fri")
	zs := []*time.Location{ny}
	cases := []struct {
		when string
		open bool
	}{
		{"2027-06-07 08:59:59", false}, // Monday
		{"2027-06-07 09:00:00", true},
		{"2027-06-07 19:59:59", true},
		{"2027-06-07 20:00:00", false},
		{"2027-06-11 12:00:00", true},  // Friday
		{"2027-06-12 12:00:00", false}, // Saturday
		{"2027-06-13 12:00:00", false}, // Sunday
	}
	for _, c := range cases {
		if got := w.OpenAt(at(t, ny, c.when), zs); got != c.open {
			t.Errorf("OpenAt(%s New York) = %v, want %v", c.when, got, c.open)
		}
	}
}

func TestOpenAtOvernightBelongsToTheOpeningDay(t *testing.T) {
	utc := time.UTC
	w := campaign.MustParseCallWindow("20:00", "02:00", "fri")
	zs := []*time.Location{utc}
	cases := []struct {
		when string
		open bool
	}{
		{"2027-06-11 19:59:59", false}, // Friday
		{"2027-06-11 20:00:00", true},
		{"2027-06-11 23:59:59", true},
		{"2027-06-12 00:00:00", true}, // Saturday morning: Friday's window
		{"2027-06-12 01:59:59", true},
		{"2027-06-12 02:00:00", false},
		{"2027-06-12 21:00:00", false}, // Saturday evening: no Saturday window
		{"2027-06-11 01:00:00", false}, // Friday morning: Thursday's window, not set
	}
	for _, c := range cases {
		if got := w.OpenAt(at(t, utc, c.when), zs); got != c.open {
			t.Errorf("OpenAt(%s) = %v, want %v", c.when, got, c.open)
		}
	}
}

// The acceptance case: a window closed now for US numbers and open for Indian ones.
func TestOpenAtPerRecipientZone(t *testing.T) {
	w := campaign.MustParseCallWindow("09:00", "20:00")
	now := time.Date(2027, 6, 1, 4, 30, 0, 0, time.UTC) // 10:00 in Kolkata, 00:30 in New York
	india := []*time.Location{zone(t, "Asia/Kolkata")}
	us := []*time.Location{zone(t, "America/New_York")}
	if !w.OpenAt(now, india) {
		t.Error("window closed in Kolkata at 10:00")
	}
	if w.OpenAt(now, us) {
		t.Error("window open in New York at 00:30")
	}
	if w.OpenAt(now, append(india, us...)) {
		t.Error("window open for a number in both zones while closed in one")
	}
	next, ok := w.NextOpen(now, us)
	if want := time.Date(2027, 6, 1, 13, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Errorf("NextOpen(US) = %v, %v; want %v", next, ok, want)
	}
}

func TestNextOpen(t *testing.T) {
	ny, la := zone(t, "America/New_York"), zone(t, "America/Los_Angeles")
	weekdays := campaign.MustParseCallWindow("09:00", "20:00", "mon", "tue", "wed", "thu", "fri")
	cases := []struct {
		name  string
		w     campaign.CallWindow
		zones []*time.Location
		from  time.Time
		want  time.Time
	}{
		{"open now", weekdays, []*time.Location{ny}, at(t, ny, "2027-06-07 10:15:30"), at(t, ny, "2027-06-07 10:15:30")},
		{"later today", weekdays, []*time.Location{ny}, at(t, ny, "2027-06-07 06:00:00"), at(t, ny, "2027-06-07 09:00:00")},
		{"after the close", weekdays, []*time.Location{ny}, at(t, ny, "2027-06-07 20:00:00"), at(t, ny, "2027-06-08 09:00:00")},
		{"over the weekend", weekdays, []*time.Location{ny}, at(t, ny, "2027-06-11 21:00:00"), at(t, ny, "2027-06-14 09:00:00")},
		{"both coasts", weekdays, []*time.Location{ny, la}, at(t, ny, "2027-06-07 08:00:00"), at(t, la, "2027-06-07 09:00:00")},
		{"no zones is UTC", weekdays, nil, time.Date(2027, 6, 7, 1, 0, 0, 0, time.UTC), time.Date(2027, 6, 7, 9, 0, 0, 0, time.UTC)},
		{"overnight", campaign.MustParseCallWindow("20:00", "02:00", "sat"), []*time.Location{ny}, at(t, ny, "2027-06-07 10:00:00"), at(t, ny, "2027-06-12 20:00:00")},
	}
	for _, c := range cases {
		got, ok := c.w.NextOpen(c.from, c.zones)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: NextOpen = %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
}

func TestNextOpenNeverWhenZonesDoNotMeet(t *testing.T) {
	w := campaign.MustParseCallWindow("09:00", "17:00")
	zs := []*time.Location{zone(t, "Pacific/Honolulu"), zone(t, "Asia/Kolkata")} // 15.5 h apart
	from := time.Date(2027, 6, 7, 0, 0, 0, 0, time.UTC)
	if got, ok := w.NextOpen(from, zs); ok {
		t.Fatalf("NextOpen = %v for zones whose windows never meet", got)
	}
	// A window of at least 15.5 h meets in both.
	wide := campaign.MustParseCallWindow("06:00", "22:00")
	got, ok := wide.NextOpen(from, zs)
	if !ok || !wide.OpenAt(got, zs) {
		t.Fatalf("wide window: NextOpen = %v, %v", got, ok)
	}
}

func TestNextOpenDaylightSavingGap(t *testing.T) {
	ny := zone(t, "America/New_York")
	// 2027-03-14: clocks jump from 02:00 EST to 03:00 EDT, so 02:30 never happens; the window
	// opens at the first instant whose wall clock is inside it, 03:00 EDT.
	w := campaign.MustParseCallWindow("02:30", "20:00")
	from := time.Date(2027, 3, 14, 6, 0, 0, 0, time.UTC) // 01:00 EST
	got, ok := w.NextOpen(from, []*time.Location{ny})
	if want := time.Date(2027, 3, 14, 7, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Fatalf("NextOpen = %v, %v; want %v (03:00 EDT)", got, ok, want)
	}
	if w.OpenAt(got.Add(-time.Second), []*time.Location{ny}) {
		t.Fatal("open a second before the jump")
	}
}

func TestNextOpenDaylightSavingOverlap(t *testing.T) {
	ny := zone(t, "America/New_York")
	// 2027-11-07: clocks go back from 02:00 EDT to 01:00 EST, so 01:00-02:00 happens twice. A
	// window from 01:30 is open in both: from 01:30 EDT, closed when the clock reads 01:00 again,
	// and open from 01:30 EST.
	w := campaign.MustParseCallWindow("01:30", "20:00")
	zs := []*time.Location{ny}
	first := time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC)  // 01:30 EDT
	second := time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC) // 01:30 EST
	if got, ok := w.NextOpen(first.Add(-time.Hour), zs); !ok || !got.Equal(first) {
		t.Errorf("NextOpen before the first 01:30 = %v, %v; want %v", got, ok, first)
	}
	if !w.OpenAt(first.Add(20*time.Minute), zs) || w.OpenAt(first.Add(40*time.Minute), zs) {
		t.Error("want open at 01:50 EDT and closed at 01:10 EST")
	}
	if got, ok := w.NextOpen(first.Add(40*time.Minute), zs); !ok || !got.Equal(second) {
		t.Errorf("NextOpen in the repeated hour = %v, %v; want %v", got, ok, second)
	}
}

// NextOpen against the obvious answer: step minute by minute and take the first open one.
func TestNextOpenMatchesMinuteSteps(t *testing.T) {
	names := []string{"America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Europe/London",
		"Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "Europe/Berlin", "UTC"}
	zones := make([]*time.Location, len(names))
	for i, n := range names {
		zones[i] = zone(t, n)
	}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	rng := rand.New(rand.NewPCG(11, 2027))
	cases := 150
	if testing.Short() {
		cases = 20
	}
	for i := range cases {
		start := rng.IntN(24*60) / 15 * 15
		end := rng.IntN(24*60) / 15 * 15
		if start == end {
			continue
		}
		var ds []string
		for _, d := range days {
			if rng.IntN(2) == 0 {
				ds = append(ds, d)
			}
		}
		w, err := campaign.ParseCallWindow(clock(start), clock(end), ds)
		if err != nil {
			t.Fatal(err)
		}
		zs := []*time.Location{zones[rng.IntN(len(zones))]}
		if rng.IntN(2) == 0 {
			zs = append(zs, zones[rng.IntN(len(zones))])
		}
		// Around the year's daylight-saving changes and in between.
		from := time.Date(2027, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
		got, ok := w.NextOpen(from, zs)
		want, wantOK := stepMinutes(w, from, zs)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Errorf("case %d: %s in %v from %v: NextOpen = %v, %v; minute steps say %v, %v", i, w, zs, from, got, ok, want, wantOK)
		}
	}
}

func stepMinutes(w campaign.CallWindow, from time.Time, zs []*time.Location) (time.Time, bool) {
	if w.OpenAt(from, zs) {
		return from, true
	}
	limit := from.Add(campaign.NextOpenHorizon)
	for c := from.Truncate(time.Minute).Add(time.Minute); !c.After(limit); c = c.Add(time.Minute) {
		if w.OpenAt(c, zs) {
			return c, true
		}
	}
	return time.Time{}, false
}

func clock(m int) string {
	return time.Date(0, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04")
}
