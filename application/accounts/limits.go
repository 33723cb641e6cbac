package accounts

import (
	"context"
	"math"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// UserLimits is the operator's use case for users' limits (kupectl limits set).
type UserLimits struct {
	Store UserStore
}

// SetLimits changes some of a user's limits; a nil field is left as it is.
type SetLimits struct {
	UserID             string
	MaxConcurrentCalls *int
	// RequestsPerSecond 0 returns the user to the deployment's default.
	RequestsPerSecond *float64
	DailySpendCap     *money.Amount
	// NoDailySpendCap removes the cap.
	NoDailySpendCap bool
	// AllowedCountries, when set and empty, returns the user to the deployment's list.
	AllowedCountries *[]string
}

// Bounds on what an operator may set, so that a typo does not switch a limit off.
const (
	maxConcurrentCallsLimit = 100_000
	maxRequestsPerSecond    = 10_000
	maxLineCPS              = 1_000
)

// checkMaxCPS accepts a line's pacing: 0 (none) or from 0.01 to 1000 calls per second.
func checkMaxCPS(cps float64) error {
	if math.IsNaN(cps) || cps < 0 || cps > maxLineCPS || (cps > 0 && cps < 0.01) {
		return fault.Invalidf("max cps must be 0 (no pacing) or from 0.01 to %d calls per second", maxLineCPS)
	}
	return nil
}

// Set changes a user's limits and returns them as stored.
func (u *UserLimits) Set(ctx context.Context, cmd SetLimits) (identity.Limits, error) {
	id, err := ids.Require("user", cmd.UserID)
	if err != nil {
		return identity.Limits{}, err
	}
	if n := cmd.MaxConcurrentCalls; n != nil && (*n < 0 || *n > maxConcurrentCallsLimit) {
		return identity.Limits{}, fault.Invalidf("max concurrent calls must be from 0 to %d", maxConcurrentCallsLimit)
	}
	if r := cmd.RequestsPerSecond; r != nil && (math.IsNaN(*r) || *r < 0 || *r > maxRequestsPerSecond || (*r > 0 && *r < 0.01)) {
		return identity.Limits{}, fault.Invalidf("requests per second must be 0 (the default) or from 0.01 to %d", maxRequestsPerSecond)
	}
	if c := cmd.DailySpendCap; c != nil && *c < 0 {
		return identity.Limits{}, fault.Invalidf("daily spend cap must not be negative")
	}
	if cmd.DailySpendCap != nil && cmd.NoDailySpendCap {
		return identity.Limits{}, fault.Invalidf("set a daily spend cap or remove it, not both")
	}
	var countries []string
	if cmd.AllowedCountries != nil && len(*cmd.AllowedCountries) > 0 {
		if countries, err = call.ParseRegions(*cmd.AllowedCountries); err != nil {
			return identity.Limits{}, fault.Invalidf("allowed countries: %v", err)
		}
	}
	return u.Store.UpdateLimits(ctx, id, func(l *identity.Limits) error {
		if cmd.MaxConcurrentCalls != nil {
			l.MaxConcurrentCalls = *cmd.MaxConcurrentCalls
		}
		if cmd.RequestsPerSecond != nil {
			l.RequestsPerSecond = *cmd.RequestsPerSecond
		}
		if cmd.DailySpendCap != nil {
			c := *cmd.DailySpendCap
			l.DailySpendCap = &c
		}
		if cmd.NoDailySpendCap {
			l.DailySpendCap = nil
		}
		if cmd.AllowedCountries != nil {
			l.AllowedCountries = countries
		}
		return nil
	})
}
