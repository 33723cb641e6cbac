package campaign

import (
	"errors"
	"fmt"
)

// Batch sizes: the most calls of one batch in flight at once.
const (
	MinBatchSize     = 1
	MaxBatchSize     = 100
	DefaultBatchSize = 1
)

// ErrInvalidBatchSize is returned for a batch_size outside 1 to 100.
var ErrInvalidBatchSize = fmt.Errorf("batch_size must be %d to %d", MinBatchSize, MaxBatchSize)

// BatchSize is a valid batch_size. The zero value is not one.
type BatchSize int

// NewBatchSize checks a batch_size; callers apply DefaultBatchSize to an absent one first.
func NewBatchSize(n int) (BatchSize, error) {
	if n < MinBatchSize || n > MaxBatchSize {
		return 0, ErrInvalidBatchSize
	}
	return BatchSize(n), nil
}

// Int is the size as a plain number.
func (s BatchSize) Int() int { return int(s) }

// ErrTarget is returned when a batch names both an agent and a workflow, or neither.
var ErrTarget = errors.New("exactly one of agent_id and workflow_id is required")

// Target is what a batch's calls run: an agent or a workflow, never both.
type Target struct {
	agentID, workflowID string
}

// NewTarget takes the request's agent_id and workflow_id, of which exactly one must be given.
// Whether the id names something the user owns is the use case's question.
func NewTarget(agentID, workflowID string) (Target, error) {
	if (agentID == "") == (workflowID == "") {
		return Target{}, ErrTarget
	}
	return Target{agentID: agentID, workflowID: workflowID}, nil
}

// AgentID is the agent's id, "" for a workflow target.
func (t Target) AgentID() string { return t.agentID }

// WorkflowID is the workflow's id, "" for an agent target.
func (t Target) WorkflowID() string { return t.workflowID }

// IsZero reports whether t was never built.
func (t Target) IsZero() bool { return t.agentID == "" && t.workflowID == "" }
