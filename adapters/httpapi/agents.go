package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
)

// agentJSON is an agent as Kupe's CreateAgentResponse.agent shows it (the summary listAgents
// returns too).
type agentJSON struct {
	ID                   string  `json:"id"`
	Name                 string  `json:"name"`
	UserID               string  `json:"user_id"`
	IsActive             bool    `json:"is_active"`
	FirstResponseMessage string  `json:"first_response_message"`
	CreatedAt            *string `json:"created_at"`
}

// agentResponse is Kupe's CreateAgentResponse, abridged to what this service keeps: the system
// prompt lives where Kupe puts it, under configurations.agent_model_config.
type agentResponse struct {
	Agent            agentJSON          `json:"agent"`
	Configurations   agentConfiguration `json:"configurations"`
	ValidationStatus string             `json:"validation_status"`
}

type agentConfiguration struct {
	AgentModelConfig agentModelConfig `json:"agent_model_config"`
}

type agentModelConfig struct {
	SystemPrompt string `json:"system_prompt"`
}

func toAgentJSON(a call.Agent) agentJSON {
	return agentJSON{ID: a.ID, Name: a.Name, UserID: a.UserID, IsActive: a.Active,
		FirstResponseMessage: a.FirstMessage, CreatedAt: timeJSON(a.CreatedAt)}
}

func toAgentResponse(a call.Agent) agentResponse {
	return agentResponse{
		Agent:            toAgentJSON(a),
		Configurations:   agentConfiguration{AgentModelConfig: agentModelConfig{SystemPrompt: a.SystemPrompt}},
		ValidationStatus: "valid",
	}
}

// listAgents serves GET /api/v1/agents: the caller's agents, oldest first, as a JSON array of
// summaries (Kupe's answer to a caller who is not a super-admin; page and scope are for those).
func (s *server) listAgents(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	agents, err := s.deps.Agents.List(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]agentJSON, 0, len(agents))
	for _, a := range agents {
		out = append(out, toAgentJSON(a))
	}
	writeJSON(c, http.StatusOK, out)
}

// createAgentSimple serves POST /api/v1/agents/simple: body {"name": ...} (Kupe's
// SimpleCreateAgentRequest; its description is not kept). The agent is active, with an empty
// prompt and first message until a PUT sets them. 201 with the agent.
func (s *server) createAgentSimple(c *gin.Context) {
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
	a, err := s.deps.Accounts.CreateAgent(c.Request.Context(), accounts.CreateAgent{UserID: userID, Name: body.Name})
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusCreated, toAgentResponse(a))
}

// getAgent serves GET /api/v1/agents/{agent_id}.
func (s *server) getAgent(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	a, err := s.deps.Agents.Get(c.Request.Context(), userID, c.Param("agent_id"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, toAgentResponse(a))
}

// agentUpdateBody is the part of Kupe's AgentUpdateRequest this service keeps. Sections and
// fields left out are unchanged; others Kupe documents (tts_config, agent_specific_config, ...)
// are accepted and ignored. welcome_message is Kupe's alias of first_response_message.
type agentUpdateBody struct {
	Agent *struct {
		Name                 *string `json:"name"`
		IsActive             *bool   `json:"is_active"`
		FirstResponseMessage *string `json:"first_response_message"`
		WelcomeMessage       *string `json:"welcome_message"`
	} `json:"agent"`
	AgentModelConfig *struct {
		SystemPrompt *string `json:"system_prompt"`
	} `json:"agent_model_config"`
}

// updateAgent serves PUT /api/v1/agents/{agent_id}. Kupe's force_update flag is accepted; an
// active agent is updated without it, since this service keeps no draft state.
func (s *server) updateAgent(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body agentUpdateBody
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	cmd := accounts.UpdateAgent{UserID: userID, AgentID: c.Param("agent_id")}
	if a := body.Agent; a != nil {
		cmd.Name, cmd.Active, cmd.FirstMessage = a.Name, a.IsActive, a.FirstResponseMessage
		if a.WelcomeMessage != nil {
			if a.FirstResponseMessage != nil && *a.FirstResponseMessage != *a.WelcomeMessage {
				fail(c, invalid("Send first_response_message or its alias welcome_message, not both"))
				return
			}
			cmd.FirstMessage = a.WelcomeMessage
		}
	}
	if m := body.AgentModelConfig; m != nil {
		cmd.SystemPrompt = m.SystemPrompt
	}
	a, err := s.deps.Agents.Update(c.Request.Context(), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, toAgentResponse(a))
}
