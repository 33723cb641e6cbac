package app

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
)

// NewCreateCallHandler builds the create_call use case with the deployment's limits and guards.
// The rate limiter is this process's own: each replica enforces the per-user rate and the line
// pacing by itself, while the cap on active calls holds across replicas (it is in the database).
func NewCreateCallHandler(c configs.Config, p application.DialPlanStore, s application.CallStore, carriers application.Carriers) *application.CreateCallHandler {
	dest := c.Limits.Destinations()
	return &application.CreateCallHandler{Plans: p, Sessions: s, Carriers: carriers,
		Limiter: ratelimit.New(nil),
		Limits: application.CallLimits{
			Destinations:             &dest,
			DefaultRequestsPerSecond: c.Limits.DefaultRequestsPerSecond,
			ActiveCallStaleAfter:     c.Limits.ActiveCallStaleAfter,
			MaxPacingWait:            c.Limits.LinePacingMaxWait,
		}}
}

// IdempotencyPurge deletes expired idempotency keys while the server runs: at start, then every
// hour. Register it after the store, so that it stops before the database closes.
var IdempotencyPurge = fx.Module("idempotency",
	fx.Invoke(RunIdempotencyPurge),
)

// purgeBatch bounds one DELETE, so that a backlog never holds a long lock.
const purgeBatch = 1000

// RunIdempotencyPurge runs the purge in the background for the app's lifetime.
func RunIdempotencyPurge(lc fx.Lifecycle, s *entstore.Store, log *zap.Logger) {
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
func PurgeExpiredIdempotencyKeys(ctx context.Context, p application.IdempotencyPurger, now time.Time, log *zap.Logger) int {
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
