// Package memstore keeps everything in memory: a real implementation of every storage port,
// held to the same contract suite as the database stores, for use-case and HTTP tests.
package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// Store is safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	users     map[string]identity.User
	keys      map[string]identity.APIKey // by id
	lines     map[string]call.Line
	agents    map[string]call.Agent
	workflows map[string]call.Workflow
	sessions  map[string]call.Session // by id; copies, so callers never share our maps
	versions  map[string]int64
	statuses  map[string]call.Status
	ledger    map[string]ledgerEntry                   // call charges by session id; made on first use (ledger.go)
	limits    map[string]identity.Limits               // by user id; absent: the defaults (limits.go)
	idem      map[idemKey]createcall.IdempotencyRecord // made on first use (limits.go)
	ix        sessionIndex                             // kept by put (limits.go)
	// onFinal is the call-final outbox's stand-in: told of each session saved into a final
	// status (OnCallFinal).
	onFinal func(ctx context.Context, sessionID string) error
	// suppressed holds the do-not-call lists: user id → number → when listed; made on first
	// use (suppressions.go).
	suppressed map[string]map[string]time.Time
}

// OnCallFinal makes the store call fn, after the save and outside its lock, for each session
// that SaveSession moves into a final status: what the database stores record as a call_final
// job in the save's transaction. fn's error is not the save's: the session is saved. Call it
// before the store is used.
func (s *Store) OnCallFinal(fn func(ctx context.Context, sessionID string) error) { s.onFinal = fn }

// New returns an empty store.
func New() *Store {
	return &Store{
		users: map[string]identity.User{}, keys: map[string]identity.APIKey{},
		lines: map[string]call.Line{}, agents: map[string]call.Agent{}, workflows: map[string]call.Workflow{},
		sessions: map[string]call.Session{}, versions: map[string]int64{}, statuses: map[string]call.Status{},
	}
}

// Ping always succeeds: memory does not go away.
func (s *Store) Ping(context.Context) error { return nil }

// DialPlan implements createcall.DialPlanStore.
func (s *Store) DialPlan(_ context.Context, q createcall.DialPlanQuery) (createcall.DialPlan, error) {
	userID := q.UserID
	s.mu.RLock()
	defer s.mu.RUnlock()
	var key *identity.APIKey
	if q.ByKey() {
		k, ok := s.keyByHash(q.KeyHash)
		if !ok {
			return createcall.DialPlan{}, fault.ErrUnauthenticated
		}
		key, userID = &k, k.UserID
	}
	plan := createcall.DialPlan{UserID: userID, Key: key, Agents: map[string]call.Agent{}, Workflows: map[string]call.Workflow{}}
	plan.Credits = s.users[userID].Credits
	s.planLimits(&plan, userID, q)
	addTarget := func(t call.Target) {
		if a, ok := s.agents[t.AgentID]; ok && a.UserID == userID {
			plan.Agents[a.ID] = a
		}
		if w, ok := s.workflows[t.WorkflowID]; ok && w.UserID == userID {
			plan.Workflows[w.ID] = w
		}
	}
	addTarget(q.Requested)
	if q.Destination != "" {
		_, plan.Suppressed = s.suppressed[userID][q.Destination]
	}
	for _, l := range s.lines {
		if l.UserID != userID {
			continue
		}
		l.Credentials = cloneMap(l.Credentials)
		plan.Lines = append(plan.Lines, l)
		addTarget(l.Mapping)
	}
	call.SortLines(plan.Lines)
	return plan, nil
}

// CreateSession implements createcall.CallStore.
func (s *Store) CreateSession(_ context.Context, cs *call.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[cs.ID]; ok {
		return fault.ErrAlreadyExists
	}
	if _, ok := s.ix.requests[cs.RequestID]; ok { // the index put keeps: no scan of every session
		return fault.ErrAlreadyExists
	}
	s.put(cs)
	return nil
}

