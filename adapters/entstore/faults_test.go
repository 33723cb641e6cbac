package entstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// TestPostgresOutage runs the store against PostgreSQL through a proxy that the test cuts: while
// the database is down every call fails within the statement timeout with an error that is
// fault.ErrUnavailable, and once it is back the same store works again, with no restart.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	dsn, proxy := entstoretest.ProxiedPostgresURL(t)
	const timeout = time.Second
	s, err := entstore.Open(ctx, dsn, entstore.WithStatementTimeout(timeout), entstore.WithSecretsKey(entstoretest.SecretsKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	must(t, s.Migrate(ctx))
	u := newUser(t, s)
	l := newLine(t, s, u.ID, "+14155550123")

	// bound is the most a call may take while the database is down: the statement timeout, the
	// time lib/pq gives its cancel request, and some slack for a loaded machine.
	const bound = timeout + 2*time.Second + 2*time.Second
	down := func(t *testing.T, what string) {
		t.Helper()
		calls := map[string]func(context.Context) error{
			"User":   func(ctx context.Context) error { _, err := s.User(ctx, u.ID); return err },
			"Line":   func(ctx context.Context) error { _, err := s.Line(ctx, l.ID); return err },
			"Ping":   s.Ping,
			"Create": func(ctx context.Context) error { return s.CreateSession(ctx, newSession(u.ID, l, base)) },
			"Plan": func(ctx context.Context) error {
				_, err := s.DialPlan(ctx, createcall.DialPlanQuery{UserID: u.ID, Requested: call.Target{}})
				return err
			},
			"Stale": func(ctx context.Context) error {
				_, err := s.StaleDialingSessions(ctx, time.Now(), 10)
				return err
			},
		}
		// All at once, each on its own connection, as concurrent requests would be.
		type result struct {
			name string
			took time.Duration
			err  error
		}
		results := make(chan result, len(calls))
		for name, f := range calls {
			go func() {
				// No deadline of the caller's own: the store must bound the call by itself (Ping
				// excepted: database/sql pings on the caller's context alone).
				callCtx := context.Background()
				if name == "Ping" {
					var cancel context.CancelFunc
					callCtx, cancel = context.WithTimeout(callCtx, timeout)
					defer cancel()
				}
				start := time.Now()
				err := f(callCtx)
				results <- result{name, time.Since(start), err}
			}()
		}
		for range calls {
			r := <-results
			switch {
			case r.err == nil:
				t.Errorf("%s: %s succeeded with the database down", what, r.name)
			case r.name != "Ping" && !errors.Is(r.err, fault.ErrUnavailable):
				t.Errorf("%s: %s = %v, want ErrUnavailable", what, r.name, r.err)
			case r.took > bound:
				t.Errorf("%s: %s took %v, want at most %v", what, r.name, r.took, bound)
			}
		}
	}
	up := func(t *testing.T) {
		t.Helper()
		// database/sql drops the dead connections and dials new ones: the first call after the
		// outage already succeeds.
		if _, err := s.User(ctx, u.ID); err != nil {
			t.Fatalf("first call after the database came back: %v", err)
		}
		cs := newSession(u.ID, l, base)
		must(t, s.CreateSession(ctx, cs))
		if _, err := s.Session(ctx, cs.ID); err != nil {
			t.Fatal(err)
		}
	}

	up(t)
	t.Run("server down", func(t *testing.T) {
		proxy.Cut()
		down(t, "cut")
		proxy.Restore()
		up(t)
	})
	t.Run("network drops packets", func(t *testing.T) {
		// Connections are in the pool: the blackhole swallows statements sent on them.
		up(t)
		proxy.Blackhole()
		down(t, "blackhole")
		proxy.Restore()
		up(t)
	})
	t.Run("a write that failed wrote nothing", func(t *testing.T) {
		cs := newSession(u.ID, l, base)
		proxy.Cut()
		if err := s.CreateSession(ctx, cs); !errors.Is(err, fault.ErrUnavailable) {
			t.Fatalf("CreateSession with the database down = %v", err)
		}
		proxy.Restore()
		if _, err := s.Session(ctx, cs.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Session after a failed insert = %v, want ErrNotFound", err)
		}
	})
	t.Run("a refusal is not an outage", func(t *testing.T) {
		cs := newSession(u.ID, l, base)
		must(t, s.CreateSession(ctx, cs))
		err := s.CreateSession(ctx, cs)
		if err == nil || errors.Is(err, fault.ErrUnavailable) {
			t.Fatalf("a duplicate insert = %v, want a refusal that is not ErrUnavailable", err)
		}
		if _, err := s.User(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrUnavailable) {
			t.Fatalf("an unknown user = %v", err)
		}
	})
}

// A statement that runs past the timeout is cut, with ErrUnavailable.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	s, err := entstore.Open(ctx, entstoretest.PostgresURL(t), entstore.WithStatementTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	start := time.Now()
	err = entstore.QueryThroughDriver(ctx, s, "SELECT pg_sleep(5)")
	if !errors.Is(err, fault.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Fatalf("a 5 s statement with a 300 ms timeout: %v after %v", err, time.Since(start))
	}
	if err := entstore.QueryThroughDriver(ctx, s, "SELECT 1"); err != nil {
		t.Fatalf("the next statement: %v", err)
	}
}
