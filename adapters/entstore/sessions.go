package entstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/callsession"
)

// CreateSession implements createcall.CallStore: one INSERT.
func (s *Store) CreateSession(ctx context.Context, cs *call.Session) error {
	return createSession(ctx, s.client, cs, nil)
}

// createSession inserts cs through client, which may be bound to a transaction (BeginCall on
// SQLite, which claimed a slot for it in the shard slot; nil: no slot).
func createSession(ctx context.Context, client *ent.Client, cs *call.Session, slot *int) error {
	id, err := requireID("session", cs.ID)
	if err != nil {
		return err
	}
	reqID, err := requireID("request", cs.RequestID)
	if err != nil {
		return err
	}
	uid, ok := parseID(cs.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	c := client.CallSession.Create().
		SetID(id).SetRequestID(reqID).SetUserID(uid).SetCreatedAt(cs.CreatedAt.UTC()).
		SetVersion(cs.Version()).SetNillableSlot(slot)
	// The rendered prompts never change after the session is written, so SaveSession leaves them.
	if cs.RenderedSystemPrompt != "" {
		c.SetRenderedSystemPrompt(cs.RenderedSystemPrompt)
	}
	if cs.RenderedFirstMessage != "" {
		c.SetRenderedFirstMessage(cs.RenderedFirstMessage)
	}
	// So are its options.
	setOptions(c.Mutation(), cs.Options)
	if err := setSession(c.Mutation(), cs); err != nil {
		return err
	}
	return storeErr("create session", c.Exec(ctx))
}

// SaveSession implements createcall.CallStore with optimistic concurrency: one UPDATE that
// only matches the version cs was read at. No row matched means the session moved on (or is
// gone): ErrConflict.
//
// A session saved in a final status gives its slot of the user's cap back in the same
// statement (slots.go) and, when the store has Jobs, is announced through the call-final outbox
// in the same transaction (outbox.go); every other save, the successful dial among them, stays
// one UPDATE outside any transaction.
func (s *Store) SaveSession(ctx context.Context, cs *call.Session) error {
	id, ok := parseID(cs.ID)
	if !ok {
		return fault.ErrConflict
	}
	var err error
	switch {
	case cs.Status().Terminal():
		err = s.saveFinalSession(ctx, id, cs)
	case s.name == SQLite:
		err = entSaveSession(ctx, s.client, id, cs, false)
	default:
		err = s.pgSaveSession(ctx, id, cs)
	}
	if err != nil {
		return err
	}
	cs.Saved()
	return nil
}

// sessionRefs parses the ids a session refers to (its agent, workflow and line), each nil when
// unset.
func sessionRefs(cs *call.Session) (agent, workflow, line *uuid.UUID, err error) {
	if agent, err = optionalID(cs.AgentID); err != nil {
		return nil, nil, nil, fmt.Errorf("session agent: %w", err)
	}
	if workflow, err = optionalID(cs.WorkflowID); err != nil {
		return nil, nil, nil, fmt.Errorf("session workflow: %w", err)
	}
	if line, err = optionalID(cs.LineID); err != nil {
		return nil, nil, nil, fmt.Errorf("session line: %w", err)
	}
	return agent, workflow, line, nil
}

// setSession sets every column a session's life may change, for insert and update alike.
func setSession(m *ent.CallSessionMutation, cs *call.Session) error {
	agent, workflow, line, err := sessionRefs(cs)
	if err != nil {
		return err
	}
	setOrClear(agent, m.SetAgentID, m.ClearAgentID)
	setOrClear(workflow, m.SetWorkflowID, m.ClearWorkflowID)
	setOrClear(line, m.SetPhoneNumberID, m.ClearPhoneNumberID)
	m.SetProvider(callsession.Provider(cs.Provider.String()))
	m.SetFromNumber(cs.From)
	m.SetToNumber(cs.To)
	m.SetStatus(cs.Status().String())
	if len(cs.VariableValues) > 0 {
		m.SetVariableValues(cs.VariableValues)
	} else {
		m.ClearVariableValues()
	}
	if cs.LegID != "" {
		m.SetLegID(cs.LegID)
	} else {
		m.ClearLegID()
	}
	m.SetDetail(cs.Detail)
	m.SetDurationSeconds(int(cs.Duration / time.Second)) // whole seconds, as carriers report them
	m.SetCost(int64(cs.Cost))
	setOrClear(optionalTime(cs.AnsweredAt), m.SetAnsweredAt, m.ClearAnsweredAt)
	setOrClear(optionalTime(cs.EndedAt), m.SetEndedAt, m.ClearEndedAt)
	m.SetUpdatedAt(cs.UpdatedAt.UTC())
	if cs.AnsweredBy.Valid() {
		m.SetAnsweredBy(cs.AnsweredBy.String())
	} else {
		m.ClearAnsweredBy()
	}
	return nil
}

// setOptions sets a new session's call options.
func setOptions(m *ent.CallSessionMutation, o call.Options) {
	if o.RingTimeout > 0 {
		m.SetRingTimeoutSeconds(int(o.RingTimeout / time.Second))
	}
	if o.MaxDuration > 0 {
		m.SetMaxDurationSeconds(int(o.MaxDuration / time.Second))
	}
	m.SetMachineDetection(o.MachineDetection.String())
}

// optionsOf reads a stored session's call options; a value this binary does not know reads as
// unset, so that an old binary still reads a newer row.
func optionsOf(e *ent.CallSession) call.Options {
	var o call.Options
	if e.RingTimeoutSeconds != nil {
		o.RingTimeout = time.Duration(*e.RingTimeoutSeconds) * time.Second
	}
	if e.MaxDurationSeconds != nil {
		o.MaxDuration = time.Duration(*e.MaxDurationSeconds) * time.Second
	}
	o.MachineDetection, _ = call.ParseMachineDetection(e.MachineDetection)
	return o
}

func setOrClear[T any](v *T, set func(T), clear func()) {
	if v != nil {
		set(*v)
	} else {
		clear()
	}
}

// Session implements createcall.CallStore.
func (s *Store) Session(ctx context.Context, id string) (*call.Session, error) {
	sid, ok := parseID(id)
	if !ok {
		return nil, fault.ErrNotFound
	}
	e, err := s.client.CallSession.Get(ctx, sid)
	if err != nil {
		return nil, storeErr("read session", err)
	}
	return sessionOf(e)
}

// SessionByRequestID implements createcall.CallStore.
func (s *Store) SessionByRequestID(ctx context.Context, userID, requestID string) (*call.Session, error) {
	uid, ok1 := parseID(userID)
	rid, ok2 := parseID(requestID)
	if !ok1 || !ok2 {
		return nil, fault.ErrNotFound
	}
	e, err := s.client.CallSession.Query().
		Where(callsession.RequestID(rid), callsession.UserID(uid)).
		Only(ctx)
	if err != nil {
		return nil, storeErr("read session", err)
	}
	return sessionOf(e)
}

// ListSessions implements createcall.CallStore: newest first, ties broken by id.
func (s *Store) ListSessions(ctx context.Context, userID string, offset, limit int) ([]*call.Session, int, error) {
	uid, ok := parseID(userID)
	if !ok || limit <= 0 {
		return []*call.Session{}, 0, nil
	}
	offset = max(offset, 0)
	return pageSessions(ctx, s.client.CallSession.Query().Where(callsession.UserID(uid)), offset, limit)
}

// pageSessions returns one page of q's sessions, newest first (ties broken by id), and how many
// q matches in all.
func pageSessions(ctx context.Context, q *ent.CallSessionQuery, offset, limit int) ([]*call.Session, int, error) {
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, storeErr("count sessions", err)
	}
	out := make([]*call.Session, 0, min(limit, max(total-offset, 0)))
	if offset >= total {
		return out, total, nil
	}
	rows, err := q.
		Order(ent.Desc(callsession.FieldCreatedAt), ent.Desc(callsession.FieldID)).
		Offset(offset).Limit(limit).
		All(ctx)
	if err != nil {
		return nil, 0, storeErr("list sessions", err)
	}
	for _, e := range rows {
		cs, err := sessionOf(e)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, cs)
	}
	return out, total, nil
}

