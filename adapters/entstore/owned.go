package entstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/agent"
	"github.com/kupe-voice/kupe/ent/callsession"
	"github.com/kupe-voice/kupe/ent/phonemapping"
	"github.com/kupe-voice/kupe/ent/phonenumber"
	"github.com/kupe-voice/kupe/ent/workflow"
)

// The owner-scoped reads and writes behind the phone, mapping, agent, workflow and call-log
// endpoints. Every statement names the owner in its WHERE clause, so another user's id matches
// no row and reads as fault.ErrNotFound, like an id that names nothing.

// owned parses an owner's id and a record's id; either malformed names no row.
func owned(userID, id string) (uid, rid string, ok bool) {
	u, ok1 := parseID(userID)
	r, ok2 := parseID(id)
	return u.String(), r.String(), ok1 && ok2
}

// UserLines implements accounts.CatalogStore.
func (s *Store) UserLines(ctx context.Context, userID string) ([]call.Line, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []call.Line{}, nil
	}
	rows, err := s.client.PhoneNumber.Query().
		Where(phonenumber.UserID(uid)).
		WithMapping().
		Order(ent.Asc(phonenumber.FieldCreatedAt), ent.Asc(phonenumber.FieldID)).
		All(ctx)
	if err != nil {
		return nil, storeErr("list lines", err)
	}
	out := make([]call.Line, 0, len(rows))
	for _, p := range rows {
		l, err := s.lineOf(p)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// UserLine implements accounts.CatalogStore.
func (s *Store) UserLine(ctx context.Context, userID, lineID string) (call.Line, error) {
	uid, ok1 := parseID(userID)
	lid, ok2 := parseID(lineID)
	if !ok1 || !ok2 {
		return call.Line{}, fault.ErrNotFound
	}
	p, err := s.client.PhoneNumber.Query().
		Where(phonenumber.ID(lid), phonenumber.UserID(uid)).
		WithMapping().
		Only(ctx)
	if err != nil {
		return call.Line{}, storeErr("read line", err)
	}
	return s.lineOf(p)
}

// lineOf maps a phone_numbers row, with its mapping loaded, to a call.Line without its
// credentials: the owner-scoped reads serve endpoints that never show them, so they are never
// opened here.
func (s *Store) lineOf(p *ent.PhoneNumber) (call.Line, error) {
	var t call.Target
	if m := p.Edges.Mapping; m != nil {
		t = call.Target{AgentID: idString(m.AgentID), WorkflowID: idString(m.WorkflowID)}
	}
	l, err := s.line(p.ID.String(), p.UserID.String(), p.Number, string(p.Provider), p.IsActive, p.CreatedAt, nil, t)
	if err != nil {
		return call.Line{}, err
	}
	l.FriendlyName, l.CountryCode, l.Region = p.FriendlyName, p.CountryCode, p.Region
	return l, nil
}

// Row locks. The first statement of an update transaction writes the row to itself: on
// PostgreSQL that takes the row's lock, so a concurrent update of the same row waits and then
// reads what this one wrote; on SQLite the transaction already holds the write lock (it begins
// IMMEDIATE). It also proves the row is the owner's: no row touched is ErrNotFound.
const (
	lockLine   = `UPDATE phone_numbers SET is_active = is_active WHERE id = $1 AND user_id = $2`
	readLine   = `SELECT p.number, p.provider, p.is_active, p.created_at, p.friendly_name, p.country_code, p.region, m.agent_id, m.workflow_id FROM phone_numbers p LEFT JOIN phone_mappings m ON m.phone_number_id = p.id WHERE p.id = $1`
	writeLine  = `UPDATE phone_numbers SET friendly_name = $1, is_active = $2 WHERE id = $3`
	writeCreds = `UPDATE phone_numbers SET credentials = $1 WHERE id = $2`

	lockAgent  = `UPDATE agents SET is_active = is_active WHERE id = $1 AND user_id = $2`
	readAgent  = `SELECT name, system_prompt, first_message, is_active, created_at FROM agents WHERE id = $1`
	writeAgent = `UPDATE agents SET name = $1, system_prompt = $2, first_message = $3, is_active = $4 WHERE id = $5`
)

// UpdateLine implements accounts.CatalogStore in one transaction: lock, read, write. The stored
// credentials are neither opened nor rewritten unless fn sets new ones.
func (s *Store) UpdateLine(ctx context.Context, userID, lineID string, fn func(*call.Line) error) (call.Line, error) {
	uid, lid, ok := owned(userID, lineID)
	if !ok {
		return call.Line{}, fault.ErrNotFound
	}
	var l call.Line
	err := s.inTx(ctx, "update line", func(tx dialect.Tx) error {
		if err := lockRow(ctx, tx, lockLine, lid, uid); err != nil {
			return err
		}
		var (
			number, provider      string
			active                bool
			created               anyTime
			name, country, region sql.NullString
			agentID, workflowID   sql.NullString
		)
		if err := queryRow(ctx, tx, readLine, []any{lid}, &number, &provider, &active, &created,
			&name, &country, &region, &agentID, &workflowID); err != nil {
			return err
		}
		var err error
		l, err = s.line(lid, uid, number, provider, active, created.Time, nil,
			call.Target{AgentID: agentID.String, WorkflowID: workflowID.String})
		if err != nil {
			return err
		}
		l.FriendlyName, l.CountryCode, l.Region = name.String, country.String, region.String
		changed := l
		if err := fn(&changed); err != nil {
			return err
		}
		// Only what is stored is handed back.
		l.FriendlyName, l.Active = changed.FriendlyName, changed.Active
		if err := tx.Exec(ctx, writeLine, []any{l.FriendlyName, l.Active, lid}, nil); err != nil {
			return fmt.Errorf("update line: %w", err)
		}
		if changed.Credentials == nil {
			return nil
		}
		sealed, err := s.sealCredentials(changed.Credentials)
		if err != nil {
			return err
		}
		var arg any // NULL for none, as CreateLine leaves it
		if sealed != nil {
			arg = sealed
		}
		if err := tx.Exec(ctx, writeCreds, []any{arg, lid}, nil); err != nil {
			return fmt.Errorf("update line credentials: %w", err)
		}
		return nil
	})
	if err != nil {
		return call.Line{}, err
	}
	return l, nil
}

// DeleteLine implements accounts.CatalogStore. The database removes the line's mapping with it
// (ON DELETE CASCADE); call_sessions holds plain ids, so the history stays.
func (s *Store) DeleteLine(ctx context.Context, userID, lineID string) error {
	uid, ok1 := parseID(userID)
	lid, ok2 := parseID(lineID)
	if !ok1 || !ok2 {
		return fault.ErrNotFound
	}
	n, err := s.client.PhoneNumber.Delete().Where(phonenumber.ID(lid), phonenumber.UserID(uid)).Exec(ctx)
	return affectedOne("delete line", n, err, fault.ErrNotFound)
}

// DeleteMapping implements accounts.CatalogStore.
func (s *Store) DeleteMapping(ctx context.Context, userID, lineID string) error {
	uid, ok1 := parseID(userID)
	lid, ok2 := parseID(lineID)
	if !ok1 || !ok2 {
		return fault.ErrNotFound
	}
	n, err := s.client.PhoneMapping.Delete().
		Where(phonemapping.PhoneNumberID(lid), phonemapping.HasPhoneNumberWith(phonenumber.UserID(uid))).
		Exec(ctx)
	return affectedOne("delete mapping", n, err, fault.ErrNotFound)
}

// UserAgents implements accounts.CatalogStore: a count and one page, both filtered in SQL.
func (s *Store) UserAgents(ctx context.Context, userID string, q accounts.AgentQuery) ([]call.Agent, int, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []call.Agent{}, 0, nil
	}
	query := s.client.Agent.Query().Where(agent.UserID(uid))
	if q.NameContains != "" {
		query = query.Where(agent.NameContainsFold(q.NameContains))
	}
	total, err := query.Clone().Count(ctx)
	if err != nil {
		return nil, 0, storeErr("count agents", err)
	}
	offset := max(q.Offset, 0)
	if offset >= total || q.Limit <= 0 {
		return []call.Agent{}, total, nil
	}
	rows, err := query.
		Order(ent.Asc(agent.FieldCreatedAt), ent.Asc(agent.FieldID)).
		Offset(offset).Limit(q.Limit).
		All(ctx)
	if err != nil {
		return nil, 0, storeErr("list agents", err)
	}
	out := make([]call.Agent, 0, len(rows))
	for _, a := range rows {
		out = append(out, agentOf(a))
	}
	return out, total, nil
}

