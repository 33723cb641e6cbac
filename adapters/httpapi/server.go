// Package httpapi serves Kupe's Voice Agent API over HTTP with gin: create_call, the call logs,
// /api/v1/me and /health. It turns requests into use-case calls and the use cases' errors into
// Kupe's status codes and {"detail": "..."} bodies; it holds no business rule of its own.
package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
)

// DefaultMaxBodyBytes bounds a request body when Config.MaxBodyBytes is not set.
const DefaultMaxBodyBytes = 64 << 10

// healthTimeout bounds the database ping of /health, so that a probe never hangs on a stuck pool.
const healthTimeout = 2 * time.Second

// Pinger reports whether the database answers; /health calls it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the use cases the API serves.
type Deps struct {
	CreateCall *createcall.Handler
	Auth       *accounts.Authenticator
	CallLogs   *accounts.CallLogs
	// Accounts answers /api/v1/me (through Accounts.Store.User).
	Accounts *accounts.Accounts
	// Pinger is checked by /health; nil means there is no database to check (an in-memory store).
	Pinger Pinger
	// Readiness is what /ready reports besides the database (ready.go); nil is always ready.
	Readiness *Readiness
	// Credentials are further ways to authenticate, tried in order after the x-api-key header:
	// the Bearer JWT authenticator plugs in here.
	Credentials []Credential
	// APIKeys serves the caller's own keys (/api/v1/api-keys); nil leaves those routes out.
	APIKeys *accounts.APIKeys
	// Callbacks serves the carriers' status callbacks (callbacks.go); nil leaves the route out.
	Callbacks *Callbacks
	// Hangups ends calls in progress (hangup.go); nil leaves the route out.
	Hangups *callevents.HangupHandler
	// Lines, Mappings, Agents and Workflows serve the caller's own records (owned.go): phone
	// lines, what they run, agents and workflows. Each nil leaves its routes out.
	Lines     *accounts.Lines
	Mappings  *accounts.Mappings
	Agents    *accounts.Agents
	Workflows *accounts.Workflows
	// Campaigns serves batch calling (campaigns.go) and DoNotCall the do-not-call list; each nil
	// leaves its routes out.
	Campaigns *campaigns.Service
	DoNotCall *campaigns.DoNotCall
	// Webhooks serves agent webhooks, both ways (webhooks.go); nil leaves those routes out.
	Webhooks *Webhooks
	// Metrics serves GET /metrics (Prometheus' exposition format); nil leaves the route out.
	Metrics http.Handler
	// Redis, when the rate limits are shared through Redis, says whether it answers: /health
	// reports it (and stays 200 without it). nil: no Redis, and /health says nothing of it.
	Redis RedisStatus
	// Middleware runs around every request before the API's own (which gives the request its
	// id, renders errors and logs): metrics and the access log, which so see the final status
	// and the whole duration.
	Middleware []gin.HandlerFunc
}

// RedisStatus is the shared rate limiter's view of Redis: "connected" or "disconnected".
type RedisStatus interface {
	Status() string
}

// Config is the HTTP adapter's configuration.
type Config struct {
	// Version is reported by /health.
	Version string
	// MaxBodyBytes bounds a request body; a longer one is refused with 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// AllowedOrigins are the browser origins (https://app.example.com) that CORS answers and
	// that may call create_call; empty allows none (requests without an Origin are not browsers'
	// and always pass).
	AllowedOrigins []string
	// NoRequestLog drops the debug line each request is logged with, for a deployment whose
	// Middleware writes an access log instead.
	NoRequestLog bool
	// MetricsToken, when set, is the bearer token GET /metrics asks for; empty leaves it open.
	MetricsToken string
	// BatchEventsInterval is how often a batch's event stream reads its counts; zero is
	// DefaultBatchEventsInterval.
	BatchEventsInterval time.Duration
}

type server struct {
	deps    Deps
	cfg     Config
	log     *zap.Logger
	creds   []Credential
	origins origins
}

