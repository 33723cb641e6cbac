package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// CreateCall asks to place one outbound call for an authenticated user. Ids are raw client
// strings; the handler validates them.
type CreateCall struct {
	UserID         string
	To             string
	AgentID        string
	WorkflowID     string
	LineID         string
	VariableValues map[string]any
}

// CreateCallResult is what the caller is told. Success is false when the carrier refused or
// failed; the session is stored either way, and Detail says why.
type CreateCallResult struct {
	Success bool
	Detail  string
	Session *call.Session
}

// DialPlan is everything the line choice and the credit check read, for one user.
type DialPlan struct {
	Credits money.Amount
	// Lines holds all of the user's lines, active or not, with their mappings and credentials.
	Lines []call.Line
	// Agents and Workflows hold, by id, those of the user's agents and workflows that the
	// request names or that the user's lines are mapped to. Ids of other users never appear.
	Agents    map[string]call.Agent
	Workflows map[string]call.Workflow
}

// DialPlanStore loads a user's dial plan. It is a single read so that a store can answer it in
// as few database round trips as it manages; requested names the agent or workflow the request
// asked for, which the plan must include if it is the user's.
type DialPlanStore interface {
	DialPlan(ctx context.Context, userID string, requested call.Target) (DialPlan, error)
}

// SessionStore keeps call sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *call.Session) error
	// SaveSession stores the changes made to s since it was read or last saved, and fails with
	// ErrConflict if the stored session has changed since (its version moved on).
	SaveSession(ctx context.Context, s *call.Session) error
	// Session reads one session by id, whoever it belongs to (carrier callbacks are not a user).
	Session(ctx context.Context, id string) (*call.Session, error)
}

// CreateCallHandler places calls.
type CreateCallHandler struct {
	Plans    DialPlanStore
	Sessions SessionStore
	Carriers Carriers
	Now      func() time.Time
}

// Limits on a create_call request that keep a hostile one small.
const (
	maxVariables        = 64
	maxVariableKeyLen   = 64
	maxVariableValueLen = 4096
)

