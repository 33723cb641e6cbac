package accounts

import (
	"context"
	"errors"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// The operator's reads (kupectl's users, limits and calls commands): they name any user or
// session, unlike the HTTP API's, which act for the caller alone.

// UserPage is one page of the users.
type UserPage struct {
	Items    []identity.User
	Total    int
	Page     int
	PageSize int
}

// ListUsers returns page (from 1) of the users, oldest first, pageSize (1 to MaxPageSize) at a
// time.
func (a *Accounts) ListUsers(ctx context.Context, page, pageSize int) (UserPage, error) {
	if err := checkPage(page, pageSize); err != nil {
		return UserPage{}, err
	}
	items, total, err := a.Store.Users(ctx, (page-1)*pageSize, pageSize)
	if err != nil {
		return UserPage{}, err
	}
	return UserPage{Items: items, Total: total, Page: page, PageSize: pageSize}, nil
}

// User reads one user.
func (a *Accounts) User(ctx context.Context, userID string) (identity.User, error) {
	id, err := ids.Require("user", userID)
	if err != nil {
		return identity.User{}, err
	}
	return a.Store.User(ctx, id)
}

// Get reads a user's limits as stored: zero RequestsPerSecond and no AllowedCountries mean the
// deployment's.
func (u *UserLimits) Get(ctx context.Context, userID string) (identity.Limits, error) {
	id, err := ids.Require("user", userID)
	if err != nil {
		return identity.Limits{}, err
	}
	return u.Store.Limits(ctx, id)
}

// Session reads one session by its id, whoever it belongs to; an unknown one is
// call.ErrSessionNotFound.
func (c *CallLogs) Session(ctx context.Context, sessionID string) (*call.Session, error) {
	id, err := ids.Require("id", sessionID)
	if err != nil {
		return nil, err
	}
	s, err := c.Sessions.Session(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, call.ErrSessionNotFound
	}
	return s, err
}
