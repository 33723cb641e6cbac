package accounts_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// blockingUsage is a usage store whose writes wait until released, counting them.
type blockingUsage struct {
	*memstore.Store
	release chan struct{}
	calls   atomic.Int64
	fail    error
}

func (b *blockingUsage) TouchAPIKey(ctx context.Context, id string, at, staleBefore time.Time) (bool, error) {
	b.calls.Add(1)
	<-b.release
	if b.fail != nil {
		return false, b.fail
	}
	return b.Store.TouchAPIKey(ctx, id, at, staleBefore)
}

func newKeyedStore(t testing.TB, n int) (*memstore.Store, []string) {
	t.Helper()
	store := memstore.New()
	acc := &accounts.Accounts{Store: store}
	u, err := acc.CreateUser(context.Background(), "usage@example.com", money.FromUnits(1))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for range n {
		k, err := acc.CreateAPIKey(context.Background(), u.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.Plain)
	}
	return store, keys
}

func TestUsageIsRecordedOffTheRequestPath(t *testing.T) {
	store, keys := newKeyedStore(t, 1)
	usage := &blockingUsage{Store: store, release: make(chan struct{})}
	auth := &accounts.Authenticator{Keys: store, Usage: usage}
	ctx := context.Background()

	// The write is stuck, yet every request authenticates at once, and only one write is made.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := auth.APIKey(ctx, keys[0]); err != nil {
				t.Error(err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("requests waited for the usage write")
	}
	eventually(t, "the usage write to start", func() bool { return usage.calls.Load() > 0 })
	time.Sleep(20 * time.Millisecond)
	if n := usage.calls.Load(); n != 1 {
		t.Fatalf("%d usage writes in flight for one key, want 1", n)
	}
	close(usage.release)
	auth.Wait()
	k, err := store.APIKeyByHash(ctx, identity.HashAPIKey(keys[0]))
	if err != nil || k.LastUsedAt.IsZero() {
		t.Fatalf("last_used_at after the write: %+v, %v", k, err)
	}
	// Used again within the minute: the key read says so, and nothing is written.
	for range 10 {
		if _, err := auth.APIKey(ctx, keys[0]); err != nil {
			t.Fatal(err)
		}
	}
	auth.Wait()
	if n := usage.calls.Load(); n != 1 {
		t.Fatalf("%d usage writes, want still 1 within the minute", n)
	}
}

func TestUsageWritesInFlightAreBounded(t *testing.T) {
	store, keys := newKeyedStore(t, 20)
	usage := &blockingUsage{Store: store, release: make(chan struct{}), fail: errors.New("database down")}
	var failures atomic.Int64
	auth := &accounts.Authenticator{Keys: store, Usage: usage,
		OnUsageError: func(string, error) { failures.Add(1) }}
	for _, k := range keys {
		if _, err := auth.APIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	// calls counts the writes that started; past the bound the rest were skipped.
	eventually(t, "the usage writes to start", func() bool { return usage.calls.Load() > 0 })
	time.Sleep(20 * time.Millisecond)
	if n := usage.calls.Load(); n > 8 {
		t.Fatalf("%d usage writes in flight for 20 keys, want at most 8", n)
	}
	close(usage.release)
	auth.Wait()
	if f, c := failures.Load(), usage.calls.Load(); f != c {
		t.Fatalf("%d failed writes reported, %d made", f, c)
	}
	// A failed write leaves the key to be tried again by its next request.
	before := usage.calls.Load()
	usage.fail = nil
	if _, err := auth.APIKey(context.Background(), keys[0]); err != nil {
		t.Fatal(err)
	}
	auth.Wait()
	if usage.calls.Load() != before+1 {
		t.Fatal("a key whose write failed was not written again")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkAuthenticateAPIKey is the x-api-key check on memstore, without and with the usage
// record: with it, a key used within the minute costs one clock read more.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	for _, withUsage := range []bool{false, true} {
		name := "no usage record"
		if withUsage {
			name = "usage record"
		}
		b.Run(name, func(b *testing.B) {
			store, keys := newKeyedStore(b, 1)
			auth := &accounts.Authenticator{Keys: store}
			if withUsage {
				auth.Usage = store
			}
			ctx := context.Background()
			if _, err := auth.APIKey(ctx, keys[0]); err != nil {
				b.Fatal(err)
			}
			auth.Wait()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := auth.APIKey(ctx, keys[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
