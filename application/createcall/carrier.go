package createcall

import (
	"context"
	"errors"
	"fmt"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Carrier places calls through one telephony provider. Implementations live in adapters/ and
// each passes the carrier contract suite createcalltest.RunCarrierSuite.
type Carrier interface {
	// Dial asks the carrier to place the call and returns its leg id. A failure is a *DialError;
	// Dial never retries a request that may have reached the carrier.
	Dial(ctx context.Context, req DialRequest) (legID string, err error)
}

// Carriers finds the carrier for a line's provider.
type Carriers interface {
	Carrier(p call.Provider) (Carrier, bool)
}

// CarrierSet is a Carriers backed by a map, for wiring and tests.
type CarrierSet map[call.Provider]Carrier

// Carrier returns the carrier registered for p.
func (s CarrierSet) Carrier(p call.Provider) (Carrier, bool) {
	c, ok := s[p]
	return c, ok
}

// DialRequest is one outbound dial.
type DialRequest struct {
	SessionID   string
	RequestID   string
	LineID      string
	From        string // the line's number, E.164
	To          string // the destination, E.164
	Credentials call.Credentials
	// Options are the caller's call options; the carrier said it honours each one set
	// (OptionCarrier) before the call was written.
	Options call.Options
}

// OptionCarrier is a capability of the carriers that honour call options. A carrier without it
// honours none: a call that asks for any option on its lines is refused before it is dialled.
type OptionCarrier interface {
	// UnhonouredOption names the first option set in o (call.OptionRingTimeout, ...) that the
	// carrier cannot honour as set, or returns "" when it honours them all.
	UnhonouredOption(o call.Options) string
}

// checkOptions refuses options the line's carrier cannot honour, naming the option and the
// line's carrier kind, so that a call never goes out without what it asked for.
func checkOptions(c Carrier, p call.Provider, o call.Options) error {
	asked := o.Asked()
	if len(asked) == 0 {
		return nil
	}
	name := asked[0]
	if oc, ok := c.(OptionCarrier); ok {
		if name = oc.UnhonouredOption(o); name == "" {
			return nil
		}
	}
	return fault.Invalidf("%s is not supported by this line's carrier (%s): leave it out or call from another line", name, p)
}

// DialErrorKind classifies why a dial did not return a leg id.
type DialErrorKind uint8

const (
	// DialUnknown: the request may have reached the carrier (a timeout, a dropped connection):
	// the call may still be placed, so it must not be dialled again.
	DialUnknown DialErrorKind = iota + 1
	// DialInvalidDestination: the carrier refused the destination number.
	DialInvalidDestination
	// DialCallerNotAllowed: the line's number may not be used as caller id.
	DialCallerNotAllowed
	// DialBadCredentials: the line's carrier credentials were refused.
	DialBadCredentials
	// DialRateLimited: the carrier asked us to slow down and did not act on the request.
	DialRateLimited
	// DialUnavailable: the carrier could not be reached or failed without acting.
	DialUnavailable
	// DialRejected: any other refusal.
	DialRejected
)

var dialKindNames = map[DialErrorKind]string{
	DialUnknown:            "unknown",
	DialInvalidDestination: "invalid_destination",
	DialCallerNotAllowed:   "caller_not_allowed",
	DialBadCredentials:     "bad_credentials",
	DialRateLimited:        "rate_limited",
	DialUnavailable:        "unavailable",
	DialRejected:           "rejected",
}

func (k DialErrorKind) String() string {
	if s, ok := dialKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("DialErrorKind(%d)", uint8(k))
}

// DialError is a dial that did not return a leg id. Reason is safe to show the customer: no
// carrier payload, no vendor name, no credential. Err, when set, is the underlying cause for logs.
type DialError struct {
	Kind   DialErrorKind
	Reason string
	Err    error
}

func (e *DialError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("dial %s: %s: %v", e.Kind, e.Reason, e.Err)
	}
	return fmt.Sprintf("dial %s: %s", e.Kind, e.Reason)
}

func (e *DialError) Unwrap() error { return e.Err }

// DefaultReason is the customer-facing text for a kind, used when an adapter has none better.
func (k DialErrorKind) DefaultReason() string {
	switch k {
	case DialUnknown:
		return "The carrier did not answer in time; the outcome is not yet known and the call may still connect"
	case DialInvalidDestination:
		return "The destination number is invalid or cannot be reached"
	case DialCallerNotAllowed:
		return "The caller line is not allowed to place this call"
	case DialBadCredentials:
		return "The line's carrier credentials were refused"
	case DialRateLimited:
		return "The carrier is rate limiting calls from this line; try again shortly"
	case DialUnavailable:
		return "carrier unavailable"
	}
	return "The carrier refused the call"
}

// AsDialError returns err as a *DialError, wrapping anything else as an unknown outcome: an
// error we cannot classify may have come after the carrier acted.
func AsDialError(err error) *DialError {
	var de *DialError
	if errors.As(err, &de) {
		if de.Reason == "" {
			de.Reason = de.Kind.DefaultReason()
		}
		return de
	}
	return &DialError{Kind: DialUnknown, Reason: DialUnknown.DefaultReason(), Err: err}
}