// SaveSession implements createcall.CallStore. A save into a final status is told to the
// OnCallFinal hook, once per session.
func (s *Store) SaveSession(ctx context.Context, cs *call.Session) error {
	final, err := s.saveSession(cs)
	if err == nil && final && s.onFinal != nil {
		_ = s.onFinal(context.WithoutCancel(ctx), cs.ID)
	}
	return err
}

func (s *Store) saveSession(cs *call.Session) (final bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.versions[cs.ID]
	if !ok {
		return false, fault.ErrNotFound
	}
	if v != cs.Version() {
		return false, fault.ErrConflict
	}
	final = cs.Status().Terminal() && !s.statuses[cs.ID].Terminal()
	cs.Saved()
	s.put(cs)
	return final, nil
}

func (s *Store) put(cs *call.Session) {
	c := *cs
	c.VariableValues = cloneMap(cs.VariableValues)
	s.sessions[cs.ID] = c
	s.versions[cs.ID] = cs.Version()
	s.statuses[cs.ID] = cs.Status()
	s.ix.put(cs)
}

func (s *Store) get(id string) *call.Session {
	c := s.sessions[id]
	c.VariableValues = cloneMap(c.VariableValues)
	return call.RestoreSession(c, s.statuses[id], s.versions[id])
}

// Session implements createcall.CallStore.
func (s *Store) Session(_ context.Context, id string) (*call.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.sessions[id]; !ok {
		return nil, fault.ErrNotFound
	}
	return s.get(id), nil
}

// SessionByRequestID implements createcall.CallStore.
func (s *Store) SessionByRequestID(_ context.Context, userID, requestID string) (*call.Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, c := range s.sessions {
		if c.RequestID == requestID && c.UserID == userID {
			return s.get(id), nil
		}
	}
	return nil, fault.ErrNotFound
}

// ListSessions implements createcall.CallStore.
func (s *Store) ListSessions(_ context.Context, userID string, offset, limit int) ([]*call.Session, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []*call.Session
	for id, c := range s.sessions {
		if c.UserID == userID {
			all = append(all, s.get(id))
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.After(all[j].CreatedAt)
		}
		return all[i].ID > all[j].ID
	})
	total := len(all)
	if offset >= total {
		return []*call.Session{}, total, nil
	}
	return all[offset:min(total, offset+limit)], total, nil
}

// APIKeyByHash implements accounts.KeyStore.
func (s *Store) APIKeyByHash(_ context.Context, hash identity.KeyHash) (identity.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if k, ok := s.keyByHash(hash); ok {
		return k, nil
	}
	return identity.APIKey{}, fault.ErrNotFound
}

// keyByHash finds the live key with that hash; the caller holds s.mu.
func (s *Store) keyByHash(hash identity.KeyHash) (identity.APIKey, bool) {
	for _, k := range s.keys {
		if k.Hash == hash && k.RevokedAt.IsZero() {
			return k, true
		}
	}
	return identity.APIKey{}, false
}

// CreateUser implements accounts.UserStore.
func (s *Store) CreateUser(_ context.Context, u identity.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok {
		return fault.ErrAlreadyExists
	}
	for _, o := range s.users {
		if u.Email != "" && o.Email == u.Email {
			return fault.ErrAlreadyExists
		}
	}
	s.users[u.ID] = u
	return nil
}

// User implements accounts.UserStore.
func (s *Store) User(_ context.Context, id string) (identity.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return identity.User{}, fault.ErrNotFound
	}
	return u, nil
}

// CountUsers implements accounts.UserStore.
func (s *Store) CountUsers(context.Context) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.users), nil
}

