package campaign

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrInvalidWindow is the cause of every error ParseCallWindow returns.
var ErrInvalidWindow = errors.New("invalid call_window")

// NextOpenHorizon is how far ahead NextOpen looks. A window repeats every week, so eight days
// see every opening of the current week; only a daylight-saving change more than a week away
// could open an intersection NextOpen does not see, and zones whose windows only meet in such
// weeks are better treated as never meeting.
const NextOpenHorizon = 8 * 24 * time.Hour

// CallWindow is the part of each day a recipient may be called, in the recipient's local wall
// clock: from start (inclusive) to end (exclusive), on the days it names. A start after the
// end runs overnight (20:00 to 02:00), and the days then name the day the window opens: a
// Friday 20:00–02:00 window is open until 02:00 on Saturday.
//
// The zero CallWindow is no window at all: it is open at every instant. Build others with
// ParseCallWindow.
type CallWindow struct {
	start, end int   // minutes since local midnight; end may be 1440 ("24:00")
	days       uint8 // bit d set: the window opens on time.Weekday(d)
	set        bool
}

const allDays = 1<<7 - 1

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseCallWindow reads a window as the API spells it: start and end as "HH:MM" (24-hour, end
// may be "24:00" for midnight), days as three-letter English names ("mon" ... "sun", any
// case). No days means every day. A start equal to the end is refused: it would be either
// never or always, and the API has a way to say "always" (no window).
func ParseCallWindow(start, end string, days []string) (CallWindow, error) {
	s, err := parseClock(start, false)
	if err != nil {
		return CallWindow{}, fmt.Errorf("%w: start: %v", ErrInvalidWindow, err)
	}
	e, err := parseClock(end, true)
	if err != nil {
		return CallWindow{}, fmt.Errorf("%w: end: %v", ErrInvalidWindow, err)
	}
	if s == e {
		return CallWindow{}, fmt.Errorf("%w: start and end are the same time", ErrInvalidWindow)
	}
	if len(days) > len(dayNames) {
		return CallWindow{}, fmt.Errorf("%w: days names more than seven days", ErrInvalidWindow)
	}
	var mask uint8
	for _, d := range days {
		i := slices.Index(dayNames[:], strings.ToLower(d))
		if i < 0 {
			return CallWindow{}, fmt.Errorf("%w: days: %q is not one of mon, tue, wed, thu, fri, sat, sun", ErrInvalidWindow, truncate(d, 16))
		}
		if mask&(1<<i) != 0 {
			return CallWindow{}, fmt.Errorf("%w: days: %s is named twice", ErrInvalidWindow, dayNames[i])
		}
		mask |= 1 << i
	}
	if mask == 0 {
		mask = allDays
	}
	return CallWindow{start: s, end: e, days: mask, set: true}, nil
}

// MustParseCallWindow is ParseCallWindow for constants in tests; it panics on error.
func MustParseCallWindow(start, end string, days ...string) CallWindow {
	w, err := ParseCallWindow(start, end, days)
	if err != nil {
		panic("campaign: " + err.Error())
	}
	return w
}

// parseClock reads "HH:MM" into minutes since midnight; "24:00" only when allowMidnight.
func parseClock(s string, allowMidnight bool) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return 0, fmt.Errorf("%q is not HH:MM", truncate(s, 16))
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0 && allowMidnight:
		return 24 * 60, nil
	case h > 23 || m > 59:
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return h*60 + m, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// truncate keeps error messages about hostile input short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// IsZero reports whether w is no window (always open).
func (w CallWindow) IsZero() bool { return !w.set }

// Start is the opening time as "HH:MM"; "" for no window.
func (w CallWindow) Start() string { return w.clock(w.start) }

// End is the closing time as "HH:MM" ("24:00" for midnight); "" for no window.
func (w CallWindow) End() string { return w.clock(w.end) }

func (w CallWindow) clock(m int) string {
	if !w.set {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// Days names the days the window opens, in week order from Monday; nil for no window. A window
// open every day lists all seven.
func (w CallWindow) Days() []string {
	if !w.set {
		return nil
	}
	out := make([]string, 0, 7)
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if w.days&(1<<d) != 0 {
			out = append(out, dayNames[d])
		}
	}
	return out
}

// Overnight reports whether the window runs past midnight (its start is after its end).
func (w CallWindow) Overnight() bool { return w.set && w.start > w.end }

// String is the window as "mon,tue 09:00-20:00", for logs and errors.
func (w CallWindow) String() string {
	if !w.set {
		return "always"
	}
	return strings.Join(w.Days(), ",") + " " + w.Start() + "-" + w.End()
}

// OpenAt reports whether the window is open at t in every one of zones. No zones is UTC: a
// recipient whose zone is not known at all is still not called at any hour.
func (w CallWindow) OpenAt(t time.Time, zones []*time.Location) bool {
	if !w.set {
		return true
	}
	if len(zones) == 0 {
		return w.openIn(t, time.UTC)
	}
	for _, z := range zones {
		if !w.openIn(t, z) {
			return false
		}
	}
	return true
}

// openIn is the wall-clock test: t's local time of day and weekday in z against the window.
// During a daylight-saving overlap the same wall-clock minutes happen twice and are open twice;
// during a gap the skipped minutes never happen, and the window is open from the first instant
// whose wall clock is inside it.
func (w CallWindow) openIn(t time.Time, z *time.Location) bool {
	lt := t.In(z)
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	s, e := w.start*60, w.end*60
	day := lt.Weekday()
	if w.start < w.end {
		return s <= sec && sec < e && w.opensOn(day)
	}
	// Overnight: the evening part belongs to today's window, the morning part to yesterday's.
	return (sec >= s && w.opensOn(day)) || (sec < e && w.opensOn((day+6)%7))
}

func (w CallWindow) opensOn(d time.Weekday) bool { return w.days&(1<<d) != 0 }

// NextOpen is the earliest instant at or after t at which the window is open in every one of
// zones (t itself when it is open now), looking at most NextOpenHorizon ahead. ok is false when
// the window does not open in all the zones at once within that horizon: zones too far apart
// for the window to overlap, such as Honolulu and Kolkata for 09:00–17:00, never meet. No zones
// is UTC, as for OpenAt.
//
// The answer is exact to the second, and found without stepping through time: the earliest
// instant at which all zones are open is an instant at which one of them opens, and a zone
// opens only where its wall clock reaches the start or jumps (a daylight-saving change), so
// NextOpen tests just those instants.
func (w CallWindow) NextOpen(t time.Time, zones []*time.Location) (time.Time, bool) {
	if len(zones) == 0 {
		zones = []*time.Location{time.UTC}
	}
	if w.OpenAt(t, zones) {
		return t, true
	}
	limit := t.Add(NextOpenHorizon)
	var cands []time.Time
	for _, z := range zones {
		cands = w.appendOpenings(cands, z, t, limit)
	}
	slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
	for _, c := range cands {
		if c.After(t) && !c.After(limit) && w.OpenAt(c, zones) {
			return c, true
		}
	}
	return time.Time{}, false
}

// appendOpenings adds the instants in (from, to] at which z's wall clock may enter the window:
// where it reads the start time, and where it jumps. Between jumps a zone's offset is fixed, so
// its wall clock is the instant plus that offset and the start time recurs every 86,400 s.
func (w CallWindow) appendOpenings(dst []time.Time, z *time.Location, from, to time.Time) []time.Time {
	startSec := int64(w.start) * 60
	cur := from
	// A zone changes its offset a few times a year: the bound only guards against a zone
	// database that reports periods that do not advance.
	for range 64 {
		lt := cur.In(z)
		_, off := lt.Zone()
		_, end := lt.ZoneBounds()
		if end.IsZero() || end.After(to) {
			end = to
		}
		if cur.After(from) {
			dst = append(dst, cur) // the wall clock jumped here
		}
		o := int64(off)
		wFrom, wTo := cur.Unix()+o, end.Unix()+o
		k := floorDiv(wFrom-startSec, 86400)
		for ws := k*86400 + startSec; ws <= wTo; ws += 86400 {
			if ws >= wFrom {
				dst = append(dst, time.Unix(ws-o, 0))
			}
		}
		if !end.Before(to) || !end.After(cur) {
			break
		}
		cur = end
	}
	return dst
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
