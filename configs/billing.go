package configs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// BillingConfig prices completed calls.
type BillingConfig struct {
	// RatePerMinute is the price of a minute of talk, a decimal amount of credit.
	RatePerMinute string `yaml:"rate_per_minute"`
	// IncrementSeconds is the unit talk is billed in, every one begun charged in full: 60 bills
	// per started minute, 1 per second.
	IncrementSeconds int `yaml:"increment_seconds"`
}

// maxBillingIncrement bounds the increment: an hour.
const maxBillingIncrement = 3600

// Tariff is the configured price, for the use cases.
func (b BillingConfig) Tariff() call.Tariff {
	rate, _ := money.ParseAmount(b.RatePerMinute)
	return call.Tariff{PerMinute: rate, IncrementSeconds: b.IncrementSeconds}
}

// loadBilling reads the billing variables into c and returns what is wrong with them.
func loadBilling(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	if v, ok := lookup("KUPE_RATE_PER_MINUTE"); ok {
		c.Billing.RatePerMinute = strings.TrimSpace(v)
	}
	if v, ok := lookup("KUPE_BILLING_INCREMENT_SECONDS"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			n = -1
		}
		c.Billing.IncrementSeconds = n
	}
	if rate, err := money.ParseAmount(c.Billing.RatePerMinute); err != nil || rate < 0 {
		errs = append(errs, "KUPE_RATE_PER_MINUTE: want a decimal amount of zero or more, such as 0.05")
	}
	if n := c.Billing.IncrementSeconds; n < 1 || n > maxBillingIncrement {
		errs = append(errs, fmt.Sprintf("KUPE_BILLING_INCREMENT_SECONDS: want a whole number of seconds from 1 to %d", maxBillingIncrement))
	}
	return errs
}
