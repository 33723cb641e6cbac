// Package campaigncalls connects the campaign use cases to the rest of the application: the
// dialler places its calls through create_call (Placer), and a new batch reads its owner's
// line, agent or workflow and limits from the dial plan (Accounts). Both are the very use case
// and store the HTTP API uses, so a campaign's calls meet every guard a single call meets.
package campaigncalls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// CreateCall is create_call's use case.
type CreateCall interface {
	Handle(ctx context.Context, cmd application.CreateCall) (application.CreateCallResult, error)
}

// Placer is campaigns.Placer on create_call.
type Placer struct {
	CreateCall CreateCall
}

var _ campaigns.Placer = (*Placer)(nil)

// answer is what create_call stores for a campaign's idempotency key: the session, which a
// repeat of the attempt gets back.
type answer struct {
	SessionID string `json:"call_session_id"`
	Success   bool   `json:"success"`
	Detail    string `json:"detail,omitempty"`
}

func encode(r application.CreateCallResult) []byte {
	a := answer{Success: r.Success, Detail: r.Detail}
	if r.Session != nil {
		a.SessionID = r.Session.ID
	}
	b, _ := json.Marshal(a) // a struct of strings and a bool always encodes
	return b
}

// Place implements campaigns.Placer.
func (p *Placer) Place(ctx context.Context, pc campaigns.PlaceCall) (string, error) {
	vars := make(map[string]any, len(pc.Variables))
	for k, v := range pc.Variables {
		vars[k] = v
	}
	res, err := p.CreateCall.Handle(ctx, application.CreateCall{UserID: pc.UserID, To: pc.To, AgentID: pc.AgentID,
		WorkflowID: pc.WorkflowID, LineID: pc.LineID, VariableValues: vars, IdempotencyKey: pc.IdempotencyKey, Encode: encode})
	switch {
	case res.Session != nil:
		// The session is written: the call is the attempt's, whatever else failed after.
		return res.Session.ID, nil
	case res.Replayed:
		var a answer
		if jerr := json.Unmarshal(res.Response, &a); jerr != nil || a.SessionID == "" {
			return "", fmt.Errorf("the stored answer of key %s names no session", pc.IdempotencyKey)
		}
		return a.SessionID, nil
	case err == nil:
		return "", errors.New("create_call answered without a session")
	}
	return "", classify(err)
}

// Default wait when a limit does not say how long.
const defaultWait = time.Second

// classify turns create_call's refusals into what the dialler does with them.
func classify(err error) error {
	var le *application.LimitError
	retryAfter := defaultWait
	detail := ""
	if errors.As(err, &le) {
		if le.RetryAfter > 0 {
			retryAfter = le.RetryAfter
		}
		detail = le.Detail
	}
	orDetail := func(s string) string {
		if detail != "" {
			return detail
		}
		return s
	}
	var inv *application.InvalidInputError
	switch {
	case errors.Is(err, application.ErrUnavailable):
		return err
	case errors.Is(err, application.ErrInsufficientCredits):
		return &campaigns.PauseError{Reason: "Insufficient credits: add credits to place calls"}
	case errors.Is(err, application.ErrDailySpendCap):
		return &campaigns.PauseError{Reason: orDetail("Daily spend cap reached")}
	case errors.Is(err, application.ErrRateLimited), errors.Is(err, application.ErrConcurrencyLimit),
		errors.Is(err, application.ErrLinePaced), errors.Is(err, application.ErrIdempotencyInProgress):
		return &campaigns.WaitError{After: retryAfter, Reason: orDetail(err.Error())}
	case errors.Is(err, call.ErrDestinationNotAllowed):
		return &campaigns.RefusedError{Reason: orDetail("Destination not allowed")}
	case errors.As(err, &inv):
		return &campaigns.RefusedError{Reason: inv.Detail}
	case errors.Is(err, call.ErrLineInactive):
		return &campaigns.PauseError{Reason: "The batch's phone number is not active"}
	case errors.Is(err, call.ErrLineNotFound), errors.Is(err, call.ErrNoActiveLine):
		return &campaigns.PauseError{Reason: "The batch's phone number is gone"}
	case errors.Is(err, call.ErrAgentInactive), errors.Is(err, call.ErrWorkflowInactive):
		return &campaigns.PauseError{Reason: "The batch's agent or workflow is not active"}
	case errors.Is(err, call.ErrAgentNotFound), errors.Is(err, call.ErrWorkflowNotFound), errors.Is(err, call.ErrNoTarget):
		return &campaigns.PauseError{Reason: "The batch's agent or workflow is gone"}
	case errors.Is(err, application.ErrUnauthenticated):
		return &campaigns.PauseError{Reason: "The batch's owner can no longer place calls"}
	case errors.Is(err, application.ErrIdempotencyMismatch), errors.Is(err, call.ErrTargetBoth):
		return &campaigns.RefusedError{Reason: orDetail(err.Error())}
	}
	return err
}

// Accounts is campaigns.Accounts on the dial plan, one read.
type Accounts struct {
	Plans application.DialPlanStore
}

var _ campaigns.Accounts = (*Accounts)(nil)

// Setup implements campaigns.Accounts.
func (a *Accounts) Setup(ctx context.Context, userID, lineID string, t campaign.Target) (campaigns.Setup, error) {
	plan, err := a.Plans.DialPlan(ctx, userID, call.Target{AgentID: t.AgentID(), WorkflowID: t.WorkflowID()})
	if err != nil {
		return campaigns.Setup{}, fmt.Errorf("read the owner's dial plan: %w", err)
	}
	s := campaigns.Setup{MaxConcurrentCalls: plan.Limits.MaxConcurrentCalls}
	for _, l := range plan.Lines {
		if l.ID == lineID {
			s.LineFound, s.LineActive = true, l.Active
		}
	}
	if t.AgentID() != "" {
		ag, ok := plan.Agents[t.AgentID()]
		s.TargetFound, s.TargetActive = ok, ok && ag.Active
	} else {
		w, ok := plan.Workflows[t.WorkflowID()]
		s.TargetFound, s.TargetActive = ok, ok && w.Active
	}
	return s, nil
}
