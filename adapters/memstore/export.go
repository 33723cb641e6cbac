package memstore

import (
	"context"
	"sort"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// SessionsCreated implements createcall.CallStore from the index of each user's sessions by
// creation: a binary search to the cursor, then one page, as the database's index read does.
func (s *Store) SessionsCreated(_ context.Context, userID string, r createcall.SessionRange, limit int) ([]*call.Session, error) {
	out := []*call.Session{}
	if limit <= 0 {
		return out, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := s.ix.created[userID]
	start := sessionKey{r.From, ""}
	if r.AfterID != "" && !r.AfterCreatedAt.Before(r.From) {
		start = sessionKey{r.AfterCreatedAt, r.AfterID + "\x00"} // just after the cursor
	}
	i := sort.Search(len(keys), func(i int) bool { return !keys[i].before(start) })
	for ; i < len(keys) && len(out) < limit; i++ {
		k := keys[i]
		if !k.createdAt.Before(r.To) {
			break
		}
		if r.Includes(k.createdAt, k.id) {
			out = append(out, s.get(k.id))
		}
	}
	return out, nil
}

// addCreated files a new session in its user's creation order. Sessions mostly come in that
// order, so this is mostly an append.
func (ix *sessionIndex) addCreated(cs *call.Session) {
	if ix.created == nil {
		ix.created = map[string][]sessionKey{}
	}
	k := sessionKey{cs.CreatedAt, cs.ID}
	keys := ix.created[cs.UserID]
	i := sort.Search(len(keys), func(i int) bool { return k.before(keys[i]) })
	keys = append(keys, sessionKey{})
	copy(keys[i+1:], keys[i:])
	keys[i] = k
	ix.created[cs.UserID] = keys
}

type sessionKey struct {
	createdAt time.Time
	id        string
}

func (k sessionKey) before(o sessionKey) bool {
	if !k.createdAt.Equal(o.createdAt) {
		return k.createdAt.Before(o.createdAt)
	}
	return k.id < o.id
}
