package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// ErrInvalidSession: a session token (Bearer) that does not verify, has expired, or is not a
// signed-in user's. It is an fault.ErrUnauthenticated.
var ErrInvalidSession = fmt.Errorf("invalid or expired session token: %w", fault.ErrUnauthenticated)

// SessionUsers turns a verified session of the identity provider (Supabase Auth) into a
// Principal. The provider's user id is this service's user id, so a user who signs in for the
// first time is created then, with no credits.
type SessionUsers struct {
	Store UserStore
	Now   func() time.Time
}

// Principal returns who a verified session stands for, creating that user on first sight.
// subject must be a UUID; email is used only when the user is created, and only when it is a
// plain address that no other user holds. Two first requests at once both succeed.
func (s *SessionUsers) Principal(ctx context.Context, subject, email string) (identity.Principal, error) {
	id, err := uuid.Parse(subject)
	if err != nil || len(subject) != 36 {
		return identity.Principal{}, fault.ErrUnauthenticated
	}
	uid := id.String()
	p := identity.Principal{UserID: uid, Method: identity.AuthBearer}
	_, err = s.Store.User(ctx, uid)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, fault.ErrNotFound) {
		return identity.Principal{}, err
	}
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now()
	}
	u := identity.User{ID: uid, Email: sessionEmail(email), CreatedAt: now}
	err = s.Store.CreateUser(ctx, u)
	if errors.Is(err, fault.ErrAlreadyExists) && u.Email != "" {
		// Either a concurrent first request created the user, or another user holds the email.
		if _, err2 := s.Store.User(ctx, uid); err2 == nil {
			return p, nil
		}
		u.Email = ""
		err = s.Store.CreateUser(ctx, u)
	}
	if errors.Is(err, fault.ErrAlreadyExists) {
		if _, err2 := s.Store.User(ctx, uid); err2 == nil {
			return p, nil
		}
	}
	if err != nil {
		return identity.Principal{}, fmt.Errorf("create session user: %w", err)
	}
	return p, nil
}

// sessionEmail is the claim's email in the form users are stored with, or "" when it is not a
// plain address.
func sessionEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return ""
	}
	if addr, err := mail.ParseAddress(s); err != nil || addr.Address != s {
		return ""
	}
	return strings.ToLower(s)
}
