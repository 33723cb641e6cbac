package configs

import (
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestLimitsDefaultsAndOverrides(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits
	if l.DefaultRequestsPerSecond != 10 || l.ActiveCallStaleAfter != 2*time.Hour || l.LinePacingMaxWait != 2*time.Second {
		t.Fatalf("default limits %+v", l)
	}
	dest := l.Destinations()
	check := func(p call.DestinationPolicy, number string) error { return p.Check(call.MustParsePhoneNumber(number)) }
	for number, allowed := range map[string]bool{
		"+14155550123": true, "+919876543210": true, "+442071838750": true,
		"+19005550123": false, // premium rate
		"+18765550123": false, // Jamaica
	} {
		if (check(dest, number) == nil) != allowed {
			t.Errorf("default policy on %s: allowed %v, want %v", call.MaskNumber(number), !allowed, allowed)
		}
	}

	c, err = load(env(map[string]string{
		"KUPE_ALLOWED_COUNTRIES": "*", "KUPE_BLOCKED_NUMBER_TYPES": "premium_rate, toll_free",
		"KUPE_DEFAULT_REQUESTS_PER_SECOND": "2.5", "KUPE_ACTIVE_CALL_STALE_AFTER": "30m", "KUPE_LINE_PACING_MAX_WAIT": "500ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	dest = c.Limits.Destinations()
	if check(dest, "+18765550123") != nil || check(dest, "+18005550123") == nil || check(dest, "+19005550123") == nil {
		t.Fatal("* with premium_rate and toll_free blocked does not behave so")
	}
	if c.Limits.DefaultRequestsPerSecond != 2.5 || c.Limits.ActiveCallStaleAfter != 30*time.Minute || c.Limits.LinePacingMaxWait != 500*time.Millisecond {
		t.Fatalf("overridden limits %+v", c.Limits)
	}
	// No blocked type at all is a choice a deployment may make.
	if c, err := load(env(map[string]string{"KUPE_BLOCKED_NUMBER_TYPES": ""})); err != nil || check(c.Limits.Destinations(), "+19005550123") != nil {
		t.Fatalf("no blocked types: %v", err)
	}

	for k, v := range map[string]string{
		"KUPE_ALLOWED_COUNTRIES":           "US,XX",
		"KUPE_BLOCKED_NUMBER_TYPES":        "premium",
		"KUPE_DEFAULT_REQUESTS_PER_SECOND": "0",
		"KUPE_ACTIVE_CALL_STALE_AFTER":     "10s",
		"KUPE_LINE_PACING_MAX_WAIT":        "-1s",
	} {
		if _, err := load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the variable", k, v, err)
		}
	}
	if _, err := load(env(map[string]string{"KUPE_ALLOWED_COUNTRIES": " , "})); err == nil {
		t.Error("an empty allow-list was accepted; * allows every country")
	}
}

func TestRedisURL(t *testing.T) {
	c, err := load(env(nil))
	if err != nil || c.Limits.RedisURL != "" {
		t.Fatalf("default: %q %v, want no Redis", c.Limits.RedisURL, err)
	}
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://:s3cret@redis.internal:6380/2", "redis://localhost", "redis://user:pw@10.0.0.1:6379/"} {
		c, err := load(env(map[string]string{"KUPE_REDIS_URL": " " + u + " "}))
		if err != nil || c.Limits.RedisURL != u {
			t.Errorf("%s: %q %v", u, c.Limits.RedisURL, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:6379", "127.0.0.1:6379", "redis://", "redis:///0", "redis://127.0.0.1:6379/x", "redis://127.0.0.1:6379/-1", "redis:opaque",
		"rediss://:hunter2@redis.internal:6380/zero"} {
		_, err := load(env(map[string]string{"KUPE_REDIS_URL": u}))
		if err == nil || !strings.Contains(err.Error(), "KUPE_REDIS_URL") {
			t.Errorf("%s: error %v, want one naming KUPE_REDIS_URL", u, err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	// Set and empty is no Redis, as unset.
	if c, err := load(env(map[string]string{"KUPE_REDIS_URL": ""})); err != nil || c.Limits.RedisURL != "" {
		t.Fatalf("empty: %q %v", c.Limits.RedisURL, err)
	}
}
