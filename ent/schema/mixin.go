// Package schema declares the tables of the store as ent schemas. Changing a schema needs a new
// versioned migration: see adapters/entstore/migrate.go.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"
)

// idMixin gives an entity a random UUID primary key.
type idMixin struct{ mixin.Schema }

func (idMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New),
	}
}

// createdMixin records when a row was made. The store always sets it from the domain's clock;
// the default only serves tools that write rows directly.
type createdMixin struct{ mixin.Schema }

func (createdMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// providers are the carriers a line can use, by their stored names (domain/call.Provider).
var providers = []string{"twilio", "exotel", "elison", "simulated"}
