package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
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
	// IdempotencyKey, when set, makes the request safe to retry: a retry with the same key and
	// the same request within IdempotencyKeyTTL gets the first answer again, and dials nothing.
	IdempotencyKey string
	// Encode renders the answer the caller gets; it is required with an IdempotencyKey, since the
	// bytes are stored so that a retry gets the very same ones.
	Encode func(CreateCallResult) []byte
}

// StatusAnswered is the HTTP status of every answer that carries a session (Kupe answers 200
// whether the dial succeeded or failed), as an idempotency record stores it.
const StatusAnswered = 200

// CreateCallResult is what the caller is told. Success is false when the carrier refused or
// failed; the session is stored either way, and Detail says why.
type CreateCallResult struct {
	Success bool
	Detail  string
	Session *call.Session
	// Response is the encoded answer, with ResponseStatus, for a request that carried an
	// IdempotencyKey. Replayed says it is the stored answer of an earlier request with the key:
	// nothing was dialled, and Session may be nil.
	Response       []byte
	ResponseStatus int
	Replayed       bool
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
	// Limits are the user's own; identity.DefaultLimits for a user the store does not know.
	Limits identity.Limits
	// SpentToday is what the user's calls were charged since the start of the plan's UTC day
	// (the "call_charge" ledger entries). Stores read it only when Limits.DailySpendCap is set.
	SpentToday money.Amount
	// Idempotency is the user's live (unexpired) record for the key the query named, or nil.
	Idempotency *IdempotencyRecord
}

// DialPlanStore loads a user's dial plan. It is a single read so that a store can answer it in
// as few database round trips as it manages; requested names the agent or workflow the request
// asked for, which the plan must include if it is the user's.
type DialPlanStore interface {
	DialPlan(ctx context.Context, userID string, requested call.Target, opts ...DialPlanOption) (DialPlan, error)
}

// DialPlanOption asks DialPlan for more than the lines and their targets: see AsOf and
// WithIdempotencyKey. Options are values, not closures, so that create_call's hot path does not
// allocate for them.
type DialPlanOption struct {
	key string
	now time.Time
}

// DialPlanQuery is what the options ask for; stores build it with NewDialPlanQuery.
type DialPlanQuery struct {
	// IdempotencyKey, when set, asks for the user's live record for that key.
	IdempotencyKey string
	// Now is when the plan is read: it decides which records have expired and which day
	// SpentToday covers. Without AsOf it is the current time.
	Now time.Time
}

// WithIdempotencyKey asks DialPlan for the user's live record for key.
func WithIdempotencyKey(key string) DialPlanOption { return DialPlanOption{key: key} }

// AsOf reads the plan as of now (the use case's clock).
func AsOf(now time.Time) DialPlanOption { return DialPlanOption{now: now} }

