package httpapi

import "github.com/gin-gonic/gin"

// ownedRoutes registers the endpoints of a user's own lines, mappings, agents, workflows and
// credit balance on the authenticated group; each family is left out when its use case is nil.
// Every one acts for the principal alone: an id of another user's record is a 404 that says
// the same as for an id that names nothing, and a path id that is not a UUID is a 422 (a 400
// where Kupe documents one: see kupeBadRequest).
func (s *server) ownedRoutes(g *gin.RouterGroup) {
	if s.deps.Lines != nil {
		g.GET("/api/v1/phone", s.listLines)
		g.POST("/api/v1/phone", s.addLine)
		g.GET("/api/v1/phone/:phone_number_id", s.getLine)
		g.PUT("/api/v1/phone/:phone_number_id", s.updateLine)
		g.DELETE("/api/v1/phone/:phone_number_id", s.deleteLine)
	}
	if s.deps.Mappings != nil {
		g.POST("/api/v1/phone/mapping", kupeBadRequest, s.setMapping)
		g.GET("/api/v1/phone/mapping/:phone_number_id", s.getMapping)
		g.GET("/api/v1/phone/mapping/agent/:agent_id", s.agentMappings)
		g.DELETE("/api/v1/phone/mapping/:phone_number_id", s.deleteMapping)
	}
	if s.deps.Agents != nil {
		g.GET("/api/v1/agents", s.listAgents)
		g.GET("/api/v1/agents/stats", s.agentStats)
		g.POST("/api/v1/agents/simple", kupeBadRequest, s.createAgentSimple)
		g.GET("/api/v1/agents/:agent_id", kupeBadRequest, s.getAgent)
		g.PUT("/api/v1/agents/:agent_id", kupeBadRequest, s.updateAgent)
	}
	if s.deps.Workflows != nil {
		g.GET("/api/v1/workflows", s.listWorkflows)
		g.POST("/api/v1/workflows", s.createWorkflow)
		g.GET("/api/v1/workflows/:workflow_id", s.getWorkflow)
	}
	g.GET("/api/v1/billing/credit-balance", s.creditBalance)
}
