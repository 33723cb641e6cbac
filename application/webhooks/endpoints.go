package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// Endpoints serves an agent owner's webhook configuration: read it, change it, rotate its
// secret, and send a test delivery. Every method acts for the agent's owner alone: another
// user's agent is call.ErrAgentNotFound, as one that does not exist.
type Endpoints struct {
	Store  EndpointStore
	Agents Agents
	Sender Sender
	Now    func() time.Time
	// Rand makes secrets and test message ids; crypto/rand when nil.
	Rand io.Reader
}

// AgentEndpoint is one of the user's agents with its endpoint; Configured is false when none is
// stored (Endpoint is then the defaults: everything off, no secret).
type AgentEndpoint struct {
	Agent      call.Agent
	Endpoint   Endpoint
	Configured bool
}

// maxListedAgents bounds the agents GET /api/v1/webhooks/me lists.
const maxListedAgents = 1000

// List returns each of the user's agents with its endpoint, oldest agent first. It writes
// nothing: an agent without a configuration has no secret yet.
func (s *Endpoints) List(ctx context.Context, userID string) ([]AgentEndpoint, error) {
	if userID == "" {
		return nil, fault.ErrUnauthenticated
	}
	agents, _, err := s.Agents.UserAgents(ctx, userID, accounts.AgentQuery{Limit: maxListedAgents})
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	eps, err := s.Store.UserEndpoints(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list webhook configurations: %w", err)
	}
	out := make([]AgentEndpoint, 0, len(agents))
	for _, a := range agents {
		e, ok := eps[a.ID]
		if !ok {
			e = defaultEndpoint(a)
		}
		out = append(out, AgentEndpoint{Agent: a, Endpoint: e, Configured: ok})
	}
	return out, nil
}

func defaultEndpoint(a call.Agent) Endpoint {
	cfg, _ := webhook.NewConfig(webhook.ConfigInput{TriggerOnPhoneCall: true})
	return Endpoint{AgentID: a.ID, UserID: a.UserID, Config: cfg}
}

// Get returns the agent's endpoint. The first read stores the defaults with a new secret, so
// that every agent that was looked at has one to show and to sign with.
func (s *Endpoints) Get(ctx context.Context, userID, agentID string) (Endpoint, error) {
	a, err := s.agent(ctx, userID, agentID)
	if err != nil {
		return Endpoint{}, err
	}
	if e, err := s.Store.Endpoint(ctx, a.ID); err == nil && e.UserID == a.UserID {
		return e, nil
	} else if err != nil && !errors.Is(err, ErrEndpointNotFound) {
		return Endpoint{}, fmt.Errorf("read webhook configuration: %w", err)
	}
	return s.put(ctx, a, func(*Endpoint, bool) error { return nil })
}

// TokenChange says what a PUT does to the stored bearer token.
type TokenChange int

const (
	// KeepToken keeps the stored token: the request sent it hidden, or left it out.
	KeepToken TokenChange = iota
	// SetToken stores the request's token (ConfigInput.Outgoing.AuthToken).
	SetToken
	// ClearToken removes the token: the request turned outgoing.auth off.
	ClearToken
)

// PutEndpoint is a PUT of the agent's configuration (Kupe's putAgentWebhooks).
type PutEndpoint struct {
	UserID  string
	AgentID string
	Input   webhook.ConfigInput
	Token   TokenChange
}

// Put validates the configuration, checks the outgoing URL against the sender's policy (a
// refused one is a 422 that says why), and stores it; a token sent hidden or left out keeps the
// stored one. It clears a disabled endpoint's reason and its failure record: a PUT is the
// owner's way to turn deliveries back on.
func (s *Endpoints) Put(ctx context.Context, cmd PutEndpoint) (Endpoint, error) {
	a, err := s.agent(ctx, cmd.UserID, cmd.AgentID)
	if err != nil {
		return Endpoint{}, err
	}
	in := cmd.Input
	if cmd.Token != SetToken {
		// Kept tokens come from the stored row, in the transaction below.
		in.Outgoing.AuthType, in.Outgoing.AuthToken = "", ""
	}
	cfg, err := webhook.NewConfig(in)
	if err != nil {
		return Endpoint{}, invalid(err)
	}
	if u := cfg.Outgoing().URL(); u != "" {
		// Outside the transaction: it resolves the host.
		if err := s.Sender.CheckURL(ctx, u); err != nil {
			return Endpoint{}, &fault.InvalidInputError{Detail: err.Error()}
		}
	}
	return s.put(ctx, a, func(e *Endpoint, found bool) error {
		if cmd.Token == KeepToken {
			if tok := e.Config.Outgoing().BearerToken(); tok != "" {
				in.Outgoing.AuthType, in.Outgoing.AuthToken = "bearer", tok
				kept, err := webhook.NewConfig(in)
				if err != nil {
					return invalid(err)
				}
				cfg = kept
			}
		}
		e.Config = cfg
		e.DisabledReason, e.DisabledAt, e.Health = "", time.Time{}, webhook.Health{}
		return nil
	})
}