// agentStats counts a user's sessions per agent and status; an agent without sessions is one
// row with a NULL status. Sessions hold plain agent ids: the join also checks the owner.
const agentStats = `SELECT a.id, a.name, a.is_active, s.status, COUNT(s.id),
	COALESCE(SUM(s.duration_seconds), 0), COALESCE(SUM(s.cost), 0)
FROM agents a LEFT JOIN call_sessions s ON s.agent_id = a.id AND s.user_id = a.user_id
WHERE a.user_id = $1
GROUP BY a.id, a.name, a.is_active, a.created_at, s.status
ORDER BY a.created_at, a.id`

// UserAgentStats implements accounts.CatalogStore in one query.
func (s *Store) UserAgentStats(ctx context.Context, userID string) ([]accounts.AgentCallStats, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []accounts.AgentCallStats{}, nil
	}
	var rows entsql.Rows
	if err := s.drv.Query(ctx, agentStats, []any{uid.String()}, &rows); err != nil {
		return nil, storeErr("agent stats", err)
	}
	defer rows.Close()
	out := []accounts.AgentCallStats{}
	for rows.Next() {
		var (
			id, name      string
			active        bool
			status        sql.NullString
			calls         int
			seconds, cost int64
		)
		if err := rows.Scan(&id, &name, &active, &status, &calls, &seconds, &cost); err != nil {
			return nil, storeErr("agent stats", err)
		}
		if n := len(out); n == 0 || out[n-1].AgentID != id {
			out = append(out, accounts.AgentCallStats{AgentID: id, Name: name, Active: active, ByStatus: map[call.Status]int{}})
		}
		if !status.Valid {
			continue
		}
		st, err := call.ParseStatus(status.String)
		if err != nil {
			return nil, fmt.Errorf("agent %s stats: %w", id, err)
		}
		r := &out[len(out)-1]
		r.ByStatus[st] += calls
		r.TalkTime += time.Duration(seconds) * time.Second
		r.Cost += money.Amount(cost)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("agent stats", err)
	}
	return out, nil
}