func sessionOf(e *ent.CallSession) (*call.Session, error) {
	status, err := call.ParseStatus(e.Status)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", e.ID, err)
	}
	p, err := call.ParseProvider(string(e.Provider))
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", e.ID, err)
	}
	return call.RestoreSession(call.Session{
		ID:                   e.ID.String(),
		RequestID:            e.RequestID.String(),
		UserID:               e.UserID.String(),
		AgentID:              idString(e.AgentID),
		WorkflowID:           idString(e.WorkflowID),
		LineID:               idString(e.PhoneNumberID),
		Provider:             p,
		From:                 e.FromNumber,
		To:                   e.ToNumber,
		VariableValues:       e.VariableValues,
		RenderedSystemPrompt: e.RenderedSystemPrompt,
		RenderedFirstMessage: e.RenderedFirstMessage,
		Options:              optionsOf(e),
		LegID:                e.LegID,
		AnsweredBy:           answeredByOf(e.AnsweredBy),
		Detail:               e.Detail,
		Duration:             time.Duration(e.DurationSeconds) * time.Second,
		Cost:                 money.Amount(e.Cost),
		AnsweredAt:           timeOf(e.AnsweredAt),
		EndedAt:              timeOf(e.EndedAt),
		CreatedAt:            e.CreatedAt.UTC(),
		UpdatedAt:            e.UpdatedAt.UTC(),
	}, status, e.Version), nil
}

func answeredByOf(v *string) call.AnsweredBy {
	if v == nil {
		return 0
	}
	a, _ := call.ParseAnsweredBy(*v)
	return a
}
