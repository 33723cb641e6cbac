package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// Store opens the database and closes it when the app stops, and provides it as each port the
// use cases consume: one per aggregate. Registered before the HTTP server, it is stopped after
// it: the database closes last.
var Store = fx.Module("store",
	fx.Provide(
		SecretsKey,
		OpenStore,
		func(s *entstore.Store) createcall.CallStore { return s },
		func(s *entstore.Store) createcall.DialPlanStore { return s },
		func(s *entstore.Store) callevents.Ledger { return s },
		func(s *entstore.Store) accounts.UserStore { return s },
		func(s *entstore.Store) accounts.KeyStore { return s },
		func(s *entstore.Store) accounts.CatalogStore { return s },
		func(s *entstore.Store) accounts.Store { return s },
		func(s *entstore.Store) httpapi.Pinger { return s },
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

// storeOptions are the entstore options the configuration asks for beside the secrets key.
func storeOptions(cfg configs.DBConfig) []entstore.Option {
	if cfg.Timeout <= 0 {
		return nil
	}
	return []entstore.Option{entstore.WithStatementTimeout(cfg.Timeout)}
}

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

// errNoSecretsKey explains the one way a server cannot get a key by itself.
var errNoSecretsKey = errors.New("KUPE_SECRETS_KEY is required with PostgreSQL: set it to 32 random bytes, " +
	"base64 or hex (for example `openssl rand -base64 32`), the same on every server, and keep it: the lines' " +
	"carrier credentials are sealed with it")

// SecretsKey is the key that seals the lines' credentials: KUPE_SECRETS_KEY when set; else, on
// SQLite, the key in secrets.key beside the database file, made (mode 0600) on first use, so that
// a fresh checkout runs with one command; else, on PostgreSQL, an error.
func SecretsKey(c configs.Config, log *zap.Logger) (secretbox.Key, error) {
	if c.Secrets.Key != nil {
		return secretbox.Key(c.Secrets.Key), nil
	}
	path, ok := c.Database.SecretsKeyFile()
	if !ok {
		return nil, errNoSecretsKey
	}
	key, created, err := secretbox.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the secrets key that seals line credentials; keep it with the database",
			zap.String("path", path))
	}
	return key, nil
}
