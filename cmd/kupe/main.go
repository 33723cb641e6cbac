// Command kupe is the outbound-call API server.
//
//	kupe serve     run the API (the embedded SQLite default is created and migrated on first use)
//	kupe migrate   bring the configured database to the current schema
//	kupe version   print the version
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/cmd/internal/app"
	"github.com/kupe-voice/kupe/configs"
)

const usage = `usage: kupe <command>

commands:
  serve     run the API server
  migrate   bring the database to the current schema
  version   print the version

Configuration comes from configs/config.yaml defaults and KUPE_* environment variables.
`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve()
	case "migrate":
		os.Exit(migrate())
	case "version":
		fmt.Println(app.Version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "kupe: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

// serve is fx's App.Run, except that a failure to build, start or stop prints one line, its
// root cause, instead of fx's dependency chain.
func serve() {
	c, err := configs.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kupe serve:", err)
		os.Exit(1)
	}
	a := fx.New(app.Server(c))
	if err := a.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "kupe serve:", app.ErrorLine(err))
		os.Exit(1)
	}
	startCtx, cancel := context.WithTimeout(context.Background(), a.StartTimeout())
	err = a.Start(startCtx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kupe serve:", app.ErrorLine(err))
		os.Exit(1)
	}
	sig := <-a.Wait()
	stopCtx, cancel := context.WithTimeout(context.Background(), a.StopTimeout())
	defer cancel()
	if err := a.Stop(stopCtx); err != nil {
		fmt.Fprintln(os.Stderr, "kupe serve: stop:", app.ErrorLine(err))
		os.Exit(1)
	}
	os.Exit(sig.ExitCode)
}

func migrate() int {
	c, err := configs.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kupe migrate:", err)
		return 1
	}
	var code int
	err = fx.New(
		app.Config(c),
		app.Logging,
		fx.Invoke(func(cfg configs.DBConfig, log *zap.Logger, sd fx.Shutdowner) error {
			dsn, err := cfg.DSN()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if cfg.Embedded() {
				if _, err := app.EnsureDir(dsn); err != nil {
					return err
				}
			}
			s, err := entstore.Open(ctx, dsn)
			if err != nil {
				return fmt.Errorf("open database %s: %w", cfg.Redacted(), err)
			}
			defer s.Close()
			if err := s.Migrate(ctx); err != nil {
				return fmt.Errorf("migrate %s: %w", cfg.Redacted(), err)
			}
			if err := app.MigrateJobs(ctx, s); err != nil {
				return fmt.Errorf("migrate the job queue of %s: %w", cfg.Redacted(), err)
			}
			log.Info("database is at the current schema", zap.String("database", cfg.Redacted()))
			return nil
		}),
		fx.NopLogger,
	).Err()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kupe migrate:", app.ErrorLine(err))
		code = 1
	}
	return code
}
