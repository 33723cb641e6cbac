// Package createcall is the create_call use case: it validates a request, applies the limits
// and guards (request rate, Idempotency-Key, destinations, credits, daily spend cap, line pacing,
// active-call cap), chooses the line, writes the session, dials the carrier and records the
// outcome. It declares the ports it consumes: the calls aggregate (CallStore), the dial plan
// (DialPlanStore), the carriers (Carrier, Carriers) and the rate limiter (RateLimiter).
//
// Handle returns a Result, never an HTTP answer: the HTTP adapter, kupectl and a background
// worker render or act on the same Result.
package createcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// Command asks to place one outbound call for an authenticated user. Ids are raw client
// strings; the handler validates them.
type Command struct {
	// UserID is who asks; or, when it is empty, KeyHash is: the hash of the API key the request
	// came with, not looked up yet. Handle then reads the key with the dial plan (one round trip
	// for both) and acts for its owner, and a key that names nobody is fault.ErrUnauthenticated,
	// before any other answer.
	UserID         string
	KeyHash        identity.KeyHash
	To             string
	AgentID        string
	WorkflowID     string
	LineID         string
	VariableValues map[string]any
	// RingTimeoutSeconds, MaxDurationSeconds and MachineDetection are the call options as the
	// caller sent them (create_call's query parameters); empty leaves each to the carrier's
	// default. A carrier that cannot honour one that is set refuses the call before it is dialled.
	RingTimeoutSeconds string
	MaxDurationSeconds string
	MachineDetection   string
	// IdempotencyKey, when set, makes the request safe to retry: a retry with the same key and
	// the same request within IdempotencyKeyTTL gets the first Result again, and dials nothing.
	IdempotencyKey string
}

// Result is what the caller is told about a call whose session was written: Success is false
// when the carrier refused or failed, and Detail then says why. An idempotency record stores the
// Result (all but Replayed and Unrecorded), so that a retry is told exactly the same.
type Result struct {
	Success   bool
	SessionID string
	RequestID string
	UserID    string
	// From is the line's number, To the destination, both E.164.
	From string
	To   string
	// LegID is the carrier's id for the call, when the dial returned one.
	LegID  string
	Detail string
	// Replayed says this is the Result of an earlier request with the same Idempotency-Key:
	// nothing was dialled this time.
	Replayed bool
	// Unrecorded, when not nil, is why the call's outcome (or the Result, for its
	// Idempotency-Key) could not be stored after the carrier acted. The Result is still what the
	// caller must be told (the call may be ringing): it is not an error of Handle, which has
	// none once a session is written. Log it with SessionID; the session stays in dialing until a
	// carrier event or the reconciler settles it.
	Unrecorded error
}

// resultOf describes s as create_call answers for it.
func resultOf(s *call.Session, success bool, detail string) Result {
	return Result{Success: success, SessionID: s.ID, RequestID: s.RequestID, UserID: s.UserID,
		From: s.From, To: s.To, LegID: s.LegID, Detail: detail}
}

// Handler places calls.
type Handler struct {
	Plans    DialPlanStore
	Sessions CallStore
	Carriers Carriers
	// Limiter enforces each user's request rate and each line's pacing; nil enforces neither.
	Limiter RateLimiter
	// Limits are the deployment's limits and guards; the zero value takes the defaults.
	Limits CallLimits
	// KeyUsage hears of each API key that a Command's KeyHash named, once Handle has read it;
	// nil hears nothing.
	KeyUsage KeyUsage
	// Observer hears what became of each Handle (metrics); nil hears nothing.
	Observer Observer
	Now      func() time.Time
}

// KeyUsage records that an API key authenticated a request (its last use): accounts'
// Authenticator. It must not block.
type KeyUsage interface {
	NoteUse(k identity.APIKey)
}

// Limits on a create_call request that keep a hostile one small.
const (
	maxVariables        = 64
	maxVariableKeyLen   = 64
	maxVariableValueLen = 4096
)

// Handle validates the request, chooses the line, writes the session in status dialing, dials,
// and records the outcome. It returns a Result or an error, never both. An error means nothing
// was dialled and no session was written; once a session is written, Handle returns its Result
// and no error, whatever the carrier did, so that no caller takes a placed call for one that was
// not (and dials it again). A failure to store the outcome after the dial is the Result's
// Unrecorded.
//
// The limits and guards, in order: the user's request rate (after the dial plan is read, since
// the rate is the user's; before anything is written), the Idempotency-Key (a retry is answered
// from its record before any other check, so that it gets the first answer even if the account
// changed meanwhile), the destination policy, credits and the daily spend cap, the line's
// pacing, and last the user's cap on active calls, whose slot is taken with the session write
// (CallStore.BeginCall).
//
// Before all of them, a Command naming its user by KeyHash is authenticated: the key is read with
// the dial plan, and one that names nobody is fault.ErrUnauthenticated, whatever else is wrong
// with the request.
func (h *Handler) Handle(ctx context.Context, cmd Command) (Result, error) {
	res, outcome, err := h.handle(ctx, cmd)
	if h.Observer != nil {
		h.observe(outcome, err)
	}
	return res, err
}

