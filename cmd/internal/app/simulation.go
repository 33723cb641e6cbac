package app

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
)

// RunSimulation makes the simulated carrier play its calls for the server's lifetime: on start
// it begins playing, adopts the simulated sessions still open (a restart mid-call, or calls
// kupectl placed), and adopts again every KUPE_RECONCILE_INTERVAL. On stop it stops playing
// before the database closes (Background stops before the store); the calls in play stay open
// for the next start to adopt.
func RunSimulation(lc fx.Lifecycle, sim *simprovider.Carrier, s createcall.CallStore, cfg configs.Config, log *zap.Logger) {
	log = log.Named("simulated")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			sim.Start()
			go func() {
				defer close(done)
				adoptEvery(ctx, sim, s, cfg.Reconcile.Interval, log)
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stop.Done():
				return stop.Err()
			}
			sim.Stop()
			return nil
		},
	})
}

func adoptEvery(ctx context.Context, sim *simprovider.Carrier, s createcall.CallStore, interval time.Duration, log *zap.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := sim.Adopt(ctx, s)
		if ctx.Err() != nil {
			return
		}
		if n > 0 {
			log.Info("simulated calls picked up", zap.Int("calls", n))
		}
		if err != nil {
			log.Warn("simulated calls not picked up", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
