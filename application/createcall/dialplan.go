package createcall

import (
	"context"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// DialPlan is everything the line choice and the credit check read, for one user.
type DialPlan struct {
	// UserID is whose plan this is: the query's UserID, or the owner of its KeyHash.
	UserID string
	// Key is the live API key the query's KeyHash named, as stored (its id and last use), or nil
	// for a query by UserID.
	Key     *identity.APIKey
	Credits money.Amount
	// Lines holds all of the user's lines, active or not, with their mappings and credentials.
	Lines []call.Line
	// Agents and Workflows hold, by id, those of the user's agents and workflows that the
	// request names or that the user's lines are mapped to. Ids of other users never appear.
	Agents    map[string]call.Agent
	Workflows map[string]call.Workflow
	// Limits are the user's own; identity.DefaultLimits for a user the store does not know.
	Limits identity.Limits
	// SpentToday is what the user's calls were charged since the start of the plan's UTC day
	// (the "call_charge" ledger entries). Stores read it only when Limits.DailySpendCap is set.
	SpentToday money.Amount
	// Idempotency is the user's live (unexpired) record for the key the query named, or nil.
	Idempotency *IdempotencyRecord
	// Suppressed says the query's Destination is on the user's do-not-call list.
	Suppressed bool
}

// DialPlanQuery says whose dial plan to read, and as of when.
type DialPlanQuery struct {
	// UserID names the user; or, when it is empty, KeyHash does: the plan is that of the owner of
	// the live (unrevoked) API key with that hash, read with the key in the same round trip, and
	// fault.ErrUnauthenticated when there is no such key.
	UserID  string
	KeyHash identity.KeyHash
	// Requested names the agent or workflow the request asked for, which the plan must include
	// if it is the user's.
	Requested call.Target
	// IdempotencyKey, when set, asks for the user's live record for that key.
	IdempotencyKey string
	// Destination, when set (E.164), asks whether it is on the user's do-not-call list.
	Destination string
	// Now is when the plan is read: it decides which records have expired and which day
	// SpentToday covers. The zero value is the current time.
	Now time.Time
}

// At is q.Now in UTC, or the current time when q.Now is zero.
func (q DialPlanQuery) At() time.Time {
	if q.Now.IsZero() {
		return time.Now().UTC()
	}
	return q.Now.UTC()
}

// DayStart is the start of the UTC day of q.At(), from when SpentToday counts.
func (q DialPlanQuery) DayStart() time.Time {
	y, m, d := q.At().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ByKey reports whether the query names the user by KeyHash.
func (q DialPlanQuery) ByKey() bool { return q.UserID == "" && q.KeyHash != (identity.KeyHash{}) }

// DialPlanStore loads a user's dial plan. It is a single read so that a store can answer it in
// as few database round trips as it manages: one, on a database, with the API key's lookup. Its contract suite is
// createcalltest.RunDialPlanSuite.
type DialPlanStore interface {
	DialPlan(ctx context.Context, q DialPlanQuery) (DialPlan, error)
}

// checkTarget confirms that the agent or workflow t names is the user's and active.
func (p *DialPlan) checkTarget(t call.Target) error {
	if t.AgentID != "" {
		a, ok := p.Agents[t.AgentID]
		switch {
		case !ok:
			return call.ErrAgentNotFound
		case !a.Active:
			return call.ErrAgentInactive
		}
	}
	if t.WorkflowID != "" {
		w, ok := p.Workflows[t.WorkflowID]
		switch {
		case !ok:
			return call.ErrWorkflowNotFound
		case !w.Active:
			return call.ErrWorkflowInactive
		}
	}
	return nil
}
