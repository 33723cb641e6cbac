package app

import (
	"context"
	"errors"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/metrics"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
)

// Observability provides the Prometheus metrics (served at GET /metrics by the HTTP module, fed
// by the use cases, the carriers, the limiter and the reconciler), with the database pool's
// statistics, and runs pprof on KUPE_PPROF_ADDR, a loopback listener of its own (off when
// unset). kupectl runs without it: the metrics are optional everywhere they are fed.
var Observability = fx.Module("observability",
	fx.Provide(metrics.New),
	fx.Invoke(RegisterDBStats, RunPprof),
)

// RegisterDBStats exports the store's connection pool.
func RegisterDBStats(m *metrics.Metrics, s *entstore.Store) error {
	return m.RegisterDBStats(s.Stats)
}

// RunPprof serves pprof for the app's lifetime when KUPE_PPROF_ADDR is set.
func RunPprof(lc fx.Lifecycle, c configs.Config, log *zap.Logger) error {
	p, err := metrics.NewPprof(c.Observability.PprofAddr, log.Named("pprof"))
	if err != nil {
		return err
	}
	lc.Append(fx.Hook{OnStart: p.Start, OnStop: p.Stop})
	return nil
}

// observedCarrier times each dial of the carrier it wraps, by carrier and result, and keeps what
// else the wrapped carrier can do, as carrierguard does: look a call up
// (callevents.CallFetcher), hang one up (callevents.Hanger), say which call options it honours
// (createcall.OptionCarrier).
type observedCarrier struct {
	next    createcall.Carrier
	carrier string
	m       *metrics.Metrics
}

func observeCarrier(next createcall.Carrier, p call.Provider, m *metrics.Metrics) createcall.Carrier {
	if m == nil {
		return next
	}
	return &observedCarrier{next: next, carrier: p.String(), m: m}
}

func (c *observedCarrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	start := time.Now()
	leg, err := c.next.Dial(ctx, req)
	c.m.ObserveCarrier(c.carrier, dialResult(err), time.Since(start))
	return leg, err
}

// dialResult is the result label of a dial: ok, or the kind of its *createcall.DialError.
func dialResult(err error) string {
	if err == nil {
		return "ok"
	}
	var de *createcall.DialError
	if errors.As(err, &de) {
		return de.Kind.String()
	}
	return "error"
}

func (c *observedCarrier) FetchCall(ctx context.Context, req callevents.FetchRequest) (call.Status, error) {
	f, ok := c.next.(callevents.CallFetcher)
	if !ok {
		return 0, callevents.ErrFetchUnsupported
	}
	return f.FetchCall(ctx, req)
}

func (c *observedCarrier) Hangup(ctx context.Context, req callevents.HangupRequest) error {
	h, ok := c.next.(callevents.Hanger)
	if !ok {
		return callevents.ErrHangupUnsupported
	}
	return h.Hangup(ctx, req)
}

func (c *observedCarrier) UnhonouredOption(o call.Options) string {
	if oc, ok := c.next.(createcall.OptionCarrier); ok {
		return oc.UnhonouredOption(o)
	}
	if asked := o.Asked(); len(asked) > 0 {
		return asked[0]
	}
	return ""
}

var (
	_ callevents.CallFetcher   = (*observedCarrier)(nil)
	_ callevents.Hanger        = (*observedCarrier)(nil)
	_ createcall.OptionCarrier = (*observedCarrier)(nil)
)

// observeReconcile counts what one reconciler run did.
func observeReconcile(m *metrics.Metrics, rep callevents.ReconcileReport) {
	if m == nil {
		return
	}
	for action, n := range map[string]int{
		"settled": rep.Settled, "failed": rep.Failed, "deferred": rep.Deferred, "moved_on": rep.Moved,
		"slot_released": rep.SlotsReleased, "count_corrected": rep.CountsCorrected,
	} {
		for range n {
			m.ReconcilerAction(action)
		}
	}
}
