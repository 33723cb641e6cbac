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
	UserID string
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

// DialPlanStore loads a user's dial plan. It is a single read so that a store can answer it in
// as few database round trips as it manages. Its contract suite is
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
