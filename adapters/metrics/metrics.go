// Package metrics is the service's observability: Prometheus metrics on a registry of their own
// (served at GET /metrics), gin middleware that counts and times requests and writes a sampled
// access log, and pprof on a separate loopback listener.
//
// Label values are always drawn from bounded sets (route templates, known methods, the
// outcomes, carriers, limits and actions the callers pass as constants), never from what a
// client sent, so the number of series stays bounded.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
)

// Module provides *Metrics to an fx app.
var Module = fx.Module("metrics", fx.Provide(New))

// Buckets of the latency histograms, in seconds. The API's own answers take milliseconds (the
// database on loopback); a carrier's take tens of milliseconds to seconds.
var (
	httpBuckets    = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	carrierBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Metrics holds the service's metric families, registered on a registry of their own (not
// Prometheus' global one), so that tests and two servers in one process do not collide.
//
// The Observe methods take label values that must come from a fixed set of constants in the
// caller: each distinct value is a new series.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	calls            *prometheus.CounterVec
	carrierDuration  *prometheus.HistogramVec
	limiterRejected  *prometheus.CounterVec
	redisFallbacks   prometheus.Counter
	reconciler       *prometheus.CounterVec
	accessLogSkipped prometheus.Counter
}

// New registers the service's families, with the Go runtime and process collectors, on a new
// registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupe_http_requests_total",
			Help: "HTTP requests answered, by route template (\"unmatched\" when no route matched), method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kupe_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupe_calls_total",
			Help: "create_call attempts by outcome: dialed, failed, unknown, or refused_<reason>.",
		}, []string{"outcome"}),
		carrierDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kupe_carrier_request_duration_seconds",
			Help:    "Time of one request to a carrier, by carrier and result.",
			Buckets: carrierBuckets,
		}, []string{"carrier", "result"}),
		limiterRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupe_limiter_rejections_total",
			Help: "Requests refused by a limiter, by limit.",
		}, []string{"limit"}),
		redisFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kupe_limiter_redis_fallbacks_total",
			Help: "Limiter decisions taken with per-process limits because Redis did not answer.",
		}),
		reconciler: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kupe_reconciler_actions_total",
			Help: "What the reconciler did to sessions left in dialing, by action.",
		}, []string{"action"}),
		accessLogSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kupe_access_log_unlogged_total",
			Help: "Access-log lines sampled out (counted, not written) above the configured rate.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.calls, m.carrierDuration,
		m.limiterRejected, m.redisFallbacks, m.reconciler, m.accessLogSkipped,
	)
	return m
}

// Register adds collectors of other packages (River's queues, campaigns) to the registry, so
// that GET /metrics serves them too. It fails if a collector clashes with one registered.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Registerer is the registry for code that wants to register its own way (promauto.With).
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Gatherer is the registry as a source of metrics (for tests and other exporters).
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the registry in the Prometheus exposition format, for GET /metrics (with gin:
// engine.GET("/metrics", gin.WrapH(m.Handler()))).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// ObserveCall counts one create_call by outcome (dialed, failed, unknown, refused_<reason>).
func (m *Metrics) ObserveCall(outcome string) { m.calls.WithLabelValues(outcome).Inc() }

// ObserveCarrier records one request to a carrier: which carrier, its result (ok, rejected,
// error, timeout...) and how long it took.
func (m *Metrics) ObserveCarrier(carrier, result string, d time.Duration) {
	m.carrierDuration.WithLabelValues(carrier, result).Observe(d.Seconds())
}

// LimiterRejected counts one request refused by the named limit (rate, concurrency, pacing...).
func (m *Metrics) LimiterRejected(limit string) { m.limiterRejected.WithLabelValues(limit).Inc() }

// RedisFallback counts one limiter decision taken with per-process limits because Redis failed.
func (m *Metrics) RedisFallback() { m.redisFallbacks.Inc() }

// ReconcilerAction counts one thing the reconciler did (settled, failed_unknown...).
func (m *Metrics) ReconcilerAction(action string) { m.reconciler.WithLabelValues(action).Inc() }
