package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of a request no route matched (404, 405): the raw path
// would give every scanner's probe a series of its own.
const UnmatchedRoute = "unmatched"

// HTTPMiddleware counts and times every request, matched or not, by route template, method and
// status. Install it first (engine.Use before any other middleware and before the routes), so
// that it sees the status the error-rendering middleware decides and times the whole request.
//
// The series of each (route, method, status) are resolved once and kept in a copy-on-write map,
// so a request costs one map lookup, no lock and no allocation.
func (m *Metrics) HTTPMiddleware() gin.HandlerFunc {
	h := &httpSeries{requests: m.httpRequests, duration: m.httpDuration}
	empty := map[seriesKey]*series{}
	h.byKey.Store(&empty)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		h.observe(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}

type seriesKey struct {
	route  string
	method uint8
	status uint16
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

type httpSeries struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	byKey atomic.Pointer[map[seriesKey]*series]
	mu    sync.Mutex // serialises the writers of byKey
}

func (h *httpSeries) observe(route, method string, status int, took time.Duration) {
	s := h.lookup(route, method, status)
	s.requests.Inc()
	s.duration.Observe(took.Seconds())
}

func (h *httpSeries) lookup(route, method string, status int) *series {
	if route == "" {
		route = UnmatchedRoute
	}
	if status < 100 || status > 999 {
		status = 0
	}
	k := seriesKey{route: route, method: methodIndex(method), status: uint16(status)}
	if s, ok := (*h.byKey.Load())[k]; ok {
		return s
	}
	return h.add(k)
}

// add makes the series of k. The keys are bounded (route templates times known methods times the
// statuses the service answers with), so the map stops growing after warm-up.
func (h *httpSeries) add(k seriesKey) *series {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.byKey.Load()
	if s, ok := old[k]; ok {
		return s
	}
	// The route string of a matched request is gin's own, kept for the engine's lifetime; the
	// key keeps it without copying.
	status := "other"
	if k.status != 0 {
		status = strconv.Itoa(int(k.status))
	}
	method := methodNames[k.method]
	s := &series{
		requests: h.requests.WithLabelValues(k.route, method, status),
		duration: h.duration.WithLabelValues(k.route, method),
	}
	next := make(map[seriesKey]*series, len(old)+1)
	for kk, v := range old {
		next[kk] = v
	}
	next[k] = s
	h.byKey.Store(&next)
	return s
}

// methodNames are the method label's values; a method outside them (any token is a valid HTTP
// method) is "OTHER", so a client cannot mint series.
var methodNames = [...]string{"OTHER", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}

func methodIndex(m string) uint8 {
	switch m {
	case "GET":
		return 1
	case "HEAD":
		return 2
	case "POST":
		return 3
	case "PUT":
		return 4
	case "PATCH":
		return 5
	case "DELETE":
		return 6
	case "CONNECT":
		return 7
	case "OPTIONS":
		return 8
	case "TRACE":
		return 9
	}
	return 0
}
