package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/application/internal/ids"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

var (
	// ErrForeignUser: a request named a user_id other than its caller's. A caller acts for
	// itself only, whether or not that other user exists.
	ErrForeignUser = errors.New("user_id names another user")
	// ErrAPIKeyNotFound: the caller has no such live key (it may be another user's). It is an
	// fault.ErrNotFound.
	ErrAPIKeyNotFound = fmt.Errorf("api key %w", fault.ErrNotFound)
)

// maxKeyNameChars bounds a key's label, as kupectl's CreateAPIKey does.
const maxKeyNameChars = 100

// APIKeys are a user's own API keys: issue, list, label and revoke them. Unlike
// Accounts.CreateAPIKey and Accounts.RevokeAPIKey (kupectl's, for any user), each acts for one
// user and touches only that user's keys.
type APIKeys struct {
	Store KeyStore
	Now   func() time.Time
}

func (a *APIKeys) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now().UTC()
}

// ActingUser is the user a request acts for: the caller, whom an optional client-supplied
// user_id may repeat but not change. A user_id that is no UUID is invalid input; another user's
// is ErrForeignUser, whether or not that user exists.
func ActingUser(callerID, userID string) (string, error) {
	if callerID == "" {
		return "", fault.ErrUnauthenticated
	}
	id, err := ids.Parse("user_id", strings.TrimSpace(userID))
	if err != nil {
		return "", err
	}
	if id != "" && id != callerID {
		return "", ErrForeignUser
	}
	return callerID, nil
}

// Create issues a key for the user. Its plain text is in the result only.
func (a *APIKeys) Create(ctx context.Context, userID, name string) (NewAPIKey, error) {
	if userID == "" {
		return NewAPIKey{}, fault.ErrUnauthenticated
	}
	name, err := keyName(name)
	if err != nil {
		return NewAPIKey{}, err
	}
	plain := identity.NewAPIKey()
	k := identity.APIKey{
		ID: ids.New(), UserID: userID, Name: name,
		Prefix: identity.DisplayPrefix(plain), Hash: identity.HashAPIKey(plain), CreatedAt: a.now(),
	}
	if err := a.Store.CreateAPIKey(ctx, k); err != nil {
		return NewAPIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return NewAPIKey{APIKey: k, Plain: plain}, nil
}

// List returns the user's live keys, newest first.
func (a *APIKeys) List(ctx context.Context, userID string) ([]identity.APIKey, error) {
	if userID == "" {
		return nil, fault.ErrUnauthenticated
	}
	return a.Store.UserAPIKeys(ctx, userID)
}

// Rename sets the label of one of the user's live keys; an empty name clears it.
func (a *APIKeys) Rename(ctx context.Context, userID, keyID, name string) (identity.APIKey, error) {
	if userID == "" {
		return identity.APIKey{}, fault.ErrUnauthenticated
	}
	id, err := ids.Require("key_id", keyID)
	if err != nil {
		return identity.APIKey{}, err
	}
	if name, err = keyName(name); err != nil {
		return identity.APIKey{}, err
	}
	k, err := a.Store.RenameUserAPIKey(ctx, userID, id, name)
	return k, apiKeyErr(err)
}

// Revoke stops one of the user's keys from working, at once: there is no cache of keys that
// could outlive it.
func (a *APIKeys) Revoke(ctx context.Context, userID, keyID string) error {
	if userID == "" {
		return fault.ErrUnauthenticated
	}
	id, err := ids.Require("key_id", keyID)
	if err != nil {
		return err
	}
	return apiKeyErr(a.Store.RevokeUserAPIKey(ctx, userID, id, a.now()))
}

// apiKeyErr names a missing key as such, so that the answer says what was not found.
func apiKeyErr(err error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return ErrAPIKeyNotFound
	}
	return err
}

// keyName checks and trims a key's label: at most maxKeyNameChars characters of printable text.
func keyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxKeyNameChars ||
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "", fault.Invalidf("name must be at most %d characters of printable text", maxKeyNameChars)
	}
	return s, nil
}
