package configs

import (
	"strings"
	"testing"
)

func TestObservabilityDefaults(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Observability.PprofAddr != "" || c.Observability.AccessLogPerSecond != 100 {
		t.Fatalf("defaults %+v, want pprof off and 100 lines a second", c.Observability)
	}
}

func TestObservabilityOverrides(t *testing.T) {
	for _, tc := range []struct {
		pprof, rate string
		wantRate    int
	}{
		{"127.0.0.1:6060", "250", 250}, {" [::1]:6061 ", "0", 0}, {"localhost:6062", "-1", -1}, {"", "1000000", 1_000_000},
	} {
		c, err := load(env(map[string]string{"KUPE_PPROF_ADDR": tc.pprof, "KUPE_ACCESS_LOG_PER_SECOND": tc.rate}))
		if err != nil {
			t.Errorf("%+v: %v", tc, err)
			continue
		}
		if c.Observability.PprofAddr != strings.TrimSpace(tc.pprof) || c.Observability.AccessLogPerSecond != tc.wantRate {
			t.Errorf("%+v: got %+v", tc, c.Observability)
		}
	}
}

func TestObservabilitySettingsRefused(t *testing.T) {
	for name, values := range map[string][]string{
		"KUPE_PPROF_ADDR":            {":6060", "0.0.0.0:6060", "[::]:6060", "192.168.1.2:6060", "example.com:6060", "127.0.0.1", "127.0.0.1:"},
		"KUPE_ACCESS_LOG_PER_SECOND": {"-2", "many", "1.5", "1000001"},
	} {
		for _, v := range values {
			if _, err := load(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: error %v, want one naming the variable", name, v, err)
			}
		}
	}
}
