package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
)

// mappingJSON is what one of the caller's lines runs: exactly one of agent_id and workflow_id.
// Kupe keeps webhook_url and config_source to itself; so does this service.
type mappingJSON struct {
	PhoneNumberID string  `json:"phone_number_id"`
	PhoneNumber   string  `json:"phone_number"`
	AgentID       *string `json:"agent_id"`
	WorkflowID    *string `json:"workflow_id"`
}

func toMappingJSON(l call.Line) mappingJSON {
	return mappingJSON{PhoneNumberID: l.ID, PhoneNumber: l.Number,
		AgentID: nullable(l.Mapping.AgentID), WorkflowID: nullable(l.Mapping.WorkflowID)}
}

type mappingResponse struct {
	Success bool        `json:"success"`
	Message string      `json:"message,omitempty"`
	Mapping mappingJSON `json:"mapping"`
}

type mappingListResponse struct {
	Success  bool          `json:"success"`
	Mappings []mappingJSON `json:"mappings"`
}

// mappingBody is Kupe's AgentPhoneMappingRequest. webhook_url and config_source are the
// server's to set and are ignored; user_id may name the caller, and no one else (403).
type mappingBody struct {
	PhoneNumberID *string `json:"phone_number_id"`
	AgentID       *string `json:"agent_id"`
	WorkflowID    *string `json:"workflow_id"`
	UserID        *string `json:"user_id"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// setMapping serves POST /api/v1/phone/mapping: one of the caller's lines runs one of the
// caller's agents or workflows from now on, replacing what it ran. Naming both or neither, or no
// line, is a 400 (as Kupe answers); a line or target that is not the caller's, a 404.
func (s *server) setMapping(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body mappingBody
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	if _, err := accounts.ActingUser(userID, deref(body.UserID)); err != nil {
		fail(c, err)
		return
	}
	l, err := s.deps.Mappings.Set(c.Request.Context(), accounts.SetMapping{
		UserID:     userID,
		LineID:     deref(body.PhoneNumberID),
		AgentID:    deref(body.AgentID),
		WorkflowID: deref(body.WorkflowID),
	})
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, mappingResponse{Success: true, Message: "Mapping saved", Mapping: toMappingJSON(l)})
}

// getMapping serves GET /api/v1/phone/mapping/{phone_number_id}: 404 "Mapping not found" when
// the caller's line runs nothing.
func (s *server) getMapping(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	l, err := s.deps.Mappings.Get(c.Request.Context(), userID, c.Param("phone_number_id"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, mappingResponse{Success: true, Mapping: toMappingJSON(l)})
}

// agentMappings serves GET /api/v1/phone/mapping/agent/{agent_id}: the caller's lines that run
// the agent, oldest first (possibly none).
func (s *server) agentMappings(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	lines, err := s.deps.Mappings.ForAgent(c.Request.Context(), userID, c.Param("agent_id"))
	if err != nil {
		fail(c, err)
		return
	}
	out := mappingListResponse{Success: true, Mappings: make([]mappingJSON, 0, len(lines))}
	for _, l := range lines {
		out.Mappings = append(out.Mappings, toMappingJSON(l))
	}
	writeJSON(c, http.StatusOK, out)
}

// deleteMapping serves DELETE /api/v1/phone/mapping/{phone_number_id}: the line runs nothing
// until mapped again (a call from it must then name its agent or workflow).
func (s *server) deleteMapping(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	if err := s.deps.Mappings.Delete(c.Request.Context(), userID, c.Param("phone_number_id")); err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, successMessage{Success: true, Message: "Mapping deleted"})
}