// New returns the API's gin engine, ready to serve. It panics if a use case is missing from deps:
// that is a wiring mistake, not a condition to run with.
//
// New puts gin in release mode (gin's mode is process-wide) and installs no gin logger: each
// request is logged once through log, at debug level, and each internal error once at error
// level, with the request id that the X-Request-Id response header also carries.
func New(deps Deps, cfg Config, log *zap.Logger) *gin.Engine {
	if deps.CreateCall == nil || deps.Auth == nil || deps.CallLogs == nil || deps.Accounts == nil {
		panic("httpapi: Deps needs CreateCall, Auth, CallLogs and Accounts")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &server{deps: deps, cfg: cfg, log: log, origins: newOrigins(cfg.AllowedOrigins)}
	s.creds = append([]Credential{APIKeyCredential(deps.Auth)}, deps.Credentials...)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// The API reads no client address; trusting no proxy keeps forged X-Forwarded-For out of it.
	_ = e.SetTrustedProxies(nil)
	e.Use(deps.Middleware...)
	e.Use(s.edge, s.cors)
	e.NoRoute(func(c *gin.Context) { fail(c, errRouteNotFound) })
	e.NoMethod(func(c *gin.Context) { fail(c, errMethodNotAllowed) })

	e.GET("/health", s.health)
	if deps.Metrics != nil {
		e.GET("/metrics", s.metricsAuth, gin.WrapH(deps.Metrics))
	}
	e.GET("/ready", s.ready)
	e.GET("/openapi.json", s.openAPIDocument)
	e.GET("/docs", s.apiReference)
	if deps.Callbacks != nil {
		e.POST(StatusCallbackPath, s.statusCallback)
		e.POST(AMDCallbackPath, s.amdCallback)
	}
	e.POST("/api/call/create_call", s.authenticateCreateCall, s.requireAllowedOrigin, s.createCall)
	authed := e.Group("", s.authenticate)
	authed.GET("/api/v1/me", s.me)
	authed.GET("/api/v1/call-analytics", s.callAnalytics)
	authed.GET("/api/v1/call-analytics/export", kupeBadRequest, s.exportCallAnalytics)
	if deps.Hangups != nil {
		authed.POST(HangupPath, s.hangupCall)
	}
	if deps.APIKeys != nil {
		s.apiKeyRoutes(authed)
	}
	s.ownedRoutes(authed)
	if deps.Campaigns != nil {
		s.campaignRoutes(authed)
	}
	if deps.DoNotCall != nil {
		s.suppressionRoutes(authed)
	}
	if deps.Webhooks != nil {
		s.webhookRoutes(authed, e)
	}
	return e
}

// fail ends the request with err; the edge middleware turns it into a status and a body.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// note records an error that did not stop the request (its response is already decided), so
// that the edge middleware logs it once with the request id. fields must not hold secrets or
// whole phone numbers.
func note(c *gin.Context, err error, fields ...zap.Field) {
	c.Error(err).Meta = fields
}

// edge runs around every request, matched or not: it gives the request an id, recovers a panic,
// renders the error a handler failed with, and logs.
func (s *server) edge(c *gin.Context) {
	start := time.Now()
	rid := requestIDFor(c.Request)
	c.Writer.Header()[headerRequestID] = []string{rid}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		c.Abort()
		s.log.Error("panic serving request", zap.String("request_id", rid),
			zap.String("route", c.FullPath()), zap.Any("panic", v), zap.Stack("stack"))
		if !c.Writer.Written() {
			writeDetail(c, http.StatusInternalServerError, detailInternal)
		}
		s.logRequest(c, rid, start)
	}()
	c.Next()
	s.renderErrors(c, rid)
	s.logRequest(c, rid, start)
}

// renderErrors answers with the last error a handler failed with, unless a response was already
// written, and logs each error that is internal or that came with a response already decided.
// Errors the table knows are not logged: they are answers, for the client to read.
func (s *server) renderErrors(c *gin.Context, rid string) {
	if len(c.Errors) == 0 {
		return
	}
	if c.Writer.Written() {
		for _, e := range c.Errors {
			s.logError(c, rid, e, c.Writer.Status())
		}
		return
	}
	var (
		status   int
		detail   string
		internal bool
	)
	for _, e := range c.Errors {
		if status, detail, internal = classify(e.Err); internal {
			s.logError(c, rid, e, status)
		}
	}
	if status == http.StatusUnprocessableEntity && c.GetBool(invalidIs400) {
		status = http.StatusBadRequest
	}
	setRetryAfter(c, c.Errors.Last().Err)
	writeDetail(c, status, detail)
}

func (s *server) logError(c *gin.Context, rid string, e *gin.Error, status int) {
	fields := make([]zap.Field, 0, 6)
	fields = append(fields, zap.String("request_id", rid), zap.String("method", c.Request.Method),
		zap.String("route", c.FullPath()), zap.Int("status", status), zap.Error(e.Err))
	if extra, ok := e.Meta.([]zap.Field); ok {
		fields = append(fields, extra...)
	}
	if c.Request.Context().Err() != nil {
		// The client went away; what failed is most likely only its own request.
		s.log.Warn("request failed after the client left", fields...)
		return
	}
	s.log.Error("request failed", fields...)
}

// logRequest writes the one debug line per request. It logs the route pattern, never the URL:
// the query carries phone numbers.
func (s *server) logRequest(c *gin.Context, rid string, start time.Time) {
	if s.cfg.NoRequestLog {
		return
	}
	ce := s.log.Check(zap.DebugLevel, "http request")
	if ce == nil {
		return
	}
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	ce.Write(zap.String("request_id", rid), zap.String("method", c.Request.Method),
		zap.String("route", route), zap.Int("status", c.Writer.Status()),
		zap.Int("bytes", c.Writer.Size()), zap.Duration("took", time.Since(start)))
}
