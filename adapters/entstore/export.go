package entstore

import (
	"context"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/callsession"
	"github.com/kupe-voice/kupe/ent/predicate"
)

// SessionsCreated implements createcall.CallStore: one keyset read on the (user_id,
// created_at, id) index, so the thousandth page costs what the first does.
func (s *Store) SessionsCreated(ctx context.Context, userID string, r createcall.SessionRange, limit int) ([]*call.Session, error) {
	uid, ok := parseID(userID)
	if !ok || limit <= 0 {
		return []*call.Session{}, nil
	}
	from := r.From.UTC()
	var after []predicate.CallSession
	if r.AfterID != "" {
		id, ok := parseID(r.AfterID)
		if !ok {
			return []*call.Session{}, nil
		}
		at := r.AfterCreatedAt.UTC()
		if at.After(from) {
			// The index range starts at the cursor, not at From: the OR alone would not bound it.
			from = at
		}
		after = append(after, callsession.Or(
			callsession.CreatedAtGT(at),
			callsession.And(callsession.CreatedAt(at), callsession.IDGT(id)),
		))
	}
	where := append([]predicate.CallSession{
		callsession.UserID(uid),
		callsession.CreatedAtGTE(from),
		callsession.CreatedAtLT(r.To.UTC()),
	}, after...)
	rows, err := s.client.CallSession.Query().
		Where(where...).
		Order(ent.Asc(callsession.FieldCreatedAt), ent.Asc(callsession.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, storeErr("read sessions", err)
	}
	out := make([]*call.Session, 0, len(rows))
	for _, e := range rows {
		cs, err := sessionOf(e)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}
