package entstore

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/apikey"
)

// UserAPIKeys implements accounts.KeyStore.
func (s *Store) UserAPIKeys(ctx context.Context, userID string) ([]identity.APIKey, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []identity.APIKey{}, nil
	}
	rows, err := s.client.APIKey.Query().
		Where(apikey.UserID(uid), apikey.RevokedAtIsNil()).
		Order(apikey.ByCreatedAt(sql.OrderDesc()), apikey.ByID(sql.OrderDesc())).
		All(ctx)
	if err != nil {
		return nil, storeErr("list api keys", err)
	}
	out := make([]identity.APIKey, 0, len(rows))
	for _, k := range rows {
		out = append(out, apiKeyOf(k))
	}
	return out, nil
}

// RenameUserAPIKey implements accounts.KeyStore: an update scoped to the owner and to
// live keys, then a read of the row.
func (s *Store) RenameUserAPIKey(ctx context.Context, userID, id, name string) (identity.APIKey, error) {
	uid, ok1 := parseID(userID)
	kid, ok2 := parseID(id)
	if !ok1 || !ok2 {
		return identity.APIKey{}, fault.ErrNotFound
	}
	n, err := s.client.APIKey.Update().
		Where(apikey.ID(kid), apikey.UserID(uid), apikey.RevokedAtIsNil()).
		SetName(name).
		Save(ctx)
	if err := affectedOne("rename api key", n, err, fault.ErrNotFound); err != nil {
		return identity.APIKey{}, err
	}
	k, err := s.client.APIKey.Query().Where(apikey.ID(kid), apikey.UserID(uid)).Only(ctx)
	if err != nil {
		return identity.APIKey{}, storeErr("read api key", err)
	}
	return apiKeyOf(k), nil
}

// RevokeUserAPIKey implements accounts.KeyStore.
func (s *Store) RevokeUserAPIKey(ctx context.Context, userID, id string, at time.Time) error {
	uid, ok1 := parseID(userID)
	kid, ok2 := parseID(id)
	if !ok1 || !ok2 {
		return fault.ErrNotFound
	}
	n, err := s.client.APIKey.Update().
		Where(apikey.ID(kid), apikey.UserID(uid), apikey.RevokedAtIsNil()).
		SetRevokedAt(at.UTC()).
		Save(ctx)
	return affectedOne("revoke api key", n, err, fault.ErrNotFound)
}

// TouchAPIKey implements accounts.KeyStore in one conditional UPDATE, so that servers
// sharing the database still write a key's last use at most once per interval.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at, staleBefore time.Time) (bool, error) {
	kid, ok := parseID(id)
	if !ok {
		return false, nil
	}
	n, err := s.client.APIKey.Update().
		Where(apikey.ID(kid), apikey.RevokedAtIsNil(),
			apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(staleBefore.UTC()))).
		SetLastUsedAt(at.UTC()).
		Save(ctx)
	if err != nil {
		return false, storeErr("touch api key", err)
	}
	return n > 0, nil
}

// apiKeyOf maps a row to the domain's key record.
func apiKeyOf(k *ent.APIKey) identity.APIKey {
	out := identity.APIKey{
		ID: k.ID.String(), UserID: k.UserID.String(), Name: k.Name, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt.UTC(), LastUsedAt: timeOf(k.LastUsedAt), RevokedAt: timeOf(k.RevokedAt),
	}
	copy(out.Hash[:], k.Hash)
	return out
}
