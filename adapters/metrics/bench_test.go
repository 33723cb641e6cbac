package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/kupe-voice/kupe/adapters/metrics"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks measure the
// middleware, not a recorder's buffers.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchEngine(b *testing.B, mw ...gin.HandlerFunc) {
	e := gin.New()
	e.Use(mw...)
	e.GET("/api/v1/lines/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	req := httptest.NewRequest(http.MethodGet, "/api/v1/lines/ln_123", nil)
	w := &discardWriter{h: http.Header{"X-Request-Id": {"abc-1"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.ServeHTTP(w, req)
	}
}

// naiveMetrics is the plain way, for comparison: resolve the series on every request.
func naiveMetrics() gin.HandlerFunc {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r", Help: "r"}, []string{"route", "method", "status"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "d", Help: "d"}, []string{"route", "method"})
	reg.MustRegister(reqs, dur)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		reqs.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		dur.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

func jsonLogger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel))
}

func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchEngine(b) })
	b.Run("metrics", func(b *testing.B) { benchEngine(b, metrics.New().HTTPMiddleware()) })
	b.Run("metrics-naive", func(b *testing.B) { benchEngine(b, naiveMetrics()) })
	b.Run("accesslog-written", func(b *testing.B) {
		benchEngine(b, metrics.AccessLog(jsonLogger(), metrics.AccessLogConfig{PerSecond: -1}))
	})
	b.Run("accesslog-sampled-out", func(b *testing.B) {
		m := metrics.New()
		benchEngine(b, metrics.AccessLog(jsonLogger(), metrics.AccessLogConfig{PerSecond: 0, Metrics: m}))
	})
	b.Run("metrics+accesslog-written", func(b *testing.B) {
		m := metrics.New()
		benchEngine(b, m.HTTPMiddleware(), metrics.AccessLog(jsonLogger(), metrics.AccessLogConfig{PerSecond: -1, Metrics: m}))
	})
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	m := metrics.New()
	e := gin.New()
	e.Use(m.HTTPMiddleware(), metrics.AccessLog(jsonLogger(), metrics.AccessLogConfig{PerSecond: 100, Metrics: m}))
	e.GET("/api/v1/lines/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/lines/ln_123", nil)
		w := &discardWriter{h: http.Header{"X-Request-Id": {"abc-1"}}}
		for pb.Next() {
			e.ServeHTTP(w, req)
		}
	})
}

func BenchmarkObserveCall(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveCall("dialed")
	}
}
