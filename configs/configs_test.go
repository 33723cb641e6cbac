package configs

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:8080" || c.Carriers.Timeout != 10*time.Second || c.Env != "development" {
		t.Fatalf("defaults: %+v", c)
	}
	if dsn, _ := c.Database.DSN(); dsn != "file:data/kupe.db" || !c.Database.Embedded() {
		t.Fatalf("default DSN %q", dsn)
	}
	if len(c.Carriers.Simulated.Reject) != 1 || c.Carriers.Simulated.Reject[0] != "+14155550199" {
		t.Fatalf("simulated reject %v", c.Carriers.Simulated.Reject)
	}
	if got := c.Carriers.MediaStreamURL("r1", "s1"); !strings.Contains(got, "/r1/s1") {
		t.Fatalf("media URL %q", got)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	c, err := load(env(map[string]string{
		"KUPE_HTTP_ADDR": "0.0.0.0:9000", "KUPE_DATABASE_URL": "postgres://u:pw@db:5432/kupe",
		"KUPE_CARRIER_TIMEOUT": "3s", "KUPE_SIMULATED_REJECT": "+14155550198, +919876543210", "KUPE_ENV": "production",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "0.0.0.0:9000" || c.Carriers.Timeout != 3*time.Second || c.Env != "production" ||
		len(c.Carriers.Simulated.Reject) != 2 || c.Database.Embedded() {
		t.Fatalf("overrides: %+v", c)
	}
	if r := c.Database.Redacted(); strings.Contains(r, "pw") {
		t.Fatalf("Redacted leaks the password: %s", r)
	}
}

func TestInvalidConfigurationIsRefused(t *testing.T) {
	for k, v := range map[string]string{
		"KUPE_DATABASE_URL": "mysql://x", "KUPE_CARRIER_TIMEOUT": "soon", "KUPE_ENV": "staging",
		"KUPE_SIMULATED_REJECT": "+15551234567", "KUPE_MEDIA_STREAM_URL": "http://x", "KUPE_PUBLIC_BASE_URL": "nope",
	} {
		if _, err := load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the variable", k, v, err)
		}
	}
}
