package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// CallSession is one outbound dial and what became of it (domain/call.Session).
//
// agent_id, workflow_id and phone_number_id are plain columns, not foreign keys: a session is
// history, and must outlive the line, agent or workflow it used.
type CallSession struct{ ent.Schema }

func (CallSession) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (CallSession) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("request_id", uuid.UUID{}).Unique().Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.UUID("agent_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("workflow_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("phone_number_id", uuid.UUID{}).Optional().Nillable(),
		field.Enum("provider").Values(providers...),
		field.String("from_number"),
		field.String("to_number"),
		field.String("status"),
		field.JSON("variable_values", map[string]string{}).Optional(),
		field.String("leg_id").Optional(),
		field.Text("detail").Default(""),
		field.Int("duration_seconds").Default(0),
		// cost is a money.Amount: millionths of a currency unit.
		field.Int64("cost").Default(0),
		field.Time("answered_at").Optional().Nillable(),
		field.Time("ended_at").Optional().Nillable(),
		field.Time("updated_at"),
		// version counts saved changes, for optimistic concurrency (call.Session.Version).
		field.Int64("version"),
		// The agent's prompt and first message with variable_values filled in, for the voice
		// runtime to read.
		field.Text("rendered_system_prompt").Optional(),
		field.Text("rendered_first_message").Optional(),
		// billed_seconds is what the charge was computed from, once charged.
		field.Int("billed_seconds").Optional().Nillable(),
		// slot is the shard of call_slots whose count holds this session's slot of its user's
		// cap on active calls: set by the create_call that wrote it, cleared when it ends or goes
		// stale (adapters/entstore/slots.go). NULL: the session holds no slot.
		field.Int("slot").Optional().Nillable(),
		// The caller's call options (call.Options): null is the carrier's default.
		field.Int("ring_timeout_seconds").Optional().Nillable(),
		field.Int("max_duration_seconds").Optional().Nillable(),
		field.String("machine_detection").Default("off"),
		// answered_by is the carrier's machine-detection result (human, machine, unknown); null
		// until it reports, and for calls without detection.
		field.String("answered_by").Optional().Nillable(),
	}
}

func (CallSession) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("call_sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

func (CallSession) Indexes() []ent.Index {
	// No index holds a column that the dial's outcome changes (status, leg_id, detail,
	// updated_at, version), so that the save of every create_call is a HOT update that writes no
	// index (the table keeps a tenth of each page free for it: migration 0003).
	return []ent.Index{
		// The call log: a user's sessions, newest first (created_at desc, id desc).
		index.Fields("user_id", "created_at", "id"),
		// The sessions not ended yet, for the reconciler's search of those left in dialing.
		index.Fields("created_at").Annotations(entsql.IndexWhere("ended_at IS NULL")),
		// The sessions holding a slot, few per user: the stale release and the recount.
		index.Fields("user_id", "created_at").Annotations(entsql.IndexWhere("slot IS NOT NULL")),
	}
}
