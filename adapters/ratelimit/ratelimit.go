// Package ratelimit keeps token buckets in memory, by key: the per-user request rate and the
// per-line pacing of create_call (createcall.RateLimiter). Buckets belong to one process; with
// several replicas each enforces its own.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// sweepEvery is how many reservations pass between sweeps of idle buckets.
const sweepEvery = 4096

// Buckets is safe for concurrent use. The zero value is not usable: make one with New.
type Buckets struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

// bucket holds tokens as of at. tokens may be negative: a reservation that waits takes a token
// that will only exist later.
type bucket struct {
	tokens float64
	at     time.Time
	rate   float64
	burst  float64
}

// New returns empty buckets on the given clock; nil is the system clock.
func New(now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{now: now, buckets: map[string]*bucket{}}
}

// Reserve implements createcall.RateLimiter with Take: buckets in memory never fail.
func (b *Buckets) Reserve(_ context.Context, key string, rate float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	wait, ok := b.Take(key, rate, burst, maxWait)
	return wait, ok, nil
}

// Take takes a token from key's bucket as createcall.RateLimiter's Reserve says. A bucket seen
// for the first time starts full; a change of rate or burst (an operator changed the limit)
// applies from now on.
func (b *Buckets) Take(key string, rate float64, burst int, maxWait time.Duration) (time.Duration, bool) {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 1) {
		return 0, true
	}
	burst = max(burst, 1)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.calls%sweepEvery == 0 {
		b.sweep(now)
	}
	k, ok := b.buckets[key]
	if !ok {
		k = &bucket{tokens: float64(burst), at: now}
		b.buckets[key] = k
	}
	k.rate, k.burst = rate, float64(burst)
	k.refill(now)
	if k.tokens >= 1 {
		k.tokens--
		return 0, true
	}
	wait := time.Duration((1 - k.tokens) / rate * float64(time.Second))
	if wait > maxWait {
		return wait, false
	}
	k.tokens--
	return wait, true
}

func (k *bucket) refill(now time.Time) {
	if d := now.Sub(k.at); d > 0 {
		k.tokens = math.Min(k.burst, k.tokens+d.Seconds()*k.rate)
		k.at = now
	}
}

// sweep forgets the buckets that have filled up again: they are as good as new ones.
func (b *Buckets) sweep(now time.Time) {
	for key, k := range b.buckets {
		if k.refill(now); k.tokens >= k.burst {
			delete(b.buckets, key)
		}
	}
}

// Len is how many buckets are held; for tests.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buckets)
}
