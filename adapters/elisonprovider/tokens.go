package elisonprovider

import (
	"context"
	"sync"
	"time"
)

// tokenKey identifies one account at one dialer; see account.key.
type tokenKey struct {
	base, username string
	password       [32]byte // SHA-256
}

type cachedToken struct {
	value     string
	usableTil time.Time
}

// tokenCache keeps one token per account and lets one dial at a time log in for it, so a burst
// of dials costs one login.
type tokenCache struct {
	now    func() time.Time
	mu     sync.Mutex
	tokens map[tokenKey]cachedToken
	logins map[tokenKey]chan struct{} // closed when the login in flight for a key ends
}

// maxCachedTokens bounds the cache; past it, expired tokens are swept on each store.
const maxCachedTokens = 1024

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, tokens: map[tokenKey]cachedToken{}, logins: map[tokenKey]chan struct{}{}}
}

// get returns the cached token for key unless it is stale (one the dialer refused) or expired;
// otherwise it logs in, or waits for the login another dial already has in flight.
func (c *tokenCache) get(ctx context.Context, key tokenKey, stale string,
	login func(context.Context) (string, time.Duration, error)) (string, error) {
	for {
		c.mu.Lock()
		if t, ok := c.tokens[key]; ok {
			if t.value != stale && c.now().Before(t.usableTil) {
				c.mu.Unlock()
				return t.value, nil
			}
			delete(c.tokens, key)
		}
		if wait, busy := c.logins[key]; busy {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		done := make(chan struct{})
		c.logins[key] = done
		c.mu.Unlock()

		value, ttl, err := login(ctx)

		c.mu.Lock()
		delete(c.logins, key)
		close(done)
		if err == nil {
			c.store(key, cachedToken{value: value, usableTil: c.now().Add(ttl)})
		}
		c.mu.Unlock()
		return value, err
	}
}

// store caches t; c.mu is held.
func (c *tokenCache) store(key tokenKey, t cachedToken) {
	if len(c.tokens) >= maxCachedTokens {
		now := c.now()
		for k, old := range c.tokens {
			if !now.Before(old.usableTil) {
				delete(c.tokens, k)
			}
		}
	}
	c.tokens[key] = t
}
