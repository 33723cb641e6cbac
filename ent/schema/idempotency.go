package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// IdempotencyKey remembers a create_call request by its Idempotency-Key header, per user, so a
// retried request replays the first answer instead of dialling again.
type IdempotencyKey struct{ ent.Schema }

func (IdempotencyKey) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("key").MaxLen(255).Immutable(),
		// request_hash fingerprints what was asked (destination, agent, workflow, line, variables).
		field.String("request_hash").Immutable(),
		field.UUID("session_id", uuid.UUID{}).Optional().Nillable(),
		// state is pending while the first request runs, done once its answer is stored.
		field.String("state").Default("pending"),
		// response_status is set only on rows written before the store kept create_call's Result:
		// their response_body is the HTTP answer. New rows leave it NULL.
		field.Int("response_status").Optional().Nillable(),
		// response_body is the done request's Result, as entstore's JSON (adapters/entstore/idempotency.go).
		field.Bytes("response_body").Optional(),
		field.Time("expires_at").Default(func() time.Time { return time.Now().Add(24 * time.Hour) }),
	}
}

func (IdempotencyKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("idempotency_keys").Field("user_id").Unique().Required().Immutable(),
	}
}

func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "key").Unique(),
		index.Fields("expires_at"),
	}
}
