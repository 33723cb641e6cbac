package configs

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestBillingDefaultsAndOverrides(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Billing.Tariff(); got != (call.Tariff{PerMinute: 50_000, IncrementSeconds: 60}) {
		t.Fatalf("default tariff %+v, want 0.05 a started minute", got)
	}
	c, err = load(env(map[string]string{"KUPE_RATE_PER_MINUTE": "1.2", "KUPE_BILLING_INCREMENT_SECONDS": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Billing.Tariff(); got != (call.Tariff{PerMinute: 1_200_000, IncrementSeconds: 1}) {
		t.Fatalf("tariff %+v, want 1.2 a minute per second", got)
	}
	for k, v := range map[string]string{
		"KUPE_RATE_PER_MINUTE": "-0.01", "KUPE_BILLING_INCREMENT_SECONDS": "0",
	} {
		if _, err := load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming the variable", k, v, err)
		}
	}
	for _, v := range []string{"abc", "3601", "1.5"} {
		if _, err := load(env(map[string]string{"KUPE_BILLING_INCREMENT_SECONDS": v})); err == nil {
			t.Errorf("KUPE_BILLING_INCREMENT_SECONDS=%s accepted", v)
		}
	}
}

func TestSecretsKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, SecretsKeySize)
	for _, v := range []string{base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), hex.EncodeToString(key)} {
		c, err := load(env(map[string]string{"KUPE_SECRETS_KEY": v}))
		if err != nil || !bytes.Equal(c.Secrets.Key, key) {
			t.Fatalf("KUPE_SECRETS_KEY=%s: %x, %v", v, c.Secrets.Key, err)
		}
		if printed := fmt.Sprintf("%v %+v %#v", c, c, c.Secrets); strings.Contains(printed, v) || strings.Contains(printed, "171 171") ||
			!strings.Contains(printed, "[redacted]") {
			t.Fatalf("the printed configuration shows the key: %s", printed)
		}
	}
	c, err := load(env(nil))
	if err != nil || c.Secrets.Key != nil {
		t.Fatalf("unset key: %x, %v", c.Secrets.Key, err)
	}
	short := base64.StdEncoding.EncodeToString(key[:16])
	_, err = load(env(map[string]string{"KUPE_SECRETS_KEY": short}))
	if err == nil || !strings.Contains(err.Error(), "KUPE_SECRETS_KEY") || strings.Contains(err.Error(), short) {
		t.Fatalf("a 16-byte key: %v; want a refusal that does not repeat it", err)
	}
}

func TestSecretsKeyFile(t *testing.T) {
	for _, tc := range []struct {
		url, want string
		ok        bool
	}{
		{"", filepath.Join("data", "secrets.key"), true},
		{"file:/var/lib/kupe/kupe.db?_pragma=busy_timeout(5000)", "/var/lib/kupe/secrets.key", true},
		{"postgres://kupe@db/kupe", "", false},
	} {
		c, err := load(env(map[string]string{"KUPE_DATABASE_URL": tc.url}))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Database.SecretsKeyFile(); got != tc.want || ok != tc.ok {
			t.Errorf("%q: SecretsKeyFile = %q, %v; want %q, %v", tc.url, got, ok, tc.want, tc.ok)
		}
	}
}
