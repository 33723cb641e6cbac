package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/domain/call"
)

// Kupe's document has no workflow endpoints; these follow the agents' conventions: a list is a
// JSON array, one workflow is wrapped as {"workflow": {...}}.

type workflowJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	UserID    string  `json:"user_id"`
	IsActive  bool    `json:"is_active"`
	CreatedAt *string `json:"created_at"`
}

type workflowResponse struct {
	Workflow workflowJSON `json:"workflow"`
}

func toWorkflowJSON(w call.Workflow) workflowJSON {
	return workflowJSON{ID: w.ID, Name: w.Name, UserID: w.UserID, IsActive: w.Active, CreatedAt: timeJSON(w.CreatedAt)}
}

// listWorkflows serves GET /api/v1/workflows: the caller's workflows, oldest first.
func (s *server) listWorkflows(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	wfs, err := s.deps.Workflows.List(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]workflowJSON, 0, len(wfs))
	for _, w := range wfs {
		out = append(out, toWorkflowJSON(w))
	}
	writeJSON(c, http.StatusOK, out)
}

// createWorkflow serves POST /api/v1/workflows: body {"name": ...}; 201 with the workflow,
// active.
func (s *server) createWorkflow(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	w, err := s.deps.Accounts.CreateWorkflow(c.Request.Context(), userID, body.Name)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, workflowResponse{Workflow: toWorkflowJSON(w)})
}

// getWorkflow serves GET /api/v1/workflows/{workflow_id}.
func (s *server) getWorkflow(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	w, err := s.deps.Workflows.Get(c.Request.Context(), userID, c.Param("workflow_id"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, workflowResponse{Workflow: toWorkflowJSON(w)})
}
