package app_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/cmd/internal/app"
	"github.com/kupe-voice/kupe/domain/call"
)

// TestDatabaseOutage runs the whole service on PostgreSQL through a proxy the test cuts. While
// the database is down create_call answers 503 {"detail": "Database unavailable"} within a
// bound and dials nothing, /health reports the database disconnected and /ready fails; when it
// comes back the service answers again without a restart. Both a server that goes away and a
// network that drops packets are tried.
func TestDatabaseOutage(t *testing.T) {
	dsn, proxy := entstoretest.ProxiedPostgresURL(t)
	s := entstoretest.Open(t, dsn)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := app.MigrateJobs(context.Background(), s); err != nil { // as kupe migrate does
		t.Fatal(err)
	}
	s.Close()
	var sim *simprovider.Carrier
	const dbTimeout = time.Second
	r := startApp(t, map[string]string{
		"KUPE_DATABASE_URL": dsn, "KUPE_DATABASE_TIMEOUT": dbTimeout.String(),
		"KUPE_SECRETS_KEY": base64.StdEncoding.EncodeToString(entstoretest.SecretsKey),
	}, nil, []fx.Option{fx.Populate(&sim)})
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	const dest = "+14155550123"

	// The most a request may take with the database down: one statement's timeout and the
	// time lib/pq gives its cancel request (both bounded by the store), and slack for a loaded
	// machine.
	const bound = dbTimeout + 2*time.Second + 2*time.Second

	served := func(t *testing.T) {
		t.Helper()
		if a := r.createCall(c.key, dest, ""); a.status != http.StatusOK || a.body["status"] != "success" {
			t.Fatalf("create_call with the database up: %d %s %v", a.status, a.raw, a.err)
		}
		if a := r.do(http.MethodGet, "/health", "", ""); a.status != http.StatusOK || a.body["database"] != "connected" {
			t.Fatalf("/health with the database up: %d %s", a.status, a.raw)
		}
		if a := r.do(http.MethodGet, "/ready", "", ""); a.status != http.StatusOK {
			t.Fatalf("/ready with the database up: %d %s", a.status, a.raw)
		}
	}
	unavailable := func(t *testing.T) {
		t.Helper()
		dials := sim.Dials()
		start := time.Now()
		a := r.createCall(c.key, dest, `{"variable_values":{"name":"Ada"}}`)
		took := time.Since(start)
		if a.status != http.StatusServiceUnavailable || a.body["detail"] != "Database unavailable" || len(a.body) != 1 {
			t.Fatalf("create_call with the database down: %d %s %v", a.status, a.raw, a.err)
		}
		t.Logf("create_call with the database down: 503 after %v", took)
		if took > bound {
			t.Fatalf("create_call with the database down took %v, want at most %v", took, bound)
		}
		if sim.Dials() != dials {
			t.Fatal("a create_call dialled with the database down")
		}
		start = time.Now()
		a = r.do(http.MethodGet, "/health", "", "")
		if a.status != http.StatusServiceUnavailable || a.body["database"] != "disconnected" || a.body["status"] != "unhealthy" {
			t.Fatalf("/health with the database down: %d %s", a.status, a.raw)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("/health took %v", took)
		} else {
			t.Logf("/health with the database down: 503 after %v", took)
		}
		if a := r.do(http.MethodGet, "/ready", "", ""); a.status != http.StatusServiceUnavailable || a.body["detail"] != "Database unavailable" {
			t.Fatalf("/ready with the database down: %d %s", a.status, a.raw)
		}
		if a := r.do(http.MethodGet, "/api/v1/me", c.key, ""); a.status != http.StatusServiceUnavailable {
			t.Fatalf("/api/v1/me with the database down: %d %s", a.status, a.raw)
		}
	}

	served(t)
	t.Run("server down", func(t *testing.T) {
		proxy.Cut()
		unavailable(t)
		proxy.Restore()
		served(t)
	})
	t.Run("network drops packets", func(t *testing.T) {
		proxy.Blackhole()
		unavailable(t)
		proxy.Restore()
		served(t)
	})
	scanLogs(t, r.logs, c.key, dest, c.line.Number)
}
