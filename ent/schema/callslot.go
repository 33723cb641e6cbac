package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// CallSlot is one shard of a user's count of active calls: held of the calls of the user
// (their call_sessions.slot is this shard) hold a slot of the cap through it. The cap is split
// between the shards (adapters/entstore/slots.go), so that the create_calls of one user claim
// their slots on different rows and never queue behind each other.
type CallSlot struct{ ent.Schema }

func (CallSlot) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}} }

func (CallSlot) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Int("shard").Immutable(),
		field.Int("held").Default(0),
	}
}

func (CallSlot) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "shard").Unique(),
	}
}
