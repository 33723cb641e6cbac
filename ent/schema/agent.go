package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Agent is a voice agent a call can run.
type Agent struct{ ent.Schema }

func (Agent) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (Agent) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("name"),
		field.Text("system_prompt").Default(""),
		field.Text("first_message").Default(""),
		field.Bool("is_active").Default(true),
	}
}

func (Agent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("agents").Field("user_id").Unique().Required().Immutable(),
		edge.To("mappings", PhoneMapping.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Agent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
	}
}

// Workflow is a multi-step flow a call can run instead of a single agent.
type Workflow struct{ ent.Schema }

func (Workflow) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (Workflow) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("name"),
		field.Bool("is_active").Default(true),
	}
}

func (Workflow) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("workflows").Field("user_id").Unique().Required().Immutable(),
		edge.To("mappings", PhoneMapping.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Workflow) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
	}
}
