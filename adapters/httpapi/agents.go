package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
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

// agentPageJSON is the object Kupe declares for listAgents.
type agentPageJSON struct {
	Agents   []agentJSON `json:"agents"`
	Total    int         `json:"total"`
	Page     int         `json:"page"`
	PageSize int         `json:"page_size"`
}

var listAgentsKeys = []string{"page", "page_size", "q"}

// listAgents serves GET /api/v1/agents: one page of the caller's agents, oldest first, in the
// object Kupe declares. page defaults to 1 and page_size to 20 (at most 100); q keeps the agents
// whose name contains it, ignoring case. Kupe's scope is for super-admins and is ignored.
func (s *server) listAgents(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var (
		values [3]string
		found  [3]bool
	)
	qp := queryParams{keys: listAgentsKeys, values: values[:], found: found[:]}
	if err := qp.parse(c.Request.URL.RawQuery); err != nil {
		fail(c, err)
		return
	}
	q := accounts.ListAgents{UserID: userID, Page: 1, PageSize: defaultPageSize, NameContains: values[2]}
	for i, dst := range []*int{&q.Page, &q.PageSize} {
		if !found[i] {
			continue
		}
		n, err := pageParam(listAgentsKeys[i], values[i])
		if err != nil {
			fail(c, err)
			return
		}
		*dst = n
	}
	page, err := s.deps.Agents.List(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	out := agentPageJSON{Agents: make([]agentJSON, 0, len(page.Items)), Total: page.Total, Page: page.Page, PageSize: page.PageSize}
	for _, a := range page.Items {
		out.Agents = append(out.Agents, toAgentJSON(a))
	}
	writeJSON(c, http.StatusOK, out)
}

// callCountsJSON counts calls in every status, each named as the call log names it.
type callCountsJSON map[string]int

func toCallCounts(by map[call.Status]int) callCountsJSON {
	out := make(callCountsJSON, len(call.AllStatuses()))
	for _, st := range call.AllStatuses() {
		out[st.String()] = by[st]
	}
	return out
}

type agentStatsJSON struct {
	AgentID       string         `json:"agent_id"`
	Name          string         `json:"name"`
	IsActive      bool           `json:"is_active"`
	TotalCalls    int            `json:"total_calls"`
	CallsByStatus callCountsJSON `json:"calls_by_status"`
	TalkSeconds   int64          `json:"total_talk_seconds"`
	Cost          money.Amount   `json:"total_cost"`
}

type agentStatsResponse struct {
	TotalAgents   int              `json:"total_agents"`
	ActiveAgents  int              `json:"active_agents"`
	TotalCalls    int              `json:"total_calls"`
	CallsByStatus callCountsJSON   `json:"calls_by_status"`
	TalkSeconds   int64            `json:"total_talk_seconds"`
	Cost          money.Amount     `json:"total_cost"`
	Agents        []agentStatsJSON `json:"agents"`
}

// agentStats serves GET /api/v1/agents/stats (Kupe's getAgentStats): for each of the caller's
// agents, oldest first, its calls by status, their talk time and cost, and the sums.
func (s *server) agentStats(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	st, err := s.deps.Agents.Stats(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	out := agentStatsResponse{TotalAgents: st.TotalAgents, ActiveAgents: st.ActiveAgents, TotalCalls: st.Calls,
		CallsByStatus: toCallCounts(st.ByStatus), TalkSeconds: int64(st.TalkTime / time.Second), Cost: st.Cost,
		Agents: make([]agentStatsJSON, 0, len(st.Agents))}
	for _, a := range st.Agents {
		n := 0
		for _, c := range a.ByStatus {
			n += c
		}
		out.Agents = append(out.Agents, agentStatsJSON{AgentID: a.AgentID, Name: a.Name, IsActive: a.Active,
			TotalCalls: n, CallsByStatus: toCallCounts(a.ByStatus), TalkSeconds: int64(a.TalkTime / time.Second), Cost: a.Cost})
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
