package webhook

import (
	"errors"
	"fmt"
	"time"
)

// Outcome is what one delivery attempt came to. Its zero value is not an outcome.
type Outcome int

const (
	outcomeUnknown Outcome = iota
	// Delivered: the receiver answered 2xx.
	Delivered
	// Retryable: no answer (a network error or a timeout), 408, 429 or 5xx; try again later.
	Retryable
	// Rejected: any other answer (other 4xx, a 3xx since redirects are not followed); retrying
	// would get the same answer, so the delivery fails at once.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retryable:
		return "retryable"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Retry reports whether the attempt should be tried again (retry_count permitting).
func (o Outcome) Retry() bool { return o == Retryable }

// Classify is the retry rule. err is non-nil when there was no answer (the connection failed or
// timed out); status is the receiver's HTTP status otherwise.
func Classify(status int, err error) Outcome {
	if err != nil {
		return Retryable
	}
	switch {
	case status >= 200 && status <= 299:
		return Delivered
	case status == 408, status == 429, status >= 500 && status <= 599:
		return Retryable
	}
	return Rejected
}

// DefaultRetryBase is the first retry's delay; later ones are multiples of it (RetryFactors).
const DefaultRetryBase = 10 * time.Second

// RetryFactors scale the base into the schedule: with 10 s, retries come after about 10 s, 1 min,
// 5 min, 30 min, 2 h and 6 h. Retries past the sixth (retry_count 7 and 8) wait the last one again.
var RetryFactors = [...]int64{1, 6, 30, 180, 720, 2160}

// DefaultJitter spreads each delay over ±20%, so that deliveries failed together by one outage
// do not come back together.
const DefaultJitter = 0.2

// RetrySchedule says how long to wait before each retry.
type RetrySchedule struct {
	base   time.Duration
	jitter float64
	rand   func() float64
}

// NewRetrySchedule scales RetryFactors from base (KUPE_WEBHOOK_RETRY_BASE). rand returns a number
// in [0, 1) (math/rand/v2.Float64 outside tests); nil means no jitter.
func NewRetrySchedule(base time.Duration, rand func() float64) (RetrySchedule, error) {
	if base <= 0 {
		return RetrySchedule{}, errors.New("webhook retry base must be positive")
	}
	// The longest delay, with jitter, must fit a time.Duration.
	if base > time.Duration(int64(1<<62)/RetryFactors[len(RetryFactors)-1]) {
		return RetrySchedule{}, fmt.Errorf("webhook retry base %v is too long", base)
	}
	return RetrySchedule{base: base, jitter: DefaultJitter, rand: rand}, nil
}

// Base is the schedule's base delay.
func (s RetrySchedule) Base() time.Duration { return s.base }

// Nominal is the delay before retry n (1 for the first retry) without jitter.
func (s RetrySchedule) Nominal(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > len(RetryFactors) {
		n = len(RetryFactors)
	}
	return s.base * time.Duration(RetryFactors[n-1])
}

// Delay is the delay before retry n with jitter: Nominal(n) × (1 ± DefaultJitter).
func (s RetrySchedule) Delay(n int) time.Duration {
	d := s.Nominal(n)
	if s.rand == nil {
		return d
	}
	r := s.rand()
	if r < 0 || r >= 1 || r != r {
		r = 0.5 // a broken source gets no jitter rather than a negative or huge delay
	}
	return d + time.Duration(float64(d)*s.jitter*(2*r-1))
}

// Next decides what follows attempt number attempt (1 for the first send) that came to o, for an
// endpoint allowed retryCount retries: retry after delay, or stop (delivered, rejected, or out of
// retries).
func (s RetrySchedule) Next(attempt int, o Outcome, retryCount int) (delay time.Duration, retry bool) {
	if !o.Retry() || attempt < 1 || attempt > retryCount {
		return 0, false
	}
	return s.Delay(attempt), true
}

// DisableAfter is how long an endpoint must have failed every delivery before it is disabled.
const DisableAfter = 24 * time.Hour

// Health is an endpoint's delivery record, as far as disabling it goes. Its zero value is a
// healthy endpoint. Update it with Record after each attempt (in any order: attempts run
// concurrently and may be recorded out of order) and ask Disable.
type Health struct {
	// FailingSince is the first failed attempt after the last delivered one; zero when the
	// latest attempt was delivered.
	FailingSince time.Time
	// LastFailure is the latest failed attempt since FailingSince.
	LastFailure time.Time
	// LastDelivered is the latest delivered attempt.
	LastDelivered time.Time
	// Failures counts the failed attempts since FailingSince.
	Failures int
}

// Record adds the attempt made at at that came to o.
func (h Health) Record(at time.Time, o Outcome) Health {
	switch o {
	case Delivered:
		if at.After(h.LastDelivered) {
			h.LastDelivered = at
		}
		switch {
		case h.FailingSince.IsZero() || at.Before(h.FailingSince):
		case h.LastFailure.After(at):
			// A later failure was recorded first (attempts finish out of order): the streak
			// restarts from the latest failure known, the conservative guess.
			h.FailingSince, h.Failures = h.LastFailure, 1
		default:
			h.FailingSince, h.LastFailure, h.Failures = time.Time{}, time.Time{}, 0
		}
	case Retryable, Rejected:
		if !h.LastDelivered.IsZero() && !at.After(h.LastDelivered) {
			return h // an older failure, already followed by a delivery
		}
		if h.FailingSince.IsZero() || at.Before(h.FailingSince) {
			h.FailingSince = at
		}
		if at.After(h.LastFailure) {
			h.LastFailure = at
		}
		h.Failures++
	}
	return h
}

// Disable reports whether the endpoint has failed every delivery for DisableAfter, with the
// reason to show in its configuration. It needs failures DisableAfter apart with no delivery in
// between, so one old failure alone never disables an endpoint.
func (h Health) Disable() (reason string, disable bool) {
	if h.FailingSince.IsZero() || h.LastFailure.Sub(h.FailingSince) < DisableAfter {
		return "", false
	}
	return fmt.Sprintf("disabled: every delivery failed from %s to %s (%d attempts)",
		h.FailingSince.UTC().Format(time.RFC3339), h.LastFailure.UTC().Format(time.RFC3339), h.Failures), true
}
