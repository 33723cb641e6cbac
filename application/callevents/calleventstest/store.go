// Package calleventstest holds the contract suites of callevents' ports: the ledger
// (callevents.Ledger), run by every store, and the carriers' call lookup (callevents.CallFetcher),
// run by every carrier adapter that has one against a fake of its wire protocol.
package calleventstest

import (
	"github.com/kupe-voice/kupe/application/accounts/accountstest"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

// Store is what the ledger suite runs on: the ledger, with the calls and accounts ports to make
// the sessions it charges.
type Store interface {
	createcalltest.Store
}

var (
	must    = accountstest.Must
	newUser = accountstest.NewUser
)
