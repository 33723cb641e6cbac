package accounts

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// Agents serves a user's agents: list, read and change. Creating one is Accounts.CreateAgent,
// shared with kupectl.
type Agents struct {
	Store CatalogStore
}

// maxPromptLen bounds a system prompt or first message: generous for a voice agent, small
// enough that a hostile request cannot bloat every session that renders it.
const maxPromptLen = 32 << 10

// maxAgentNameLen bounds an agent's name, and so what a search of names may ask for.
const maxAgentNameLen = 200

// ListAgents asks for one page of a user's agents.
type ListAgents struct {
	UserID string
	// Page counts from 1; PageSize is 1 to MaxPageSize.
	Page, PageSize int
	// NameContains, when not empty, keeps the agents whose name contains it, ignoring case.
	NameContains string
}

// AgentPage is one page of a user's agents.
type AgentPage struct {
	Items    []call.Agent
	Total    int
	Page     int
	PageSize int
}

// List returns one page of the user's agents, oldest first: the store pages and filters them.
func (a *Agents) List(ctx context.Context, q ListAgents) (AgentPage, error) {
	if q.UserID == "" {
		return AgentPage{}, fault.ErrUnauthenticated
	}
	if err := checkPage(q.Page, q.PageSize); err != nil {
		return AgentPage{}, err
	}
	name := strings.TrimSpace(q.NameContains)
	if len(name) > maxAgentNameLen || !utf8.ValidString(name) {
		return AgentPage{}, fault.Invalidf("q must be valid text of at most %d bytes", maxAgentNameLen)
	}
	items, total, err := a.Store.UserAgents(ctx, q.UserID, AgentQuery{NameContains: name,
		Offset: (q.Page - 1) * q.PageSize, Limit: q.PageSize})
	if err != nil {
		return AgentPage{}, err
	}
	return AgentPage{Items: items, Total: total, Page: q.Page, PageSize: q.PageSize}, nil
}

// checkPage accepts a page from 1 and a page size from 1 to MaxPageSize whose offset fits.
func checkPage(page, pageSize int) error {
	if page < 1 {
		return fault.Invalidf("page must be 1 or more")
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		return fault.Invalidf("page_size must be from 1 to %d", MaxPageSize)
	}
	if page > (1<<31)/pageSize {
		return fault.Invalidf("page is too large")
	}
	return nil
}

// AgentStats is what a user's agents' calls came to: each agent's, oldest agent first, and
// their sums. Calls that ran a workflow are not in it.
type AgentStats struct {
	Agents       []AgentCallStats
	TotalAgents  int
	ActiveAgents int
	// ByStatus, Calls, TalkTime and Cost sum the agents'.
	ByStatus map[call.Status]int
	Calls    int
	TalkTime time.Duration
	Cost     money.Amount
}

// Stats counts the calls placed with each of the user's agents, by status, with their talk time
// and cost, in one read of the store.
func (a *Agents) Stats(ctx context.Context, userID string) (AgentStats, error) {
	if userID == "" {
		return AgentStats{}, fault.ErrUnauthenticated
	}
	rows, err := a.Store.UserAgentStats(ctx, userID)
	if err != nil {
		return AgentStats{}, err
	}
	out := AgentStats{Agents: rows, TotalAgents: len(rows), ByStatus: map[call.Status]int{}}
	for _, r := range rows {
		if r.Active {
			out.ActiveAgents++
		}
		for st, n := range r.ByStatus {
			out.ByStatus[st] += n
			out.Calls += n
		}
		out.TalkTime += r.TalkTime
		out.Cost += r.Cost
	}
	return out, nil
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
	if s == "" || len(s) > maxAgentNameLen || !utf8.ValidString(s) {
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
