package identity

import "github.com/kupe-voice/kupe/domain/money"

// DefaultMaxConcurrentCalls is a user's cap on active calls until an operator sets another.
const DefaultMaxConcurrentCalls = 20

// Limits are a user's own bounds on calling, set by an operator (kupectl limits set).
type Limits struct {
	// MaxConcurrentCalls caps the user's active calls: sessions dialing, initiated, ringing or in
	// progress. Zero stops the user from placing any call.
	MaxConcurrentCalls int
	// RequestsPerSecond is the rate of the user's create_call requests; 0 is the deployment's
	// default.
	RequestsPerSecond float64
	// DailySpendCap bounds what the user's calls may be charged in one UTC day; nil is no cap.
	DailySpendCap *money.Amount
	// AllowedCountries narrows the deployment's destination allow-list to these ISO 3166 codes;
	// empty keeps the deployment's list as it is.
	AllowedCountries []string
}

// DefaultLimits are a new user's limits.
func DefaultLimits() Limits { return Limits{MaxConcurrentCalls: DefaultMaxConcurrentCalls} }