// NewDialPlanQuery applies opts.
func NewDialPlanQuery(opts ...DialPlanOption) DialPlanQuery {
	var q DialPlanQuery
	for _, o := range opts {
		if o.key != "" {
			q.IdempotencyKey = o.key
		}
		if !o.now.IsZero() {
			q.Now = o.now
		}
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	q.Now = q.Now.UTC()
	return q
}

// DayStart is the start of the UTC day of q.Now, from when SpentToday counts.
func (q DialPlanQuery) DayStart() time.Time {
	y, m, d := q.Now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// SessionStore keeps call sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *call.Session) error
	// SaveSession stores the changes made to s since it was read or last saved, and fails with
	// fault.ErrConflict if the stored session has changed since (its version moved on).
	SaveSession(ctx context.Context, s *call.Session) error
	// Session reads one session by id, whoever it belongs to (carrier callbacks are not a user).
	Session(ctx context.Context, id string) (*call.Session, error)
}

// CreateCallHandler places calls.
type CreateCallHandler struct {
	Plans    DialPlanStore
	Sessions CallStore
	Carriers Carriers
	// Limiter enforces each user's request rate and each line's pacing; nil enforces neither.
	Limiter RateLimiter
	// Limits are the deployment's limits and guards; the zero value takes the defaults.
	Limits CallLimits
	Now    func() time.Time
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
//
// The limits and guards, in order: the user's request rate (after the dial plan is read, since
// the rate is the user's; before anything is written), the Idempotency-Key (a retry is answered
// from its record before any other check, so that it gets the first answer even if the account
// changed meanwhile), the destination policy, credits and the daily spend cap, the line's
// pacing, and last the user's cap on active calls, checked and taken with the session write in
// one transaction.
func (h *CreateCallHandler) Handle(ctx context.Context, cmd CreateCall) (CreateCallResult, error) {
	if cmd.UserID == "" {
		return CreateCallResult{}, fault.ErrUnauthenticated
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
	now := h.now()
	var hash string
	if cmd.IdempotencyKey != "" {
		if err := checkIdempotencyKey(cmd.IdempotencyKey); err != nil {
			return CreateCallResult{}, err
		}
		if cmd.Encode == nil {
			return CreateCallResult{}, errors.New("create call: an idempotency key needs an Encode function")
		}
		hash = requestHash(to.String(), req, vars)
	}

	var plan DialPlan
	if hash != "" {
		plan, err = h.Plans.DialPlan(ctx, cmd.UserID, req.Target, AsOf(now), WithIdempotencyKey(cmd.IdempotencyKey))
	} else {
		plan, err = h.Plans.DialPlan(ctx, cmd.UserID, req.Target, AsOf(now))
	}
	if err != nil {
		return CreateCallResult{}, fmt.Errorf("load dial plan: %w", err)
	}
	if err := h.checkRate(cmd.UserID, plan.Limits); err != nil {
		return CreateCallResult{}, err
	}
	if plan.Idempotency != nil {
		return h.replay(ctx, plan.Idempotency, hash, cmd.Encode, now)
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
	if err := h.checkDestination(to, plan.Limits); err != nil {
		return CreateCallResult{}, err
	}
	if !plan.Credits.Positive() {
		return CreateCallResult{}, ErrInsufficientCredits
	}
	if err := checkSpend(&plan, now); err != nil {
		return CreateCallResult{}, err
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
	}, now)
	if a, ok := plan.Agents[target.AgentID]; ok {
		s.RenderedSystemPrompt = call.Render(a.SystemPrompt, vars)
		s.RenderedFirstMessage = call.Render(a.FirstMessage, vars)
	}
	if err := h.paceLine(ctx, line); err != nil {
		return CreateCallResult{}, err
	}
	begin := BeginCall{Session: s, MaxActive: plan.Limits.MaxConcurrentCalls,
		ActiveSince: now.Add(-orDuration(h.Limits.ActiveCallStaleAfter, DefaultActiveCallStaleAfter))}
	if hash != "" {
		begin.Idempotency = &IdempotencyRecord{UserID: cmd.UserID, Key: cmd.IdempotencyKey, RequestHash: hash,
			SessionID: s.ID, CreatedAt: now, ExpiresAt: now.Add(IdempotencyKeyTTL)}
	}
	switch err := h.Sessions.BeginCall(ctx, begin); {
	case errors.Is(err, ErrConcurrencyLimit):
		return CreateCallResult{}, concurrencyError(begin.MaxActive)
	case errors.Is(err, ErrIdempotencyInProgress):
		return CreateCallResult{}, inProgressError()
	case err != nil:
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
		err = fmt.Errorf("record dial outcome of session %s: %w", s.ID, err)
	}
	if hash != "" {
		// Stored even when the outcome could not be: the answer is what the caller was told.
		res.Response, res.ResponseStatus = cmd.Encode(res), StatusAnswered
		if cerr := h.Sessions.CompleteIdempotency(ctx, cmd.UserID, cmd.IdempotencyKey, res.ResponseStatus, res.Response); cerr != nil {
			err = errors.Join(err, fmt.Errorf("store the answer of session %s for its idempotency key: %w", s.ID, cerr))
		}
	}
	return res, err
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
		if err == nil || !errors.Is(err, fault.ErrConflict) || i == attempts-1 {
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
