package application

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// Limits and guards on create_call. Each refusal reaches the caller as a *LimitError wrapping
// one of these, with a detail that names the limit.
var (
	// ErrRateLimited: the user sent more create_call requests than their rate allows.
	ErrRateLimited = errors.New("rate limit exceeded")
	// ErrConcurrencyLimit: the user already has as many active calls as their cap.
	ErrConcurrencyLimit = errors.New("concurrent call limit reached")
	// ErrLinePaced: the line's pacing (calls per second) would hold the dial too long.
	ErrLinePaced = errors.New("line call rate exceeded")
	// ErrDailySpendCap: the user's calls were charged their daily cap already.
	ErrDailySpendCap = errors.New("daily spend cap reached")
)

// LimitError is a request refused by a limit or a guard. Err is the sentinel that says which
// (one of the errors above, an idempotency error, or call.ErrDestinationNotAllowed); Detail is
// safe to show the caller and names the limit; RetryAfter, when not zero, is when the same
// request may succeed.
type LimitError struct {
	Err        error
	Detail     string
	RetryAfter time.Duration
}

func (e *LimitError) Error() string { return e.Detail }
func (e *LimitError) Unwrap() error { return e.Err }

// RateLimiter keeps token buckets by key, in this process: the per-user request rate and the
// per-line pacing. Buckets are not shared between replicas; see README.
type RateLimiter interface {
	// Reserve takes a token from key's bucket, which refills at rate tokens a second and holds at
	// most burst. When a token is free within maxWait it is taken, ok is true and wait is how
	// long the caller must wait before acting (0: at once). Otherwise nothing is taken, ok is
	// false and wait is how long until a token would be free.
	Reserve(key string, rate float64, burst int, maxWait time.Duration) (wait time.Duration, ok bool)
}

// Defaults of the CallLimits' zero fields.
const (
	DefaultRequestsPerSecond    = 10
	DefaultActiveCallStaleAfter = 2 * time.Hour
	DefaultMaxPacingWait        = 2 * time.Second
	// DefaultIdempotencyPendingTimeout matches the reconciler's dialing window: a request that
	// has not stored its answer by then has died.
	DefaultIdempotencyPendingTimeout = 2 * time.Minute
)

// Retry-After advice for refusals whose end cannot be computed.
const (
	concurrencyRetryAfter = 5 * time.Second
	inProgressRetryAfter  = time.Second
)

// CallLimits are the deployment's limits and guards on create_call. Zero fields take the
// defaults above.
type CallLimits struct {
	// Destinations says where calls may go, before each user's own allow-list narrows it. nil is
	// DefaultDestinationPolicy.
	Destinations *call.DestinationPolicy
	// DefaultRequestsPerSecond is the create_call rate of a user with none of their own.
	DefaultRequestsPerSecond float64
	// ActiveCallStaleAfter is how long a session counts as active at most: one that never gets a
	// final carrier event stops holding a slot of its user's cap after it.
	ActiveCallStaleAfter time.Duration
	// MaxPacingWait bounds how long a dial waits for its line's pacing before it is refused.
	MaxPacingWait time.Duration
	// IdempotencyPendingTimeout is how long a request holding an Idempotency-Key may take before
	// a retry is answered from its session as it stands instead of with 409.
	IdempotencyPendingTimeout time.Duration
}

// DefaultDestinationPolicy allows every country and refuses premium-rate, shared-cost and
// personal numbers: those where the callee's operator charges the caller, the usual vehicle of
// toll fraud. Deployments narrow the countries in configuration (KUPE_ALLOWED_COUNTRIES).
func DefaultDestinationPolicy() call.DestinationPolicy {
	p, _ := call.NewDestinationPolicy(nil, DefaultBlockedNumberTypes())
	return p
}

// DefaultBlockedNumberTypes are the number types refused unless configuration says otherwise.
func DefaultBlockedNumberTypes() []call.NumberType {
	return []call.NumberType{call.NumberPremiumRate, call.NumberSharedCost, call.NumberPersonal}
}

func (l *CallLimits) destinations() call.DestinationPolicy {
	if l.Destinations != nil {
		return *l.Destinations
	}
	return defaultDestinations
}

var defaultDestinations = DefaultDestinationPolicy()

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// LimitStore reads and changes users' limits.
type LimitStore interface {
	// UpdateLimits applies fn to the user's limits and stores the result, atomically; an error
	// from fn stores nothing. fault.ErrNotFound when there is no such user.
	UpdateLimits(ctx context.Context, userID string, fn func(*identity.Limits) error) (identity.Limits, error)
}