// RotateSecret gives the agent a new secret and returns it; the old one signs nothing from now
// on, in either direction.
func (s *Endpoints) RotateSecret(ctx context.Context, userID, agentID string) (webhook.Secret, error) {
	a, err := s.agent(ctx, userID, agentID)
	if err != nil {
		return webhook.Secret{}, err
	}
	secret, err := webhook.NewSecret(s.rand())
	if err != nil {
		return webhook.Secret{}, err
	}
	e, err := s.put(ctx, a, func(e *Endpoint, _ bool) error {
		e.Secret = secret
		return nil
	})
	if err != nil {
		return webhook.Secret{}, err
	}
	return e.Secret, nil
}

// TestOutgoing sends a sample call.completed to the agent's outgoing URL at once, whether or not
// outgoing is enabled, and says what the receiver answered. Nothing is recorded or retried.
func (s *Endpoints) TestOutgoing(ctx context.Context, userID, agentID string) (SendResult, error) {
	e, err := s.Get(ctx, userID, agentID)
	if err != nil {
		return SendResult{}, err
	}
	if e.Config.Outgoing().URL() == "" {
		return SendResult{}, ErrNoOutgoingURL
	}
	id, err := newMessageID(s.rand())
	if err != nil {
		return SendResult{}, err
	}
	body, err := samplePayload(e, s.now())
	if err != nil {
		return SendResult{}, err
	}
	return s.Sender.Send(ctx, Message{Key: e.AgentID, Endpoint: e.Config.Outgoing(), Secret: e.Secret,
		MessageID: id, Body: body}), nil
}

// put stores fn's change to the agent's endpoint; a new endpoint gets a secret and the defaults
// first.
func (s *Endpoints) put(ctx context.Context, a call.Agent, fn func(*Endpoint, bool) error) (Endpoint, error) {
	fresh, err := webhook.NewSecret(s.rand())
	if err != nil {
		return Endpoint{}, err
	}
	now := s.now()
	e, err := s.Store.PutEndpoint(ctx, a.ID, a.UserID, func(e *Endpoint, found bool) error {
		if !found {
			d := defaultEndpoint(a)
			d.Secret, d.CreatedAt = fresh, now
			*e = d
		}
		if err := fn(e, found); err != nil {
			return err
		}
		e.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrEndpointNotFound) {
		return Endpoint{}, call.ErrAgentNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("store webhook configuration: %w", err)
	}
	return e, nil
}

// agent checks that agentID names one of the user's agents.
func (s *Endpoints) agent(ctx context.Context, userID, agentID string) (call.Agent, error) {
	if userID == "" {
		return call.Agent{}, fault.ErrUnauthenticated
	}
	id, err := parseAgentID(agentID)
	if err != nil {
		return call.Agent{}, err
	}
	a, err := s.Agents.UserAgent(ctx, userID, id)
	if errors.Is(err, fault.ErrNotFound) || errors.Is(err, call.ErrAgentNotFound) {
		return call.Agent{}, call.ErrAgentNotFound
	}
	if err != nil {
		return call.Agent{}, fmt.Errorf("read agent: %w", err)
	}
	return a, nil
}

func (s *Endpoints) now() time.Time { return nowOf(s.Now) }

func (s *Endpoints) rand() io.Reader { return randOf(s.Rand) }

func nowOf(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}

func randOf(r io.Reader) io.Reader {
	if r != nil {
		return r
	}
	return rand.Reader
}

// parseAgentID is a client's agent id in its canonical form; anything but a UUID is a 422.
func parseAgentID(s string) (string, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", &fault.InvalidInputError{Detail: "agent_id must be a UUID"}
	}
	return id.String(), nil
}

// invalid turns the domain's refusal into the application's 422.
func invalid(err error) error {
	var inv *webhook.InvalidError
	if errors.As(err, &inv) {
		return &fault.InvalidInputError{Detail: inv.Detail}
	}
	return err
}

// newMessageID is a webhook-id: msg_ and 32 random hex digits.
func newMessageID(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("webhook id: %w", err)
	}
	return "msg_" + hex.EncodeToString(b), nil
}
