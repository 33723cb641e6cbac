package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/metrics"
	"github.com/kupe-voice/kupe/adapters/redislimit"
	"github.com/kupe-voice/kupe/adapters/supabaseauth"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// HTTP serves the API. The listener is opened in OnStart, so a taken port fails the start
// instead of failing later in the background.
var HTTP = fx.Module("http",
	fx.Provide(NewHandler, NewCredentials, NewReadiness),
	fx.Invoke(StartServer),
)

// HandlerDeps are what the gin engine serves: the use cases, the database's health and the
// service's readiness.
type HandlerDeps struct {
	fx.In

	CreateCall  *createcall.Handler
	Auth        *accounts.Authenticator
	CallLogs    *accounts.CallLogs
	Accounts    *accounts.Accounts
	APIKeys     *accounts.APIKeys
	Lines       *accounts.Lines
	Mappings    *accounts.Mappings
	Agents      *accounts.Agents
	Workflows   *accounts.Workflows
	Events      *callevents.CarrierEvents
	Hangups     *callevents.HangupHandler
	Credentials []httpapi.Credential
	Signer      *httpapi.CallbackSigner
	Pinger      httpapi.Pinger
	Readiness   *httpapi.Readiness
	Metrics     *metrics.Metrics
	Redis       *redislimit.Limiter `optional:"true"`
	// Campaigns and DoNotCall serve batch calling when the Campaigns module is in.
	Campaigns *campaigns.Service   `optional:"true"`
	DoNotCall *campaigns.DoNotCall `optional:"true"`
	// Webhooks is set when the app runs the Webhooks module.
	Webhooks *httpapi.Webhooks `optional:"true"`
}

// NewHandler builds the gin engine: every request is counted and timed, and written to the
// access log (sampled above KUPE_ACCESS_LOG_PER_SECOND), which replaces the API's own debug line.
func NewHandler(c configs.Config, d HandlerDeps, log *zap.Logger) http.Handler {
	deps := httpapi.Deps{CreateCall: d.CreateCall, Auth: d.Auth, CallLogs: d.CallLogs, Accounts: d.Accounts,
		Pinger: d.Pinger, Readiness: d.Readiness, APIKeys: d.APIKeys, Credentials: d.Credentials,
		Callbacks: &httpapi.Callbacks{Events: d.Events, PublicBaseURL: c.Carriers.PublicBaseURL, Signer: d.Signer},
		Lines:     d.Lines, Mappings: d.Mappings, Agents: d.Agents, Workflows: d.Workflows,
		Campaigns: d.Campaigns, DoNotCall: d.DoNotCall, Webhooks: d.Webhooks, Hangups: d.Hangups,
		Metrics: d.Metrics.Handler(),
		Middleware: []gin.HandlerFunc{
			d.Metrics.HTTPMiddleware(),
			metrics.AccessLog(log.Named("access"), metrics.AccessLogConfig{PerSecond: c.Observability.AccessLogPerSecond,
				Metrics: d.Metrics}),
		}}
	if d.Redis != nil {
		deps.Redis = d.Redis
	}
	return httpapi.New(deps, httpapi.Config{Version: Version, MaxBodyBytes: c.HTTP.MaxBodyBytes,
		AllowedOrigins: c.HTTP.AllowedOrigins, NoRequestLog: true, MetricsToken: c.Observability.MetricsToken}, log.Named("http"))
}

// StartServer runs the HTTP server for the app's lifetime. On stop, /ready fails at once, the
// listener stays open for DrainDelay (load balancers take the instance out meanwhile), then the
// server stops taking connections and waits up to ShutdownTimeout for the requests in flight.
func StartServer(lc fx.Lifecycle, cfg configs.HTTPConfig, h http.Handler, ready *httpapi.Readiness, log *zap.Logger) {
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http.server")),
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			log.Info("serving", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			drain(ctx, ready, cfg.DrainDelay, log)
			ctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	})
}

// NewReadiness is the service's readiness, shared by /ready and the HTTP server's stop hook.
func NewReadiness() *httpapi.Readiness { return &httpapi.Readiness{} }

// drain fails readiness and waits delay (or until ctx ends) before the server stops taking
// connections.
func drain(ctx context.Context, ready *httpapi.Readiness, delay time.Duration, log *zap.Logger) {
	ready.Drain()
	log.Info("shutting down: readiness fails, draining", zap.Duration("drain_delay", delay))
	if delay <= 0 {
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// NewCredentials are the ways to authenticate beside x-api-key: a Supabase session token
// (Bearer) when a JWT secret or a JWKS URL is configured, else none.
func NewCredentials(c configs.AuthConfig, users *accounts.SessionUsers, log *zap.Logger) ([]httpapi.Credential, error) {
	if !c.BearerEnabled() {
		log.Info("Bearer session tokens are off: set KUPE_SUPABASE_JWKS_URL or KUPE_SUPABASE_JWT_SECRET to accept them")
		return nil, nil
	}
	v, err := supabaseauth.New(supabaseauth.Config{
		JWTSecret: c.SupabaseJWTSecret, JWKSURL: c.SupabaseJWKSURL, Issuer: c.SupabaseIssuer,
	}, log.Named("supabaseauth"))
	if err != nil {
		return nil, err
	}
	log.Info("Bearer session tokens are on", zap.Bool("jwks", c.SupabaseJWKSURL != ""),
		zap.Bool("shared_secret", c.SupabaseJWTSecret != ""), zap.Bool("issuer_checked", c.SupabaseIssuer != ""))
	return []httpapi.Credential{v.Credential(users)}, nil
}
