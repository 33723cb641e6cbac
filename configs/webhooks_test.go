package configs

import (
	"strings"
	"testing"
	"time"
)

func TestWebhooksDefaults(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhooks.AllowPrivate || c.Webhooks.RetryBase != 10*time.Second {
		t.Fatalf("webhook defaults %+v", c.Webhooks)
	}
}

func TestWebhooksOverrides(t *testing.T) {
	for _, tc := range []struct {
		allow, base string
		want        WebhooksConfig
	}{
		{"true", "100ms", WebhooksConfig{AllowPrivate: true, RetryBase: 100 * time.Millisecond}},
		{" 1 ", "2m", WebhooksConfig{AllowPrivate: true, RetryBase: 2 * time.Minute}},
		{"false", " 1s ", WebhooksConfig{RetryBase: time.Second}},
	} {
		c, err := load(env(map[string]string{"KUPE_WEBHOOK_ALLOW_PRIVATE": tc.allow, "KUPE_WEBHOOK_RETRY_BASE": tc.base}))
		if err != nil || c.Webhooks != tc.want {
			t.Errorf("%q %q: %+v, %v; want %+v", tc.allow, tc.base, c.Webhooks, err, tc.want)
		}
	}
}

func TestWebhooksRefused(t *testing.T) {
	for _, tc := range []map[string]string{
		{"KUPE_WEBHOOK_ALLOW_PRIVATE": "yes please"}, {"KUPE_WEBHOOK_ALLOW_PRIVATE": ""},
		{"KUPE_WEBHOOK_RETRY_BASE": "soon"}, {"KUPE_WEBHOOK_RETRY_BASE": "0s"}, {"KUPE_WEBHOOK_RETRY_BASE": "-10s"},
		{"KUPE_WEBHOOK_RETRY_BASE": "500us"}, {"KUPE_WEBHOOK_RETRY_BASE": "1h"}, {"KUPE_WEBHOOK_RETRY_BASE": "10"},
	} {
		var name string
		for k := range tc {
			name = k
		}
		if _, err := load(env(tc)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", tc, err, name)
		}
	}
}
