// Package app wires the service together with fx: configuration, logging, the store, the
// carriers and the use cases. Both binaries build on it, so kupe and kupectl run the same code
// against the same configuration.
package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
)

// Version is the build's version, reported by /health; set with -ldflags "-X ...app.Version=...".
var Version = "0.1.0-dev"

// Config provides the loaded configuration and its parts.
var Config = fx.Module("config",
	fx.Provide(
		configs.Load,
		func(c configs.Config) configs.HTTPConfig { return c.HTTP },
		func(c configs.Config) configs.DBConfig { return c.Database },
		func(c configs.Config) configs.CarriersConfig { return c.Carriers },
		func(c configs.Config) configs.AuthConfig { return c.Auth },
	),
)

// Logging provides zap: console lines in development, JSON in production; fx's own events go
// through it too.
var Logging = fx.Options(
	fx.Provide(NewLogger),
	fx.WithLogger(func(log *zap.Logger) fxevent.Logger {
		l := &fxevent.ZapLogger{Logger: log.Named("fx")}
		l.UseLogLevel(zapcore.DebugLevel)
		return l
	}),
)

// NewLogger builds the service's logger from the configuration.
func NewLogger(c configs.Config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.LogLevel)
	if err != nil {
		return nil, err
	}
	var zc zap.Config
	if c.Env == "production" {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.OutputPaths = []string{"stderr"}
	return zc.Build()
}

// Store opens the database and closes it when the app stops. Registered before the HTTP server,
// it is stopped after it: the database closes last.
var Store = fx.Module("store",
	fx.Provide(
		SecretsKey,
		OpenStore,
		func(s *entstore.Store) application.Ledger { return s },
		func(s *entstore.Store) application.DialPlanStore { return s },
		func(s *entstore.Store) application.SessionStore { return s },
		func(s *entstore.Store) application.CallStore { return s },
		func(s *entstore.Store) application.LimitStore { return s },
		func(s *entstore.Store) application.SessionQueries { return s },
		func(s *entstore.Store) application.APIKeyStore { return s },
		func(s *entstore.Store) application.AccountStore { return s },
		func(s *entstore.Store) application.UserKeyStore { return s },
		func(s *entstore.Store) application.KeyUsageStore { return s },
		func(s *entstore.Store) application.SessionUserStore { return s },
	),
)

// OpenStore opens the configured database. The embedded SQLite database (and any file: one) is
// created and brought to the current schema on first use, so that one command runs the service on
// a fresh machine; PostgreSQL is migrated only by `kupe migrate`, and a server refuses to start on
// a PostgreSQL schema that is behind.
func OpenStore(lc fx.Lifecycle, cfg configs.DBConfig, key secretbox.Key, log *zap.Logger) (*entstore.Store, error) {
	dsn, err := cfg.DSN()
	if err != nil {
		return nil, err
	}
	if cfg.Embedded() {
		if _, err := EnsureDir(dsn); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := entstore.Open(ctx, dsn, append(storeOptions(cfg), entstore.WithSecretsKey(key))...)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Redacted(), err)
	}
	if cfg.Embedded() {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("migrate %s: %w", cfg.Redacted(), err)
		}
	} else if err := s.CheckSchema(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w (run `kupe migrate`)", cfg.Redacted(), err)
	}
	log.Info("database ready", zap.String("database", cfg.Redacted()), zap.String("dialect", s.Dialect()))
	lc.Append(fx.StopHook(s.Close))
	return s, nil
}

// Carriers provides one carrier per provider.
var Carriers = fx.Module("carriers",
	fx.Provide(NewCarriers, NewCallbackSigner),
)

// NewCarriers builds the carrier adapters from the configuration.
func NewCarriers(c configs.CarriersConfig, signer *httpapi.CallbackSigner, log *zap.Logger) (application.Carriers, *simprovider.Carrier, error) {
	stream := func(req application.DialRequest) string { return c.MediaStreamURL(req.RequestID, req.SessionID) }
	callback := func(p call.Provider) func(string) string {
		return func(sessionID string) string {
			return httpapi.StatusCallbackURL(c.PublicBaseURL, p, sessionID, signer)
		}
	}
	sim := simprovider.New(simprovider.Config{Reject: c.SimulatedReject})
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: c.TwilioAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderTwilio), StreamURL: stream})
	if err != nil {
		return nil, nil, fmt.Errorf("twilio: %w", err)
	}
	exo := exotelprovider.New(exotelprovider.Config{APIBaseURL: c.ExotelAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderExotel), StreamURL: stream})
	eli := elisonprovider.New(elisonprovider.Config{APIBaseURL: c.ElisonAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderElison), StreamURL: stream})
	return guardCarriers(application.CarrierSet{ // faults.go: a circuit breaker per carrier account
		call.ProviderTwilio:    tw,
		call.ProviderExotel:    exo,
		call.ProviderElison:    eli,
		call.ProviderSimulated: sim,
	}, c, log), sim, nil
}

// UseCases provides the application's use cases.
var UseCases = fx.Module("usecases",
	fx.Provide(
		NewCreateCallHandler,
		func(s application.LimitStore) *application.UserLimits { return &application.UserLimits{Store: s} },
		NewAuthenticator,
		func(s application.UserKeyStore) *application.APIKeys { return &application.APIKeys{Store: s} },
		func(s application.SessionUserStore) *application.SessionUsers {
			return &application.SessionUsers{Store: s}
		},
		func(q application.SessionQueries) *application.CallLogs { return &application.CallLogs{Sessions: q} },
		func(a application.AccountStore) *application.Accounts { return &application.Accounts{Store: a} },
		NewCarrierEvents,
	),
)

// EnsureDir creates the folder of a file: DSN's SQLite database, owner-only, and returns the path.
func EnsureDir(dsn string) (string, error) {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create database folder: %w", err)
		}
	}
	return path, nil
}
