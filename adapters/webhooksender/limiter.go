package webhooksender

import (
	"context"
	"sync"
)

// DefaultMaxInFlight is how many deliveries may be in flight to one endpoint at once.
const DefaultMaxInFlight = 10

// Limiter is a semaphore per key (an endpoint): at most n holders per key. Keys nobody holds or
// waits for take no memory.
type Limiter struct {
	n     int
	mu    sync.Mutex
	slots map[string]*slot
}

type slot struct {
	ch   chan struct{}
	refs int // holders and waiters
}

// NewLimiter allows n holders per key (DefaultMaxInFlight when n < 1).
func NewLimiter(n int) *Limiter {
	if n < 1 {
		n = DefaultMaxInFlight
	}
	return &Limiter{n: n, slots: map[string]*slot{}}
}

func (l *Limiter) ref(key string) *slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[key]
	if s == nil {
		s = &slot{ch: make(chan struct{}, l.n)}
		l.slots[key] = s
	}
	s.refs++
	return s
}

func (l *Limiter) unref(key string, s *slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(l.slots, key)
	}
}

// Acquire waits for a slot of key, or until ctx is done (then it answers ctx's error). Call the
// release function once the delivery is over; calling it again does nothing.
func (l *Limiter) Acquire(ctx context.Context, key string) (release func(), err error) {
	s := l.ref(key)
	select {
	case s.ch <- struct{}{}:
		return l.releaser(key, s), nil
	case <-ctx.Done():
		l.unref(key, s)
		return nil, ctx.Err()
	}
}

// TryAcquire takes a slot of key if one is free, without waiting (a job engine can snooze the
// delivery instead of holding a worker).
func (l *Limiter) TryAcquire(key string) (release func(), ok bool) {
	s := l.ref(key)
	select {
	case s.ch <- struct{}{}:
		return l.releaser(key, s), true
	default:
		l.unref(key, s)
		return nil, false
	}
}

func (l *Limiter) releaser(key string, s *slot) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.ch
			l.unref(key, s)
		})
	}
}

// state is for tests: how many hold key's slots and how many wait.
func (l *Limiter) state(key string) (held, waiting int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[key]
	if s == nil {
		return 0, 0
	}
	return len(s.ch), s.refs - len(s.ch)
}