// UserAgent implements accounts.CatalogStore.
func (s *Store) UserAgent(ctx context.Context, userID, agentID string) (call.Agent, error) {
	uid, ok1 := parseID(userID)
	aid, ok2 := parseID(agentID)
	if !ok1 || !ok2 {
		return call.Agent{}, fault.ErrNotFound
	}
	a, err := s.client.Agent.Query().Where(agent.ID(aid), agent.UserID(uid)).Only(ctx)
	if err != nil {
		return call.Agent{}, storeErr("read agent", err)
	}
	return agentOf(a), nil
}

// UpdateAgent implements accounts.CatalogStore in one transaction: lock, read, write.
func (s *Store) UpdateAgent(ctx context.Context, userID, agentID string, fn func(*call.Agent) error) (call.Agent, error) {
	uid, aid, ok := owned(userID, agentID)
	if !ok {
		return call.Agent{}, fault.ErrNotFound
	}
	a := call.Agent{ID: aid, UserID: uid}
	err := s.inTx(ctx, "update agent", func(tx dialect.Tx) error {
		if err := lockRow(ctx, tx, lockAgent, aid, uid); err != nil {
			return err
		}
		var created anyTime
		if err := queryRow(ctx, tx, readAgent, []any{aid}, &a.Name, &a.SystemPrompt, &a.FirstMessage, &a.Active, &created); err != nil {
			return err
		}
		a.CreatedAt = created.Time
		changed := a
		if err := fn(&changed); err != nil {
			return err
		}
		// Only what is stored is handed back.
		a.Name, a.SystemPrompt, a.FirstMessage, a.Active = changed.Name, changed.SystemPrompt, changed.FirstMessage, changed.Active
		if err := tx.Exec(ctx, writeAgent, []any{a.Name, a.SystemPrompt, a.FirstMessage, a.Active, aid}, nil); err != nil {
			return fmt.Errorf("update agent: %w", err)
		}
		return nil
	})
	if err != nil {
		return call.Agent{}, err
	}
	return a, nil
}

