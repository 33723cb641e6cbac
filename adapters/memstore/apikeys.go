package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// UserAPIKeys implements accounts.KeyStore.
func (s *Store) UserAPIKeys(_ context.Context, userID string) ([]identity.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []identity.APIKey{}
	for _, k := range s.keys {
		if k.UserID == userID && k.RevokedAt.IsZero() {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// RenameUserAPIKey implements accounts.KeyStore.
func (s *Store) RenameUserAPIKey(_ context.Context, userID, id, name string) (identity.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || k.UserID != userID || !k.RevokedAt.IsZero() {
		return identity.APIKey{}, fault.ErrNotFound
	}
	k.Name = name
	s.keys[id] = k
	return k, nil
}

// RevokeUserAPIKey implements accounts.KeyStore.
func (s *Store) RevokeUserAPIKey(_ context.Context, userID, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || k.UserID != userID || !k.RevokedAt.IsZero() {
		return fault.ErrNotFound
	}
	k.RevokedAt = at
	s.keys[id] = k
	return nil
}

// TouchAPIKey implements accounts.KeyStore.
func (s *Store) TouchAPIKey(_ context.Context, id string, at, staleBefore time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || !k.RevokedAt.IsZero() || (!k.LastUsedAt.IsZero() && !k.LastUsedAt.Before(staleBefore)) {
		return false, nil
	}
	k.LastUsedAt = at
	s.keys[id] = k
	return true, nil
}
