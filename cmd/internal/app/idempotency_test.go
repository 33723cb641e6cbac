package app

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/application/createcall"
)

// fakePurger holds expiry times and deletes them as the store would; the purge uses nothing
// else of the calls port.
type fakePurger struct {
	createcall.CallStore
	expires []time.Time
	calls   int
}

func (f *fakePurger) PurgeIdempotencyKeys(_ context.Context, before time.Time, limit int) (int, error) {
	f.calls++
	kept, n := f.expires[:0], 0
	for _, e := range f.expires {
		if n < limit && !e.After(before) {
			n++
			continue
		}
		kept = append(kept, e)
	}
	f.expires = kept
	return n, nil
}

var _ createcall.CallStore = (*fakePurger)(nil)

func TestPurgeExpiredIdempotencyKeysInBatches(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	f := &fakePurger{}
	for i := range 2*purgeBatch + 10 {
		f.expires = append(f.expires, now.Add(-time.Duration(i)*time.Second))
	}
	f.expires = append(f.expires, now.Add(time.Minute)) // still live
	if n := PurgeExpiredIdempotencyKeys(context.Background(), f, now, zap.NewNop()); n != 2*purgeBatch+10 {
		t.Fatalf("purged %d", n)
	}
	if f.calls != 3 || len(f.expires) != 1 {
		t.Fatalf("%d batches, %d records left; want 3 and the live one", f.calls, len(f.expires))
	}
}
