// Package porttest holds the contract suites of the application's ports. Every implementation
// of a port runs the same suite: the in-memory fakes, ent on SQLite and ent on PostgreSQL for the
// stores; each carrier adapter against a local fake of its wire protocol.
package porttest

import (
	"github.com/kupe-voice/kupe/application"
)

// Store is every storage port the use cases declare; the ent store and the in-memory fake both
// implement all of them.
type Store interface {
	application.DialPlanStore
	application.SessionStore
	application.SessionQueries
	application.APIKeyStore
	application.AccountStore
}
