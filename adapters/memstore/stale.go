package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

// StaleDialingSessions implements createcall.CallStore.
func (s *Store) StaleDialingSessions(_ context.Context, cutoff time.Time, limit int) ([]*call.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*call.Session{}
	if limit <= 0 {
		return out, nil
	}
	for id, c := range s.sessions {
		if s.statuses[id] == call.StatusDialing && c.CreatedAt.Before(cutoff) {
			out = append(out, s.get(id))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(limit, len(out))], nil
}

// OpenSessions implements createcall.CallStore.
func (s *Store) OpenSessions(_ context.Context, p call.Provider, after string, limit int) ([]*call.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*call.Session{}
	if limit <= 0 {
		return out, nil
	}
	for id, c := range s.sessions {
		switch s.statuses[id] {
		case call.StatusInitiated, call.StatusRinging, call.StatusInProgress:
			if c.Provider == p && id > after {
				out = append(out, s.get(id))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out[:min(limit, len(out))], nil
}
