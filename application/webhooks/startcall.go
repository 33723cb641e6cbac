package webhooks

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/webhook"
)

// StartCalls checks the signed start-call requests a CRM sends in (Kupe's
// incomingWebhookStartOutbound). A request that passes becomes a create_call of the agent's
// owner, which the caller places through the create_call use case.
type StartCalls struct {
	Endpoints EndpointStore
}

// StartCall is a verified start-call request: the create_call to place, as UserID.
type StartCall struct {
	UserID  string
	AgentID string
	// Destination, LineID and VariableValues are create_call's phoneNumber, phone_number_id and
	// variable_values: the variables resolved as Kupe documents (attached defaults < top-level
	// keys < context_params < variables < variable_values). The answer echoes VariableValues.
	Destination    string
	LineID         string
	VariableValues map[string]any
	// IdempotencyKey is create_call's key for this request: derived from the body's HMAC, so
	// that the same signed body sent again within create_call's idempotency window
	// (IdempotencyKeyTTL, 24 h) is answered with the first call instead of dialling again. The
	// signature has no timestamp; this is what stops a captured request from being replayed
	// into a call per copy. A CRM that means to call the same number twice with the same
	// variables puts something unique in the body (an event id, a timestamp).
	IdempotencyKey string
}

// IdempotencyKeyPrefix starts the idempotency keys of start-call requests, apart from keys
// clients send to create_call.
const IdempotencyKeyPrefix = "webhook-start-call:"

// Authorize checks a start-call request for agentID: body is the raw body, signature the
// X-Webhook-Signature header. An agent that does not exist, has no configuration or whose
// secret does not match is the same webhook.ErrSignatureMismatch (or ErrSignatureMissing), so
// that nobody without the secret learns which agents exist. With a good signature: the
// incoming webhook must be on (ErrIncomingDisabled), and the body must parse (a 422).
func (s *StartCalls) Authorize(ctx context.Context, agentID string, body []byte, signature string) (StartCall, error) {
	mac, err := webhook.ParseSignatureHeader(signature)
	if err != nil {
		return StartCall{}, err
	}
	id, err := uuid.Parse(agentID)
	if err != nil || len(agentID) != 36 {
		return StartCall{}, webhook.ErrSignatureMismatch
	}
	e, err := s.Endpoints.Endpoint(ctx, id.String())
	if errors.Is(err, ErrEndpointNotFound) {
		return StartCall{}, webhook.ErrSignatureMismatch
	}
	if err != nil {
		return StartCall{}, fmt.Errorf("read webhook configuration of agent %s: %w", id, err)
	}
	if err := e.Secret.VerifyStartCall(body, signature); err != nil {
		return StartCall{}, err
	}
	if !e.Config.Incoming().Enabled() {
		return StartCall{}, ErrIncomingDisabled
	}
	sc, err := webhook.ParseStartCall(body, e.Config.Incoming().AttachedVariables())
	if err != nil {
		return StartCall{}, invalid(err)
	}
	return StartCall{UserID: e.UserID, AgentID: e.AgentID, Destination: sc.Destination, LineID: sc.PhoneNumberID,
		VariableValues: sc.VariableValues, IdempotencyKey: IdempotencyKeyPrefix + hex.EncodeToString(mac)}, nil
}
