// Package redislimit shares create_call's rate limits between replicas through Redis: the
// per-user request rate and the per-line pacing, by key, with the Reserve contract of the
// in-process adapters/ratelimit (the application's RateLimiter port). While Redis is unreachable
// each process falls back to its own buckets, and it goes back to Redis by itself.
package redislimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
)

// Why a Lua script and not github.com/go-redis/redis_rate/v10: pacing reserves a slot up to
// maxWait ahead and tells the caller how long to wait for it, and redis_rate cannot say that.
// Its AllowN only admits what fits in the burst now and refuses the rest with a RetryAfter, so
// a paced dial would have to poll. Its Limit is also a whole number of requests per period,
// where our rates are fractional (0.01 to 10000 a second), and it reads the time from Redis
// only, so no test could drive it with a fake clock. gcra.lua is the same algorithm (one key
// holding the theoretical arrival time) with a maxWait argument and an optional caller's clock.
//
//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(gcraSource)

// Defaults of the Options' zero fields.
const (
	DefaultPrefix     = "kupe:limit:"
	DefaultTimeout    = 100 * time.Millisecond
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
)

// Status values, for /health.
const (
	StatusConnected    = "connected"
	StatusDisconnected = "disconnected"
)

// Options tune a Limiter; the zero value takes the defaults above.
type Options struct {
	// Prefix is put before every key in Redis, so that the limiter shares a database safely.
	Prefix string
	// Timeout bounds each round trip to Redis, so that a slow Redis delays a create_call by at
	// most this much once, before the limiter falls back to the process's own buckets.
	Timeout time.Duration
	// Backoff is how long the limiter stays on its own buckets after Redis failed before it
	// tries Redis again; each failed retry doubles it, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// OnFallback is called once for each reservation served by the process's own buckets
	// instead of Redis (a counter of the lead's metrics, say). It must not block.
	OnFallback func()
	// Logger gets one warning when Redis becomes unreachable and one line when it is back.
	// nil logs nothing.
	Logger *zap.Logger
	// Now, when set, is the limiter's clock: for the backoff, the fallback buckets and the
	// arrival times kept in Redis, which are then computed from the replica's clock instead of
	// Redis' TIME. Leave it nil in production: replicas' clocks differ (a replica whose clock is
	// δ ahead could take δ×rate tokens early, and pacing would be skewed by δ), while Redis has
	// one clock for everyone. Tests set it to drive time.
	Now func() time.Time
}

// Client is what the limiter needs of a go-redis client (*redis.Client, *redis.ClusterClient,
// redis.UniversalClient).
type Client interface {
	redis.Scripter
	Ping(ctx context.Context) *redis.StatusCmd
}

// Redis' state as the limiter last saw it.
const (
	stateUnknown int32 = iota // no round trip yet: try Redis
	stateUp
	stateDown // serve from the fallback until retryAt, then let one request try Redis
)

// Limiter is safe for concurrent use. Make one with New or Open.
type Limiter struct {
	rdb        Client
	closer     func() error
	prefix     string
	timeout    time.Duration
	backoff    time.Duration
	maxBackoff time.Duration
	onFallback func()
	log        *zap.Logger
	now        func() time.Time // nil: Redis' TIME for the arrival times
	clock      func() time.Time // never nil: backoff
	fallback   *ratelimit.Buckets

	state atomic.Int32
	mu    sync.Mutex // guards the fields below, used only while Redis is down
	retry time.Time
	wait  time.Duration // the current backoff
	probe bool          // a request or a Status call is trying Redis
}

