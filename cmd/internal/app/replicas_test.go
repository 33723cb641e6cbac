package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/cmd/internal/app"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// TestServeChildProcess is `kupe serve` (cmd/kupe: app.Server on the loaded configuration) in a
// process of its own, for the tests that run several replicas; it serves until SIGTERM.
func TestServeChildProcess(t *testing.T) {
	if os.Getenv("KUPE_SERVE_CHILD") != "1" {
		t.Skip("run as a child process by the replica tests")
	}
	c, err := configs.Load()
	if err != nil {
		t.Fatal(err)
	}
	fx.New(app.Server(c)).Run()
}

// replicaKey is the secrets key every replica of a test shares (any 32 bytes).
var replicaKey = base64.StdEncoding.EncodeToString([]byte("replica-test-secrets-key-32bytes"))

// startReplica starts one server process on dsn with env on top, and returns its base URL once
// /ready answers. It is stopped (SIGTERM, then waited for) when the test ends.
func startReplica(t *testing.T, dsn string, env map[string]string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KUPE_SERVE_CHILD=1", "KUPE_DATABASE_URL="+dsn, "KUPE_HTTP_ADDR="+addr,
		"KUPE_PUBLIC_BASE_URL=http://"+addr, "KUPE_ENV=production", "KUPE_LOG_LEVEL=warn",
		"KUPE_HTTP_DRAIN_DELAY=0s", "KUPE_SECRETS_KEY="+replicaKey)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("replica exited before it was ready: %v\n%s", waitErr, out.String())
		default:
		}
		if res, err := http.Get(base + "/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not ready after a minute:\n%s", out.String())
		}
	}
}

// replicaCustomer makes, on a migrated PostgreSQL database, a user with an API key and a
// simulated line mapped to an agent, with limits set by limit.
func replicaCustomer(t *testing.T, dsn string, limit func(*identity.Limits)) string {
	t.Helper()
	ctx := context.Background()
	s := entstoretest.Open(t, dsn)
	// What `kupe migrate` does: the store's schema and the job queue's.
	noErr(t, s.Migrate(ctx))
	noErr(t, app.MigrateJobs(ctx, s))
	acc := &accounts.Accounts{Store: s}
	u, err := acc.CreateUser(ctx, "replicas@example.com", money.FromUnits(100))
	noErr(t, err)
	k, err := acc.CreateAPIKey(ctx, u.ID, "load")
	noErr(t, err)
	l, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: "+14155550100", Provider: "simulated"})
	noErr(t, err)
	a, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales"})
	noErr(t, err)
	noErr(t, acc.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}))
	_, err = s.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error { limit(l); return nil })
	noErr(t, err)
	return k.Plain
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// burst sends n create_call requests at once, alternately to each server, and returns each
// answer's status and Retry-After header.
func burst(t *testing.T, bases []string, key string, n int) (statuses []int, retryAfter []string) {
	t.Helper()
	statuses, retryAfter = make([]int, n), make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, bases[i%len(bases)]+"/api/call/create_call?phoneNumber=%2B1415555"+fmt.Sprintf("%04d", 100+i), nil)
			req.Header.Set("x-api-key", key)
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			statuses[i], retryAfter[i] = res.StatusCode, res.Header.Get("Retry-After")
			if res.StatusCode == http.StatusOK && !strings.Contains(string(body), `"status":"success"`) {
				t.Errorf("request %d: 200 %s", i, body)
			}
		}()
	}
	close(start)
	wg.Wait()
	return statuses, retryAfter
}

// Two `kupe serve` processes on one PostgreSQL never let a user past their cap on active calls:
// 20 simultaneous requests split across both, under a cap of 3, place exactly 3 calls (which
// stay active: the simulated carrier lets them ring for an hour) and refuse 17 with 429 and
// Retry-After.
func TestConcurrencyCapAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	dsn := entstoretest.PostgresURL(t)
	key := replicaCustomer(t, dsn, func(l *identity.Limits) { l.MaxConcurrentCalls = 3 })
	ringing := map[string]string{"KUPE_SIMULATED_RING_AFTER": "1h"}
	bases := []string{startReplica(t, dsn, ringing), startReplica(t, dsn, ringing)}
	statuses, retryAfter := burst(t, bases, key, 20)
	placed, refused := 0, 0
	for i, st := range statuses {
		switch {
		case st == http.StatusOK:
			placed++
		case st == http.StatusTooManyRequests && retryAfter[i] != "":
			refused++
		default:
			t.Errorf("request %d: %d (Retry-After %q)", i, st, retryAfter[i])
		}
	}
	if placed != 3 || refused != 17 {
		t.Fatalf("20 requests over two processes under a cap of 3: %d placed, %d refused with Retry-After; want 3 and 17",
			placed, refused)
	}
}

