package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
)

// The running service serves every metric family issue 9 names at GET /metrics: HTTP requests
// by route, method and status with their latency, calls by outcome, the carrier's latency, the
// limiter's refusals, the reconciler's actions, the database pool and the Go runtime. The access
// log writes one line per request with its request id, and pprof listens where it is told.
func TestMetricsServeEveryFamily(t *testing.T) {
	pprofAddr := freeAddr(t)
	// A call left in dialing by a process that died an hour ago, for the reconciler's first run.
	seed := fx.Invoke(func(s *entstore.Store) error {
		ctx := context.Background()
		at := time.Now().UTC().Add(-time.Hour)
		u := identity.User{ID: uuid.NewString(), Email: "died@example.com", CreatedAt: at}
		if err := s.CreateUser(ctx, u); err != nil {
			return err
		}
		cs := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.ID,
			Provider: call.ProviderSimulated, From: "+14155550100", To: "+14155550123"}, at)
		return s.BeginCall(ctx, createcall.BeginCall{Session: cs, MaxActive: 1, ActiveSince: at.Add(-time.Hour)})
	})
	r := startApp(t, map[string]string{"KUPE_PPROF_ADDR": pprofAddr, "KUPE_ACCESS_LOG_PER_SECOND": "-1",
		"KUPE_SIMULATED_REJECT": "+14155550199"}, []fx.Option{seed}, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	if a := r.createCall(c.key, "+14155550123", ""); a.status != http.StatusOK || a.body["status"] != "success" {
		t.Fatalf("create_call: %d %s", a.status, a.raw)
	}
	if a := r.createCall(c.key, "+14155550199", ""); a.status != http.StatusOK || a.body["status"] != "failed" {
		t.Fatalf("rejected create_call: %d %s", a.status, a.raw)
	}
	if _, err := r.accounts.Store.UpdateLimits(context.Background(), c.userID, func(l *identity.Limits) error {
		l.MaxConcurrentCalls = 1 // the first call still holds its slot
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if a := r.createCall(c.key, "+14155550123", ""); a.status != http.StatusTooManyRequests {
		t.Fatalf("create_call over the cap: %d %s", a.status, a.raw)
	}

	// The reconciler's first run settles the dead call in the background: wait for it.
	var m answer
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		m = r.do(http.MethodGet, "/metrics", "", "")
		if m.status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", m.status)
		}
		if strings.Contains(m.raw, `kupe_reconciler_actions_total{action="failed"} 1`) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{
		`kupe_http_requests_total{method="POST",route="/api/call/create_call",status="200"} 2`,
		`kupe_http_requests_total{method="POST",route="/api/call/create_call",status="429"} 1`,
		`kupe_http_request_duration_seconds_bucket{method="POST",route="/api/call/create_call",le="+Inf"} 3`,
		`kupe_calls_total{outcome="dialed"} 1`,
		`kupe_calls_total{outcome="failed"} 1`,
		`kupe_calls_total{outcome="refused_concurrency"} 1`,
		`kupe_carrier_request_duration_seconds_count{carrier="simulated",result="ok"} 1`,
		`kupe_carrier_request_duration_seconds_count{carrier="simulated",result="invalid_destination"} 1`,
		`kupe_limiter_rejections_total{limit="concurrency"} 1`,
		"# TYPE kupe_limiter_redis_fallbacks_total counter",
		`kupe_reconciler_actions_total{action="failed"} 1`,
		"kupe_db_open_connections ",
		"kupe_db_max_open_connections ",
		"go_goroutines ",
		"go_memstats_heap_alloc_bytes ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(m.raw, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("GET /metrics:\n%s", m.raw)
	}

	// One access-log line per request, with its request id; no debug line besides.
	lines := r.logs.FilterMessage("http request").All()
	if len(lines) < 4 {
		t.Fatalf("%d access-log lines, want one per request (4 at least)", len(lines))
	}
	for _, l := range lines {
		if f := l.ContextMap(); f["request_id"] == "" || f["route"] == nil || l.LoggerName != "access" {
			t.Fatalf("access-log line %s %v", l.LoggerName, f)
		}
	}

	res, err := http.Get("http://" + pprofAddr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatalf("pprof: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("pprof: %d", res.StatusCode)
	}
}

// With KUPE_METRICS_TOKEN set, /metrics answers only a scraper that sends it as a bearer token;
// anyone else gets a 401 with Kupe's error shape and nothing of the metrics, and the token is
// never written to the log.
func TestMetricsTokenGuardsMetrics(t *testing.T) {
	const token = "scrape-token-0123456789"
	r := startApp(t, map[string]string{"KUPE_METRICS_TOKEN": token, "KUPE_ACCESS_LOG_PER_SECOND": "-1"}, nil, nil)
	for name, header := range map[string][]string{
		"no header":     nil,
		"wrong token":   {"Authorization", "Bearer scrape-token-0123456780"},
		"a prefix":      {"Authorization", "Bearer " + token[:len(token)-1]},
		"basic auth":    {"Authorization", "Basic " + token},
		"as an API key": {"x-api-key", token},
	} {
		a := r.do(http.MethodGet, "/metrics", "", "", header...)
		if a.status != http.StatusUnauthorized || !strings.Contains(a.raw, `"detail"`) || strings.Contains(a.raw, "kupe_") {
			t.Errorf("%s: %d %s, want a 401 with a detail and no metrics", name, a.status, a.raw)
		}
	}
	for _, scheme := range []string{"Bearer ", "bearer "} {
		a := r.do(http.MethodGet, "/metrics", "", "", "Authorization", scheme+token)
		if a.status != http.StatusOK || !strings.Contains(a.raw, "kupe_http_requests_total") {
			t.Fatalf("%q token: %d %.200s", scheme, a.status, a.raw)
		}
	}
	if h := r.do(http.MethodGet, "/health", "", ""); h.status != http.StatusOK {
		t.Fatalf("/health with a metrics token set: %d, want it open", h.status)
	}
	for _, l := range r.logs.All() {
		if strings.Contains(l.Message, token) || strings.Contains(fmt.Sprint(l.ContextMap()), token) {
			t.Fatalf("the token is logged: %s %v", l.Message, l.ContextMap())
		}
	}
}
