package configs

import (
	"fmt"
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
		"KUPE_METRICS_TOKEN":         {"short", "fifteen-chars15", "with a space inside it", "tab\tinside-the-token"},
	} {
		for _, v := range values {
			if _, err := load(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: error %v, want one naming the variable", name, v, err)
			}
		}
	}
}

func TestMetricsTokenIsReadAndNeverPrinted(t *testing.T) {
	const token = "scrape-0123456789abcdef"
	c, err := load(env(map[string]string{"KUPE_METRICS_TOKEN": " " + token + " "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Observability.MetricsToken != token {
		t.Fatalf("MetricsToken %q, want %q", c.Observability.MetricsToken, token)
	}
	for _, printed := range []string{c.Observability.String(), fmt.Sprintf("%v", c.Observability), fmt.Sprintf("%+v", c)} {
		if strings.Contains(printed, token) {
			t.Fatalf("the token is printed: %s", printed)
		}
	}
	if _, err := load(env(map[string]string{"KUPE_METRICS_TOKEN": "tiny-tok"})); err == nil || strings.Contains(err.Error(), "tiny-tok") {
		t.Fatalf("a short token: error %v, want one that does not repeat the value", err)
	}
	if c, err := load(env(nil)); err != nil || c.Observability.MetricsToken != "" {
		t.Fatalf("default: token %q, err %v; want open /metrics", c.Observability.MetricsToken, err)
	}
}
