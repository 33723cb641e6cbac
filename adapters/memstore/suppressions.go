package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/kupe-voice/kupe/application/campaigns"
)

// The do-not-call lists (campaigns.SuppressionStore), which the dial plan reads too.

func (s *Store) suppressedLocked(userID string, numbers []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range numbers {
		if _, ok := s.suppressed[userID][n]; ok {
			out[n] = true
		}
	}
	return out
}

// AddSuppressions implements campaigns.SuppressionStore.
func (s *Store) AddSuppressions(_ context.Context, userID string, numbers []string, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.suppressed == nil {
		s.suppressed = map[string]map[string]time.Time{}
	}
	if s.suppressed[userID] == nil {
		s.suppressed[userID] = map[string]time.Time{}
	}
	added := 0
	for _, n := range numbers {
		if _, ok := s.suppressed[userID][n]; !ok {
			s.suppressed[userID][n] = at
			added++
		}
	}
	return added, nil
}

// Suppressions implements campaigns.SuppressionStore: newest first, then by number.
func (s *Store) Suppressions(_ context.Context, userID string, offset, limit int) ([]campaigns.Suppression, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := make([]campaigns.Suppression, 0, len(s.suppressed[userID]))
	for n, at := range s.suppressed[userID] {
		all = append(all, campaigns.Suppression{PhoneNumber: n, CreatedAt: at})
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.After(all[j].CreatedAt)
		}
		return all[i].PhoneNumber < all[j].PhoneNumber
	})
	offset = min(max(offset, 0), len(all))
	return all[offset:min(offset+max(limit, 0), len(all))], len(all), nil
}

// DeleteSuppression implements campaigns.SuppressionStore.
func (s *Store) DeleteSuppression(_ context.Context, userID, number string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.suppressed[userID][number]; !ok {
		return campaigns.ErrNotFound
	}
	delete(s.suppressed[userID], number)
	return nil
}

// Suppressed implements campaigns.SuppressionStore.
func (s *Store) Suppressed(_ context.Context, userID string, numbers []string) (map[string]bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.suppressedLocked(userID, numbers), nil
}
