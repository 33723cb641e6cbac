package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// User is a customer: the owner of keys, lines, agents and sessions, and the one charged.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Optional().Unique(),
		// credits is a money.Amount: millionths of a currency unit.
		field.Int64("credits").Default(0),
		// Limits (issue: never lose, double or overspend a call).
		field.Int("max_concurrent_calls").Default(20),
		field.Float("requests_per_second").Optional().Nillable(),
		// daily_spend_cap is a money.Amount; nil means no cap.
		field.Int64("daily_spend_cap").Optional().Nillable(),
		// allowed_countries narrows the deployment's destination allow-list (ISO regions); nil
		// means the deployment default.
		field.Strings("allowed_countries").Optional(),
		field.String("full_name").Optional(),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("api_keys", APIKey.Type),
		edge.To("phone_numbers", PhoneNumber.Type),
		edge.To("agents", Agent.Type),
		edge.To("workflows", Workflow.Type),
		edge.To("call_sessions", CallSession.Type),
		edge.To("ledger_entries", LedgerEntry.Type),
		edge.To("idempotency_keys", IdempotencyKey.Type),
	}
}
