package entstore

import (
	"context"

	"entgo.io/ent/dialect"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/ent"
)

var _ accounts.UserStore = (*Store)(nil)

// lockUserQuery takes the user's row lock for the read-change-write of UpdateLimits. SQLite
// needs none: its transactions take the database's one write lock at BEGIN (_txlock=immediate).
const lockUserQuery = `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`

// UpdateLimits implements accounts.UserStore: read, change and write the user's row in one
// transaction, under the row's lock on PostgreSQL (SQLite's transactions hold the write lock).
func (s *Store) UpdateLimits(ctx context.Context, userID string, fn func(*identity.Limits) error) (identity.Limits, error) {
	uid, ok := parseID(userID)
	if !ok {
		return identity.Limits{}, fault.ErrNotFound
	}
	var out identity.Limits
	err := s.withTx(ctx, "update limits", func(tx dialect.Tx, client *ent.Client) error {
		if s.name == Postgres {
			if err := queryOne(ctx, tx, lockUserQuery, []any{uid.String()}, new(int)); err != nil {
				return storeErr("lock user", err)
			}
		}
		u, err := client.User.Get(ctx, uid)
		if err != nil {
			return storeErr("read limits", err)
		}
		l := limitsOf(u)
		if err := fn(&l); err != nil {
			return err
		}
		up := client.User.UpdateOneID(uid).
			SetMaxConcurrentCalls(l.MaxConcurrentCalls).
			SetNillableDailySpendCap(capArg(l.DailySpendCap))
		if l.RequestsPerSecond > 0 {
			up.SetRequestsPerSecond(l.RequestsPerSecond)
		} else {
			up.ClearRequestsPerSecond()
		}
		if l.DailySpendCap == nil {
			up.ClearDailySpendCap()
		}
		if len(l.AllowedCountries) > 0 {
			up.SetAllowedCountries(l.AllowedCountries)
		} else {
			up.ClearAllowedCountries()
		}
		u, err = up.Save(ctx)
		if err != nil {
			return storeErr("update limits", err)
		}
		out = limitsOf(u)
		return nil
	})
	return out, err
}

// Limits implements accounts.UserStore.
func (s *Store) Limits(ctx context.Context, userID string) (identity.Limits, error) {
	uid, ok := parseID(userID)
	if !ok {
		return identity.Limits{}, fault.ErrNotFound
	}
	u, err := s.client.User.Get(ctx, uid)
	if err != nil {
		return identity.Limits{}, storeErr("read limits", err)
	}
	return limitsOf(u), nil
}

func limitsOf(u *ent.User) identity.Limits {
	l := identity.Limits{MaxConcurrentCalls: u.MaxConcurrentCalls, AllowedCountries: u.AllowedCountries}
	if u.RequestsPerSecond != nil {
		l.RequestsPerSecond = *u.RequestsPerSecond
	}
	if u.DailySpendCap != nil {
		c := money.Amount(*u.DailySpendCap)
		l.DailySpendCap = &c
	}
	return l
}

func capArg(c *money.Amount) *int64 {
	if c == nil {
		return nil
	}
	v := int64(*c)
	return &v
}
