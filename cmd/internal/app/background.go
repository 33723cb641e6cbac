package app

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/metrics"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// Background runs the jobs beside the HTTP server: the reconciler, on start and then every
// KUPE_RECONCILE_INTERVAL, the purge of expired idempotency keys, on start and then every
// hour, and the simulated carrier's play (simulation.go). Register it after the store and before HTTP: fx stops hooks in reverse order, so the
// HTTP server drains first, then these jobs stop, and the database closes last.
var Background = fx.Module("background",
	fx.Provide(NewReconciler),
	fx.Invoke(RunReconciler, RunIdempotencyPurge, RunSimulation),
)

// NewReconciler builds the reconciler from the calls and catalog ports and the carriers.
func NewReconciler(s createcall.CallStore, lines accounts.CatalogStore, carriers createcall.Carriers, cfg configs.Config) *callevents.Reconciler {
	return &callevents.Reconciler{Sessions: s, Lines: lines, Carriers: carriers, StaleAfter: cfg.Reconcile.StaleAfter,
		SlotStaleAfter: cfg.Limits.ActiveCallStaleAfter}
}

// RunReconciler runs r in the background for the app's lifetime: once at start, then every
// interval. Stopping cancels a run in progress and waits for it (within the stop deadline).
func RunReconciler(lc fx.Lifecycle, r *callevents.Reconciler, cfg configs.Config, m *metrics.Metrics, log *zap.Logger) {
	log = log.Named("reconcile")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reconcileEvery(ctx, r, cfg.Reconcile.Interval, m, log)
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

func reconcileEvery(ctx context.Context, r *callevents.Reconciler, interval time.Duration, m *metrics.Metrics, log *zap.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := r.ReconcileOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		observeReconcile(m, rep)
		if rep.Settled+rep.Failed+rep.Moved > 0 {
			log.Info("reconciled sessions left in dialing", zap.Int("settled", rep.Settled), zap.Int("failed", rep.Failed),
				zap.Int("moved_on", rep.Moved), zap.Int("deferred", rep.Deferred))
		}
		if rep.SlotsReleased+rep.CountsCorrected > 0 {
			log.Info("repaired the counts of active calls", zap.Int("stale_slots_released", rep.SlotsReleased),
				zap.Int("counts_corrected", rep.CountsCorrected))
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

// purgeBatch bounds one DELETE, so that a backlog never holds a long lock.
const purgeBatch = 1000

// RunIdempotencyPurge runs the purge in the background for the app's lifetime.
func RunIdempotencyPurge(lc fx.Lifecycle, s createcall.CallStore, log *zap.Logger) {
	log = log.Named("idempotency")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				t := time.NewTicker(time.Hour)
				defer t.Stop()
				for {
					PurgeExpiredIdempotencyKeys(ctx, s, time.Now(), log)
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-stop.Done():
				return stop.Err()
			}
		},
	})
}

// PurgeExpiredIdempotencyKeys deletes every key expired by now, a batch at a time.
func PurgeExpiredIdempotencyKeys(ctx context.Context, p createcall.CallStore, now time.Time, log *zap.Logger) int {
	total := 0
	for ctx.Err() == nil {
		n, err := p.PurgeIdempotencyKeys(ctx, now, purgeBatch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("purge of expired idempotency keys failed", zap.Int("purged", total), zap.Error(err))
			}
			break
		}
		if n < purgeBatch {
			break
		}
	}
	if total > 0 {
		log.Info("purged expired idempotency keys", zap.Int("purged", total))
	}
	return total
}
