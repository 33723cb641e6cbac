package entstore

import (
	"context"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/callsession"
)

// StaleDialingSessions implements createcall.CallStore: one SELECT, oldest first.
//
// It reads the index of the sessions not ended yet (a dialing session has no ended_at), oldest
// first; no index holds status, so that the save of a dial's outcome stays a HOT update. The
// reconciler runs it once a minute, not per request.
func (s *Store) StaleDialingSessions(ctx context.Context, cutoff time.Time, limit int) ([]*call.Session, error) {
	out := []*call.Session{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := s.client.CallSession.Query().
		Where(callsession.EndedAtIsNil(), callsession.Status(call.StatusDialing.String()), callsession.CreatedAtLT(cutoff.UTC())).
		Order(ent.Asc(callsession.FieldCreatedAt), ent.Asc(callsession.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, storeErr("list stale sessions", err)
	}
	for _, e := range rows {
		cs, err := sessionOf(e)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

// OpenSessions implements createcall.CallStore: one SELECT by provider and status, in id order.
// Like StaleDialingSessions it runs from a background job (the simulated carrier's pick-up), not
// per request.
func (s *Store) OpenSessions(ctx context.Context, p call.Provider, after string, limit int) ([]*call.Session, error) {
	out := []*call.Session{}
	if limit <= 0 || !p.Valid() {
		return out, nil
	}
	q := s.client.CallSession.Query().
		Where(callsession.ProviderEQ(callsession.Provider(p.String())),
			callsession.StatusIn(call.StatusInitiated.String(), call.StatusRinging.String(), call.StatusInProgress.String()))
	if after != "" {
		id, ok := parseID(after)
		if !ok {
			return out, nil
		}
		q.Where(callsession.IDGT(id))
	}
	rows, err := q.Order(ent.Asc(callsession.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, storeErr("list open sessions", err)
	}
	for _, e := range rows {
		cs, err := sessionOf(e)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}
