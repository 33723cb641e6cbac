package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// PhoneNumber is one of a user's lines: the caller id of outbound calls.
type PhoneNumber struct{ ent.Schema }

func (PhoneNumber) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (PhoneNumber) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("number").NotEmpty().Comment("E.164"),
		field.Enum("provider").Values(providers...),
		field.Bool("is_active").Default(true),
		field.String("friendly_name").Optional(),
		// credentials are the carrier secrets, in the form adapters/entstore seals them.
		field.Bytes("credentials").Optional().Sensitive(),
		field.String("country_code").Optional(),
		field.String("region").Optional(),
		// max_cps paces dials on this line (calls per second); nil means no pacing.
		field.Float("max_cps").Optional().Nillable(),
	}
}

func (PhoneNumber) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("phone_numbers").Field("user_id").Unique().Required().Immutable(),
		edge.To("mapping", PhoneMapping.Type).Unique().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (PhoneNumber) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "number").Unique(),
		index.Fields("user_id", "is_active"),
	}
}
