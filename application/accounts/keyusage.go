package accounts

import (
	"context"
	"time"

	"github.com/kupe-voice/kupe/domain/identity"
)

const (
	// LastUsedInterval is how stale a key's last_used_at may grow: it is written at most once
	// per interval per key.
	LastUsedInterval = time.Minute
	// maxTouches bounds the usage writes in flight; past it a write is skipped, and a later
	// request of the same key tries again.
	maxTouches = 8
	// touchTimeout bounds one usage write.
	touchTimeout = 5 * time.Second
)

// NoteUse records that k authenticated a request, off the request's path: the key just read
// says when it was last recorded, so a key used within the interval costs nothing more, and at
// most one write per key runs at a time, in the background.
func (a *Authenticator) NoteUse(k identity.APIKey) {
	if a.Usage == nil {
		return
	}
	now := time.Now().UTC()
	if a.Now != nil {
		now = a.Now()
	}
	if !k.LastUsedAt.IsZero() && now.Sub(k.LastUsedAt) < LastUsedInterval {
		return
	}
	if _, busy := a.touching.LoadOrStore(k.ID, struct{}{}); busy {
		return
	}
	a.slotsOnce.Do(func() { a.slots = make(chan struct{}, maxTouches) })
	select {
	case a.slots <- struct{}{}:
	default:
		a.touching.Delete(k.ID)
		return
	}
	a.inflight.Add(1)
	go func() {
		defer func() {
			a.touching.Delete(k.ID)
			<-a.slots
			a.inflight.Done()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
		defer cancel()
		if _, err := a.Usage.TouchAPIKey(ctx, k.ID, now, now.Add(-LastUsedInterval)); err != nil && a.OnUsageError != nil {
			a.OnUsageError(k.ID, err)
		}
	}()
}

// Wait blocks until the usage writes in flight have ended. Call it before closing the store.
func (a *Authenticator) Wait() { a.inflight.Wait() }
