package metrics_test

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/kupe-voice/kupe/adapters/metrics"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	m.Run()
}

// engine is a small API shaped like the service's: routes with parameters, a 404 and a 405.
func engine(m *metrics.Metrics, extra ...gin.HandlerFunc) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(m.HTTPMiddleware())
	e.Use(extra...)
	e.GET("/api/v1/lines/:id", func(c *gin.Context) { c.String(http.StatusOK, "line") })
	e.POST("/api/call/create_call", func(c *gin.Context) { c.String(http.StatusCreated, "{}") })
	e.GET("/boom", func(c *gin.Context) { c.Status(http.StatusInternalServerError) })
	e.GET("/metrics", gin.WrapH(m.Handler()))
	return e
}

func do(t testing.TB, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := do(t, h, http.MethodGet, "/metrics")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Body)
	}
	return w.Body.String()
}

func TestScrapeServesEveryFamily(t *testing.T) {
	m := metrics.New()
	stats := sql.DBStats{MaxOpenConnections: 20, OpenConnections: 7, InUse: 5, Idle: 2, WaitCount: 11, WaitDuration: 1500 * time.Millisecond}
	if err := m.RegisterDBStats(func() sql.DBStats { return stats }); err != nil {
		t.Fatal(err)
	}
	e := engine(m)
	do(t, e, http.MethodPost, "/api/call/create_call")
	m.ObserveCall("dialed")
	m.ObserveCall("refused_concurrency")
	m.ObserveCarrier("twilio", "ok", 120*time.Millisecond)
	m.LimiterRejected("rate")
	m.RedisFallback()
	m.ReconcilerAction("settled")

	body := scrape(t, e)
	for _, want := range []string{
		`kupe_http_requests_total{method="POST",route="/api/call/create_call",status="201"} 1`,
		`kupe_http_request_duration_seconds_count{method="POST",route="/api/call/create_call"} 1`,
		`kupe_calls_total{outcome="dialed"} 1`,
		`kupe_calls_total{outcome="refused_concurrency"} 1`,
		`kupe_carrier_request_duration_seconds_bucket{carrier="twilio",result="ok",le="0.25"} 1`,
		`kupe_carrier_request_duration_seconds_bucket{carrier="twilio",result="ok",le="0.1"} 0`,
		`kupe_limiter_rejections_total{limit="rate"} 1`,
		`kupe_limiter_redis_fallbacks_total 1`,
		`kupe_reconciler_actions_total{action="settled"} 1`,
		`kupe_access_log_unlogged_total 0`,
		`kupe_db_max_open_connections 20`,
		`kupe_db_open_connections 7`,
		`kupe_db_in_use_connections 5`,
		`kupe_db_idle_connections 2`,
		`kupe_db_wait_count_total 11`,
		`kupe_db_wait_duration_seconds_total 1.5`,
		"go_goroutines ",
		"go_memstats_heap_alloc_bytes ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	// The pool is read at each scrape, not once.
	stats.InUse = 9
	if body := scrape(t, e); !strings.Contains(body, "kupe_db_in_use_connections 9") {
		t.Error("the second scrape did not read the pool again")
	}
}

func TestTwoRegistriesInOneProcess(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.ObserveCall("failed")
	if n, err := testutil.GatherAndCount(b.Gatherer(), "kupe_calls_total"); err != nil || n != 0 {
		t.Fatalf("b sees a's calls: %d series, %v", n, err)
	}
	if n, err := testutil.GatherAndCount(a.Gatherer(), "kupe_calls_total"); err != nil || n != 1 {
		t.Fatalf("a: %d series, %v", n, err)
	}
}

func TestRegisterMoreCollectors(t *testing.T) {
	m := metrics.New()
	jobs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kupe_river_jobs_available", Help: "Jobs waiting."})
	jobs.Set(4)
	if err := m.Register(jobs); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, engine(m)); !strings.Contains(body, "kupe_river_jobs_available 4") {
		t.Error("a registered collector is not scraped")
	}
	clash := prometheus.NewCounter(prometheus.CounterOpts{Name: "kupe_limiter_redis_fallbacks_total", Help: "again"})
	if err := m.Register(clash); err == nil {
		t.Error("a collector clashing with a family of ours was registered")
	}
}

func requestSeries(t *testing.T, m *metrics.Metrics) []*dto.Metric {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "kupe_http_requests_total" {
			return mf.GetMetric()
		}
	}
	return nil
}

// requestCounts is kupe_http_requests_total as "route method status" -> count.
func requestCounts(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, s := range requestSeries(t, m) {
		l := labels(s)
		got[l["route"]+" "+l["method"]+" "+l["status"]] = s.GetCounter().GetValue()
	}
	return got
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestRouteLabelIsTheTemplate(t *testing.T) {
	m := metrics.New()
	e := engine(m)
	for _, id := range []string{"ln_1", "ln_2", "ln_3?to=%2B919876543210"} {
		if w := do(t, e, http.MethodGet, "/api/v1/lines/"+id); w.Code != http.StatusOK {
			t.Fatalf("GET line %s: %d", id, w.Code)
		}
	}
	do(t, e, http.MethodGet, "/boom")

	got := requestCounts(t, m)
	if got["/api/v1/lines/:id GET 200"] != 3 || got["/boom GET 500"] != 1 || len(got) != 2 {
		t.Fatalf("series %v, want three on the line template and one on /boom", got)
	}
}

func TestUnmatchedRequestsShareOneSeries(t *testing.T) {
	m := metrics.New()
	e := engine(m)
	for i, p := range []string{"/wp-login.php", "/.env", "/api/v1/lines", "/a/b/c/d", "/api/call/create_call/x"} {
		if w := do(t, e, http.MethodGet, p); w.Code != http.StatusNotFound {
			t.Fatalf("%d %s: %d", i, p, w.Code)
		}
	}
	do(t, e, http.MethodDelete, "/api/call/create_call") // 405: the path exists, the method does not
	do(t, e, "PROPFIND", "/x")                           // a method of the client's own
	do(t, e, "BREW", "/y")

	got := requestCounts(t, m)
	want := map[string]float64{"unmatched GET 404": 5, "unmatched DELETE 405": 1, "unmatched OTHER 404": 2}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestMetricsHandlerIsPlainHTTP(t *testing.T) {
	m := metrics.New()
	m.ObserveCall("unknown")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `kupe_calls_total{outcome="unknown"} 1`) ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
}

// Series are made on first sight while other requests read the map: the counts stay exact.
func TestConcurrentRequestsCountExactly(t *testing.T) {
	m := metrics.New()
	e := engine(m)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				switch (g + i) % 3 {
				case 0:
					do(t, e, http.MethodGet, "/api/v1/lines/ln_"+strconv.Itoa(i))
				case 1:
					do(t, e, http.MethodPost, "/api/call/create_call")
				default:
					do(t, e, http.MethodGet, "/nope/"+strconv.Itoa(i))
				}
			}
		})
	}
	wg.Wait()
	got := requestCounts(t, m)
	var total float64
	for _, v := range got {
		total += v
	}
	if len(got) != 3 || total != 400 {
		t.Fatalf("series %v (total %v), want 3 series summing to 400", got, total)
	}
}