// New returns a limiter on rdb; the caller keeps rdb and closes it. Each round trip is bounded by
// a context deadline of o.Timeout, which go-redis honours when rdb's options have
// ContextTimeoutEnabled (Open sets it, with retries off).
func New(rdb Client, o Options) *Limiter {
	l := &Limiter{
		rdb:        rdb,
		closer:     func() error { return nil },
		prefix:     o.Prefix,
		timeout:    o.Timeout,
		backoff:    o.Backoff,
		maxBackoff: o.MaxBackoff,
		onFallback: o.OnFallback,
		log:        o.Logger,
		now:        o.Now,
		clock:      o.Now,
	}
	if l.prefix == "" {
		l.prefix = DefaultPrefix
	}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	if l.backoff <= 0 {
		l.backoff = DefaultBackoff
	}
	if l.maxBackoff <= 0 {
		l.maxBackoff = DefaultMaxBackoff
	}
	l.maxBackoff = max(l.maxBackoff, l.backoff)
	if l.onFallback == nil {
		l.onFallback = func() {}
	}
	if l.log == nil {
		l.log = zap.NewNop()
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	l.fallback = ratelimit.New(o.Now)
	return l
}

// Open connects to the Redis at rawURL (redis://[user:password@]host:port/db or rediss://...,
// as KUPE_REDIS_URL holds) and returns a limiter that owns the client: Close closes it. It does
// not wait for Redis: a Redis that is down at start is a fallback like any other. Timeouts the
// URL does not set (dial_timeout, read_timeout, ...) are the limiter's Timeout, and go-redis'
// retries are off: the limiter has its own.
func Open(rawURL string, o Options) (*Limiter, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	for _, d := range []*time.Duration{&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout} {
		if *d == 0 {
			*d = timeout
		}
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	l := New(rdb, o)
	l.closer = rdb.Close
	return l, nil
}

// Close closes the client Open made; it does nothing to a client given to New.
func (l *Limiter) Close() error { return l.closer() }

// Reserve implements create_call's RateLimiter port (createcall.RateLimiter) with Take. It never
// fails: while Redis cannot answer, the process's own buckets do.
func (l *Limiter) Reserve(ctx context.Context, key string, rate float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	wait, ok := l.Take(ctx, key, rate, burst, maxWait)
	return wait, ok, nil
}

// Take takes a token from key's bucket, which refills at rate tokens a second and holds at most
// burst, in Redis, so that every replica draws on the same bucket. When a token is free within
// maxWait it is taken, ok is true and wait is how long the caller must wait before acting (0: at
// once). Otherwise nothing is taken, ok is false and wait is how long until a token would be
// free. A rate that is not positive means no limit. A bucket seen for the first time starts
// full. Redis unreachable, slow or erring, the process's own buckets answer instead.
func (l *Limiter) Take(ctx context.Context, key string, rate float64, burst int, maxWait time.Duration) (wait time.Duration, ok bool) {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 1) {
		return 0, true
	}
	burst = max(burst, 1)
	maxWait = max(maxWait, 0)
	probe, use := l.useRedis()
	if !use {
		return l.local(key, rate, burst, maxWait)
	}
	wait, ok, err := l.reserve(ctx, key, rate, burst, maxWait)
	switch {
	case err == nil:
		l.succeeded(probe)
		return wait, ok
	case ctx.Err() != nil:
		// The caller gave up (client gone, server stopping): no news about Redis.
		l.abandoned(probe)
	default:
		l.failed(probe, err)
	}
	return l.local(key, rate, burst, maxWait)
}

func (l *Limiter) reserve(ctx context.Context, key string, rate float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	now := int64(-1)
	if l.now != nil {
		now = l.now().UnixMicro()
	}
	res, err := gcra.Run(ctx, l.rdb, []string{l.prefix + key},
		strconv.FormatFloat(1e6/rate, 'g', -1, 64), burst, maxWait.Microseconds(), now).Int64Slice()
	if err != nil {
		return 0, false, err
	}
	if len(res) != 2 {
		return 0, false, errors.New("redislimit: unexpected reply from the script")
	}
	return time.Duration(res[1]) * time.Microsecond, res[0] == 1, nil
}

func (l *Limiter) local(key string, rate float64, burst int, maxWait time.Duration) (time.Duration, bool) {
	l.onFallback()
	return l.fallback.Take(key, rate, burst, maxWait)
}

// useRedis says whether this call goes to Redis, and whether it is the one probe allowed while
// Redis is down.
func (l *Limiter) useRedis() (probe, use bool) {
	if l.state.Load() != stateDown {
		return false, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.Load() != stateDown {
		return false, true
	}
	if l.probe || l.clock().Before(l.retry) {
		return false, false
	}
	l.probe = true
	return true, true
}

func (l *Limiter) succeeded(probe bool) {
	switch l.state.Load() {
	case stateUp:
		return
	case stateUnknown:
		if l.state.CompareAndSwap(stateUnknown, stateUp) {
			l.log.Info("rate limits shared through redis")
		}
		return
	}
	if !probe {
		// A request sent before Redis went down answered late: only the probe decides.
		return
	}
	l.mu.Lock()
	l.probe = false
	l.state.Store(stateUp)
	l.mu.Unlock()
	l.log.Info("redis reachable again: rate limits shared through redis")
}

func (l *Limiter) failed(probe bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.Load() != stateDown {
		l.state.Store(stateDown)
		l.wait = l.backoff
		l.retry = l.clock().Add(l.wait)
		l.log.Warn("redis unreachable: rate limits are per process until it is back",
			zap.Error(err), zap.Duration("retry_in", l.wait))
		return
	}
	if probe {
		l.probe = false
		l.wait = min(2*l.wait, l.maxBackoff)
		l.retry = l.clock().Add(l.wait)
	}
}

func (l *Limiter) abandoned(probe bool) {
	if probe {
		l.mu.Lock()
		l.probe = false
		l.mu.Unlock()
	}
}

// Status is "connected" or "disconnected", for /health. Before any request, or when Redis is
// down and its backoff has passed, it asks Redis (PING, within the Timeout), so that a quiet
// replica's health follows Redis too.
func (l *Limiter) Status() string {
	switch l.state.Load() {
	case stateUp:
		return StatusConnected
	case stateDown:
		if probe, _ := l.useRedis(); !probe {
			return StatusDisconnected
		}
	}
	if err := l.Ping(context.Background()); err != nil {
		return StatusDisconnected
	}
	return StatusConnected
}

// Ping asks Redis whether it is there, within the Timeout, and records the answer as a request
// would (the transition is logged, a failure starts the backoff).
func (l *Limiter) Ping(ctx context.Context) error {
	probe := l.state.Load() == stateDown
	if probe {
		l.mu.Lock()
		l.probe = true
		l.mu.Unlock()
	}
	pctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	err := l.rdb.Ping(pctx).Err()
	switch {
	case err == nil:
		l.succeeded(probe)
	case ctx.Err() != nil:
		l.abandoned(probe)
	default:
		l.failed(probe, err)
	}
	return err
}
