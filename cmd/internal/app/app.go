// Package app wires the service together with fx, one file per module: config, logging, store,
// carriers, usecases, demo, background (the reconciler and the idempotency purge) and http. Server
// is the whole of `kupe serve`, and the integration tests start exactly it; kupectl takes the
// modules it needs. Constructors take ports, not adapters, except where a module opens one.
package app

import (
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/configs"
)

// Version is the build's version, reported by /health; set with -ldflags "-X ...app.Version=...".
var Version = "0.1.0-dev"

// Server is `kupe serve` as options for fx.New, on the configuration c (loaded once, by the
// caller). The order is the stop order reversed: fx stops hooks last-registered first, so the
// HTTP server drains first, then the background jobs stop, and the database closes last.
func Server(c configs.Config) fx.Option {
	return fx.Options(
		Config(c),
		Logging,
		Observability,
		Store,
		Carriers,
		UseCases,
		Campaigns,
		Demo,
		Jobs, // the job queue: started after the store, stopped before it closes
		Webhooks,
		Background,
		HTTP,
		fx.StopTimeout(StopTimeout(c)),
	)
}

// StopTimeout gives fx enough time to stop gracefully: the drain delay, the in-flight requests'
// bound, then the background jobs and the database. fx's own default (15 s) is shorter than the
// defaults of the first two together.
func StopTimeout(c configs.Config) time.Duration {
	return c.HTTP.DrainDelay + c.HTTP.ShutdownTimeout + 10*time.Second
}
