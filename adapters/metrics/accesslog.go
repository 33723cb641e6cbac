package metrics

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// RequestIDHeader is the response header the API puts its request id in (httpapi's edge
// middleware sets it before any handler runs).
const RequestIDHeader = "X-Request-Id"

// RequestIDFromResponse reads the request id from the X-Request-Id response header: the default
// of AccessLogConfig.RequestID.
func RequestIDFromResponse(c *gin.Context) string {
	if v := c.Writer.Header()[RequestIDHeader]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// AccessLogConfig shapes the access log.
type AccessLogConfig struct {
	// PerSecond is how many lines a second are written in full; past it, lines are counted and
	// not written, and the next line written says how many were held back (field "unlogged").
	// Server errors (5xx) are always written. Zero writes only server errors; negative writes all.
	PerSecond int
	// RequestID gets the request's id; nil reads the X-Request-Id response header.
	RequestID func(*gin.Context) string
	// Now is the clock, for durations and the sampling window; nil is time.Now.
	Now func() time.Time
	// Metrics, when set, also counts the held-back lines (kupe_access_log_unlogged_total).
	Metrics *Metrics
}

// AccessLog writes one line per request: request_id, method, route template, status, bytes and
// duration, at info level (warn for 5xx). It never writes the path, the query string, headers
// or bodies: they carry phone numbers and keys. Install it before the middleware that sets the
// request id and renders errors (httpapi's edge), so that both are done when it writes.
func AccessLog(log *zap.Logger, cfg AccessLogConfig) gin.HandlerFunc {
	if cfg.RequestID == nil {
		cfg.RequestID = RequestIDFromResponse
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var skipped func()
	if cfg.Metrics != nil {
		skipped = cfg.Metrics.accessLogSkipped.Inc
	}
	s := &sampler{limit: cfg.PerSecond}
	core := log.Core()
	return func(c *gin.Context) {
		start := cfg.Now()
		c.Next()
		status := c.Writer.Status()
		level := zapcore.InfoLevel
		if status >= 500 {
			level = zapcore.WarnLevel
		}
		if !core.Enabled(level) {
			return
		}
		now := cfg.Now()
		ok, held := s.take(now, status >= 500)
		if !ok {
			if skipped != nil {
				skipped()
			}
			return
		}
		ce := log.Check(level, "http request")
		if ce == nil {
			return
		}
		route := c.FullPath()
		if route == "" {
			route = UnmatchedRoute
		}
		bytes := c.Writer.Size()
		if bytes < 0 {
			bytes = 0
		}
		fields := [7]zap.Field{
			zap.String("request_id", cfg.RequestID(c)),
			zap.String("method", methodNames[methodIndex(c.Request.Method)]),
			zap.String("route", route),
			zap.Int("status", status),
			zap.Int("bytes", bytes),
			zap.Duration("duration", now.Sub(start)),
		}
		n := 6
		if held > 0 {
			fields[n] = zap.Uint64("unlogged", held)
			n++
		}
		ce.Write(fields[:n]...)
	}
}

// sampler lets at most limit lines through in each second of the clock, and counts the rest.
type sampler struct {
	limit int

	mu     sync.Mutex
	window int64 // the Unix second being counted
	n      int   // lines let through in window
	held   uint64
}

// take reports whether a line at now may be written (always: whatever the count) and, if so,
// how many were held back since the last one written.
func (s *sampler) take(now time.Time, always bool) (ok bool, held uint64) {
	if s.limit < 0 {
		return true, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := now.Unix(); sec != s.window {
		s.window, s.n = sec, 0
	}
	if !always && s.n >= s.limit {
		s.held++
		return false, 0
	}
	if !always {
		s.n++
	}
	held, s.held = s.held, 0
	return true, held
}
