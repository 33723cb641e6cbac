package memstore

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// FindSessions implements createcall.CallStore, in ListSessions' order.
func (s *Store) FindSessions(_ context.Context, userID string, f createcall.SessionFilter, offset, limit int) ([]*call.Session, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var match []*call.Session
	for id, c := range s.sessions {
		if c.UserID != userID || (f.Status.Valid() && s.statuses[id] != f.Status) ||
			(f.RequestIDPrefix != "" && !strings.HasPrefix(c.RequestID, f.RequestIDPrefix)) {
			continue
		}
		match = append(match, s.get(id))
	}
	sort.Slice(match, func(i, j int) bool {
		if !match[i].CreatedAt.Equal(match[j].CreatedAt) {
			return match[i].CreatedAt.After(match[j].CreatedAt)
		}
		return match[i].ID > match[j].ID
	})
	total := len(match)
	offset = max(offset, 0)
	if offset >= total || limit <= 0 {
		return []*call.Session{}, total, nil
	}
	return match[offset:min(total, offset+limit)], total, nil
}

// UserLines implements accounts.CatalogStore.
func (s *Store) UserLines(_ context.Context, userID string) ([]call.Line, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []call.Line{}
	for _, l := range s.lines {
		if l.UserID == userID {
			l.Credentials = nil
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// UserLine implements accounts.CatalogStore.
func (s *Store) UserLine(_ context.Context, userID, lineID string) (call.Line, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.lines[lineID]
	if !ok || l.UserID != userID {
		return call.Line{}, fault.ErrNotFound
	}
	l.Credentials = nil
	return l, nil
}

// UpdateLine implements accounts.CatalogStore.
func (s *Store) UpdateLine(_ context.Context, userID, lineID string, fn func(*call.Line) error) (call.Line, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.lines[lineID]
	if !ok || stored.UserID != userID {
		return call.Line{}, fault.ErrNotFound
	}
	l := stored
	l.Credentials = nil
	if err := fn(&l); err != nil {
		return call.Line{}, err
	}
	stored.FriendlyName, stored.Active = l.FriendlyName, l.Active
	if l.Credentials != nil {
		stored.Credentials = cloneMap(l.Credentials)
		if len(stored.Credentials) == 0 {
			stored.Credentials = nil
		}
	}
	s.lines[lineID] = stored
	stored.Credentials = nil
	return stored, nil
}

// DeleteLine implements accounts.CatalogStore. The mapping lives on the line and goes with it.
func (s *Store) DeleteLine(_ context.Context, userID, lineID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lines[lineID]
	if !ok || l.UserID != userID {
		return fault.ErrNotFound
	}
	delete(s.lines, lineID)
	return nil
}

// DeleteMapping implements accounts.CatalogStore.
func (s *Store) DeleteMapping(_ context.Context, userID, lineID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lines[lineID]
	if !ok || l.UserID != userID || l.Mapping.IsZero() {
		return fault.ErrNotFound
	}
	l.Mapping = call.Target{}
	s.lines[lineID] = l
	return nil
}

// UserAgents implements accounts.CatalogStore.
func (s *Store) UserAgents(_ context.Context, userID string, q accounts.AgentQuery) ([]call.Agent, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := s.userAgents(userID, strings.ToLower(q.NameContains))
	total := len(out)
	offset := max(q.Offset, 0)
	if offset >= total || q.Limit <= 0 {
		return []call.Agent{}, total, nil
	}
	return out[offset:min(total, offset+q.Limit)], total, nil
}

// userAgents is the user's agents whose lower-cased name contains name, oldest first.
func (s *Store) userAgents(userID, name string) []call.Agent {
	out := []call.Agent{}
	for _, a := range s.agents {
		if a.UserID == userID && strings.Contains(strings.ToLower(a.Name), name) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// UserAgentStats implements accounts.CatalogStore.
func (s *Store) UserAgentStats(_ context.Context, userID string) ([]accounts.AgentCallStats, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	agents := s.userAgents(userID, "")
	out := make([]accounts.AgentCallStats, len(agents))
	at := make(map[string]int, len(agents))
	for i, a := range agents {
		out[i] = accounts.AgentCallStats{AgentID: a.ID, Name: a.Name, Active: a.Active, ByStatus: map[call.Status]int{}}
		at[a.ID] = i
	}
	for id, c := range s.sessions {
		i, ok := at[c.AgentID]
		if !ok || c.UserID != userID {
			continue
		}
		out[i].ByStatus[s.statuses[id]]++
		out[i].TalkTime += c.Duration.Truncate(time.Second) // whole seconds, as the database keeps them
		out[i].Cost += c.Cost
	}
	return out, nil
}

// UserAgent implements accounts.CatalogStore.
func (s *Store) UserAgent(_ context.Context, userID, agentID string) (call.Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.agents[agentID]
	if !ok || a.UserID != userID {
		return call.Agent{}, fault.ErrNotFound
	}
	return a, nil
}

// UpdateAgent implements accounts.CatalogStore.
func (s *Store) UpdateAgent(_ context.Context, userID, agentID string, fn func(*call.Agent) error) (call.Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.agents[agentID]
	if !ok || stored.UserID != userID {
		return call.Agent{}, fault.ErrNotFound
	}
	a := stored
	if err := fn(&a); err != nil {
		return call.Agent{}, err
	}
	stored.Name, stored.SystemPrompt, stored.FirstMessage, stored.Active = a.Name, a.SystemPrompt, a.FirstMessage, a.Active
	s.agents[agentID] = stored
	return stored, nil
}

// UserWorkflows implements accounts.CatalogStore.
func (s *Store) UserWorkflows(_ context.Context, userID string) ([]call.Workflow, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []call.Workflow{}
	for _, w := range s.workflows {
		if w.UserID == userID {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// UserWorkflow implements accounts.CatalogStore.
func (s *Store) UserWorkflow(_ context.Context, userID, workflowID string) (call.Workflow, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.workflows[workflowID]
	if !ok || w.UserID != userID {
		return call.Workflow{}, fault.ErrNotFound
	}
	return w, nil
}
