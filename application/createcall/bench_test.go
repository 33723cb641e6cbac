package createcall_test

import (
	"context"
	"testing"

	"github.com/kupe-voice/kupe/adapters/ratelimit"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/identity"
)

// BenchmarkHandle is the use case over fakes (memstore, a carrier that answers at once, the
// in-process limiter), by user id and by an API key read with the dial plan. The store is
// replaced every storeRounds calls, off the clock, so that memstore's growing session index
// does not become the subject.
func BenchmarkHandle(b *testing.B) {
	const storeRounds = 512
	ctx := context.Background()
	for _, byKey := range []bool{false, true} {
		name := "by user id"
		if byKey {
			name = "by api key"
		}
		b.Run(name, func(b *testing.B) {
			var (
				f   *fixture
				cmd createcall.Command
			)
			fresh := func() {
				f = newFixture(b)
				f.h.Limiter = ratelimit.New(nil)
				f.h.Limits = createcall.CallLimits{DefaultRequestsPerSecond: 1e9}
				if err := setCap(f, 1<<30); err != nil {
					b.Fatal(err)
				}
				cmd = createcall.Command{UserID: f.userID, To: "+14155550123"}
				if byKey {
					k, err := f.accounts.CreateAPIKey(ctx, f.userID, "bench")
					if err != nil {
						b.Fatal(err)
					}
					cmd = createcall.Command{KeyHash: identity.HashAPIKey(k.Plain), To: "+14155550123"}
				}
			}
			fresh()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i > 0 && i%storeRounds == 0 {
					b.StopTimer()
					fresh()
					b.StartTimer()
				}
				if res, err := f.h.Handle(ctx, cmd); err != nil || !res.Success {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}

func setCap(f *fixture, n int) error {
	_, err := f.store.UpdateLimits(context.Background(), f.userID, func(l *identity.Limits) error {
		l.MaxConcurrentCalls = n
		return nil
	})
	return err
}
