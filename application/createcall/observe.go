package createcall

import (
	"errors"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Observer hears what became of each create_call, for metrics. Its methods must not block, and
// the values it is given come from the fixed sets below, so that they can be label values.
type Observer interface {
	// ObserveCall counts one create_call by outcome: one of the Outcome constants, or
	// "refused_" and the limit's name.
	ObserveCall(outcome string)
	// LimiterRejected counts one create_call refused by a limit or a guard, by its name (see
	// LimitName).
	LimiterRejected(limit string)
}

// The outcomes of a create_call, as Observer hears them.
const (
	// OutcomeDialed: the carrier took the dial.
	OutcomeDialed = "dialed"
	// OutcomeFailed: the carrier refused or failed; the session is failed.
	OutcomeFailed = "failed"
	// OutcomeUnknown: the carrier may or may not have placed the call; the session stays in
	// dialing until a carrier event or the reconciler settles it.
	OutcomeUnknown = "unknown"
	// OutcomeReplayed: a retry with an Idempotency-Key was answered from its record.
	OutcomeReplayed = "replayed"
	// The refusals before anything was written, other than by a limit.
	OutcomeUnauthenticated = "unauthenticated"
	OutcomeInvalid         = "invalid"
	OutcomeNotFound        = "not_found"
	OutcomeNoCredits       = "insufficient_credits"
	OutcomeError           = "error"
)

// limitNames name the limits and guards of a *LimitError.
var limitNames = []struct {
	err  error
	name string
}{
	{ErrRateLimited, "rate"},
	{ErrConcurrencyLimit, "concurrency"},
	{ErrLinePaced, "line_pacing"},
	{ErrDailySpendCap, "daily_spend_cap"},
	{call.ErrDestinationNotAllowed, "destination"},
	{ErrIdempotencyInProgress, "idempotency_in_progress"},
	{ErrIdempotencyMismatch, "idempotency_mismatch"},
}

// LimitName names the limit or guard that refused a request with err, or "" when err is not such
// a refusal.
func LimitName(err error) string {
	var le *LimitError
	if !errors.As(err, &le) {
		return ""
	}
	for _, l := range limitNames {
		if errors.Is(le.Err, l.err) {
			return l.name
		}
	}
	return "other"
}

// observe tells the Observer about one Handle: outcome when it returned a Result, else what its
// error was.
func (h *Handler) observe(outcome string, err error) {
	if err == nil {
		h.Observer.ObserveCall(outcome)
		return
	}
	if limit := LimitName(err); limit != "" {
		h.Observer.LimiterRejected(limit)
		h.Observer.ObserveCall("refused_" + limit)
		return
	}
	var invalid *fault.InvalidInputError
	switch {
	case errors.Is(err, fault.ErrUnauthenticated):
		outcome = OutcomeUnauthenticated
	case errors.As(err, &invalid):
		outcome = OutcomeInvalid
	case errors.Is(err, ErrInsufficientCredits):
		outcome = OutcomeNoCredits
	case errors.Is(err, fault.ErrNotFound):
		outcome = OutcomeNotFound
	default:
		outcome = OutcomeError
	}
	h.Observer.ObserveCall(outcome)
}
