package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/domain/fault"
)

// errShuttingDown: the service has begun to stop and takes no new work.
var errShuttingDown = errors.New("shutting down")

// Readiness says whether the service should be sent traffic. It starts ready and, once Drain is
// called at the start of shutdown, stays not ready for good. The zero value is ready.
type Readiness struct{ draining atomic.Bool }

// Drain marks the service as going away: GET /ready answers 503 from now on.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Draining reports whether Drain was called.
func (r *Readiness) Draining() bool { return r != nil && r.draining.Load() }

// ready serves GET /ready, the readiness probe: 200 {"status":"ready"} while the service takes
// traffic and its database answers within healthTimeout; 503 {"detail"} once shutdown has begun
// or while the database is down. GET /health stays the liveness probe.
func (s *server) ready(c *gin.Context) {
	if s.deps.Readiness.Draining() {
		fail(c, errShuttingDown)
		return
	}
	if s.deps.Pinger != nil {
		if err := pingWithin(c.Request.Context(), s.deps.Pinger); err != nil {
			fail(c, errors.Join(fault.ErrUnavailable, err))
			return
		}
	}
	writeJSONBytes(c, http.StatusOK, []byte(`{"status":"ready"}`))
}

// pingWithin pings within healthTimeout and returns at the deadline even if the driver does not:
// a probe must answer while a connection hangs on a network that drops packets. The abandoned
// ping ends when the driver gives up on its own. A panic in the ping is raised again here, in
// the request's goroutine, for the edge middleware to recover.
func pingWithin(ctx context.Context, p Pinger) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	type result struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{panicked: true, value: v}
			}
		}()
		done <- result{err: p.Ping(ctx)}
	}()
	select {
	case r := <-done:
		if r.panicked {
			panic(r.value)
		}
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