// Two `kupe serve` processes sharing Redis (KUPE_REDIS_URL) allow one user's request rate once
// between them, not once each: at 0.01 requests a second (a burst of one, the next token 100 s
// away), 10 requests split across both place exactly one call, where per-process buckets would
// place two. /health reports Redis connected.
func TestRequestRateSharedThroughRedis(t *testing.T) {
	t.Parallel()
	dsn := entstoretest.PostgresURL(t)
	key := replicaCustomer(t, dsn, func(l *identity.Limits) { l.RequestsPerSecond, l.MaxConcurrentCalls = 0.01, 100 })
	env := map[string]string{"KUPE_REDIS_URL": redisURL(t)}
	bases := []string{startReplica(t, dsn, env), startReplica(t, dsn, env)}
	statuses, _ := burst(t, bases, key, 10)
	placed, limited := 0, 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			placed++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Errorf("request %d: %d", i, st)
		}
	}
	if placed != 1 || limited != 9 {
		t.Fatalf("10 requests over two processes sharing Redis at 0.01/s: %d placed, %d refused; want 1 and 9", placed, limited)
	}
	for _, base := range bases {
		res, err := http.Get(base + "/health")
		noErr(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"redis":"connected"`) {
			t.Fatalf("health: %d %s", res.StatusCode, body)
		}
	}
}

// redisURL is the test Redis, as adapters/redislimit's tests find it: 127.0.0.1:6379, or
// KUPE_TEST_REDIS_URL; the test skips only when KUPE_TEST_SKIP_REDIS is set.
func redisURL(t *testing.T) string {
	t.Helper()
	if os.Getenv("KUPE_TEST_SKIP_REDIS") != "" {
		t.Skip("KUPE_TEST_SKIP_REDIS is set: skipping the tests that need a real Redis")
	}
	if u := os.Getenv("KUPE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// With KUPE_REDIS_URL set and Redis down, create_call goes on with each process's own limits:
// every request is served, the fallbacks are counted, "redis unreachable" is logged once, and
// /health stays 200 saying Redis is disconnected.
func TestRedisDownFallsBackToProcessLimits(t *testing.T) {
	down := "redis://" + freeAddr(t) + "/0" // nothing listens there
	r := startApp(t, map[string]string{"KUPE_REDIS_URL": down}, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	for i := range 3 {
		if a := r.createCall(c.key, fmt.Sprintf("+1415555%04d", 100+i), ""); a.status != http.StatusOK || a.body["status"] != "success" {
			t.Fatalf("create_call %d with Redis down: %d %s", i, a.status, a.raw)
		}
	}
	h := r.do(http.MethodGet, "/health", "", "")
	if h.status != http.StatusOK || h.body["redis"] != "disconnected" || h.body["status"] != "healthy" {
		t.Fatalf("health with Redis down: %d %s", h.status, h.raw)
	}
	if n := r.logs.FilterMessageSnippet("redis unreachable").Len(); n != 1 {
		t.Fatalf("%d \"redis unreachable\" lines, want 1", n)
	}
	m := r.do(http.MethodGet, "/metrics", "", "")
	var fallbacks float64
	for _, line := range strings.Split(m.raw, "\n") {
		if strings.HasPrefix(line, "kupe_limiter_redis_fallbacks_total ") {
			_, _ = fmt.Sscan(strings.TrimPrefix(line, "kupe_limiter_redis_fallbacks_total "), &fallbacks)
		}
	}
	if fallbacks < 3 {
		t.Fatalf("kupe_limiter_redis_fallbacks_total = %v, want a fallback per request at least", fallbacks)
	}
}