// UserLimits is the operator's use case for users' limits (kupectl limits set).
type UserLimits struct {
	Store LimitStore
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
		return invalidf("max cps must be 0 (no pacing) or from 0.01 to %d calls per second", maxLineCPS)
	}
	return nil
}

// Set changes a user's limits and returns them as stored.
func (u *UserLimits) Set(ctx context.Context, cmd SetLimits) (identity.Limits, error) {
	id, err := requireID("user", cmd.UserID)
	if err != nil {
		return identity.Limits{}, err
	}
	if n := cmd.MaxConcurrentCalls; n != nil && (*n < 0 || *n > maxConcurrentCallsLimit) {
		return identity.Limits{}, invalidf("max concurrent calls must be from 0 to %d", maxConcurrentCallsLimit)
	}
	if r := cmd.RequestsPerSecond; r != nil && (math.IsNaN(*r) || *r < 0 || *r > maxRequestsPerSecond || (*r > 0 && *r < 0.01)) {
		return identity.Limits{}, invalidf("requests per second must be 0 (the default) or from 0.01 to %d", maxRequestsPerSecond)
	}
	if c := cmd.DailySpendCap; c != nil && *c < 0 {
		return identity.Limits{}, invalidf("daily spend cap must not be negative")
	}
	if cmd.DailySpendCap != nil && cmd.NoDailySpendCap {
		return identity.Limits{}, invalidf("set a daily spend cap or remove it, not both")
	}
	var countries []string
	if cmd.AllowedCountries != nil && len(*cmd.AllowedCountries) > 0 {
		if countries, err = call.ParseRegions(*cmd.AllowedCountries); err != nil {
			return identity.Limits{}, invalidf("allowed countries: %v", err)
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

// checkRate takes a token from the user's request bucket.
func (h *CreateCallHandler) checkRate(userID string, l identity.Limits) error {
	if h.Limiter == nil {
		return nil
	}
	rate := l.RequestsPerSecond
	if rate <= 0 {
		rate = h.Limits.DefaultRequestsPerSecond
	}
	if rate <= 0 {
		rate = DefaultRequestsPerSecond
	}
	// A burst of two seconds' worth lets a client send a small batch at once.
	burst := max(1, int(math.Ceil(2*rate)))
	// The key is the bare user id, which costs no allocation: line keys are prefixed instead.
	wait, ok := h.Limiter.Reserve(userID, rate, burst, 0)
	if ok {
		return nil
	}
	return &LimitError{Err: ErrRateLimited, RetryAfter: wait,
		Detail: "Rate limit exceeded: " + formatRate(rate) + " requests per second"}
}

// paceLine waits for the line's pacing, if it has one, or refuses the dial when that would take
// longer than MaxPacingWait. It runs before the session is written.
func (h *CreateCallHandler) paceLine(ctx context.Context, line call.Line) error {
	if h.Limiter == nil || line.MaxCPS <= 0 {
		return nil
	}
	// A burst of one spaces the dials evenly, so the carrier never sees more than MaxCPS in any
	// second.
	wait, ok := h.Limiter.Reserve("line:"+line.ID, line.MaxCPS, 1, orDuration(h.Limits.MaxPacingWait, DefaultMaxPacingWait))
	if !ok {
		return &LimitError{Err: ErrLinePaced, RetryAfter: wait,
			Detail: "Line call rate exceeded: this phone number places at most " + formatRate(line.MaxCPS) + " calls per second"}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkDestination applies the deployment's destination policy, narrowed by the user's own list.
func (h *CreateCallHandler) checkDestination(to call.PhoneNumber, l identity.Limits) error {
	err := h.Limits.destinations().Narrow(l.AllowedCountries).Check(to)
	if err == nil {
		return nil
	}
	return &LimitError{Err: call.ErrDestinationNotAllowed, Detail: err.Error()}
}

// checkSpend refuses a call once the user's charges of the day reached their cap; the cap
// starts afresh at the next UTC midnight.
func checkSpend(plan *DialPlan, now time.Time) error {
	c := plan.Limits.DailySpendCap
	if c == nil || plan.SpentToday < *c {
		return nil
	}
	y, m, d := now.UTC().Date()
	return &LimitError{Err: ErrDailySpendCap, RetryAfter: time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Sub(now),
		Detail: fmt.Sprintf("Daily spend cap reached: this account's calls may be charged at most %s a day (UTC)", c.String())}
}

func concurrencyError(maxActive int) error {
	return &LimitError{Err: ErrConcurrencyLimit, RetryAfter: concurrencyRetryAfter,
		Detail: "Concurrent call limit reached: this account may have at most " + strconv.Itoa(maxActive) + " active calls"}
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
