package app

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/carrierguard"
	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
)

// guardCarriers puts a circuit breaker, one per carrier account, in front of every carrier.
func guardCarriers(set application.CarrierSet, c configs.CarriersConfig, log *zap.Logger) application.CarrierSet {
	out := make(application.CarrierSet, len(set))
	for p, carrier := range set {
		out[p] = carrierguard.New(carrier, carrierguard.Config{Provider: p, Failures: uint32(c.BreakerFailures),
			Cooldown: c.BreakerCooldown}, log.Named("carrier"))
	}
	return out
}

// storeOptions are the entstore options the configuration asks for beside the secrets key.
func storeOptions(cfg configs.DBConfig) []entstore.Option {
	if cfg.Timeout <= 0 {
		return nil
	}
	return []entstore.Option{entstore.WithStatementTimeout(cfg.Timeout)}
}

// Reconcile runs the reconciler on start and then every KUPE_RECONCILE_INTERVAL. Register it
// after the store and before HTTP: fx stops hooks in reverse order, so the HTTP server drains
// first, then the reconciler stops, and the database closes last.
var Reconcile = fx.Module("reconcile",
	fx.Provide(NewReconciler),
	fx.Invoke(RunReconciler),
)

// NewReconciler builds the reconciler from the store and the carriers.
func NewReconciler(s *entstore.Store, carriers application.Carriers, cfg configs.Config) *application.Reconciler {
	return &application.Reconciler{Stale: s, Sessions: s, Lines: s, Carriers: carriers,
		StaleAfter: cfg.Reconcile.StaleAfter}
}

// RunReconciler runs r in the background for the app's lifetime: once at start, then every
// interval. Stopping cancels a run in progress and waits for it (within the stop deadline).
func RunReconciler(lc fx.Lifecycle, r *application.Reconciler, cfg configs.Config, log *zap.Logger) {
	log = log.Named("reconcile")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reconcileEvery(ctx, r, cfg.Reconcile.Interval, log)
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				log.Debug("reconciler stopped")
				return nil
			case <-stop.Done():
				return stop.Err()
			}
		},
	})
}

func reconcileEvery(ctx context.Context, r *application.Reconciler, interval time.Duration, log *zap.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := r.ReconcileOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if rep.Settled+rep.Failed+rep.Moved > 0 {
			log.Info("reconciled sessions left in dialing", zap.Int("settled", rep.Settled), zap.Int("failed", rep.Failed),
				zap.Int("moved_on", rep.Moved), zap.Int("deferred", rep.Deferred))
		}
		if err != nil {
			// Session ids and carrier errors only: adapters redact numbers and credentials.
			log.Warn("reconciler run incomplete", zap.Int("deferred", rep.Deferred), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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

// StopTimeout gives fx enough time to stop gracefully: the drain delay, the in-flight requests'
// bound, then the reconciler and the database. fx's own default (15 s) is shorter than the
// defaults of the first two together.
func StopTimeout() fx.Option {
	c, err := configs.Load()
	if err != nil {
		return fx.Options() // fx.New reports the configuration error itself
	}
	return fx.StopTimeout(c.HTTP.DrainDelay + c.HTTP.ShutdownTimeout + 10*time.Second)
}