// UserWorkflows implements accounts.CatalogStore.
func (s *Store) UserWorkflows(ctx context.Context, userID string) ([]call.Workflow, error) {
	uid, ok := parseID(userID)
	if !ok {
		return []call.Workflow{}, nil
	}
	rows, err := s.client.Workflow.Query().
		Where(workflow.UserID(uid)).
		Order(ent.Asc(workflow.FieldCreatedAt), ent.Asc(workflow.FieldID)).
		All(ctx)
	if err != nil {
		return nil, storeErr("list workflows", err)
	}
	out := make([]call.Workflow, 0, len(rows))
	for _, w := range rows {
		out = append(out, workflowOf(w))
	}
	return out, nil
}

// UserWorkflow implements accounts.CatalogStore.
func (s *Store) UserWorkflow(ctx context.Context, userID, workflowID string) (call.Workflow, error) {
	uid, ok1 := parseID(userID)
	wid, ok2 := parseID(workflowID)
	if !ok1 || !ok2 {
		return call.Workflow{}, fault.ErrNotFound
	}
	w, err := s.client.Workflow.Query().Where(workflow.ID(wid), workflow.UserID(uid)).Only(ctx)
	if err != nil {
		return call.Workflow{}, storeErr("read workflow", err)
	}
	return workflowOf(w), nil
}

func workflowOf(w *ent.Workflow) call.Workflow {
	return call.Workflow{ID: w.ID.String(), UserID: w.UserID.String(), Name: w.Name, Active: w.IsActive, CreatedAt: w.CreatedAt.UTC()}
}

// FindSessions implements createcall.CallStore, in ListSessions' order. A request id
// prefix is matched on the id's text form (lower-case, as both databases print a UUID); a whole
// request id is matched as a UUID, which the unique index answers.
func (s *Store) FindSessions(ctx context.Context, userID string, f createcall.SessionFilter, offset, limit int) ([]*call.Session, int, error) {
	uid, ok := parseID(userID)
	if !ok || limit <= 0 {
		return []*call.Session{}, 0, nil
	}
	offset = max(offset, 0)
	q := s.client.CallSession.Query().Where(callsession.UserID(uid))
	if f.Status.Valid() {
		q.Where(callsession.Status(f.Status.String()))
	}
	if p := f.RequestIDPrefix; p != "" {
		if rid, ok := parseID(p); ok && len(p) == len(rid.String()) {
			q.Where(callsession.RequestID(rid))
		} else {
			// The prefix holds only hex digits and dashes (createcall.ParseSessionFilter), so it
			// needs no LIKE escaping.
			q.Where(func(sel *entsql.Selector) {
				sel.Where(entsql.P(func(b *entsql.Builder) {
					b.WriteString("CAST(" + sel.C(callsession.FieldRequestID) + " AS TEXT) LIKE ").Arg(p + "%")
				}))
			})
		}
	}
	return pageSessions(ctx, q, offset, limit)
}

// inTx runs fn in a transaction on the store's driver and commits it when fn returns nil. The
// application's errors pass through as they are; others get op as context.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx dialect.Tx) error) error {
	tx, err := s.drv.Tx(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return storeErr(op+": commit", err)
	}
	return nil
}

// lockRow runs one of the lock statements above; no row touched is ErrNotFound.
func lockRow(ctx context.Context, tx dialect.Tx, query, id, userID string) error {
	var res sql.Result
	if err := tx.Exec(ctx, query, []any{id, userID}, &res); err != nil {
		return fmt.Errorf("lock row: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("lock row: %w", err)
	}
	if n == 0 {
		return fault.ErrNotFound
	}
	return nil
}

// queryRow reads the one row query returns into dest.
func queryRow(ctx context.Context, tx dialect.Tx, query string, args []any, dest ...any) error {
	var rows entsql.Rows
	if err := tx.Query(ctx, query, args, &rows); err != nil {
		return fmt.Errorf("read row: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read row: %w", err)
		}
		return fault.ErrNotFound
	}
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("read row: %w", err)
	}
	return rows.Close()
}

// setIfAny calls set with v unless v is empty, for optional text columns left NULL when unset.
func setIfAny[T any](v string, set func(string) T) {
	if v != "" {
		set(v)
	}
}