// Users implements accounts.UserStore.
func (s *Store) Users(_ context.Context, offset, limit int) ([]identity.User, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := make([]identity.User, 0, len(s.users))
	for _, u := range s.users {
		all = append(all, u)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	offset = max(offset, 0)
	if offset >= len(all) || limit <= 0 {
		return []identity.User{}, len(all), nil
	}
	return all[offset:min(len(all), offset+limit)], len(all), nil
}

// SetCredits implements accounts.UserStore.
func (s *Store) SetCredits(_ context.Context, userID string, amount money.Amount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return fault.ErrNotFound
	}
	u.Credits = amount
	s.users[userID] = u
	return nil
}

// CreateAPIKey implements accounts.KeyStore.
func (s *Store) CreateAPIKey(_ context.Context, k identity.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[k.UserID]; !ok {
		return fault.ErrNotFound
	}
	for _, o := range s.keys {
		if o.ID == k.ID || o.Hash == k.Hash {
			return fault.ErrAlreadyExists
		}
	}
	s.keys[k.ID] = k
	return nil
}

// RevokeAPIKey implements accounts.KeyStore.
func (s *Store) RevokeAPIKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || !k.RevokedAt.IsZero() {
		return fault.ErrNotFound
	}
	k.RevokedAt = at
	s.keys[id] = k
	return nil
}

// CreateLine implements accounts.CatalogStore.
func (s *Store) CreateLine(_ context.Context, l call.Line) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[l.UserID]; !ok {
		return fault.ErrNotFound
	}
	for _, o := range s.lines {
		if o.ID == l.ID || (o.UserID == l.UserID && o.Number == l.Number) {
			return fault.ErrAlreadyExists
		}
	}
	l.Mapping = call.Target{}
	l.Credentials = cloneMap(l.Credentials)
	s.lines[l.ID] = l
	return nil
}

// Line implements accounts.CatalogStore.
func (s *Store) Line(_ context.Context, id string) (call.Line, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.lines[id]
	if !ok {
		return call.Line{}, fault.ErrNotFound
	}
	l.Credentials = cloneMap(l.Credentials)
	return l, nil
}

// CreateAgent implements accounts.CatalogStore.
func (s *Store) CreateAgent(_ context.Context, a call.Agent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[a.UserID]; !ok {
		return fault.ErrNotFound
	}
	if _, ok := s.agents[a.ID]; ok {
		return fault.ErrAlreadyExists
	}
	s.agents[a.ID] = a
	return nil
}

// Agent implements accounts.CatalogStore.
func (s *Store) Agent(_ context.Context, id string) (call.Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.agents[id]
	if !ok {
		return call.Agent{}, fault.ErrNotFound
	}
	return a, nil
}

// CreateWorkflow implements accounts.CatalogStore.
func (s *Store) CreateWorkflow(_ context.Context, w call.Workflow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[w.UserID]; !ok {
		return fault.ErrNotFound
	}
	if _, ok := s.workflows[w.ID]; ok {
		return fault.ErrAlreadyExists
	}
	s.workflows[w.ID] = w
	return nil
}

// Workflow implements accounts.CatalogStore.
func (s *Store) Workflow(_ context.Context, id string) (call.Workflow, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.workflows[id]
	if !ok {
		return call.Workflow{}, fault.ErrNotFound
	}
	return w, nil
}

// SetMapping implements accounts.CatalogStore.
func (s *Store) SetMapping(_ context.Context, lineID string, t call.Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.lines[lineID]
	if !ok {
		return fault.ErrNotFound
	}
	if (t.AgentID == "") == (t.WorkflowID == "") {
		return &fault.InvalidInputError{Detail: "a mapping names exactly one of an agent and a workflow"}
	}
	if _, ok := s.agents[t.AgentID]; t.AgentID != "" && !ok {
		return fault.ErrNotFound
	}
	if _, ok := s.workflows[t.WorkflowID]; t.WorkflowID != "" && !ok {
		return fault.ErrNotFound
	}
	l.Mapping = t
	s.lines[lineID] = l
	return nil
}

func cloneMap[M ~map[string]string](m M) M {
	if m == nil {
		return nil
	}
	c := make(M, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
