package accounts

import (
	"context"
	"errors"

	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// CreditBalance returns the caller's credit balance. A principal whose user is gone stands for
// nobody: fault.ErrUnauthenticated.
func (a *Accounts) CreditBalance(ctx context.Context, userID string) (money.Amount, error) {
	if userID == "" {
		return 0, fault.ErrUnauthenticated
	}
	u, err := a.Store.User(ctx, userID)
	if errors.Is(err, fault.ErrNotFound) {
		return 0, fault.ErrUnauthenticated
	}
	if err != nil {
		return 0, err
	}
	return u.Credits, nil
}
