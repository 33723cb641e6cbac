package app

import (
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/metrics"
	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/adapters/redislimit"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// UseCases provides the application's use cases, each built from the ports it consumes, and the
// rate limiter create_call enforces its limits with.
var UseCases = fx.Module("usecases",
	fx.Provide(
		NewRateLimiter,
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

// CreateCallDeps are what the create_call use case is built from; the metrics are absent in
// kupectl.
type CreateCallDeps struct {
	fx.In

	Config   configs.Config
	Plans    createcall.DialPlanStore
	Sessions createcall.CallStore
	Carriers createcall.Carriers
	Limiter  createcall.RateLimiter
	Auth     *accounts.Authenticator
	Metrics  *metrics.Metrics `optional:"true"`
}

// NewCreateCallHandler builds the create_call use case with the deployment's limits and guards.
// The cap on active calls holds across replicas (it is in the database); the request rate and
// the line pacing do when the limiter shares them through Redis (NewRateLimiter).
func NewCreateCallHandler(d CreateCallDeps) *createcall.Handler {
	c := d.Config
	dest := c.Limits.Destinations()
	h := &createcall.Handler{Plans: d.Plans, Sessions: d.Sessions, Carriers: d.Carriers, KeyUsage: d.Auth,
		Limiter: d.Limiter,
		Limits: createcall.CallLimits{
			Destinations:             &dest,
			DefaultRequestsPerSecond: c.Limits.DefaultRequestsPerSecond,
			ActiveCallStaleAfter:     c.Limits.ActiveCallStaleAfter,
			MaxPacingWait:            c.Limits.LinePacingMaxWait,
		}}
	if d.Metrics != nil {
		h.Observer = d.Metrics
	}
	return h
}

// LimiterDeps are what the rate limiter is built from; the metrics are absent in kupectl.
type LimiterDeps struct {
	fx.In

	Lifecycle fx.Lifecycle
	Config    configs.Config
	Log       *zap.Logger
	Metrics   *metrics.Metrics `optional:"true"`
}

// Limiter is create_call's rate limiter and, when it shares the limits through Redis, the
// Redis side of it (nil otherwise), whose state /health reports.
type Limiter struct {
	fx.Out

	RateLimiter createcall.RateLimiter
	Redis       *redislimit.Limiter
}

// NewRateLimiter shares the per-user request rate and the line pacing between replicas through
// the Redis at KUPE_REDIS_URL, falling back to per-process buckets while Redis is down (counted
// in kupe_limiter_redis_fallbacks_total, logged once); unset, each process keeps its own and no
// Redis is needed.
func NewRateLimiter(d LimiterDeps) (Limiter, error) {
	url := d.Config.Limits.RedisURL
	if url == "" {
		return Limiter{RateLimiter: ratelimit.New(nil)}, nil
	}
	o := redislimit.Options{Logger: d.Log.Named("redislimit")}
	if d.Metrics != nil {
		o.OnFallback = d.Metrics.RedisFallback
	}
	l, err := redislimit.Open(url, o)
	if err != nil {
		return Limiter{}, fmt.Errorf("KUPE_REDIS_URL: %w", err)
	}
	d.Lifecycle.Append(fx.StopHook(l.Close))
	return Limiter{RateLimiter: l, Redis: l}, nil
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
