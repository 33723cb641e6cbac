package campaign

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	_ "time/tzdata" // the zone database is in the binary: a host without /usr/share/zoneinfo still knows every zone

	"github.com/nyaruka/phonenumbers"

	"github.com/kupe-voice/kupe/domain/call"
)

// ErrUnknownTimeZone is returned for a time zone name that is not in the IANA database.
var ErrUnknownTimeZone = errors.New("unknown time zone")

// maxZoneName bounds the names looked up; the longest IANA name is about 30 characters.
const maxZoneName = 64

// LoadTimeZone returns the IANA zone name names ("Asia/Kolkata", "UTC"). "Local" is refused,
// since the server's own zone says nothing about a recipient, and so is anything the database
// does not hold. Zones are loaded once and shared.
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > maxZoneName {
		return nil, fmt.Errorf("%w %q", ErrUnknownTimeZone, truncate(name, maxZoneName))
	}
	if z, ok := zoneCache.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownTimeZone, name)
	}
	zoneCache.Store(name, z)
	return z, nil
}

// zoneCache holds the zones already loaded: time.LoadLocation reads and parses the zone's file
// on every call, and a 10,000-row upload names the same few zones over and over. The keys are
// names that loaded, so the cache is bounded by the database (about 600 zones).
var zoneCache sync.Map

// ZonesForNumber are the time zones a number may be in, from libphonenumber's prefix map
// (the one phonenumbers.GetTimezonesForNumber reads): one for most numbers ("+91..." is Asia/Calcutta, a New
// York area code America/New_York), several where a prefix covers more than one
// ("+44 7..." is Europe/Guernsey, Europe/Isle_of_Man and Europe/London).
//
// Where the map does not know the number (a mobile range it has no geography for), the
// fallback is every zone of the number's country code: the window must then hold in all of
// them, which is strict but never wrong. Where the country code has no zones either (+800
// and the other non-geographic codes), the fallback is UTC. Zone names the database cannot load
// are skipped; when none loads, the answer is UTC.
//
// The result may be shared: callers must not modify it.
func ZonesForNumber(p call.PhoneNumber) []*time.Location {
	if p.IsZero() {
		return utcOnly
	}
	return loadAll(zoneNamesForNumber(p))
}

var utcOnly = []*time.Location{time.UTC}

// zoneNamesForNumber looks the number up by its digits, as phonenumbers.GetTimezonesForNumber
// does after formatting it: the PhoneNumber is E.164 already, and parsing it again would cost
// more than the rest of a CSV row.
func zoneNamesForNumber(p call.PhoneNumber) []string {
	names, err := phonenumbers.GetTimezonesForPrefix(p.String())
	if err == nil && known(names) {
		return names
	}
	// Region is "001" for the non-geographic codes, whose country code is 0 here: UTC.
	if cc := phonenumbers.GetCountryCodeForRegion(p.Region()); cc > 0 {
		names, err = phonenumbers.GetTimezonesForPrefix(strconv.Itoa(cc))
		if err == nil && known(names) {
			return names
		}
	}
	return nil
}

func known(names []string) bool {
	return len(names) > 0 && !(len(names) == 1 && names[0] == phonenumbers.UNKNOWN_TIMEZONE)
}

func loadAll(names []string) []*time.Location {
	out := make([]*time.Location, 0, len(names))
	for _, n := range names {
		if n == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if z, err := LoadTimeZone(n); err == nil {
			out = append(out, z)
		}
	}
	if len(out) == 0 {
		return utcOnly
	}
	return out
}

// RecipientZones are the zones the call window must hold in for a recipient: the zone it names
// when timezone is given, else ZonesForNumber. An unknown timezone is ErrUnknownTimeZone.
func RecipientZones(p call.PhoneNumber, timezone string) ([]*time.Location, error) {
	if timezone != "" {
		z, err := LoadTimeZone(timezone)
		if err != nil {
			return nil, err
		}
		return []*time.Location{z}, nil
	}
	return ZonesForNumber(p), nil
}
