package configs

import (
	"strings"
	"testing"
	"time"
)

func TestFaultDefaults(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Reconcile.StaleAfter != 2*time.Minute || c.Reconcile.Interval != time.Minute ||
		c.Carriers.BreakerFailures != 5 || c.Carriers.BreakerCooldown != 30*time.Second ||
		c.Database.Timeout != 5*time.Second || c.HTTP.DrainDelay != 5*time.Second || c.HTTP.ShutdownTimeout != 15*time.Second {
		t.Fatalf("defaults: reconcile %+v breaker %d/%v db timeout %v drain %v", c.Reconcile,
			c.Carriers.BreakerFailures, c.Carriers.BreakerCooldown, c.Database.Timeout, c.HTTP.DrainDelay)
	}
}

func TestFaultOverrides(t *testing.T) {
	c, err := load(env(map[string]string{
		"KUPE_DIALING_STALE_AFTER": "90s", "KUPE_RECONCILE_INTERVAL": "10s", "KUPE_BREAKER_FAILURES": "3",
		"KUPE_BREAKER_COOLDOWN": "1m", "KUPE_DATABASE_TIMEOUT": "2s", "KUPE_HTTP_DRAIN_DELAY": "0s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Reconcile.StaleAfter != 90*time.Second || c.Reconcile.Interval != 10*time.Second || c.Carriers.BreakerFailures != 3 ||
		c.Carriers.BreakerCooldown != time.Minute || c.Database.Timeout != 2*time.Second || c.HTTP.DrainDelay != 0 {
		t.Fatalf("overrides: %+v %+v %+v %+v", c.Reconcile, c.Carriers, c.Database, c.HTTP)
	}
}

func TestFaultSettingsRefused(t *testing.T) {
	for _, tc := range []map[string]string{
		{"KUPE_DIALING_STALE_AFTER": "soon"}, {"KUPE_DIALING_STALE_AFTER": "0s"},
		{"KUPE_RECONCILE_INTERVAL": "-1s"}, {"KUPE_BREAKER_FAILURES": "0"}, {"KUPE_BREAKER_FAILURES": "many"},
		{"KUPE_BREAKER_COOLDOWN": "0"}, {"KUPE_DATABASE_TIMEOUT": "0s"}, {"KUPE_HTTP_DRAIN_DELAY": "-5s"},
		// A session must not be taken for stale while its dial may still be in flight.
		{"KUPE_DIALING_STALE_AFTER": "30s"},
		{"KUPE_CARRIER_TIMEOUT": "1m", "KUPE_DIALING_STALE_AFTER": "3m"},
	} {
		var name string
		for k := range tc {
			if name == "" || k == "KUPE_DIALING_STALE_AFTER" {
				name = k
			}
		}
		if _, err := load(env(tc)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", tc, err, name)
		}
	}
}
