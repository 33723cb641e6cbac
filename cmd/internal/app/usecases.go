package app

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// UseCases provides the application's use cases, each built from the ports it consumes.
var UseCases = fx.Module("usecases",
	fx.Provide(
		NewCreateCallHandler,
		NewCarrierEvents,
		func(s createcall.CallStore, lines accounts.CatalogStore, c createcall.Carriers) *callevents.HangupHandler {
			return &callevents.HangupHandler{Sessions: s, Lines: lines, Carriers: c}
		},
		NewAuthenticator,
		func(s accounts.Store) *accounts.Accounts { return &accounts.Accounts{Store: s} },
		func(s accounts.UserStore) *accounts.UserLimits { return &accounts.UserLimits{Store: s} },
		func(s accounts.UserStore) *accounts.SessionUsers { return &accounts.SessionUsers{Store: s} },
		func(s accounts.KeyStore) *accounts.APIKeys { return &accounts.APIKeys{Store: s} },
		func(s createcall.CallStore) *accounts.CallLogs { return &accounts.CallLogs{Sessions: s} },
		func(s accounts.CatalogStore) *accounts.Lines { return &accounts.Lines{Store: s} },
		func(s accounts.CatalogStore) *accounts.Mappings { return &accounts.Mappings{Store: s} },
		func(s accounts.CatalogStore) *accounts.Agents { return &accounts.Agents{Store: s} },
		func(s accounts.CatalogStore) *accounts.Workflows { return &accounts.Workflows{Store: s} },
	),
)

// NewCreateCallHandler builds the create_call use case with the deployment's limits and guards.
// The rate limiter is this process's own: each replica enforces the per-user rate and the line
// pacing by itself, while the cap on active calls holds across replicas (it is in the database).
func NewCreateCallHandler(c configs.Config, p createcall.DialPlanStore, s createcall.CallStore, carriers createcall.Carriers) *createcall.Handler {
	dest := c.Limits.Destinations()
	return &createcall.Handler{Plans: p, Sessions: s, Carriers: carriers,
		Limiter: ratelimit.New(nil),
		Limits: createcall.CallLimits{
			Destinations:             &dest,
			DefaultRequestsPerSecond: c.Limits.DefaultRequestsPerSecond,
			ActiveCallStaleAfter:     c.Limits.ActiveCallStaleAfter,
			MaxPacingWait:            c.Limits.LinePacingMaxWait,
		}}
}

// NewCarrierEvents applies the carriers' status callbacks and charges completed calls at the
// configured tariff.
func NewCarrierEvents(c configs.Config, s createcall.CallStore, lines accounts.CatalogStore, l callevents.Ledger) *callevents.CarrierEvents {
	return &callevents.CarrierEvents{Sessions: s, Lines: lines, Ledger: l, Tariff: c.Billing.Tariff()}
}

// NewAuthenticator authenticates API keys and records their use in the background; the app
// waits for those writes before the store closes (this hook stops before the store's).
func NewAuthenticator(lc fx.Lifecycle, keys accounts.KeyStore, log *zap.Logger) *accounts.Authenticator {
	a := &accounts.Authenticator{Keys: keys, Usage: keys, OnUsageError: func(keyID string, err error) {
		log.Warn("could not record an API key's use", zap.String("api_key_id", keyID), zap.Error(err))
	}}
	lc.Append(fx.StopHook(a.Wait))
	return a
}
