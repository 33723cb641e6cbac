package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
)

// HTTP serves the API. The listener is opened in OnStart, so a taken port fails the start
// instead of failing later in the background.
var HTTP = fx.Module("http",
	fx.Provide(NewHandler, NewCredentials, NewReadiness),
	Owned,
	fx.Invoke(StartServer),
)

// NewHandler builds the gin engine.
func NewHandler(c configs.Config, store *entstore.Store, cc *application.CreateCallHandler, auth *application.Authenticator,
	logs *application.CallLogs, acc *application.Accounts, keys *application.APIKeys, creds []httpapi.Credential,
	events *application.CarrierEvents, signer *httpapi.CallbackSigner, owned OwnedDeps, ready *httpapi.Readiness,
	log *zap.Logger) http.Handler {
	return httpapi.New(httpapi.Deps{CreateCall: cc, Auth: auth, CallLogs: logs, Accounts: acc, Pinger: store, Readiness: ready,
		APIKeys: keys, Credentials: creds,
		Callbacks: &httpapi.Callbacks{Events: events, PublicBaseURL: c.Carriers.PublicBaseURL, Signer: signer},
		Lines:     owned.Lines, Mappings: owned.Mappings, Agents: owned.Agents, Workflows: owned.Workflows},
		httpapi.Config{Version: Version, MaxBodyBytes: c.HTTP.MaxBodyBytes, AllowedOrigins: c.HTTP.AllowedOrigins},
		log.Named("http"))
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
			drain(ctx, ready, cfg.DrainDelay, log) // faults.go
			ctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	})
}

// SeedDemo runs on start: on the embedded default's first run it creates the demo account and
// prints its key, once, to out (never to the log).
func SeedDemo(ctx context.Context, c configs.Config, acc *application.Accounts, out io.Writer) error {
	if !c.Database.Embedded() {
		return nil
	}
	demo, ok, err := acc.SeedDemo(ctx, c.Demo.DemoCredits())
	if err != nil || !ok {
		return err
	}
	base := "http://" + c.HTTP.Addr
	_, err = fmt.Fprintf(out, `
First run: created a demo account with %s credits, a simulated line and an agent.
Its API key is shown this once; keep it:

    export KUPE_API_KEY=%s

Place a call:

    curl -s -X POST "%s/api/call/create_call?phoneNumber=%%2B14155550123&agent_id=%s" -H "x-api-key: $KUPE_API_KEY"

See it in the call log (use the request_id from the answer):

    curl -s "%s/api/v1/call-analytics?page=1&page_size=10" -H "x-api-key: $KUPE_API_KEY"

`, c.Demo.Credits, demo.APIKey, base, demo.AgentID, base)
	return err
}
