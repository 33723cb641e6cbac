package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Errors of the mapping endpoints. Kupe answers a mapping request that names the wrong number
// of targets, or no line, with a 400, not the 422 of other malformed input.
var (
	ErrMappingTarget      = errors.New("send exactly one of agent_id and workflow_id")
	ErrMappingLineMissing = errors.New("phone_number_id is required")
	// ErrMappingNotFound: the caller's line runs no agent or workflow. It is an fault.ErrNotFound.
	ErrMappingNotFound = fmt.Errorf("mapping %w", fault.ErrNotFound)
)

// Mappings serves what a user's lines run: set, read, list by agent, remove. Unlike
// Accounts.SetMapping (an operator's tool, which only checks that line and target share an
// owner), every call here acts for one user and touches only that user's records.
type Mappings struct {
	Store CatalogStore
}

// SetMapping is a mapping a user asks for; ids are raw client strings.
type SetMapping struct {
	UserID     string
	LineID     string
	AgentID    string
	WorkflowID string
}

// Set makes one of the user's lines run one of the user's agents or workflows, and returns the
// line with its new mapping.
func (m *Mappings) Set(ctx context.Context, cmd SetMapping) (call.Line, error) {
	if cmd.UserID == "" {
		return call.Line{}, fault.ErrUnauthenticated
	}
	if cmd.LineID == "" {
		return call.Line{}, ErrMappingLineMissing
	}
	if (cmd.AgentID == "") == (cmd.WorkflowID == "") {
		return call.Line{}, ErrMappingTarget
	}
	lineID, err := ids.Require("phone_number_id", cmd.LineID)
	if err != nil {
		return call.Line{}, err
	}
	var t call.Target
	if t.AgentID, err = ids.Parse("agent_id", cmd.AgentID); err != nil {
		return call.Line{}, err
	}
	if t.WorkflowID, err = ids.Parse("workflow_id", cmd.WorkflowID); err != nil {
		return call.Line{}, err
	}
	line, err := m.Store.UserLine(ctx, cmd.UserID, lineID)
	if err != nil {
		return call.Line{}, lineErr(err)
	}
	if t.AgentID != "" {
		_, err = m.Store.UserAgent(ctx, cmd.UserID, t.AgentID)
		err = agentErr(err)
	} else {
		_, err = m.Store.UserWorkflow(ctx, cmd.UserID, t.WorkflowID)
		err = workflowErr(err)
	}
	if err != nil {
		return call.Line{}, err
	}
	if err := m.Store.SetMapping(ctx, lineID, t); err != nil {
		// The line or the target went away in between.
		return call.Line{}, err
	}
	line.Mapping = t
	return line, nil
}

// Get returns one of the user's lines that runs an agent or a workflow.
func (m *Mappings) Get(ctx context.Context, userID, lineID string) (call.Line, error) {
	id, err := ownedID(userID, "phone_number_id", lineID)
	if err != nil {
		return call.Line{}, err
	}
	line, err := m.Store.UserLine(ctx, userID, id)
	if err != nil {
		return call.Line{}, lineErr(err)
	}
	if line.Mapping.IsZero() {
		return call.Line{}, ErrMappingNotFound
	}
	return line, nil
}

// ForAgent returns the user's lines mapped to one of the user's agents, oldest first; none is
// an empty list, an agent that is not the user's call.ErrAgentNotFound.
func (m *Mappings) ForAgent(ctx context.Context, userID, agentID string) ([]call.Line, error) {
	id, err := ownedID(userID, "agent_id", agentID)
	if err != nil {
		return nil, err
	}
	if _, err := m.Store.UserAgent(ctx, userID, id); err != nil {
		return nil, agentErr(err)
	}
	lines, err := m.Store.UserLines(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := []call.Line{}
	for _, l := range lines {
		if l.Mapping.AgentID == id {
			out = append(out, l)
		}
	}
	return out, nil
}

// Delete removes the mapping of one of the user's lines.
func (m *Mappings) Delete(ctx context.Context, userID, lineID string) error {
	id, err := ownedID(userID, "phone_number_id", lineID)
	if err != nil {
		return err
	}
	if _, err := m.Store.UserLine(ctx, userID, id); err != nil {
		return lineErr(err)
	}
	if err := m.Store.DeleteMapping(ctx, userID, id); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return ErrMappingNotFound
		}
		return err
	}
	return nil
}