// handle is Handle, saying also what became of the call when it returns a Result: one of the
// Outcome constants.
func (h *Handler) handle(ctx context.Context, cmd Command) (Result, string, error) {
	byKey := cmd.UserID == "" && cmd.KeyHash != (identity.KeyHash{})
	if cmd.UserID == "" && !byKey {
		return Result{}, "", fault.ErrUnauthenticated
	}
	in, err := parseCommand(cmd)
	if err != nil {
		if byKey {
			// Who asks is answered first: a bad request with a bad key is told about the key.
			if _, perr := h.Plans.DialPlan(ctx, DialPlanQuery{KeyHash: cmd.KeyHash}); perr != nil {
				return Result{}, "", perr
			}
		}
		return Result{}, "", err
	}
	to, req, vars, composite, opts := in.to, in.req, in.vars, in.composite, in.opts
	now := h.now()
	var hash string
	if cmd.IdempotencyKey != "" {
		hash = requestHash(to.String(), req, vars, composite, opts)
	}

	q := DialPlanQuery{UserID: cmd.UserID, Requested: req.Target, Now: now, Destination: to.String()}
	if byKey {
		q.KeyHash = cmd.KeyHash
	}
	if hash != "" {
		q.IdempotencyKey = cmd.IdempotencyKey
	}
	plan, err := h.Plans.DialPlan(ctx, q)
	switch {
	case errors.Is(err, fault.ErrUnauthenticated):
		return Result{}, "", err
	case err != nil:
		return Result{}, "", fmt.Errorf("load dial plan: %w", err)
	}
	userID := cmd.UserID
	if byKey {
		userID = plan.UserID
		if h.KeyUsage != nil && plan.Key != nil {
			h.KeyUsage.NoteUse(*plan.Key)
		}
	}
	if err := h.checkRate(ctx, userID, plan.Limits); err != nil {
		return Result{}, "", err
	}
	if plan.Idempotency != nil {
		res, err := h.replay(ctx, plan.Idempotency, hash, now)
		return res, OutcomeReplayed, err
	}
	if err := plan.checkTarget(req.Target); err != nil {
		return Result{}, "", err
	}
	line, err := call.ChooseLine(plan.Lines, req)
	if err != nil {
		return Result{}, "", err
	}
	target, err := call.ResolveTarget(req.Target, line)
	if err != nil {
		return Result{}, "", err
	}
	if err := plan.checkTarget(target); err != nil {
		return Result{}, "", err
	}
	if err := h.checkDestination(to, plan.Limits); err != nil {
		return Result{}, "", err
	}
	if plan.Suppressed {
		return Result{}, "", errSuppressed
	}
	if !plan.Credits.Positive() {
		return Result{}, "", ErrInsufficientCredits
	}
	if err := checkSpend(&plan, now); err != nil {
		return Result{}, "", err
	}
	carrier, ok := h.Carriers.Carrier(line.Provider)
	if !ok {
		return Result{}, "", fmt.Errorf("no carrier configured for provider %s", line.Provider)
	}
	if err := checkOptions(carrier, line.Provider, opts); err != nil {
		return Result{}, "", err
	}

	s := call.NewSession(call.Session{
		ID:             ids.New(),
		RequestID:      ids.New(),
		UserID:         userID,
		AgentID:        target.AgentID,
		WorkflowID:     target.WorkflowID,
		LineID:         line.ID,
		Provider:       line.Provider,
		From:           line.Number,
		To:             to.String(),
		VariableValues: vars,
		Options:        opts,
	}, now)
	if a, ok := plan.Agents[target.AgentID]; ok {
		s.RenderedSystemPrompt = call.Render(a.SystemPrompt, vars)
		s.RenderedFirstMessage = call.Render(a.FirstMessage, vars)
	}
	if err := h.paceLine(ctx, line); err != nil {
		return Result{}, "", err
	}
	begin := BeginCall{Session: s, MaxActive: plan.Limits.MaxConcurrentCalls,
		ActiveSince: now.Add(-orDuration(h.Limits.ActiveCallStaleAfter, DefaultActiveCallStaleAfter))}
	if hash != "" {
		begin.Idempotency = &IdempotencyRecord{UserID: userID, Key: cmd.IdempotencyKey, RequestHash: hash,
			SessionID: s.ID, CreatedAt: now, ExpiresAt: now.Add(IdempotencyKeyTTL)}
	}
	switch err := h.Sessions.BeginCall(ctx, begin); {
	case errors.Is(err, ErrConcurrencyLimit):
		return Result{}, "", concurrencyError(begin.MaxActive)
	case errors.Is(err, ErrIdempotencyInProgress):
		return Result{}, "", inProgressError()
	case err != nil:
		return Result{}, "", fmt.Errorf("store session: %w", err)
	}

	legID, dialErr := carrier.Dial(ctx, DialRequest{
		SessionID:   s.ID,
		RequestID:   s.RequestID,
		LineID:      line.ID,
		From:        line.Number,
		To:          s.To,
		Credentials: line.Credentials,
		Options:     opts,
	})
	// The carrier has acted (or may have): from here on, neither a client that hangs up nor a
	// shutdown may stop the outcome from being written.
	ctx = context.WithoutCancel(ctx)
	var de *DialError
	if dialErr != nil {
		de = AsDialError(dialErr)
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
	res, outcome := resultOf(s, de == nil, ""), OutcomeDialed
	if de != nil {
		res.Detail, outcome = de.Reason, OutcomeFailed
		if de.Kind == DialUnknown {
			outcome = OutcomeUnknown
		}
	}
	if hash != "" {
		// Stored even when the outcome could not be: the Result is what the caller was told.
		if cerr := h.Sessions.CompleteIdempotency(ctx, userID, cmd.IdempotencyKey, res); cerr != nil {
			err = errors.Join(err, fmt.Errorf("store the result of session %s for its idempotency key: %w", s.ID, cerr))
		}
	}
	res.Unrecorded = err
	return res, outcome, nil
}

// parsed is a Command's raw strings turned into values.
type parsed struct {
	to        call.PhoneNumber
	req       call.LineRequest
	vars      map[string]string
	composite map[string]bool
	opts      call.Options
}

// parseCommand validates what a Command asks, before anything is read.
func parseCommand(cmd Command) (parsed, error) {
	var in parsed
	if cmd.To == "" {
		return in, fault.Invalidf("phoneNumber is required")
	}
	var err error
	if in.to, err = call.ParsePhoneNumber(cmd.To); err != nil {
		return in, fault.Invalidf("phoneNumber is not a valid E.164 phone number (example: +14155550123)")
	}
	if in.req.Target.AgentID, err = ids.Parse("agent_id", cmd.AgentID); err != nil {
		return in, err
	}
	if in.req.Target.WorkflowID, err = ids.Parse("workflow_id", cmd.WorkflowID); err != nil {
		return in, err
	}
	if in.req.LineID, err = ids.Parse("phone_number_id", cmd.LineID); err != nil {
		return in, err
	}
	if in.req.Target.AgentID != "" && in.req.Target.WorkflowID != "" {
		return in, call.ErrTargetBoth
	}
	if in.vars, in.composite, err = normalizeVariables(cmd.VariableValues); err != nil {
		return in, err
	}
	if in.opts, err = call.ParseOptions(cmd.RingTimeoutSeconds, cmd.MaxDurationSeconds, cmd.MachineDetection); err != nil {
		return in, err
	}
	if cmd.IdempotencyKey != "" {
		if err := checkIdempotencyKey(cmd.IdempotencyKey); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now().UTC()
}

// normalizeVariables turns variable_values into the text that fills {{key}} placeholders, as
// Kupe's CreateCallBody allows any JSON value: a string as it is, null as nothing, a number or a
// boolean as its JSON text, and an object or an array as compact JSON (keys sorted, no HTML
// escaping), so that a prompt can quote it. Only the sizes are bounded. The keys whose value was
// an object or an array are returned too: the request hash must tell {"a": {"b": 1}} from
// {"a": "{\"b\":1}"}, which render the same.
func normalizeVariables(in map[string]any) (vars map[string]string, composite map[string]bool, err error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	if len(in) > maxVariables {
		return nil, nil, fault.Invalidf("variable_values may hold at most %d keys", maxVariables)
	}
	vars = make(map[string]string, len(in))
	for k, v := range in {
		if k == "" || len(k) > maxVariableKeyLen {
			return nil, nil, fault.Invalidf("variable_values keys must be 1 to %d characters", maxVariableKeyLen)
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
			text, isJSON, err := compactJSON(v)
			if err != nil {
				return nil, nil, fault.Invalidf("variable_values[%q] is not a JSON value", k)
			}
			s = text
			if isJSON {
				if composite == nil {
					composite = map[string]bool{}
				}
				composite[k] = true
			}
		}
		if len(s) > maxVariableValueLen {
			return nil, nil, fault.Invalidf("variable_values[%q] is longer than %d characters", k, maxVariableValueLen)
		}
		vars[k] = s
	}
	return vars, composite, nil
}

// compactJSON renders v, an object or an array as decoded from JSON (or any Go value that
// encodes as JSON), as compact JSON without HTML escapes. isJSON is false for a value that
// encodes as a JSON string, which is rendered as the string itself, like a string variable.
func compactJSON(v any) (text string, isJSON bool, err error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false, err
	}
	text = strings.TrimSuffix(b.String(), "\n")
	if strings.HasPrefix(text, `"`) {
		var str string
		if err := json.Unmarshal([]byte(text), &str); err != nil {
			return "", false, err
		}
		return str, false, nil
	}
	return text, text != "" && (text[0] == '{' || text[0] == '['), nil
}
