package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
)

// benchWriter is a ResponseWriter that keeps nothing, so the benchmark measures the server.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }

// bodyReader replays one body without allocating per request.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// BenchmarkCreateCall is the hot path end to end: gin, auth, the use case, memstore and the
// simulated carrier. memstore scans all sessions on each insert, so the store is replaced every
// storeRounds calls (off the clock) to keep the benchmark about the request, not the fake.
func BenchmarkCreateCall(b *testing.B) {
	const storeRounds = 512
	for _, bc := range []struct {
		name, target, body string
		status             int
	}{
		{"no body", callURL("phoneNumber", destination), "", http.StatusOK},
		{"variable_values", callURL("phoneNumber", destination),
			`{"variable_values": {"name": "Ada", "balance": 50.25, "company": "Acme Corp"}}`, http.StatusOK},
		// Refused before the use case parses anything: what gin, the key check and the error
		// path cost on their own.
		{"422 no phoneNumber", createCall + "?agent_id=x", "", http.StatusUnprocessableEntity},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var engine http.Handler
			var key string
			fresh := func() {
				store := memstore.New()
				deps := apitest.Deps(store, createcall.CarrierSet{call.ProviderSimulated: simprovider.New(simprovider.Config{})})
				// As in production, with the rate kept out of the benchmark's way.
				deps.CreateCall.Limiter, deps.CreateCall.Limits = ratelimit.New(nil), createcall.CallLimits{DefaultRequestsPerSecond: 1e9}
				deps.Auth.Usage = store // as served: key use recorded
				engine = httpapi.New(deps, httpapi.Config{}, zap.NewNop())
				key = seedBench(b, deps.Accounts)
			}
			fresh()
			req, err := http.NewRequest(http.MethodPost, bc.target, nil)
			if err != nil {
				b.Fatal(err)
			}
			body := &bodyReader{}
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i > 0 && i%storeRounds == 0 {
					b.StopTimer()
					fresh()
					b.StartTimer()
				}
				req.Header = http.Header{"X-Api-Key": {key}}
				if bc.body == "" {
					req.Body, req.ContentLength = http.NoBody, 0
				} else {
					body.Reset([]byte(bc.body))
					req.Body, req.ContentLength = body, int64(len(bc.body))
				}
				clear(w.h)
				w.code = 0
				engine.ServeHTTP(w, req)
				if w.code != bc.status {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

func seedBench(b *testing.B, acc *accounts.Accounts) string {
	ctx := context.Background()
	u, err := acc.CreateUser(ctx, "bench@example.com", money.FromUnits(1_000_000))
	if err != nil {
		b.Fatal(err)
	}
	// The benchmark's calls stay active: a cap above storeRounds keeps it out of the way.
	if _, err := acc.Store.(*memstore.Store).UpdateLimits(ctx, u.ID, func(l *identity.Limits) error {
		l.MaxConcurrentCalls = 1 << 20
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	k, err := acc.CreateAPIKey(ctx, u.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	line, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: lineNumber, Provider: "simulated"})
	if err != nil {
		b.Fatal(err)
	}
	ag, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := acc.SetMapping(ctx, line.ID, call.Target{AgentID: ag.ID}); err != nil {
		b.Fatal(err)
	}
	return k.Plain
}
