package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// LedgerEntry is one change to a user's credit balance. A session is charged at most once: the
// session_id is unique, so a repeated "completed" callback cannot charge twice.
type LedgerEntry struct{ ent.Schema }

func (LedgerEntry) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (LedgerEntry) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.UUID("session_id", uuid.UUID{}).Optional().Nillable().Unique().Immutable(),
		// amount is a money.Amount; negative for a charge.
		field.Int64("amount").Immutable(),
		field.String("kind").Immutable().Comment("call_charge, adjustment"),
		field.String("note").Optional().Immutable(),
	}
}

func (LedgerEntry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("ledger_entries").Field("user_id").Unique().Required().Immutable(),
	}
}

func (LedgerEntry) Indexes() []ent.Index {
	return []ent.Index{
		// Daily spend: a user's charges since a time.
		index.Fields("user_id", "created_at"),
	}
}
