package accounts

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Agents serves a user's agents: list, read and change. Creating one is Accounts.CreateAgent,
// shared with kupectl.
type Agents struct {
	Store CatalogStore
}

// maxPromptLen bounds a system prompt or first message: generous for a voice agent, small
// enough that a hostile request cannot bloat every session that renders it.
const maxPromptLen = 32 << 10

// List returns the user's agents, oldest first.
func (a *Agents) List(ctx context.Context, userID string) ([]call.Agent, error) {
	if userID == "" {
		return nil, fault.ErrUnauthenticated
	}
	return a.Store.UserAgents(ctx, userID)
}

// Get returns one of the user's agents; another user's reads as call.ErrAgentNotFound.
func (a *Agents) Get(ctx context.Context, userID, agentID string) (call.Agent, error) {
	id, err := ownedID(userID, "agent_id", agentID)
	if err != nil {
		return call.Agent{}, err
	}
	ag, err := a.Store.UserAgent(ctx, userID, id)
	return ag, agentErr(err)
}

// UpdateAgent changes an agent; a nil field is left as it is.
type UpdateAgent struct {
	UserID       string
	AgentID      string
	Name         *string
	SystemPrompt *string
	FirstMessage *string
	Active       *bool
}

// Update applies cmd to one of the user's agents and returns the agent as stored. Calls already
// placed keep the prompt they were rendered with.
func (a *Agents) Update(ctx context.Context, cmd UpdateAgent) (call.Agent, error) {
	id, err := ownedID(cmd.UserID, "agent_id", cmd.AgentID)
	if err != nil {
		return call.Agent{}, err
	}
	var name string
	if cmd.Name != nil {
		if name, err = agentName(*cmd.Name); err != nil {
			return call.Agent{}, err
		}
	}
	for field, v := range map[string]*string{"system_prompt": cmd.SystemPrompt, "first_response_message": cmd.FirstMessage} {
		if v != nil && (len(*v) > maxPromptLen || !utf8.ValidString(*v)) {
			return call.Agent{}, fault.Invalidf("%s must be valid text of at most %d bytes", field, maxPromptLen)
		}
	}
	ag, err := a.Store.UpdateAgent(ctx, cmd.UserID, id, func(ag *call.Agent) error {
		if cmd.Name != nil {
			ag.Name = name
		}
		if cmd.SystemPrompt != nil {
			ag.SystemPrompt = *cmd.SystemPrompt
		}
		if cmd.FirstMessage != nil {
			ag.FirstMessage = *cmd.FirstMessage
		}
		if cmd.Active != nil {
			ag.Active = *cmd.Active
		}
		return nil
	})
	return ag, agentErr(err)
}

// agentName is the rule Accounts.CreateAgent applies to a name, for updates.
func agentName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return "", fault.Invalidf("name must be 1 to 200 characters")
	}
	return s, nil
}

func agentErr(err error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return call.ErrAgentNotFound
	}
	return err
}
