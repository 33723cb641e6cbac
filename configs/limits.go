package configs

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

// LimitsConfig holds the deployment's limits and guards on create_call. Each user's own limits
// (kupectl limits set) sit on top: their allow-list can only narrow AllowedCountries.
type LimitsConfig struct {
	// AllowedCountries are the ISO 3166 regions calls may go to; ["*"] allows every region.
	AllowedCountries []string `yaml:"allowed_countries"`
	// BlockedNumberTypes are the number types refused wherever they are (premium_rate, ...).
	BlockedNumberTypes []string `yaml:"blocked_number_types"`
	// DefaultRequestsPerSecond is the create_call rate of a user with none of their own.
	DefaultRequestsPerSecond float64 `yaml:"default_requests_per_second"`
	// ActiveCallStaleAfter is how long a session counts towards its user's cap at most.
	ActiveCallStaleAfter time.Duration `yaml:"active_call_stale_after"`
	// LinePacingMaxWait bounds how long a dial waits for its line's pacing before it is refused.
	LinePacingMaxWait time.Duration `yaml:"line_pacing_max_wait"`
	// RedisURL, when set (redis://host:port/db or rediss://...), is the Redis through which the
	// replicas share the request rate and the line pacing (adapters/redislimit); empty keeps
	// them per process. It may hold a password: never log it.
	RedisURL string `yaml:"redis_url"`
}

// Destinations is the destination policy the configuration describes. Load has checked it.
func (l LimitsConfig) Destinations() call.DestinationPolicy {
	p, _ := l.destinations()
	return p
}

func (l LimitsConfig) destinations() (call.DestinationPolicy, error) {
	types := make([]call.NumberType, 0, len(l.BlockedNumberTypes))
	for _, name := range l.BlockedNumberTypes {
		t, err := call.ParseNumberType(name)
		if err != nil {
			return call.DestinationPolicy{}, fmt.Errorf("KUPE_BLOCKED_NUMBER_TYPES: %w", err)
		}
		types = append(types, t)
	}
	if len(l.AllowedCountries) == 0 {
		return call.DestinationPolicy{}, fmt.Errorf("KUPE_ALLOWED_COUNTRIES: must not be empty; * allows every country")
	}
	p, err := call.NewDestinationPolicy(l.AllowedCountries, types)
	if err != nil {
		return call.DestinationPolicy{}, fmt.Errorf("KUPE_ALLOWED_COUNTRIES: %w", err)
	}
	return p, nil
}

// loadLimits reads the limit variables into c and returns what is wrong with them.
func loadLimits(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	list := func(name string, dst *[]string) {
		if v, ok := lookup(name); ok {
			*dst = []string{}
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					*dst = append(*dst, s)
				}
			}
		}
	}
	if v, ok := lookup("KUPE_REDIS_URL"); ok {
		c.Limits.RedisURL = strings.TrimSpace(v)
	}
	list("KUPE_ALLOWED_COUNTRIES", &c.Limits.AllowedCountries)
	list("KUPE_BLOCKED_NUMBER_TYPES", &c.Limits.BlockedNumberTypes)
	if v, ok := lookup("KUPE_DEFAULT_REQUESTS_PER_SECOND"); ok {
		r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			r = -1
		}
		c.Limits.DefaultRequestsPerSecond = r
	}
	for name, dst := range map[string]*time.Duration{
		"KUPE_ACTIVE_CALL_STALE_AFTER": &c.Limits.ActiveCallStaleAfter,
		"KUPE_LINE_PACING_MAX_WAIT":    &c.Limits.LinePacingMaxWait,
	} {
		if v, ok := lookup(name); ok {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				errs = append(errs, name+": want a positive duration such as 2h or 2s")
				continue
			}
			*dst = d
		}
	}
	if _, err := c.Limits.destinations(); err != nil {
		errs = append(errs, err.Error())
	}
	if r := c.Limits.DefaultRequestsPerSecond; math.IsNaN(r) || r < 0.01 || r > 10_000 {
		errs = append(errs, "KUPE_DEFAULT_REQUESTS_PER_SECOND: want a number of requests per second from 0.01 to 10000")
	}
	if c.Limits.ActiveCallStaleAfter < time.Minute {
		errs = append(errs, "KUPE_ACTIVE_CALL_STALE_AFTER: want at least 1m, longer than a call may last")
	}
	if c.Limits.LinePacingMaxWait <= 0 || c.Limits.LinePacingMaxWait > time.Minute {
		errs = append(errs, "KUPE_LINE_PACING_MAX_WAIT: want a duration from 1ms to 1m")
	}
	if u := c.Limits.RedisURL; u != "" && !redisURL(u) {
		// Not the value itself: it may hold a password.
		errs = append(errs, "KUPE_REDIS_URL: want redis://host:port/db or rediss://host:port/db, or empty for no Redis")
	}
	return errs
}

// redisURL reports whether u is a redis:// or rediss:// URL with a host and at most a database
// number for a path.
func redisURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "redis" && p.Scheme != "rediss") || p.Hostname() == "" || p.Opaque != "" {
		return false
	}
	if db := strings.TrimPrefix(p.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return false
		}
	}
	return true
}
