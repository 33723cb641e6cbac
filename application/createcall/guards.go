package createcall

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
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

// RateLimiter keeps token buckets by key: the per-user request rate and the per-line pacing.
// adapters/ratelimit keeps them in this process; a shared one (Redis) may keep them for every
// replica, which is why Reserve takes a context and may fail.
type RateLimiter interface {
	// Reserve takes a token from key's bucket, which refills at rate tokens a second and holds at
	// most burst. When a token is free within maxWait it is taken, ok is true and wait is how
	// long the caller must wait before acting (0: at once). Otherwise nothing is taken, ok is
	// false and wait is how long until a token would be free. An error means the buckets could
	// not be read: nothing is known to be taken, and create_call refuses the request with it
	// (wrap fault.ErrUnavailable for a store that is down).
	Reserve(ctx context.Context, key string, rate float64, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
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

// checkRate takes a token from the user's request bucket.
func (h *Handler) checkRate(ctx context.Context, userID string, l identity.Limits) error {
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
	wait, ok, err := h.Limiter.Reserve(ctx, userID, rate, burst, 0)
	if err != nil {
		return fmt.Errorf("reserve the request rate: %w", err)
	}
	if ok {
		return nil
	}
	return &LimitError{Err: ErrRateLimited, RetryAfter: wait,
		Detail: "Rate limit exceeded: " + formatRate(rate) + " requests per second"}
}

// paceLine waits for the line's pacing, if it has one, or refuses the dial when that would take
// longer than MaxPacingWait. It runs before the session is written.
func (h *Handler) paceLine(ctx context.Context, line call.Line) error {
	if h.Limiter == nil || line.MaxCPS <= 0 {
		return nil
	}
	// A burst of one spaces the dials evenly, so the carrier never sees more than MaxCPS in any
	// second.
	wait, ok, err := h.Limiter.Reserve(ctx, "line:"+line.ID, line.MaxCPS, 1, orDuration(h.Limits.MaxPacingWait, DefaultMaxPacingWait))
	if err != nil {
		return fmt.Errorf("reserve the line's pacing: %w", err)
	}
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
func (h *Handler) checkDestination(to call.PhoneNumber, l identity.Limits) error {
	err := h.Limits.destinations().Narrow(l.AllowedCountries).Check(to)
	if err == nil {
		return nil
	}
	return &LimitError{Err: call.ErrDestinationNotAllowed, Detail: err.Error()}
}

// errSuppressed refuses a destination on the user's own do-not-call list (a 422, as the
// destination policy's refusals).
var errSuppressed = &LimitError{Err: call.ErrDestinationNotAllowed, Detail: "Destination is on your do-not-call list"}

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
