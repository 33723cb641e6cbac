package accounts

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// Accounts holds the administrative use cases, shared by kupectl and the HTTP API.
type Accounts struct {
	Store Store
	Now   func() time.Time
}

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now().UTC()
}

// CreateUser adds a customer with an opening credit balance.
func (a *Accounts) CreateUser(ctx context.Context, email string, credits money.Amount) (identity.User, error) {
	email = strings.TrimSpace(email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return identity.User{}, fault.Invalidf("email must be a plain address such as ada@example.com")
	}
	u := identity.User{ID: ids.New(), Email: strings.ToLower(email), Credits: credits, CreatedAt: a.now()}
	if err := a.Store.CreateUser(ctx, u); err != nil {
		return identity.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// SetCredits sets a user's balance.
func (a *Accounts) SetCredits(ctx context.Context, userID string, amount money.Amount) error {
	id, err := ids.Require("user", userID)
	if err != nil {
		return err
	}
	return a.Store.SetCredits(ctx, id, amount)
}

// NewAPIKey is a key just issued: Plain is shown once and never again.
type NewAPIKey struct {
	identity.APIKey
	Plain string
}

// CreateAPIKey issues a key for a user.
func (a *Accounts) CreateAPIKey(ctx context.Context, userID, name string) (NewAPIKey, error) {
	id, err := ids.Require("user", userID)
	if err != nil {
		return NewAPIKey{}, err
	}
	if len(name) > 100 {
		return NewAPIKey{}, fault.Invalidf("name must be at most 100 characters")
	}
	if _, err := a.Store.User(ctx, id); err != nil {
		return NewAPIKey{}, err
	}
	plain := identity.NewAPIKey()
	k := identity.APIKey{
		ID: ids.New(), UserID: id, Name: strings.TrimSpace(name),
		Prefix: identity.DisplayPrefix(plain), Hash: identity.HashAPIKey(plain), CreatedAt: a.now(),
	}
	if err := a.Store.CreateAPIKey(ctx, k); err != nil {
		return NewAPIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return NewAPIKey{APIKey: k, Plain: plain}, nil
}

// RevokeAPIKey stops a key from working, at once.
func (a *Accounts) RevokeAPIKey(ctx context.Context, keyID string) error {
	id, err := ids.Require("id", keyID)
	if err != nil {
		return err
	}
	return a.Store.RevokeAPIKey(ctx, id, a.now())
}

// AddLine is a line to register.
type AddLine struct {
	UserID      string
	Number      string
	Provider    string
	Credentials map[string]string
	Inactive    bool
	// FriendlyName and Region are optional labels (see call.Line).
	FriendlyName string
	Region       string
	// MaxCPS paces the line's dials (calls per second); 0 leaves them unpaced.
	MaxCPS float64
}

// AddLine registers one of a user's phone numbers.
func (a *Accounts) AddLine(ctx context.Context, cmd AddLine) (call.Line, error) {
	userID, err := ids.Require("user", cmd.UserID)
	if err != nil {
		return call.Line{}, err
	}
	num, err := call.ParsePhoneNumber(cmd.Number)
	if err != nil {
		return call.Line{}, fault.Invalidf("number must be a valid E.164 phone number (example: +14155550123)")
	}
	p, err := call.ParseProvider(cmd.Provider)
	if err != nil {
		return call.Line{}, fault.Invalidf("%v", err)
	}
	labels, err := lineLabels(cmd.FriendlyName, cmd.Region)
	if err != nil {
		return call.Line{}, err
	}
	if err := checkCredentials(cmd.Credentials); err != nil {
		return call.Line{}, err
	}
	if err := checkMaxCPS(cmd.MaxCPS); err != nil {
		return call.Line{}, err
	}
	if _, err := a.Store.User(ctx, userID); err != nil {
		return call.Line{}, err
	}
	l := call.Line{
		ID: ids.New(), UserID: userID, Number: num.String(), Provider: p, Active: !cmd.Inactive,
		CreatedAt: a.now(), Credentials: call.Credentials(cmd.Credentials),
		FriendlyName: labels.FriendlyName, CountryCode: num.Region(), Region: labels.Region,
		MaxCPS: cmd.MaxCPS,
	}
	if err := a.Store.CreateLine(ctx, l); err != nil {
		return call.Line{}, fmt.Errorf("create line: %w", err)
	}
	return l, nil
}

// CreateAgent is an agent to create.
type CreateAgent struct {
	UserID, Name, SystemPrompt, FirstMessage string
}

// CreateAgent adds an active agent.
func (a *Accounts) CreateAgent(ctx context.Context, cmd CreateAgent) (call.Agent, error) {
	userID, err := ids.Require("user", cmd.UserID)
	if err != nil {
		return call.Agent{}, err
	}
	name := strings.TrimSpace(cmd.Name)
	if name == "" || len(name) > 200 {
		return call.Agent{}, fault.Invalidf("name must be 1 to 200 characters")
	}
	if _, err := a.Store.User(ctx, userID); err != nil {
		return call.Agent{}, err
	}
	ag := call.Agent{ID: ids.New(), UserID: userID, Name: name, SystemPrompt: cmd.SystemPrompt,
		FirstMessage: cmd.FirstMessage, Active: true, CreatedAt: a.now()}
	if err := a.Store.CreateAgent(ctx, ag); err != nil {
		return call.Agent{}, fmt.Errorf("create agent: %w", err)
	}
	return ag, nil
}

// CreateWorkflow adds an active workflow.
func (a *Accounts) CreateWorkflow(ctx context.Context, userID, name string) (call.Workflow, error) {
	uid, err := ids.Require("user", userID)
	if err != nil {
		return call.Workflow{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return call.Workflow{}, fault.Invalidf("name must be 1 to 200 characters")
	}
	if _, err := a.Store.User(ctx, uid); err != nil {
		return call.Workflow{}, err
	}
	w := call.Workflow{ID: ids.New(), UserID: uid, Name: name, Active: true, CreatedAt: a.now()}
	if err := a.Store.CreateWorkflow(ctx, w); err != nil {
		return call.Workflow{}, fmt.Errorf("create workflow: %w", err)
	}
	return w, nil
}

// SetMapping makes a line run an agent or a workflow. Line and target must have the same owner:
// an agent is never mapped onto another user's line.
func (a *Accounts) SetMapping(ctx context.Context, lineID string, t call.Target) error {
	lid, err := ids.Require("line", lineID)
	if err != nil {
		return err
	}
	if t.AgentID, err = ids.Parse("agent", t.AgentID); err != nil {
		return err
	}
	if t.WorkflowID, err = ids.Parse("workflow", t.WorkflowID); err != nil {
		return err
	}
	if (t.AgentID == "") == (t.WorkflowID == "") {
		return fault.Invalidf("name exactly one of an agent and a workflow")
	}
	line, err := a.Store.Line(ctx, lid)
	if err != nil {
		return err
	}
	owner := ""
	if t.AgentID != "" {
		ag, err := a.Store.Agent(ctx, t.AgentID)
		if err != nil {
			return err
		}
		owner = ag.UserID
	} else {
		w, err := a.Store.Workflow(ctx, t.WorkflowID)
		if err != nil {
			return err
		}
		owner = w.UserID
	}
	if owner != line.UserID {
		return fault.ErrNotFound
	}
	return a.Store.SetMapping(ctx, lid, t)
}
