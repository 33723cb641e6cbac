package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
)

// idemKey scopes an Idempotency-Key to its user.
type idemKey struct{ userID, key string }

var (
	_ createcall.CallStore     = (*Store)(nil)
	_ createcall.DialPlanStore = (*Store)(nil)
	_ accounts.Store           = (*Store)(nil)
)

// planLimits fills what create_call's limits read into a dial plan. The caller holds s.mu.
func (s *Store) planLimits(plan *createcall.DialPlan, userID string, q createcall.DialPlanQuery) {
	plan.Limits = s.limitsOf(userID)
	if plan.Limits.DailySpendCap != nil {
		since := q.DayStart()
		for _, e := range s.ledger {
			if e.UserID == userID && !e.At.Before(since) {
				plan.SpentToday -= e.Amount // a charge is negative
			}
		}
	}
	if q.IdempotencyKey != "" {
		if r, ok := s.idem[idemKey{userID, q.IdempotencyKey}]; ok && r.ExpiresAt.After(q.At()) {
			plan.Idempotency = &r
		}
	}
}

// limitsOf returns a copy of the user's limits. The caller holds s.mu.
func (s *Store) limitsOf(userID string) identity.Limits {
	l, ok := s.limits[userID]
	if !ok {
		return identity.DefaultLimits()
	}
	if l.DailySpendCap != nil {
		c := *l.DailySpendCap
		l.DailySpendCap = &c
	}
	l.AllowedCountries = slices.Clone(l.AllowedCountries)
	return l
}

// sessionIndex keeps what BeginCall reads without a scan of every session, as the database
// answers from its indexes: the request ids in use, and the sessions holding a slot of their
// user's cap on active calls, with the time each was created.
type sessionIndex struct {
	requests map[string]struct{}
	slots    map[string]map[string]time.Time // user id -> session id -> created at
	created  map[string][]sessionKey         // user id -> every session, oldest first (export.go)
}

// put notes a session as stored; a session in a final status gives its slot back. The caller
// holds s.mu.
func (ix *sessionIndex) put(cs *call.Session) {
	if ix.requests == nil {
		ix.requests, ix.slots = map[string]struct{}{}, map[string]map[string]time.Time{}
	}
	if _, seen := ix.requests[cs.RequestID]; !seen {
		ix.addCreated(cs)
	}
	ix.requests[cs.RequestID] = struct{}{}
	if cs.Status().Terminal() {
		delete(ix.slots[cs.UserID], cs.ID)
	}
}

// claim gives cs a slot of its user's cap; the caller holds s.mu.
func (ix *sessionIndex) claim(cs *call.Session) {
	mine := ix.slots[cs.UserID]
	if mine == nil {
		mine = map[string]time.Time{}
		ix.slots[cs.UserID] = mine
	}
	mine[cs.ID] = cs.CreatedAt
}

// releaseStale gives back the slots of the user's sessions created at or before before (of
// every user's when userID is ""), moving their versions on as the database does. The caller
// holds s.mu.
func (s *Store) releaseStale(userID string, before time.Time) int {
	n := 0
	for uid, mine := range s.ix.slots {
		if userID != "" && uid != userID {
			continue
		}
		for id, at := range mine {
			if !at.After(before) {
				delete(mine, id)
				s.versions[id]++
				n++
			}
		}
	}
	return n
}

// BeginCall implements createcall.CallStore: the slots are counted and the session written
// under the store's one lock.
func (s *Store) BeginCall(_ context.Context, b createcall.BeginCall) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := b.Session
	if _, ok := s.users[cs.UserID]; !ok {
		return fault.ErrNotFound
	}
	var k idemKey
	if r := b.Idempotency; r != nil {
		k = idemKey{r.UserID, r.Key}
		if old, ok := s.idem[k]; ok && old.ExpiresAt.After(r.CreatedAt) {
			return createcall.ErrIdempotencyInProgress
		}
	}
	_, taken := s.sessions[cs.ID]
	if _, ok := s.ix.requests[cs.RequestID]; ok || taken {
		return fault.ErrAlreadyExists
	}
	if len(s.ix.slots[cs.UserID]) >= b.MaxActive &&
		(s.releaseStale(cs.UserID, b.ActiveSince) == 0 || len(s.ix.slots[cs.UserID]) >= b.MaxActive) {
		return createcall.ErrConcurrencyLimit
	}
	if r := b.Idempotency; r != nil {
		if s.idem == nil {
			s.idem = map[idemKey]createcall.IdempotencyRecord{}
		}
		rec := *r
		rec.Done, rec.Result = false, createcall.Result{}
		s.idem[k] = rec
	}
	s.put(cs)
	s.ix.claim(cs)
	return nil
}

// RepairActiveCalls implements createcall.CallStore. The slots are the sessions themselves
// here, so no count can drift: it only releases the stale ones.
func (s *Store) RepairActiveCalls(_ context.Context, staleBefore time.Time) (createcall.ActiveCallRepair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return createcall.ActiveCallRepair{Released: s.releaseStale("", staleBefore)}, nil
}

// CompleteIdempotency implements createcall.CallStore.
func (s *Store) CompleteIdempotency(_ context.Context, userID, key string, res createcall.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idemKey{userID, key}
	r, ok := s.idem[k]
	if !ok {
		return fault.ErrNotFound
	}
	res.Replayed, res.Unrecorded = false, nil
	r.Done, r.Result = true, res
	s.idem[k] = r
	return nil
}

// PurgeIdempotencyKeys implements createcall.CallStore.
func (s *Store) PurgeIdempotencyKeys(_ context.Context, before time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, r := range s.idem {
		if n == limit {
			break
		}
		if !r.ExpiresAt.After(before) {
			delete(s.idem, k)
			n++
		}
	}
	return n, nil
}

// Limits implements accounts.UserStore.
func (s *Store) Limits(_ context.Context, userID string) (identity.Limits, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.users[userID]; !ok {
		return identity.Limits{}, fault.ErrNotFound
	}
	return s.limitsOf(userID), nil
}

// UpdateLimits implements accounts.UserStore.
func (s *Store) UpdateLimits(_ context.Context, userID string, fn func(*identity.Limits) error) (identity.Limits, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return identity.Limits{}, fault.ErrNotFound
	}
	l := s.limitsOf(userID)
	if err := fn(&l); err != nil {
		return identity.Limits{}, err
	}
	if s.limits == nil {
		s.limits = map[string]identity.Limits{}
	}
	l.AllowedCountries = slices.Clone(l.AllowedCountries)
	if l.DailySpendCap != nil {
		c := *l.DailySpendCap
		l.DailySpendCap = &c
	}
	s.limits[userID] = l
	return s.limitsOf(userID), nil
}
