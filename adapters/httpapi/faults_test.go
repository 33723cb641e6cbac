package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

func TestReady(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		r := newRig(t)
		w := r.get("/ready", "")
		if w.Code != http.StatusOK || decode(t, w)["status"] != "ready" {
			t.Fatalf("status %d, body %s", w.Code, w.Body)
		}
	})
	t.Run("draining", func(t *testing.T) {
		ready := &httpapi.Readiness{}
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Readiness = ready })
		ready.Drain()
		wantDetail(t, r.get("/ready", ""), http.StatusServiceUnavailable, "Service is shutting down")
		// Liveness is another question: the process is alive and finishing its work.
		if w := r.get("/health", ""); w.Code != http.StatusOK {
			t.Fatalf("/health while draining = %d, want 200", w.Code)
		}
	})
	t.Run("database down", func(t *testing.T) {
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Pinger = pingerFunc(func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: connection refused") })
		})
		wantDetail(t, r.get("/ready", ""), http.StatusServiceUnavailable, "Database unavailable")
	})
	t.Run("a ping that ignores its deadline", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Pinger = pingerFunc(func(context.Context) error { <-release; return nil })
		})
		start := time.Now()
		wantDetail(t, r.get("/ready", ""), http.StatusServiceUnavailable, "Database unavailable")
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("/ready took %v with a ping that hangs", took)
		}
	})
}

// downStore answers every read and write as a store whose database is gone.
type downStore struct {
	*memstore.Store
	down    bool
	creates int
}

var errConnRefused = fmt.Errorf("create session: %w", errors.Join(fault.ErrUnavailable,
	errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")))

func (s *downStore) BeginCall(ctx context.Context, b createcall.BeginCall) error {
	s.creates++
	if s.down {
		return errConnRefused
	}
	return s.Store.BeginCall(ctx, b)
}

func (s *downStore) APIKeyByHash(ctx context.Context, h identity.KeyHash) (identity.APIKey, error) {
	if s.down {
		return identity.APIKey{}, errConnRefused
	}
	return s.Store.APIKeyByHash(ctx, h)
}

func TestDatabaseUnavailableIs503(t *testing.T) {
	var ds *downStore
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		ds = &downStore{Store: d.CreateCall.Sessions.(*memstore.Store)}
		d.CreateCall.Sessions = ds // the dial plan still reads: only the session insert fails
	})
	a := r.user(money.FromUnits(5), true)
	ds.down = true
	t.Run("authentication", func(t *testing.T) {
		rr := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Auth = &accounts.Authenticator{Keys: &downStore{Store: memstore.New(), down: true}}
		})
		wantDetail(t, rr.get("/api/v1/me", identity.NewAPIKey()), http.StatusServiceUnavailable, "Database unavailable")
	})
	t.Run("session write: never dialled", func(t *testing.T) {
		wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, ""), http.StatusServiceUnavailable, "Database unavailable")
		if ds.creates != 1 || r.carrier.Dials() != 0 {
			t.Fatalf("%d session inserts and %d dials; a create whose insert failed must never dial", ds.creates, r.carrier.Dials())
		}
	})
	// Known answers are not logged as internal errors; the rig's checkLogs scans what was.
	for _, e := range r.logs.All() {
		if strings.Contains(e.Message, "panic") {
			t.Fatalf("log: %s", e.Message)
		}
	}
}

func TestVariableValuesCap(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	vars := func(n int) string {
		// {"k0":"xxxx...",...}: values of 1000 bytes, enough keys to make n bytes of JSON or more.
		var b strings.Builder
		b.WriteString("{")
		for i := 0; b.Len() < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":"%s"`, i, strings.Repeat("x", 1000))
		}
		b.WriteString("}")
		return b.String()
	}
	small, big := vars(15<<10), vars(16<<10+1)
	if len(small) > 16<<10 || len(big) <= 16<<10 {
		t.Fatalf("sizes %d and %d", len(small), len(big))
	}
	// 16 KiB of values passes the HTTP layer (the use case then limits the number of keys).
	w := r.post(callURL("phoneNumber", destination), a.key, `{"variable_values":`+small+`}`)
	if w.Code != http.StatusOK {
		t.Fatalf("variable_values of %d bytes: %d %s", len(small), w.Code, w.Body)
	}
	wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, `{"variable_values":`+big+`}`),
		http.StatusRequestEntityTooLarge, "variable_values too large: at most 16 KiB")
	// A large body is not refused for its size alone, under the body cap.
	w = r.post(callURL("phoneNumber", destination), a.key, `{"note":"`+strings.Repeat("y", 40<<10)+`","variable_values":{"name":"Ada"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("40 KiB body with small variable_values: %d %s", w.Code, w.Body)
	}
	if n := r.sessionCount(a.userID); n != 2 {
		t.Fatalf("%d sessions, want 2: the refused request made none", n)
	}
}
