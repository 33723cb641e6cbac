package accounts

import (
	"context"
	"errors"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// Workflows serves a user's workflows: list and read. Creating one is Accounts.CreateWorkflow,
// shared with kupectl.
type Workflows struct {
	Store CatalogStore
}

// List returns the user's workflows, oldest first.
func (w *Workflows) List(ctx context.Context, userID string) ([]call.Workflow, error) {
	if userID == "" {
		return nil, fault.ErrUnauthenticated
	}
	return w.Store.UserWorkflows(ctx, userID)
}

// Get returns one of the user's workflows; another user's reads as call.ErrWorkflowNotFound.
func (w *Workflows) Get(ctx context.Context, userID, workflowID string) (call.Workflow, error) {
	id, err := ownedID(userID, "workflow_id", workflowID)
	if err != nil {
		return call.Workflow{}, err
	}
	wf, err := w.Store.UserWorkflow(ctx, userID, id)
	return wf, workflowErr(err)
}

func workflowErr(err error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return call.ErrWorkflowNotFound
	}
	return err
}
