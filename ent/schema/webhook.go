package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// AgentWebhook is one agent's webhook configuration (domain/webhook.Config), its signing secret
// and its delivery health. The secret and the bearer token are sealed (adapters/secretbox),
// like line credentials.
//
// agent_id and user_id are plain columns, not foreign keys, as on call_sessions: the owner is
// checked against the agents table by the store, and no schema of the agents' is touched.
type AgentWebhook struct{ ent.Schema }

func (AgentWebhook) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (AgentWebhook) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("agent_id", uuid.UUID{}).Unique().Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Bool("trigger_on_phone_call").Default(true),
		field.Bool("outgoing_enabled").Default(false),
		field.Text("outgoing_url").Default(""),
		field.JSON("outgoing_headers", map[string]string{}).Optional(),
		field.Int("retry_count").Default(5),
		// bearer_token is sealed; NULL when outgoing.auth is not set.
		field.Bytes("bearer_token").Optional().Nillable().Sensitive(),
		field.Bool("incoming_enabled").Default(false),
		// attached_variables keeps the configured order: [{"name", "default_value"}].
		field.JSON("attached_variables", []map[string]string{}).Optional(),
		// secret is sealed: whsec_ and the base64 of the key.
		field.Bytes("secret").Sensitive(),
		// disabled_reason is set when every delivery failed for 24 hours; a PUT clears it.
		field.Text("disabled_reason").Default(""),
		field.Time("disabled_at").Optional().Nillable(),
		// The endpoint's delivery health (domain/webhook.Health).
		field.Time("failing_since").Optional().Nillable(),
		field.Time("last_failure_at").Optional().Nillable(),
		field.Time("last_delivered_at").Optional().Nillable(),
		field.Int("failures").Default(0),
		field.Time("updated_at"),
	}
}

func (AgentWebhook) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
	}
}

// WebhookDelivery is one event for one agent's endpoint: the payload as it is sent on every
// attempt, under one webhook-id. dedupe_key ("call.completed:<session id>") is unique, so a
// session's final status queues one delivery per event however often it is reported.
type WebhookDelivery struct{ ent.Schema }

func (WebhookDelivery) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("webhook_id").Unique().Immutable(),
		field.UUID("agent_id", uuid.UUID{}).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("event").Immutable(),
		field.UUID("session_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.String("dedupe_key").Unique().Immutable(),
		field.Bytes("payload").Immutable(),
		// status is pending, delivered or failed.
		field.String("status"),
		field.Time("next_attempt_at").Optional().Nillable(),
		// round counts the attempts since the delivery was queued or last replayed: the retry
		// schedule's position.
		field.Int("round").Default(0),
		// replays counts replays: each one schedules a job of its own, and a job of an earlier
		// replay that runs late sends nothing.
		field.Int("replays").Default(0),
		field.Time("updated_at"),
	}
}

func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("attempts", WebhookAttempt.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		// The delivery log: a user's deliveries, newest first, by agent and status.
		index.Fields("user_id", "created_at", "id"),
		index.Fields("agent_id", "status"),
	}
}

// WebhookAttempt is one attempt of a delivery: when, the receiver's status (0 when it never
// answered) and what went wrong.
type WebhookAttempt struct{ ent.Schema }

func (WebhookAttempt) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}} }

func (WebhookAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("delivery_id", uuid.UUID{}).Immutable(),
		field.Time("at").Immutable(),
		field.Int("status_code").Default(0).Immutable(),
		field.Text("error").Default("").Immutable(),
	}
}

func (WebhookAttempt) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("delivery", WebhookDelivery.Type).Ref("attempts").Field("delivery_id").Unique().Required().Immutable(),
	}
}

func (WebhookAttempt) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("delivery_id", "at"),
	}
}
