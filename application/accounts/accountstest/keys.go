package accountstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// RunKeyStoreSuite is the acceptance test of accounts.KeyStore's user-scoped methods and its
// usage record, and of accounts.SessionUsers on the store. newStore returns an empty store.
func RunKeyStoreSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC)

	user := func(t *testing.T, s Store) identity.User {
		t.Helper()
		u := identity.User{ID: uuid.NewString(), Email: uuid.NewString()[:8] + "@example.com", CreatedAt: base}
		must(t, s.CreateUser(ctx, u))
		return u
	}
	key := func(t *testing.T, s Store, userID, name string, at time.Time) identity.APIKey {
		t.Helper()
		plain := identity.NewAPIKey()
		k := identity.APIKey{ID: uuid.NewString(), UserID: userID, Name: name, Prefix: identity.DisplayPrefix(plain),
			Hash: identity.HashAPIKey(plain), CreatedAt: at}
		must(t, s.CreateAPIKey(ctx, k))
		return k
	}
	ids := func(ks []identity.APIKey) []string {
		out := []string{}
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}

	t.Run("list holds the user's live keys, newest first", func(t *testing.T) {
		s := newStore(t)
		u, other := user(t, s), user(t, s)
		if got, err := s.UserAPIKeys(ctx, u.ID); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("UserAPIKeys of a user with no key = %v, %v; want an empty, non-nil list", got, err)
		}
		old := key(t, s, u.ID, "old", base)
		mid := key(t, s, u.ID, "mid", base.Add(time.Second))
		gone := key(t, s, u.ID, "gone", base.Add(2*time.Second))
		newest := key(t, s, u.ID, "new", base.Add(3*time.Second))
		key(t, s, other.ID, "theirs", base.Add(4*time.Second))
		must(t, s.RevokeAPIKey(ctx, gone.ID, base.Add(time.Hour)))

		got, err := s.UserAPIKeys(ctx, u.ID)
		must(t, err)
		want := []string{newest.ID, mid.ID, old.ID}
		if g := ids(got); len(g) != 3 || g[0] != want[0] || g[1] != want[1] || g[2] != want[2] {
			t.Fatalf("UserAPIKeys = %v, want %v", g, want)
		}
		k := got[2]
		if k.Name != "old" || k.Prefix != old.Prefix || k.Hash != old.Hash || k.UserID != u.ID ||
			!k.CreatedAt.Equal(base) || !k.LastUsedAt.IsZero() || !k.RevokedAt.IsZero() {
			t.Fatalf("listed key = %+v, want %+v", k, old)
		}
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			if got, err := s.UserAPIKeys(ctx, id); err != nil || len(got) != 0 {
				t.Fatalf("UserAPIKeys(%q) = %v, %v; want none", id, got, err)
			}
		}
	})

	t.Run("ties in creation time break by id", func(t *testing.T) {
		s := newStore(t)
		u := user(t, s)
		a, b := key(t, s, u.ID, "a", base), key(t, s, u.ID, "b", base)
		got, err := s.UserAPIKeys(ctx, u.ID)
		must(t, err)
		hi, lo := a.ID, b.ID
		if lo > hi {
			hi, lo = lo, hi
		}
		if g := ids(got); len(g) != 2 || g[0] != hi || g[1] != lo {
			t.Fatalf("UserAPIKeys = %v, want %v", g, []string{hi, lo})
		}
	})

	t.Run("rename is scoped to the owner and to live keys", func(t *testing.T) {
		s := newStore(t)
		u, other := user(t, s), user(t, s)
		k := key(t, s, u.ID, "crm", base)
		got, err := s.RenameUserAPIKey(ctx, u.ID, k.ID, "billing cron")
		must(t, err)
		if got.ID != k.ID || got.Name != "billing cron" || got.Prefix != k.Prefix || !got.CreatedAt.Equal(base) || got.UserID != u.ID {
			t.Fatalf("RenameUserAPIKey = %+v", got)
		}
		if _, err := s.RenameUserAPIKey(ctx, other.ID, k.ID, "stolen"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("rename of another user's key = %v, want ErrNotFound", err)
		}
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			if _, err := s.RenameUserAPIKey(ctx, u.ID, id, "x"); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("rename of key %q = %v, want ErrNotFound", id, err)
			}
		}
		if _, err := s.RenameUserAPIKey(ctx, "not-a-uuid", k.ID, "x"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("rename for user not-a-uuid = %v, want ErrNotFound", err)
		}
		list, err := s.UserAPIKeys(ctx, u.ID)
		must(t, err)
		if len(list) != 1 || list[0].Name != "billing cron" {
			t.Fatalf("after a refused rename: %+v", list)
		}
		got, err = s.RenameUserAPIKey(ctx, u.ID, k.ID, "")
		must(t, err)
		if got.Name != "" {
			t.Fatalf("rename to empty left %q", got.Name)
		}
		must(t, s.RevokeUserAPIKey(ctx, u.ID, k.ID, base.Add(time.Minute)))
		if _, err := s.RenameUserAPIKey(ctx, u.ID, k.ID, "late"); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("rename of a revoked key = %v, want ErrNotFound", err)
		}
	})

	t.Run("revoke is scoped to the owner and takes effect at once", func(t *testing.T) {
		s := newStore(t)
		u, other := user(t, s), user(t, s)
		k := key(t, s, u.ID, "crm", base)
		if err := s.RevokeUserAPIKey(ctx, other.ID, k.ID, base); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("revoke of another user's key = %v, want ErrNotFound", err)
		}
		if got, err := s.APIKeyByHash(ctx, k.Hash); err != nil || got.ID != k.ID {
			t.Fatalf("key after another user's revoke = %+v, %v; want it still live", got, err)
		}
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			if err := s.RevokeUserAPIKey(ctx, u.ID, id, base); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("revoke of key %q = %v, want ErrNotFound", id, err)
			}
		}
		must(t, s.RevokeUserAPIKey(ctx, u.ID, k.ID, base.Add(time.Minute)))
		if _, err := s.APIKeyByHash(ctx, k.Hash); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("APIKeyByHash after revoke = %v, want ErrNotFound", err)
		}
		if err := s.RevokeUserAPIKey(ctx, u.ID, k.ID, base.Add(2*time.Minute)); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("second revoke = %v, want ErrNotFound", err)
		}
		if list, err := s.UserAPIKeys(ctx, u.ID); err != nil || len(list) != 0 {
			t.Fatalf("list after revoke = %v, %v", list, err)
		}
	})

	t.Run("touch writes at most once per interval", func(t *testing.T) {
		s := newStore(t)
		u := user(t, s)
		k := key(t, s, u.ID, "crm", base)
		touch := func(at time.Time) bool {
			t.Helper()
			ok, err := s.TouchAPIKey(ctx, k.ID, at, at.Add(-time.Minute))
			must(t, err)
			return ok
		}
		lastUsed := func() time.Time {
			t.Helper()
			got, err := s.APIKeyByHash(ctx, k.Hash)
			must(t, err)
			return got.LastUsedAt
		}
		t1 := base.Add(time.Hour)
		if !touch(t1) {
			t.Fatal("first touch did not write")
		}
		if got := lastUsed(); !got.Equal(t1) {
			t.Fatalf("last_used_at = %v, want %v", got, t1)
		}
		if touch(t1.Add(59 * time.Second)) {
			t.Fatal("a touch within the minute wrote")
		}
		if got := lastUsed(); !got.Equal(t1) {
			t.Fatalf("last_used_at moved to %v within the minute", got)
		}
		t2 := t1.Add(61 * time.Second)
		if !touch(t2) {
			t.Fatal("a touch after the minute did not write")
		}
		list, err := s.UserAPIKeys(ctx, u.ID)
		must(t, err)
		if len(list) != 1 || !list[0].LastUsedAt.Equal(t2) {
			t.Fatalf("listed last_used_at = %+v, want %v", list, t2)
		}
		for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
			if ok, err := s.TouchAPIKey(ctx, id, t2, t1); ok || err != nil {
				t.Fatalf("TouchAPIKey(%q) = %v, %v; want nothing written, no error", id, ok, err)
			}
		}
		must(t, s.RevokeAPIKey(ctx, k.ID, t2))
		if touch(t2.Add(time.Hour)) {
			t.Fatal("a revoked key's use was written")
		}
	})

	t.Run("concurrent touches write once", func(t *testing.T) {
		s := newStore(t)
		u := user(t, s)
		k := key(t, s, u.ID, "crm", base)
		at := base.Add(time.Hour)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			writes int
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.TouchAPIKey(ctx, k.ID, at, at.Add(-time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					writes++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if writes != 1 {
			t.Fatalf("%d of 8 concurrent touches wrote, want 1", writes)
		}
	})

	t.Run("session users are created once", func(t *testing.T) {
		s := newStore(t)
		users := &accounts.SessionUsers{Store: s, Now: func() time.Time { return base }}
		sub := uuid.NewString()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := users.Principal(ctx, sub, "Jo@Example.com")
				if err != nil || p.UserID != sub || p.Method != identity.AuthBearer {
					t.Errorf("Principal = %+v, %v", p, err)
				}
			}()
		}
		wg.Wait()
		got, err := s.User(ctx, sub)
		must(t, err)
		if got.Email != "jo@example.com" || got.Credits != 0 || !got.CreatedAt.Equal(base) {
			t.Fatalf("session user = %+v", got)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 1 {
			t.Fatalf("CountUsers = %d, %v; want 1", n, err)
		}
		// Another account holds the email: the new user is still created, without one.
		sub2 := uuid.NewString()
		p, err := users.Principal(ctx, sub2, "jo@example.com")
		if err != nil || p.UserID != sub2 {
			t.Fatalf("Principal with a taken email = %+v, %v", p, err)
		}
		if got, err := s.User(ctx, sub2); err != nil || got.Email != "" {
			t.Fatalf("user with a taken email = %+v, %v; want created without an email", got, err)
		}
		if _, err := users.Principal(ctx, "not-a-uuid", ""); !errors.Is(err, fault.ErrUnauthenticated) {
			t.Fatalf("Principal(not-a-uuid) = %v, want ErrUnauthenticated", err)
		}
	})
}
