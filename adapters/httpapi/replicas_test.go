package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
)

// replica is one server process: its own store (its own connection pool) and engine, on the
// shared database.
func replica(t *testing.T, dsn string, carrier createcall.Carrier) (*entstore.Store, *httptest.Server) {
	t.Helper()
	s := entstoretest.Open(t, dsn)
	engine := httpapi.New(apitest.Deps(s, createcall.CarrierSet{call.ProviderSimulated: carrier}), httpapi.Config{}, zap.NewNop())
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	return s, srv
}

// Two server processes on one PostgreSQL never let a user past their cap on active calls: 20
// simultaneous requests split across both, under a cap of 3, while the carrier holds every dial
// (so each call stays active): exactly 3 are placed, 17 refused with 429.
func TestConcurrencyCapHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := entstoretest.PostgresURL(t)
	carrier := newHoldingCarrier()
	one, srv1 := replica(t, dsn, carrier)
	if err := one.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, srv2 := replica(t, dsn, carrier)

	ctx := context.Background()
	acc := &accounts.Accounts{Store: one}
	u, err := acc.CreateUser(ctx, "replicas@example.com", money.FromUnits(100))
	noErr(t, err)
	key, err := acc.CreateAPIKey(ctx, u.ID, "load")
	noErr(t, err)
	line, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: lineNumber, Provider: "simulated"})
	noErr(t, err)
	ag, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales"})
	noErr(t, err)
	noErr(t, acc.SetMapping(ctx, line.ID, call.Target{AgentID: ag.ID}))
	_, err = one.UpdateLimits(ctx, u.ID, func(l *identity.Limits) error { l.MaxConcurrentCalls = 3; return nil })
	noErr(t, err)

	const n = 20
	codes := make(chan int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		base := srv1.URL
		if i%2 == 1 {
			base = srv2.URL
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, base+callURL("phoneNumber", destination), nil)
			req.Header.Set("x-api-key", key.Plain)
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)

	// Every request either reaches the carrier (and is held there) or is answered. Count both
	// until all 20 are accounted for, then let the held dials finish.
	count := map[int]int{}
	held := 0
	deadline := time.After(20 * time.Second)
	for held+count[http.StatusTooManyRequests]+count[0]+count[http.StatusOK]+count[http.StatusInternalServerError] < n {
		select {
		case <-carrier.entered:
			held++
		case c := <-codes:
			count[c]++
		case <-deadline:
			t.Fatalf("timed out: %d dials held, answers %v", held, count)
		}
	}
	close(carrier.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		count[c]++
	}
	if count[http.StatusOK] != 3 || count[http.StatusTooManyRequests] != n-3 || held != 3 {
		t.Fatalf("answers %v with %d dials, want 3 × 200 and 17 × 429, and 3 dials", count, held)
	}
	_, stored, err := one.ListSessions(ctx, u.ID, 0, 1)
	noErr(t, err)
	if stored != 3 {
		t.Fatalf("%d sessions stored, want 3", stored)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
