package metrics_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/metrics"
)

// fakeClock moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// setRequestID stands for httpapi's edge middleware: it puts the id in the response header
// before the handlers run.
func setRequestID(c *gin.Context) {
	c.Writer.Header()["X-Request-Id"] = []string{"rid-" + c.Query("n")}
	c.Next()
}

func accessLogEngine(t *testing.T, level zapcore.Level, cfg metrics.AccessLogConfig) (*gin.Engine, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(level)
	e := gin.New()
	e.Use(metrics.AccessLog(zap.New(core), cfg), setRequestID)
	e.GET("/api/v1/lines/:id", func(c *gin.Context) { c.String(http.StatusOK, "hello") })
	e.GET("/boom", func(c *gin.Context) { c.Status(http.StatusServiceUnavailable) })
	return e, logs
}

func TestAccessLogLine(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	step := func(c *gin.Context) { clock.advance(42 * time.Millisecond); c.Next() }
	core, logs := observer.New(zapcore.InfoLevel)
	e := gin.New()
	e.Use(metrics.AccessLog(zap.New(core), metrics.AccessLogConfig{PerSecond: 10, Now: clock.now}), setRequestID, step)
	e.GET("/api/v1/lines/:id", func(c *gin.Context) { c.String(http.StatusOK, "hello") })

	do(t, e, http.MethodGet, "/api/v1/lines/ln_7?n=1&to=%2B919876543210&api_key=sk_live_secret")
	do(t, e, http.MethodGet, "/nowhere?n=2&phone=%2B14155550100")

	all := logs.AllUntimed()
	if len(all) != 2 {
		t.Fatalf("%d lines, want 2", len(all))
	}
	got := all[0].ContextMap()
	want := map[string]any{"request_id": "rid-1", "method": "GET", "route": "/api/v1/lines/:id",
		"status": int64(200), "bytes": int64(5), "duration": 42 * time.Millisecond}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want exactly %v", got, want)
	}
	if all[0].Level != zapcore.InfoLevel || all[0].Message != "http request" {
		t.Errorf("level %v message %q", all[0].Level, all[0].Message)
	}
	if u := all[1].ContextMap(); u["route"] != metrics.UnmatchedRoute || u["status"] != int64(404) || u["request_id"] != "rid-2" {
		t.Errorf("unmatched line %v", u)
	}
	// Neither the path nor anything of the query reaches the log.
	for _, l := range all {
		for k, v := range l.ContextMap() {
			s, _ := v.(string)
			for _, leak := range []string{"ln_7", "nowhere", "919876543210", "4155550100", "sk_live", "?", "to=", "api_key"} {
				if strings.Contains(s, leak) {
					t.Errorf("field %s = %q carries %q", k, s, leak)
				}
			}
		}
	}
}

func TestAccessLogSampling(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := metrics.New()
	e, logs := accessLogEngine(t, zapcore.InfoLevel, metrics.AccessLogConfig{PerSecond: 3, Now: clock.now, Metrics: m})

	for range 10 {
		do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	}
	// Server errors are written whatever the count, and say how many were held back so far.
	do(t, e, http.MethodGet, "/boom")
	do(t, e, http.MethodGet, "/boom")
	do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	if n := logs.Len(); n != 5 {
		t.Fatalf("%d lines in the first second, want 3 in full and 2 server errors", n)
	}
	lines := logs.TakeAll()
	for i, l := range lines[:3] {
		if _, has := l.ContextMap()["unlogged"]; has {
			t.Errorf("line %d says some were held back before the limit was reached", i)
		}
	}
	if u := lines[3].ContextMap(); u["status"] != int64(503) || u["unlogged"] != uint64(7) || lines[3].Level != zapcore.WarnLevel {
		t.Errorf("first 5xx line %v (level %v), want 503 with unlogged 7 at warn", u, lines[3].Level)
	}
	if u := lines[4].ContextMap(); u["status"] != int64(503) || u["unlogged"] != nil {
		t.Errorf("second 5xx line %v, want no unlogged (none held back since the first)", u)
	}

	// The next second lets three through again; the first says one more was held back.
	clock.advance(time.Second)
	for range 4 {
		do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	}
	lines = logs.TakeAll()
	if len(lines) != 3 {
		t.Fatalf("%d lines in the second second, want 3", len(lines))
	}
	if u := lines[0].ContextMap(); u["unlogged"] != uint64(1) {
		t.Errorf("first line of the new second %v, want unlogged 1", u)
	}
	if got := unloggedTotal(t, m); got != 9 {
		t.Errorf("kupe_access_log_unlogged_total = %v, want 9", got)
	}
}

func unloggedTotal(t *testing.T, m *metrics.Metrics) float64 {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "kupe_access_log_unlogged_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no kupe_access_log_unlogged_total")
	return 0
}

func TestAccessLogZeroRateWritesOnlyServerErrors(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e, logs := accessLogEngine(t, zapcore.InfoLevel, metrics.AccessLogConfig{PerSecond: 0, Now: clock.now})
	do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	do(t, e, http.MethodGet, "/nowhere")
	do(t, e, http.MethodGet, "/boom")
	lines := logs.AllUntimed()
	if len(lines) != 1 || lines[0].ContextMap()["status"] != int64(503) || lines[0].ContextMap()["unlogged"] != uint64(2) {
		t.Fatalf("lines %v, want the 503 alone, saying 2 were held back", lines)
	}
}

func TestAccessLogNegativeRateWritesAll(t *testing.T) {
	e, logs := accessLogEngine(t, zapcore.InfoLevel, metrics.AccessLogConfig{PerSecond: -1})
	for range 50 {
		do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	}
	if logs.Len() != 50 {
		t.Fatalf("%d lines, want 50", logs.Len())
	}
}

func TestAccessLogAtWarnLevelKeepsServerErrorsOnly(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := metrics.New()
	e, logs := accessLogEngine(t, zapcore.WarnLevel, metrics.AccessLogConfig{PerSecond: 100, Now: clock.now, Metrics: m})
	do(t, e, http.MethodGet, "/api/v1/lines/ln_1")
	do(t, e, http.MethodGet, "/boom")
	if logs.Len() != 1 || logs.All()[0].ContextMap()["status"] != int64(503) {
		t.Fatalf("lines %v, want the 503 alone", logs.All())
	}
	// Lines below the level are not sampling's doing: they are not counted as held back.
	if got := unloggedTotal(t, m); got != 0 {
		t.Errorf("unlogged %v, want 0", got)
	}
}

func TestAccessLogCustomRequestID(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	e := gin.New()
	e.Use(metrics.AccessLog(zap.New(core), metrics.AccessLogConfig{PerSecond: -1,
		RequestID: func(c *gin.Context) string { return c.GetString("rid") }}),
		func(c *gin.Context) { c.Set("rid", "from-context") })
	e.GET("/x", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	do(t, e, http.MethodGet, "/x")
	if l := logs.All(); len(l) != 1 || l[0].ContextMap()["request_id"] != "from-context" || l[0].ContextMap()["bytes"] != int64(0) {
		t.Fatalf("lines %v", l)
	}
}
