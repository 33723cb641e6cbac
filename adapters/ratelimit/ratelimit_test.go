package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application/createcall"
)

var _ createcall.RateLimiter = (*ratelimit.Buckets)(nil)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBurstThenRate(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	b := ratelimit.New(c.now)
	// 2 a second with a burst of 4: four at once, then one every half second.
	for i := range 4 {
		if wait, ok := b.Take("u", 2, 4, 0); !ok || wait != 0 {
			t.Fatalf("request %d of the burst: wait %v ok %v", i, wait, ok)
		}
	}
	wait, ok := b.Take("u", 2, 4, 0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("fifth request: wait %v ok %v, want refused with 500ms", wait, ok)
	}
	// Another key has its own bucket.
	if _, ok := b.Take("v", 2, 4, 0); !ok {
		t.Fatal("another key was refused")
	}
	c.add(499 * time.Millisecond)
	if _, ok := b.Take("u", 2, 4, 0); ok {
		t.Fatal("a token appeared before its time")
	}
	c.add(time.Millisecond)
	if _, ok := b.Take("u", 2, 4, 0); !ok {
		t.Fatal("no token after half a second")
	}
	// A long pause refills to the burst, no further.
	c.add(time.Hour)
	for i := range 4 {
		if _, ok := b.Take("u", 2, 4, 0); !ok {
			t.Fatalf("request %d after a pause refused", i)
		}
	}
	if _, ok := b.Take("u", 2, 4, 0); ok {
		t.Fatal("the bucket held more than its burst")
	}
}

// Pacing reserves tokens ahead: each caller learns how long to wait, up to maxWait.
func TestWaitingReservations(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	b := ratelimit.New(c.now)
	var waits []time.Duration
	for range 3 {
		wait, ok := b.Take("line", 4, 1, time.Second)
		if !ok {
			t.Fatalf("refused within maxWait; waits so far %v", waits)
		}
		waits = append(waits, wait)
	}
	if fmt.Sprint(waits) != "[0s 250ms 500ms]" {
		t.Fatalf("waits = %v, want the dials spaced a quarter second apart", waits)
	}
	// The next would wait 750ms: over a maxWait of 600ms it is refused and takes nothing.
	if wait, ok := b.Take("line", 4, 1, 600*time.Millisecond); ok || wait != 750*time.Millisecond {
		t.Fatalf("over maxWait: wait %v ok %v", wait, ok)
	}
	if wait, ok := b.Take("line", 4, 1, time.Second); !ok || wait != 750*time.Millisecond {
		t.Fatalf("after a refusal: wait %v ok %v, want the same slot", wait, ok)
	}
}

func TestNoRateMeansNoLimit(t *testing.T) {
	b := ratelimit.New(nil)
	for range 100 {
		if _, ok := b.Take("u", 0, 0, 0); !ok {
			t.Fatal("a zero rate limited")
		}
	}
	if b.Len() != 0 {
		t.Fatalf("%d buckets kept for no limit", b.Len())
	}
}

// Idle buckets are forgotten, so memory follows the active keys, not every key ever seen.
func TestIdleBucketsAreSwept(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	b := ratelimit.New(c.now)
	for i := range 5000 {
		b.Take(fmt.Sprint("user-", i), 10, 20, 0)
	}
	c.add(10 * time.Second) // every bucket is full again
	for i := range 5000 {
		b.Take("busy", 1e6, 1, 0)
		_ = i
	}
	if n := b.Len(); n > 1000 {
		t.Fatalf("%d buckets held after the sweep, want the idle ones gone", n)
	}
}

func TestConcurrentReservationsNeverExceedTheBurst(t *testing.T) {
	b := ratelimit.New(func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) })
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, took := b.Take("u", 1, 10, 0); took {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 10 {
		t.Fatalf("%d of 64 simultaneous requests allowed, want the burst of 10", ok)
	}
}

// Reserve is Take behind the port, with the same bucket.
func TestReserveIsTake(t *testing.T) {
	b := ratelimit.New(func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) })
	if _, ok := b.Take("u", 1, 1, 0); !ok {
		t.Fatal("first token refused")
	}
	wait, ok, err := b.Reserve(context.Background(), "u", 1, 1, 0)
	if err != nil || ok || wait != time.Second {
		t.Fatalf("Reserve after Take = %v, %v, %v; want the bucket empty for a second", wait, ok, err)
	}
}
