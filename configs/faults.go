package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReconcileConfig drives the reconciler, which settles call sessions left in dialing.
type ReconcileConfig struct {
	// StaleAfter is how long a session may stay in dialing before it is reconciled.
	StaleAfter time.Duration `yaml:"stale_after"`
	// Interval is how often the reconciler runs (it also runs once at start).
	Interval time.Duration `yaml:"interval"`
}

// dialAttempts is the most requests one dial may make: the carrier adapters retry a create at
// most twice, and only when the carrier provably did not act. A session is reconciled only once
// every attempt has timed out, so no dial in flight is ever taken for a stale one.
const dialAttempts = 3

// loadFaults reads the variables for crash safety and faults (the reconciler, the carriers'
// circuit breaker, the database timeout, the HTTP drain delay) into c and returns what is wrong.
func loadFaults(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	dur := func(name string, dst *time.Duration, allowZero bool) {
		v, ok := lookup(name)
		if !ok {
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 || (d == 0 && !allowZero) {
			want := "a positive duration such as 30s"
			if allowZero {
				want = "a duration such as 5s, or 0s"
			}
			errs = append(errs, fmt.Sprintf("%s: want %s", name, want))
			return
		}
		*dst = d
	}
	dur("KUPE_DIALING_STALE_AFTER", &c.Reconcile.StaleAfter, false)
	dur("KUPE_RECONCILE_INTERVAL", &c.Reconcile.Interval, false)
	dur("KUPE_BREAKER_COOLDOWN", &c.Carriers.BreakerCooldown, false)
	dur("KUPE_DATABASE_TIMEOUT", &c.Database.Timeout, false)
	dur("KUPE_HTTP_DRAIN_DELAY", &c.HTTP.DrainDelay, true)
	if v, ok := lookup("KUPE_BREAKER_FAILURES"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, "KUPE_BREAKER_FAILURES: want a whole number from 1 to 1000")
		} else {
			c.Carriers.BreakerFailures = n
		}
	}
	if min := dialAttempts*c.Carriers.Timeout + 5*time.Second; c.Reconcile.StaleAfter <= min {
		errs = append(errs, fmt.Sprintf("KUPE_DIALING_STALE_AFTER: must be longer than %v, the longest a dial can take "+
			"(%d attempts of KUPE_CARRIER_TIMEOUT and their pauses)", min, dialAttempts))
	}
	if c.Reconcile.Interval <= 0 || c.Carriers.BreakerCooldown <= 0 || c.Carriers.BreakerFailures < 1 || c.Database.Timeout <= 0 {
		errs = append(errs, "config.yaml: reconcile, breaker and database timeout settings must be positive")
	}
	return errs
}