// Handle validates the request, chooses the line, writes the session in status dialing, dials,
// and records the outcome. Any error it returns means nothing was dialled; once a session is
// written, the result always carries it, whatever the carrier did.
func (h *CreateCallHandler) Handle(ctx context.Context, cmd CreateCall) (CreateCallResult, error) {
	if cmd.UserID == "" {
		return CreateCallResult{}, ErrUnauthenticated
	}
	if cmd.To == "" {
		return CreateCallResult{}, invalidf("phoneNumber is required")
	}
	to, err := call.ParsePhoneNumber(cmd.To)
	if err != nil {
		return CreateCallResult{}, invalidf("phoneNumber is not a valid E.164 phone number (example: +14155550123)")
	}
	var req call.LineRequest
	if req.Target.AgentID, err = parseID("agent_id", cmd.AgentID); err != nil {
		return CreateCallResult{}, err
	}
	if req.Target.WorkflowID, err = parseID("workflow_id", cmd.WorkflowID); err != nil {
		return CreateCallResult{}, err
	}
	if req.LineID, err = parseID("phone_number_id", cmd.LineID); err != nil {
		return CreateCallResult{}, err
	}
	if req.Target.AgentID != "" && req.Target.WorkflowID != "" {
		return CreateCallResult{}, call.ErrTargetBoth
	}
	vars, err := normalizeVariables(cmd.VariableValues)
	if err != nil {
		return CreateCallResult{}, err
	}

	plan, err := h.Plans.DialPlan(ctx, cmd.UserID, req.Target)
	if err != nil {
		return CreateCallResult{}, fmt.Errorf("load dial plan: %w", err)
	}
	if err := plan.checkTarget(req.Target); err != nil {
		return CreateCallResult{}, err
	}
	line, err := call.ChooseLine(plan.Lines, req)
	if err != nil {
		return CreateCallResult{}, err
	}
	target, err := call.ResolveTarget(req.Target, line)
	if err != nil {
		return CreateCallResult{}, err
	}
	if err := plan.checkTarget(target); err != nil {
		return CreateCallResult{}, err
	}
	if !plan.Credits.Positive() {
		return CreateCallResult{}, ErrInsufficientCredits
	}
	carrier, ok := h.Carriers.Carrier(line.Provider)
	if !ok {
		return CreateCallResult{}, fmt.Errorf("no carrier configured for provider %s", line.Provider)
	}

	s := call.NewSession(call.Session{
		ID:             NewID(),
		RequestID:      NewID(),
		UserID:         cmd.UserID,
		AgentID:        target.AgentID,
		WorkflowID:     target.WorkflowID,
		LineID:         line.ID,
		Provider:       line.Provider,
		From:           line.Number,
		To:             to.String(),
		VariableValues: vars,
	}, h.now())
	if a, ok := plan.Agents[target.AgentID]; ok {
		s.RenderedSystemPrompt = call.Render(a.SystemPrompt, vars)
		s.RenderedFirstMessage = call.Render(a.FirstMessage, vars)
	}
	if err := h.Sessions.CreateSession(ctx, s); err != nil {
		return CreateCallResult{}, fmt.Errorf("store session: %w", err)
	}

	legID, dialErr := carrier.Dial(ctx, DialRequest{
		SessionID:   s.ID,
		RequestID:   s.RequestID,
		LineID:      line.ID,
		From:        line.Number,
		To:          s.To,
		Credentials: line.Credentials,
	})
	// The carrier has acted (or may have): from here on, neither a client that hangs up nor a
	// shutdown may stop the outcome from being written.
	ctx = context.WithoutCancel(ctx)
	res := CreateCallResult{Success: dialErr == nil, Session: s}
	var de *DialError
	if dialErr != nil {
		de = AsDialError(dialErr)
		res.Detail = de.Reason
	}
	err = UpdateSession(ctx, h.Sessions, s, func(s *call.Session) error {
		at := h.now()
		switch {
		case de == nil:
			return s.MarkDialed(legID, at)
		case de.Kind == DialUnknown:
			s.NoteUnknownOutcome(de.Reason, at)
			return nil
		default:
			return s.MarkFailed(de.Reason, at)
		}
	})
	if err != nil {
		return res, fmt.Errorf("record dial outcome of session %s: %w", s.ID, err)
	}
	return res, nil
}

func (h *CreateCallHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now().UTC()
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

// UpdateSession applies fn to s and saves it. When the stored session has moved on meanwhile (a
// carrier event landed between our read and our write), it reads the session again and applies
// fn to the fresh copy, so neither change is lost. A *call.TransitionError from fn is returned
// as is: the caller decides whether an out-of-order event matters.
func UpdateSession(ctx context.Context, store SessionStore, s *call.Session, fn func(*call.Session) error) error {
	const attempts = 5
	for i := 0; ; i++ {
		if err := fn(s); err != nil {
			return err
		}
		err := store.SaveSession(ctx, s)
		if err == nil || !errors.Is(err, ErrConflict) || i == attempts-1 {
			return err
		}
		fresh, err := store.Session(ctx, s.ID)
		if err != nil {
			return err
		}
		*s = *fresh
	}
}

// normalizeVariables turns variable_values into the strings that fill {{key}} placeholders.
// Scalars are accepted (numbers and booleans as their JSON text); objects and arrays are not,
// since a prompt placeholder has no way to show them.
func normalizeVariables(in map[string]any) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxVariables {
		return nil, invalidf("variable_values may hold at most %d keys", maxVariables)
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if k == "" || len(k) > maxVariableKeyLen {
			return nil, invalidf("variable_values keys must be 1 to %d characters", maxVariableKeyLen)
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case nil:
			s = ""
		case bool:
			s = strconv.FormatBool(v)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case json.Number:
			s = v.String()
		case int:
			s = strconv.Itoa(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		default:
			return nil, invalidf("variable_values[%q] must be a string, number or boolean", k)
		}
		if len(s) > maxVariableValueLen {
			return nil, invalidf("variable_values[%q] is longer than %d characters", k, maxVariableValueLen)
		}
		out[k] = s
	}
	return out, nil
}
