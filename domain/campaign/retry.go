package campaign

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidRetry is the cause of every error NewRetryPolicy returns.
var ErrInvalidRetry = errors.New("invalid retry")

// Bounds and defaults of a retry policy, as the API documents them.
const (
	MaxAttemptsLimit      = 5
	DefaultMaxAttempts    = 1
	MinBackoffSeconds     = 1
	MaxBackoffSeconds     = 86400
	DefaultBackoffSeconds = 600
)

// RetryPolicy says how often a row is dialled and when again: at most MaxAttempts calls, a new
// one only after an outcome the policy names, backoff after the first attempt, doubling with
// each further one (600 s, 1,200 s, 2,400 s...). The zero RetryPolicy dials each row once.
type RetryPolicy struct {
	maxAttempts int
	on          uint8 // bit RowStatus set: retried after that outcome
	backoff     time.Duration
}

// DefaultRetryPolicy is one attempt, no retry.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{maxAttempts: DefaultMaxAttempts, on: defaultOn, backoff: DefaultBackoffSeconds * time.Second}
}

// defaultOn is what a policy that names no outcomes retries: busy and no_answer, where trying
// later may reach the person. failed (a carrier error, a dead number) is retried only when
// asked, since every attempt costs money.
const defaultOn = 1<<RowBusy | 1<<RowNoAnswer

// NewRetryPolicy validates the API's retry object. maxAttempts 0 means the default (1) and
// backoffSeconds 0 the default (600); on names outcomes among busy, no_answer and failed, and
// none means busy and no_answer.
func NewRetryPolicy(maxAttempts int, on []string, backoffSeconds int) (RetryPolicy, error) {
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	if maxAttempts < 1 || maxAttempts > MaxAttemptsLimit {
		return RetryPolicy{}, fmt.Errorf("%w: max_attempts must be 1 to %d", ErrInvalidRetry, MaxAttemptsLimit)
	}
	if backoffSeconds == 0 {
		backoffSeconds = DefaultBackoffSeconds
	}
	if backoffSeconds < MinBackoffSeconds || backoffSeconds > MaxBackoffSeconds {
		return RetryPolicy{}, fmt.Errorf("%w: backoff_seconds must be %d to %d", ErrInvalidRetry, MinBackoffSeconds, MaxBackoffSeconds)
	}
	if len(on) > 3 {
		return RetryPolicy{}, fmt.Errorf("%w: on names more than busy, no_answer and failed", ErrInvalidRetry)
	}
	var mask uint8
	for _, name := range on {
		st, err := ParseRowStatus(strings.ToLower(name))
		if err != nil || !st.Retryable() {
			return RetryPolicy{}, fmt.Errorf("%w: on: %q is not one of busy, no_answer, failed", ErrInvalidRetry, truncate(name, 16))
		}
		if mask&(1<<st) != 0 {
			return RetryPolicy{}, fmt.Errorf("%w: on: %s is named twice", ErrInvalidRetry, st)
		}
		mask |= 1 << st
	}
	if mask == 0 {
		mask = defaultOn
	}
	return RetryPolicy{maxAttempts: maxAttempts, on: mask, backoff: time.Duration(backoffSeconds) * time.Second}, nil
}

// MaxAttempts is how many calls a row gets at most (1 for the zero policy).
func (p RetryPolicy) MaxAttempts() int { return max(1, p.maxAttempts) }

// On lists the outcomes that earn another attempt, in the order busy, no_answer, failed.
func (p RetryPolicy) On() []string {
	var out []string
	for _, st := range []RowStatus{RowBusy, RowNoAnswer, RowFailed} {
		if p.on&(1<<st) != 0 {
			out = append(out, st.String())
		}
	}
	return out
}

// Backoff is the wait after the first attempt; each later one doubles it.
func (p RetryPolicy) Backoff() time.Duration {
	if p.backoff == 0 {
		return DefaultBackoffSeconds * time.Second
	}
	return p.backoff
}

// Next says whether a row whose attempt-th call (counting from 1) ended with outcome is dialled
// again, and not before when: now plus the backoff doubled attempt-1 times. The caller still
// moves that instant into the call window (CallWindow.NextOpen).
func (p RetryPolicy) Next(attempt int, outcome RowStatus, now time.Time) (time.Time, bool) {
	if attempt < 1 || attempt >= p.MaxAttempts() || !outcome.Retryable() || p.on&(1<<outcome) == 0 {
		return time.Time{}, false
	}
	// attempt < MaxAttemptsLimit, so the shift is at most 3 and the wait at most 8 days.
	return now.Add(p.Backoff() << (attempt - 1)), true
}
