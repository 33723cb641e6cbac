package configs

import (
	"strconv"
	"strings"
	"time"
)

// WebhooksConfig drives agent webhooks: the call-ended deliveries and their retries.
type WebhooksConfig struct {
	// AllowPrivate (KUPE_WEBHOOK_ALLOW_PRIVATE) lets deliveries reach loopback and private
	// addresses, and plain http reach loopback, for development and tests. Off by default.
	AllowPrivate bool `yaml:"allow_private"`
	// RetryBase (KUPE_WEBHOOK_RETRY_BASE) is the first retry's delay; the later ones are
	// multiples of it (about 10 s, 1 min, 5 min, 30 min, 2 h, 6 h from the default 10s).
	RetryBase time.Duration `yaml:"retry_base"`
}

// maxRetryBase keeps the longest retry delay (2160 x the base) within a few days.
const maxRetryBase = 2 * time.Minute

// loadWebhooks reads the webhook variables into c and returns what is wrong with them.
func loadWebhooks(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	if v, ok := lookup("KUPE_WEBHOOK_ALLOW_PRIVATE"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, "KUPE_WEBHOOK_ALLOW_PRIVATE: want true or false")
		} else {
			c.Webhooks.AllowPrivate = b
		}
	}
	if v, ok := lookup("KUPE_WEBHOOK_RETRY_BASE"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			d = -1
		}
		c.Webhooks.RetryBase = d
	}
	if b := c.Webhooks.RetryBase; b < time.Millisecond || b > maxRetryBase {
		errs = append(errs, "KUPE_WEBHOOK_RETRY_BASE: want a duration from 1ms to 2m, such as 10s")
	}
	return errs
}
