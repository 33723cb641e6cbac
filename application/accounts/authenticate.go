package accounts

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// Authenticator turns a request's credential into a Principal.
type Authenticator struct {
	Keys KeyStore
	// Usage records each key's last use (at most once a minute per key, in the background); nil
	// records nothing.
	Usage KeyStore
	// OnUsageError hears of a usage write that failed; it must not block.
	OnUsageError func(keyID string, err error)
	// Now is the usage record's clock; nil is time.Now.
	Now func() time.Time

	touching  sync.Map // key id -> struct{}: a usage write of that key is in flight
	slotsOnce sync.Once
	slots     chan struct{}
	inflight  sync.WaitGroup
}

// APIKey authenticates an x-api-key value. A key of the wrong shape is refused without a lookup.
func (a *Authenticator) APIKey(ctx context.Context, plain string) (identity.Principal, error) {
	if identity.CheckAPIKey(plain) != nil {
		return identity.Principal{}, fault.ErrUnauthenticated
	}
	k, err := a.Keys.APIKeyByHash(ctx, identity.HashAPIKey(plain))
	if errors.Is(err, fault.ErrNotFound) {
		return identity.Principal{}, fault.ErrUnauthenticated
	}
	if err != nil {
		return identity.Principal{}, err
	}
	a.NoteUse(k)
	return identity.Principal{UserID: k.UserID, Method: identity.AuthAPIKey, KeyID: k.ID}, nil
}
