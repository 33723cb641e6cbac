// Package accountstest holds the contract suites of the accounts' ports (accounts.UserStore,
// accounts.KeyStore, accounts.CatalogStore). Every implementation runs them: the in-memory
// store, ent on SQLite and ent on PostgreSQL.
package accountstest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// Store is what the accounts suites run on: the accounts' ports, and the calls port, so that
// users can have sessions.
type Store interface {
	accounts.Store
	createcall.CallStore
}

// RunAccountsSuite is the acceptance test of users (accounts.UserStore) and of the keys the
// operator issues and revokes (accounts.KeyStore). newStore returns an empty store.
func RunAccountsSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	// Stores keep time to the microsecond at least (PostgreSQL's precision).
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	t.Run("users", func(t *testing.T) {
		s := newStore(t)
		u := identity.User{ID: uuid.NewString(), Email: "ada@example.com", Credits: money.FromUnits(25), CreatedAt: base}
		must(t, s.CreateUser(ctx, u))
		got, err := s.User(ctx, u.ID)
		must(t, err)
		if got.ID != u.ID || got.Email != u.Email || got.Credits != u.Credits || !got.CreatedAt.Equal(base) {
			t.Fatalf("User = %+v, want %+v", got, u)
		}
		dup := identity.User{ID: uuid.NewString(), Email: u.Email, CreatedAt: base}
		if err := s.CreateUser(ctx, dup); !errors.Is(err, fault.ErrAlreadyExists) {
			t.Fatalf("CreateUser with a taken email = %v, want ErrAlreadyExists", err)
		}
		if _, err := s.User(ctx, uuid.NewString()); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("User(unknown) = %v, want ErrNotFound", err)
		}
		n, err := s.CountUsers(ctx)
		must(t, err)
		if n != 1 {
			t.Fatalf("CountUsers = %d, want 1", n)
		}
		must(t, s.SetCredits(ctx, u.ID, money.Amount(-1)))
		got, _ = s.User(ctx, u.ID)
		if got.Credits != -1 {
			t.Fatalf("credits after SetCredits = %v, want -0.000001", got.Credits)
		}
		if err := s.SetCredits(ctx, uuid.NewString(), 1); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("SetCredits(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("users are listed oldest first, and their limits read", func(t *testing.T) {
		s := newStore(t)
		second := newUser(t, s, base.Add(time.Second))
		first := newUser(t, s, base)
		tie := identity.User{ID: "ffffffff-ffff-4fff-8fff-ffffffffffff", Email: "tie@example.com", Credits: money.FromUnits(1), CreatedAt: base}
		must(t, s.CreateUser(ctx, tie))
		all, total, err := s.Users(ctx, 0, 10)
		must(t, err)
		if total != 3 || len(all) != 3 || all[0].ID != first.ID || all[1].ID != tie.ID || all[2].ID != second.ID {
			t.Fatalf("Users = %+v (total %d)", all, total)
		}
		if u := all[0]; u.Email != first.Email || u.Credits != first.Credits || !u.CreatedAt.Equal(base) {
			t.Fatalf("Users[0] = %+v, want %+v", u, first)
		}
		page, total, err := s.Users(ctx, 2, 2)
		must(t, err)
		if total != 3 || len(page) != 1 || page[0].ID != second.ID {
			t.Fatalf("Users(2, 2) = %+v (total %d)", page, total)
		}
		if page, total, err := s.Users(ctx, 3, 2); err != nil || total != 3 || page == nil || len(page) != 0 {
			t.Fatalf("Users past the end = %+v, %d, %v", page, total, err)
		}

		l, err := s.Limits(ctx, first.ID)
		must(t, err)
		if !reflect.DeepEqual(l, identity.DefaultLimits()) {
			t.Fatalf("a new user's limits = %+v, want the defaults %+v", l, identity.DefaultLimits())
		}
		spendCap := money.FromUnits(3)
		set, err := s.UpdateLimits(ctx, first.ID, func(l *identity.Limits) error {
			l.MaxConcurrentCalls, l.RequestsPerSecond, l.DailySpendCap, l.AllowedCountries = 4, 1.5, &spendCap, []string{"GB"}
			return nil
		})
		must(t, err)
		if l, err = s.Limits(ctx, first.ID); err != nil || !reflect.DeepEqual(l, set) || l.MaxConcurrentCalls != 4 {
			t.Fatalf("Limits after UpdateLimits = %+v, %v; want %+v", l, err, set)
		}
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			if _, err := s.Limits(ctx, id); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("Limits(%s) = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("api keys", func(t *testing.T) {
		s := newStore(t)
		u := newUser(t, s, base)
		plain := identity.NewAPIKey()
		k := identity.APIKey{ID: uuid.NewString(), UserID: u.ID, Name: "crm", Prefix: identity.DisplayPrefix(plain),
			Hash: identity.HashAPIKey(plain), CreatedAt: base}
		must(t, s.CreateAPIKey(ctx, k))
		got, err := s.APIKeyByHash(ctx, k.Hash)
		must(t, err)
		if got.ID != k.ID || got.UserID != u.ID || got.Prefix != k.Prefix || got.Name != "crm" {
			t.Fatalf("APIKeyByHash = %+v, want %+v", got, k)
		}
		if _, err := s.APIKeyByHash(ctx, identity.HashAPIKey(identity.NewAPIKey())); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("APIKeyByHash(unknown) = %v, want ErrNotFound", err)
		}
		must(t, s.RevokeAPIKey(ctx, k.ID, base.Add(time.Minute)))
		if _, err := s.APIKeyByHash(ctx, k.Hash); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("APIKeyByHash(revoked) = %v, want ErrNotFound", err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID, base); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("RevokeAPIKey twice = %v, want ErrNotFound", err)
		}
		orphan := identity.APIKey{ID: uuid.NewString(), UserID: uuid.NewString(), Hash: identity.HashAPIKey(identity.NewAPIKey()), CreatedAt: base}
		if err := s.CreateAPIKey(ctx, orphan); err == nil {
			t.Fatal("CreateAPIKey for a user that does not exist succeeded")
		}
	})
}

// NewUser stores a user with 10 credits, created at at.
func NewUser(t *testing.T, s accounts.UserStore, at time.Time) identity.User {
	t.Helper()
	u := identity.User{ID: uuid.NewString(), Email: uuid.NewString()[:8] + "@example.com", Credits: money.FromUnits(10), CreatedAt: at}
	Must(t, s.CreateUser(context.Background(), u))
	return u
}

// Must fails the test at once on an error.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var (
	must    = Must
	newUser = NewUser
)
