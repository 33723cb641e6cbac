package redislimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/adapters/redislimit"
	"github.com/kupe-voice/kupe/application/createcall"
)

// The tests need the Redis at 127.0.0.1:6379 (KUPE_TEST_REDIS_URL to use another); they skip
// only when KUPE_TEST_SKIP_REDIS is set.
func redisURL(t testing.TB) string {
	t.Helper()
	if os.Getenv("KUPE_TEST_SKIP_REDIS") != "" {
		t.Skip("KUPE_TEST_SKIP_REDIS is set: skipping the tests that need a real Redis")
	}
	if u := os.Getenv("KUPE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// prefix is a key prefix of the test's own; its keys are deleted when the test ends.
func prefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := "kupe-test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + hex.EncodeToString(b) + ":"
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() {
		defer rdb.Close()
		ctx := context.Background()
		keys, err := rdb.Keys(ctx, p+"*").Result()
		if err != nil {
			t.Errorf("clean up %s: %v", p, err)
			return
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return p
}

// keys lists the keys in Redis under p.
func keys(t *testing.T, p string) []string {
	t.Helper()
	opt, _ := redis.ParseURL(redisURL(t))
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	k, err := rdb.Keys(context.Background(), p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// replica is one process's limiter, with what it logged and how often it fell back.
type replica struct {
	*redislimit.Limiter
	logs      *observer.ObservedLogs
	fallbacks atomic.Int64
}

// open makes a replica. Its Timeout is 5s unless o says otherwise: the tests share a slow machine
// (and -race), and a reservation that timed out would fall back where a test expects Redis;
// TestStalledRedisTimesOut covers the timeout.
func open(t *testing.T, url string, o redislimit.Options) *replica {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	r := &replica{}
	core, logs := observer.New(zap.InfoLevel)
	r.logs = logs
	o.Logger = zap.New(core)
	o.OnFallback = func() { r.fallbacks.Add(1) }
	l, err := redislimit.Open(url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r.Limiter = l
	return r
}

// openCounting is open with a client of the test's own, which counts the limiter's commands to
// Redis.
func openCounting(t *testing.T, url string, o redislimit.Options) (*replica, *atomic.Int64) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries, opt.DialerRetries = -1, 1
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	h := &countCommands{}
	rdb.AddHook(h)
	r := &replica{}
	core, logs := observer.New(zap.InfoLevel)
	r.logs = logs
	o.Logger = zap.New(core)
	o.OnFallback = func() { r.fallbacks.Add(1) }
	r.Limiter = redislimit.New(rdb, o)
	return r, &h.n
}

type countCommands struct{ n atomic.Int64 }

func (h *countCommands) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countCommands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *countCommands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() { // not the connections' handshakes (hello, client setinfo)
		case "evalsha", "eval", "ping":
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *replica) logged(snippet string) int { return r.logs.FilterMessageSnippet(snippet).Len() }

const (
	downMsg = "redis unreachable"
	upMsg   = "reachable again"
)

// Two replicas offering 200 requests a second between them against a limit of 10 a second with
// a burst of 20 are allowed, over ten seconds, the burst and ten seconds' worth: what one
// process alone would allow, decision by decision, not twice it.
func TestTwoReplicasShareTheRate(t *testing.T) {
	url, p, c := redisURL(t), prefix(t), newClock()
	a := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	b := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	one := ratelimit.New(c.now) // the same bucket in one process
	ctx := context.Background()
	allowed := map[*replica]int{}
	for step := 0; step <= 1000; step++ {
		for _, r := range []*replica{a, b} {
			wait, ok := r.Take(ctx, "u1", 10, 20, 0)
			wantWait, wantOK := one.Take("u1", 10, 20, 0)
			// The process's buckets count tokens in floats: their waits may be a nanosecond short.
			if ok != wantOK || (wait-wantWait).Abs() > time.Microsecond {
				t.Fatalf("at %v: wait %v ok %v, one process says wait %v ok %v", c.now().Sub(newClock().now()), wait, ok, wantWait, wantOK)
			}
			if ok {
				allowed[r]++
			}
		}
		c.add(10 * time.Millisecond)
	}
	if total := allowed[a] + allowed[b]; total != 20+10*10 {
		t.Fatalf("two replicas allowed %d requests in 10s, want the burst of 20 and 100 more", total)
	}
	if allowed[a] == 0 || allowed[b] == 0 {
		t.Fatalf("allowed %d and %d: each replica should have had its share", allowed[a], allowed[b])
	}
	if a.fallbacks.Load()+b.fallbacks.Load() != 0 || a.Status() != "connected" || b.Status() != "connected" {
		t.Fatalf("fallbacks %d %d, status %s %s", a.fallbacks.Load(), b.fallbacks.Load(), a.Status(), b.Status())
	}
}

// Pacing reserves slots ahead: each dial learns how long to wait, up to maxWait, whichever
// replica it reaches.
func TestPacingAcrossReplicas(t *testing.T) {
	url, p, c := redisURL(t), prefix(t), newClock()
	a := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	b := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	ctx := context.Background()
	var waits []time.Duration
	for _, r := range []*replica{a, b, a} {
		wait, ok := r.Take(ctx, "line:L1", 4, 1, time.Second)
		if !ok {
			t.Fatalf("refused within maxWait; waits so far %v", waits)
		}
		waits = append(waits, wait)
	}
	if want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond}; !equal(waits, want) {
		t.Fatalf("waits = %v, want the dials spaced a quarter second apart: %v", waits, want)
	}
	// The next slot is 750ms away: over a maxWait of 600ms it is refused and taken by no one.
	if wait, ok := b.Take(ctx, "line:L1", 4, 1, 600*time.Millisecond); ok || wait != 750*time.Millisecond {
		t.Fatalf("over maxWait: wait %v ok %v, want refused with 750ms", wait, ok)
	}
	if wait, ok := a.Take(ctx, "line:L1", 4, 1, time.Second); !ok || wait != 750*time.Millisecond {
		t.Fatalf("after a refusal: wait %v ok %v, want the same slot", wait, ok)
	}
	// 800ms later the next slot, at 1s, is 200ms away.
	c.add(800 * time.Millisecond)
	if wait, ok := b.Take(ctx, "line:L1", 4, 1, time.Second); !ok || wait != 200*time.Millisecond {
		t.Fatalf("after 800ms: wait %v ok %v, want 200ms", wait, ok)
	}
	// Another line has its own pacing.
	if wait, ok := b.Take(ctx, "line:L2", 4, 1, 0); !ok || wait != 0 {
		t.Fatalf("another line: wait %v ok %v", wait, ok)
	}
}

func TestBurstThenRate(t *testing.T) {
	url, p, c := redisURL(t), prefix(t), newClock()
	a := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	b := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	ctx := context.Background()
	// 2 a second with a burst of 4: four at once, then one every half second.
	for i, r := range []*replica{a, b, a, b} {
		if wait, ok := r.Take(ctx, "u", 2, 4, 0); !ok || wait != 0 {
			t.Fatalf("request %d of the burst: wait %v ok %v", i, wait, ok)
		}
	}
	if wait, ok := a.Take(ctx, "u", 2, 4, 0); ok || wait != 500*time.Millisecond {
		t.Fatalf("fifth request: wait %v ok %v, want refused with 500ms", wait, ok)
	}
	if _, ok := a.Take(ctx, "v", 2, 4, 0); !ok {
		t.Fatal("another key was refused")
	}
	c.add(499 * time.Millisecond)
	if _, ok := b.Take(ctx, "u", 2, 4, 0); ok {
		t.Fatal("a token appeared before its time")
	}
	c.add(time.Millisecond)
	if _, ok := b.Take(ctx, "u", 2, 4, 0); !ok {
		t.Fatal("no token after half a second")
	}
	// A long pause refills to the burst, no further.
	c.add(time.Hour)
	for i := range 4 {
		if _, ok := []*replica{a, b}[i%2].Take(ctx, "u", 2, 4, 0); !ok {
			t.Fatalf("request %d after a pause refused", i)
		}
	}
	if _, ok := a.Take(ctx, "u", 2, 4, 0); ok {
		t.Fatal("the bucket held more than its burst")
	}
}

// A fractional rate keeps its exact spacing: 3 a second is a slot every 333333.33µs, and the
// rounding of the arrival times never adds up to a lost or a gained microsecond.
func TestFractionalRate(t *testing.T) {
	url, p, c := redisURL(t), prefix(t), newClock()
	a := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	b := open(t, url, redislimit.Options{Prefix: p, Now: c.now})
	ctx := context.Background()
	for k := range 3000 { // slots over 1000 seconds
		wait, ok := []*replica{a, b}[k%2].Take(ctx, "line:L", 3, 1, time.Hour)
		if want := time.Duration(math.Round(float64(k)*1e6/3)) * time.Microsecond; !ok || wait != want {
			t.Fatalf("slot %d: wait %v ok %v, want %v", k, wait, ok, want)
		}
	}
	c.add(10 * time.Second)
	if wait, ok := a.Take(ctx, "line:L", 3, 1, time.Hour); !ok || wait != 990*time.Second {
		t.Fatalf("10s later: wait %v ok %v, want slot 3000 at 1000s", wait, ok)
	}
}

// With Redis' clock (Now nil, as in production) replicas share one clock; a rate of one per
// 1000 seconds makes the refill negligible while the test runs.
func TestRedisClock(t *testing.T) {
	url, p := redisURL(t), prefix(t)
	a := open(t, url, redislimit.Options{Prefix: p})
	b := open(t, url, redislimit.Options{Prefix: p})
	ctx := context.Background()
	const rate = 0.001
	start := time.Now()
	allowed := 0
	var refused []time.Duration
	for i := range 12 {
		wait, ok := []*replica{a, b}[i%2].Take(ctx, "u", rate, 5, 0)
		if ok {
			allowed++
		} else {
			refused = append(refused, wait)
		}
	}
	elapsed := time.Since(start)
	if allowed != 5 {
		t.Fatalf("%d of 12 allowed with a burst of 5", allowed)
	}
	for _, w := range refused {
		if w > 1000*time.Second || w < 1000*time.Second-elapsed-time.Millisecond {
			t.Fatalf("refused with wait %v, want the next token's 1000s less the %v elapsed", w, elapsed)
		}
	}

	// Pacing on Redis' clock: slots 1000s apart whichever replica asks.
	start = time.Now()
	var waits []time.Duration
	for i := range 3 {
		wait, ok := []*replica{a, b}[i%2].Take(ctx, "line:L", rate, 1, time.Hour)
		if !ok {
			t.Fatalf("dial %d refused within an hour", i)
		}
		waits = append(waits, wait)
	}
	wait, ok := a.Take(ctx, "line:L", rate, 1, 2500*time.Second)
	elapsed = time.Since(start)
	if ok {
		t.Fatalf("a slot 3000s ahead was given within a maxWait of 2500s (wait %v)", wait)
	}
	for i, w := range append(waits, wait) {
		want := time.Duration(i) * 1000 * time.Second
		if w > want || w < want-elapsed-time.Millisecond {
			t.Fatalf("dial %d: wait %v, want %v less at most the %v elapsed", i, w, want, elapsed)
		}
	}
}

func TestConcurrentReservationsNeverExceedTheBurst(t *testing.T) {
	url, p := redisURL(t), prefix(t)
	a := open(t, url, redislimit.Options{Prefix: p})
	b := open(t, url, redislimit.Options{Prefix: p})
	var (
		wg      sync.WaitGroup
		allowed atomic.Int64
	)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := []*replica{a, b}[i%2].Take(context.Background(), "u", 0.001, 10, 0); ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("%d of 64 simultaneous requests over two replicas allowed, want the burst of 10", allowed.Load())
	}
	if a.fallbacks.Load()+b.fallbacks.Load() != 0 {
		t.Fatalf("%d reservations fell back", a.fallbacks.Load()+b.fallbacks.Load())
	}
}

func TestNoRateMeansNoLimitAndNoKey(t *testing.T) {
	url, p := redisURL(t), prefix(t)
	a := open(t, url, redislimit.Options{Prefix: p})
	for range 100 {
		if wait, ok := a.Take(context.Background(), "u", 0, 0, 0); !ok || wait != 0 {
			t.Fatal("a zero rate limited")
		}
	}
	if k := keys(t, p); len(k) != 0 {
		t.Fatalf("keys written for no limit: %v", k)
	}
	// A burst below one is one.
	a.Take(context.Background(), "u", 0.001, 0, 0)
	if _, ok := a.Take(context.Background(), "u", 0.001, 0, 0); ok {
		t.Fatal("a burst of 0 allowed two")
	}
	if k := keys(t, p); len(k) != 1 || k[0] != p+"u" {
		t.Fatalf("keys %v, want the one bucket under the prefix", k)
	}
}

// Redis unreachable: each process limits on its own buckets, counts each fallback, logs once
// and shows disconnected, without trying Redis again before the backoff.
func TestUnreachableRedisFallsBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newClock()
	a := open(t, "redis://"+addr+"/0", redislimit.Options{Now: c.now})
	ctx := context.Background()
	for i := range 2 {
		if wait, ok := a.Take(ctx, "u", 1, 2, 0); !ok || wait != 0 {
			t.Fatalf("request %d within the local burst: wait %v ok %v", i, wait, ok)
		}
	}
	if wait, ok := a.Take(ctx, "u", 1, 2, 0); ok || wait != time.Second {
		t.Fatalf("third request: wait %v ok %v, want the local bucket to refuse it for 1s", wait, ok)
	}
	// Pacing falls back too.
	if wait, ok := a.Take(ctx, "line:L", 4, 1, time.Second); !ok || wait != 0 {
		t.Fatalf("first dial: wait %v ok %v", wait, ok)
	}
	if wait, ok := a.Take(ctx, "line:L", 4, 1, time.Second); !ok || wait != 250*time.Millisecond {
		t.Fatalf("second dial: wait %v ok %v", wait, ok)
	}
	if n := a.fallbacks.Load(); n != 5 {
		t.Fatalf("OnFallback called %d times for 5 reservations served locally", n)
	}
	if a.Status() != "disconnected" {
		t.Fatalf("status %q", a.Status())
	}
	if n := a.logged(downMsg); n != 1 {
		t.Fatalf("logged %d times that Redis is unreachable, want once: %v", n, a.logs.All())
	}
	// A limit of none still needs no Redis and is no fallback.
	a.Take(ctx, "u", 0, 0, 0)
	if n := a.fallbacks.Load(); n != 5 {
		t.Fatalf("OnFallback called for no limit (%d)", n)
	}
}

// A slow Redis costs one create_call the Timeout, then the limiter falls back.
func TestStalledRedisTimesOut(t *testing.T) {
	px := newProxy(t, redisURL(t))
	px.set(stall)
	a := open(t, px.url(), redislimit.Options{Prefix: prefix(t), Timeout: 50 * time.Millisecond, Now: newClock().now})
	if _, ok := a.Take(context.Background(), "u", 1, 1, 0); !ok {
		t.Fatal("the local bucket refused the first request")
	}
	if a.fallbacks.Load() != 1 || a.Status() != "disconnected" || a.logged(downMsg) != 1 {
		t.Fatalf("fallbacks %d status %s logs %v", a.fallbacks.Load(), a.Status(), a.logs.All())
	}
}

// Down, the limiter tries Redis again only after its backoff, doubling while Redis stays down,
// and comes back by itself when it answers; the shared buckets are where they were.
func TestBackoffAndRecovery(t *testing.T) {
	url, p, c := redisURL(t), prefix(t), newClock()
	px := newProxy(t, url)
	a, sent := openCounting(t, px.url(), redislimit.Options{Prefix: p, Now: c.now, Backoff: time.Second, MaxBackoff: 3 * time.Second})
	other := open(t, url, redislimit.Options{Prefix: p, Now: c.now}) // a replica that still reaches Redis
	ctx := context.Background()
	start := c.now()

	if a.Status() != "connected" || a.logged("shared through redis") != 1 {
		t.Fatalf("status %s, logs %v", a.Status(), a.logs.All())
	}
	if _, ok := a.Take(ctx, "u", 0.001, 2, 0); !ok || a.fallbacks.Load() != 0 {
		t.Fatalf("first request: ok %v, fallbacks %d", ok, a.fallbacks.Load())
	}

	px.set(refuse)
	before := sent.Load()
	for i := range 6 {
		if _, ok := a.Take(ctx, "w", 1, 10, 0); !ok {
			t.Fatalf("request %d refused by the local bucket", i)
		}
	}
	// The first request tried Redis, the five others not.
	if tried := sent.Load() - before; tried != 1 {
		t.Fatalf("Redis tried %d times by six requests, want once", tried)
	}
	if a.fallbacks.Load() != 6 || a.Status() != "disconnected" || a.logged(downMsg) != 1 {
		t.Fatalf("fallbacks %d status %s logs %v", a.fallbacks.Load(), a.Status(), a.logs.All())
	}
	probes := func(step time.Duration) int64 {
		t.Helper()
		c.add(step)
		n := sent.Load()
		a.Take(ctx, "w", 1, 10, 0)
		return sent.Load() - n
	}
	if n := probes(999 * time.Millisecond); n != 0 {
		t.Fatalf("Redis tried %d times within the first backoff", n)
	}
	if n := probes(time.Millisecond); n != 1 {
		t.Fatalf("Redis tried %d times once the backoff passed, want once", n)
	}
	// Still down: the backoff is now 2s.
	if n := probes(1500 * time.Millisecond); n != 0 {
		t.Fatal("Redis tried within the doubled backoff")
	}
	if n := probes(500 * time.Millisecond); n == 0 {
		t.Fatal("Redis not tried after the doubled backoff")
	}
	// Doubled again, but at most MaxBackoff: 3s.
	if n := probes(2999 * time.Millisecond); n != 0 {
		t.Fatal("Redis tried within the capped backoff")
	}
	if a.logged(downMsg) != 1 || a.logged(upMsg) != 0 {
		t.Fatalf("logs while down: %v", a.logs.All())
	}
	served := a.fallbacks.Load()

	// Meanwhile the other replica drew the shared bucket's last token.
	if _, ok := other.Take(ctx, "u", 0.001, 2, 0); !ok {
		t.Fatal("the other replica was refused the second token")
	}
	px.set(up)
	c.add(time.Millisecond)
	// Back through Redis: the bucket is the shared one, now empty, its next token 1000s after
	// the first one was taken.
	if wait, ok := a.Take(ctx, "u", 0.001, 2, 0); ok || wait != 1000*time.Second-c.now().Sub(start) {
		t.Fatalf("after recovery: wait %v ok %v, want the shared bucket's refusal", wait, ok)
	}
	if a.fallbacks.Load() != served || a.Status() != "connected" || a.logged(upMsg) != 1 {
		t.Fatalf("fallbacks %d (were %d) status %s logs %v", a.fallbacks.Load(), served, a.Status(), a.logs.All())
	}
	// Down again, the backoff starts from its first value.
	px.set(refuse)
	a.Take(ctx, "w", 1, 10, 0)
	if a.logged(downMsg) != 2 {
		t.Fatalf("second outage logged %d times in all, want once more", a.logged(downMsg))
	}
	if n := probes(time.Second); n == 0 {
		t.Fatal("the backoff of a new outage did not start afresh")
	}
}

// A quiet replica's /health follows Redis too: Status asks Redis once the backoff has passed.
func TestStatusRecoversWithoutTraffic(t *testing.T) {
	c := newClock()
	px := newProxy(t, redisURL(t))
	px.set(refuse)
	a := open(t, px.url(), redislimit.Options{Prefix: prefix(t), Now: c.now})
	if a.Status() != "disconnected" || a.logged(downMsg) != 1 {
		t.Fatalf("status %s, logs %v", a.Status(), a.logs.All())
	}
	px.set(up)
	if a.Status() != "disconnected" {
		t.Fatal("Status asked Redis within the backoff")
	}
	c.add(redislimit.DefaultBackoff)
	if a.Status() != "connected" || a.logged(upMsg) != 1 || a.fallbacks.Load() != 0 {
		t.Fatalf("status %s fallbacks %d logs %v", a.Status(), a.fallbacks.Load(), a.logs.All())
	}
}

// A caller that gives up is no Redis outage.
func TestCancelledRequestIsNoOutage(t *testing.T) {
	a := open(t, redisURL(t), redislimit.Options{Prefix: prefix(t)})
	if a.Status() != "connected" {
		t.Fatal("not connected")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := a.Take(ctx, "u", 1, 1, 0); !ok {
		t.Fatal("refused")
	}
	if a.fallbacks.Load() != 1 || a.Status() != "connected" || a.logged(downMsg) != 0 {
		t.Fatalf("fallbacks %d status %s logs %v", a.fallbacks.Load(), a.Status(), a.logs.All())
	}
}

func TestOpen(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", ""} {
		if _, err := redislimit.Open(u, redislimit.Options{}); err == nil {
			t.Errorf("Open(%q) accepted", u)
		}
	}
	// A client of the caller's own, through the port's Reserve: the same buckets, never an error.
	opt, _ := redis.ParseURL(redisURL(t))
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	var l createcall.RateLimiter = redislimit.New(rdb, redislimit.Options{Prefix: prefix(t)})
	ctx := context.Background()
	if _, ok, err := l.Reserve(ctx, "u", 0.001, 1, 0); !ok || err != nil {
		t.Fatalf("first request refused: %v", err)
	}
	if wait, ok, err := l.Reserve(ctx, "u", 0.001, 1, 0); ok || err != nil || wait <= 999*time.Second {
		t.Fatalf("second request: wait %v ok %v err %v", wait, ok, err)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// proxy stands between a limiter and the real Redis, to take Redis away and bring it back.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  mode
	conns map[net.Conn]struct{}
}

type mode int

const (
	up     mode = iota
	refuse      // close each connection at once
	stall       // accept and never answer
)

func newProxy(t *testing.T, redisURL string) *proxy {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{t: t, ln: ln, target: opt.Addr, conns: map[net.Conn]struct{}{}}
	go px.serve()
	t.Cleanup(func() {
		ln.Close()
		px.set(refuse)
	})
	return px
}

func (px *proxy) url() string { return "redis://" + px.ln.Addr().String() + "/0" }

// set changes the mode and drops every connection, as a restart of Redis would.
func (px *proxy) set(m mode) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.mode = m
	for c := range px.conns {
		c.Close()
		delete(px.conns, c)
	}
}

func (px *proxy) serve() {
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		px.mu.Lock()
		m := px.mode
		if m != refuse {
			px.conns[c] = struct{}{}
		}
		px.mu.Unlock()
		switch m {
		case refuse:
			c.Close()
		case up:
			go px.pipe(c)
		}
	}
}

func (px *proxy) pipe(c net.Conn) {
	r, err := net.Dial("tcp", px.target)
	if err != nil {
		c.Close()
		return
	}
	px.mu.Lock()
	px.conns[r] = struct{}{}
	px.mu.Unlock()
	go func() {
		_, _ = io.Copy(r, c)
		r.Close()
	}()
	_, _ = io.Copy(c, r)
	c.Close()
}
