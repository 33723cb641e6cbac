// Package apitest wires the HTTP API for tests once, as cmd/internal/app wires it in production:
// on any store (memstore, or ent on SQLite or PostgreSQL) and the carriers a test gives it, with
// every log line captured for a scan.
package apitest

import (
	"github.com/gin-gonic/gin"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// Store is what the API's services need of a store; memstore and entstore both are one.
type Store interface {
	createcall.DialPlanStore
	createcall.CallStore
	accounts.Store
	accounts.KeyStore
	accounts.CatalogStore
	callevents.Ledger
	httpapi.Pinger
}

// Deps is the API's core on store: create_call dialing through carriers, API-key
// authentication, call logs, accounts (/api/v1/me) and the health check. A test adds what else it
// serves (records, API keys, callbacks, more credentials) to the result.
func Deps(store Store, carriers createcall.CarrierSet) httpapi.Deps {
	return httpapi.Deps{
		CreateCall: &createcall.Handler{Plans: store, Sessions: store, Carriers: carriers},
		Auth:       &accounts.Authenticator{Keys: store},
		CallLogs:   &accounts.CallLogs{Sessions: store},
		Accounts:   &accounts.Accounts{Store: store},
		Pinger:     store,
	}
}

// WithRecords adds the caller's own records to d: phone lines, mappings, agents and workflows.
func WithRecords(d httpapi.Deps, store Store) httpapi.Deps {
	d.Lines = &accounts.Lines{Store: store}
	d.Mappings = &accounts.Mappings{Store: store}
	d.Agents = &accounts.Agents{Store: store}
	d.Workflows = &accounts.Workflows{Store: store}
	return d
}

// Callbacks serves the carriers' status callbacks on store: URLs under publicBase, token
// carriers' URLs signed by signer, calls charged at tariff.
func Callbacks(store Store, publicBase string, signer *httpapi.CallbackSigner, tariff call.Tariff) *httpapi.Callbacks {
	return &httpapi.Callbacks{PublicBaseURL: publicBase, Signer: signer,
		Events: &callevents.CarrierEvents{Sessions: store, Lines: store, Ledger: store, Tariff: tariff}}
}

// New serves deps with cfg and returns the engine with every log line it writes, from debug level
// up, for testkit.ScanLogs.
func New(deps httpapi.Deps, cfg httpapi.Config) (*gin.Engine, *observer.ObservedLogs) {
	log, logs := testkit.ObservedLogger()
	return httpapi.New(deps, cfg, log), logs
}
