// Package campaigncalls connects the campaign use cases to the rest of the application: the
// dialler places its calls through create_call (Placer), and a new batch reads its owner's
// line, agent or workflow and limits from the dial plan (Accounts). Both are the very use case
// and store the HTTP API uses, so a campaign's calls meet every guard a single call meets.
package campaigncalls

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/campaign"
	"github.com/kupe-voice/kupe/domain/fault"
)

// CreateCall is create_call's use case.
type CreateCall interface {
	Handle(ctx context.Context, cmd createcall.Command) (createcall.Result, error)
}

// Placer is campaigns.Placer on create_call.
type Placer struct {
	CreateCall CreateCall
}

var _ campaigns.Placer = (*Placer)(nil)

// Place implements campaigns.Placer. create_call returns a Result whenever it wrote a session
// (a repeat of the attempt's key gets the first one's), and an error only when it wrote none.
func (p *Placer) Place(ctx context.Context, pc campaigns.PlaceCall) (string, error) {
	vars := make(map[string]any, len(pc.Variables))
	for k, v := range pc.Variables {
		vars[k] = v
	}
	res, err := p.CreateCall.Handle(ctx, createcall.Command{UserID: pc.UserID, To: pc.To, AgentID: pc.AgentID,
		WorkflowID: pc.WorkflowID, LineID: pc.LineID, VariableValues: vars, IdempotencyKey: pc.IdempotencyKey})
	if err != nil {
		return "", classify(err)
	}
	if res.SessionID == "" {
		return "", fmt.Errorf("create_call answered for key %s without a session", pc.IdempotencyKey)
	}
	return res.SessionID, nil
}

// Default wait when a limit does not say how long.
const defaultWait = time.Second

// classify turns create_call's refusals into what the dialler does with them.
func classify(err error) error {
	var le *createcall.LimitError
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
	var inv *fault.InvalidInputError
	switch {
	case errors.Is(err, fault.ErrUnavailable):
		return err
	case errors.Is(err, createcall.ErrInsufficientCredits):
		return &campaigns.PauseError{Reason: "Insufficient credits: add credits to place calls"}
	case errors.Is(err, createcall.ErrDailySpendCap):
		return &campaigns.PauseError{Reason: orDetail("Daily spend cap reached")}
	case errors.Is(err, createcall.ErrRateLimited), errors.Is(err, createcall.ErrConcurrencyLimit),
		errors.Is(err, createcall.ErrLinePaced), errors.Is(err, createcall.ErrIdempotencyInProgress):
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
	case errors.Is(err, fault.ErrUnauthenticated):
		return &campaigns.PauseError{Reason: "The batch's owner can no longer place calls"}
	case errors.Is(err, createcall.ErrIdempotencyMismatch), errors.Is(err, call.ErrTargetBoth):
		return &campaigns.RefusedError{Reason: orDetail(err.Error())}
	}
	return err
}

// Accounts is campaigns.Accounts on the dial plan, one read.
type Accounts struct {
	Plans createcall.DialPlanStore
}

var _ campaigns.Accounts = (*Accounts)(nil)

// Setup implements campaigns.Accounts.
func (a *Accounts) Setup(ctx context.Context, userID, lineID string, t campaign.Target) (campaigns.Setup, error) {
	plan, err := a.Plans.DialPlan(ctx, createcall.DialPlanQuery{UserID: userID,
		Requested: call.Target{AgentID: t.AgentID(), WorkflowID: t.WorkflowID()}})
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
