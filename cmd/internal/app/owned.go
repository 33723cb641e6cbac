package app

import (
	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/application"
)

// Owned provides the use cases behind a user's own lines, mappings, agents and workflows, and
// the store ports they need. The HTTP module includes it.
var Owned = fx.Module("owned",
	fx.Provide(
		func(s *entstore.Store) application.LineStore { return s },
		func(s *entstore.Store) application.MappingStore { return s },
		func(s *entstore.Store) application.AgentStore { return s },
		func(s *entstore.Store) application.WorkflowStore { return s },
		func(s application.LineStore) *application.Lines { return &application.Lines{Store: s} },
		func(s application.MappingStore) *application.Mappings { return &application.Mappings{Store: s} },
		func(s application.AgentStore) *application.Agents { return &application.Agents{Store: s} },
		func(s application.WorkflowStore) *application.Workflows { return &application.Workflows{Store: s} },
	),
)

// OwnedDeps are those use cases, as NewHandler takes them.
type OwnedDeps struct {
	fx.In

	Lines     *application.Lines
	Mappings  *application.Mappings
	Agents    *application.Agents
	Workflows *application.Workflows
}
