package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// The campaign tables (issue 11): a batch, its recipient rows, each attempt to call a row, and
// each user's do-not-call list. user_id, agent_id, workflow_id, caller_phone_id and the
// sessions are plain columns, not foreign keys: a batch is history, as a session is, and must
// outlive the line, agent or workflow it used.

// CallBatch is one campaign (Kupe's call_batches row).
type CallBatch struct{ ent.Schema }

func (CallBatch) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (CallBatch) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("name"),
		field.Text("description").Default(""),
		// status is a campaign.BatchStatus name.
		field.String("status"),
		field.UUID("agent_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("workflow_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("caller_phone_id", uuid.UUID{}),
		field.Int("batch_size"),
		field.JSON("variable_names", []string{}).Optional(),
		field.Time("start_at").Optional().Nillable(),
		// The call window, empty for none: start and end "HH:MM", days as names.
		field.String("window_start").Default(""),
		field.String("window_end").Default(""),
		field.JSON("window_days", []string{}).Optional(),
		field.Int("retry_max_attempts").Default(1),
		field.JSON("retry_on", []string{}).Optional(),
		field.Int("retry_backoff_seconds").Default(600),
		field.Text("pause_reason").Default(""),
		field.Time("started_at").Optional().Nillable(),
		field.Time("completed_at").Optional().Nillable(),
		field.Time("updated_at"),
	}
}

func (CallBatch) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("rows", BatchRow.Type),
	}
}

func (CallBatch) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "created_at"),
	}
}

// BatchRow is one recipient of a batch (Kupe's batch_data row).
type BatchRow struct{ ent.Schema }

func (BatchRow) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (BatchRow) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("batch_id", uuid.UUID{}).Immutable(),
		// to_number is E.164.
		field.String("to_number"),
		field.JSON("variable_values", map[string]string{}).Optional(),
		// timezone is the IANA zone the upload named, "" when the number's zones apply.
		field.String("timezone").Default(""),
		// status is a campaign.RowStatus name.
		field.String("status"),
		field.Int("attempts").Default(0),
		field.UUID("last_call_session_id", uuid.UUID{}).Optional().Nillable(),
		// pending marks a row waiting for a dial: not started, or due for a retry. The dialler
		// picks pending rows whose next_attempt_at is empty or past.
		field.Bool("pending").Default(true),
		field.Time("next_attempt_at").Optional().Nillable(),
		field.Text("error_message").Default(""),
		field.Time("updated_at"),
	}
}

func (BatchRow) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("batch", CallBatch.Type).Ref("rows").Field("batch_id").Unique().Required().Immutable(),
		edge.To("attempt_records", BatchAttempt.Type),
	}
}

func (BatchRow) Indexes() []ent.Index {
	return []ent.Index{
		// A number once per batch.
		index.Fields("batch_id", "to_number").Unique(),
		// The dialler's pick and the status counts.
		index.Fields("batch_id", "pending", "next_attempt_at", "created_at"),
		index.Fields("batch_id", "status"),
	}
}

// BatchAttempt is one call of a row: the n-th attempt and the session create_call made for it.
type BatchAttempt struct{ ent.Schema }

func (BatchAttempt) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (BatchAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("row_id", uuid.UUID{}).Immutable(),
		field.UUID("batch_id", uuid.UUID{}).Immutable(),
		field.Int("attempt").Immutable(),
		// call_session_id is set once create_call has written the attempt's session.
		field.UUID("call_session_id", uuid.UUID{}).Optional().Nillable(),
		// outcome is the row status the call ended with, "" while it is in flight.
		field.String("outcome").Default(""),
		field.Time("updated_at"),
	}
}

func (BatchAttempt) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("row", BatchRow.Type).Ref("attempt_records").Field("row_id").Unique().Required().Immutable(),
	}
}

func (BatchAttempt) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("row_id", "attempt").Unique(),
		// The call-final hook finds the attempt of a session.
		index.Fields("call_session_id").Unique(),
	}
}

// Suppression is a number on a user's do-not-call list.
type Suppression struct{ ent.Schema }

func (Suppression) Mixin() []ent.Mixin { return []ent.Mixin{idMixin{}, createdMixin{}} }

func (Suppression) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		// phone_number is E.164.
		field.String("phone_number").Immutable(),
	}
}

func (Suppression) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "phone_number").Unique(),
	}
}
