package entstore

// The cap on a user's active calls is a counter, users.active_calls, and a flag on each session
// that holds one of its slots, call_sessions.holds_slot. Every change of the one changes the
// other in the same statement (PostgreSQL) or the same transaction (SQLite, which has one writer
// at a time anyway), so the counter is always the number of the user's sessions holding a slot,
// in every snapshot, and no lock is held between round trips:
//
//   - BeginCall claims a slot (active_calls + 1 where it is below the cap) and inserts the session
//     with holds_slot set, in one statement;
//   - SaveSession of a final status clears holds_slot and gives the slot back in the statement
//     that saves the session;
//   - a refused claim first releases the user's stale slots (sessions created at or before
//     ActiveSince), and tries once more if it released any;
//   - RepairActiveCalls, run by the reconciler, releases every stale slot and corrects a count
//     that disagrees with the sessions (drift: a row changed by hand, a bug).
//
// Releasing a slot moves the session's version on, so that a save based on the session as it
// was (holding its slot) is refused and read again, and no slot is given back twice.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/callsession"
)

// sessionColumn is a column of call_sessions that the store writes, with its PostgreSQL type
// (an INSERT ... SELECT does not infer the types of its parameters).
type sessionColumn struct{ name, pgType string }

// insertColumns are written once, by the insert; mutableColumns by the insert and every save,
// in the order of mutableValues.
var (
	insertColumns = []sessionColumn{{"id", "uuid"}, {"created_at", "timestamptz"}, {"request_id", "uuid"},
		{"rendered_system_prompt", "text"}, {"rendered_first_message", "text"}, {"version", "bigint"}}
	mutableColumns = []sessionColumn{{"agent_id", "uuid"}, {"workflow_id", "uuid"}, {"phone_number_id", "uuid"},
		{"provider", "text"}, {"from_number", "text"}, {"to_number", "text"}, {"status", "text"},
		{"variable_values", "jsonb"}, {"leg_id", "text"}, {"detail", "text"}, {"duration_seconds", "bigint"},
		{"cost", "bigint"}, {"answered_at", "timestamptz"}, {"ended_at", "timestamptz"}, {"updated_at", "timestamptz"}}
)

// mutableValues are cs's values of mutableColumns, as setSession sets them through ent.
func mutableValues(cs *call.Session) ([]any, error) {
	agent, err := optionalID(cs.AgentID)
	if err != nil {
		return nil, fmt.Errorf("session agent: %w", err)
	}
	workflow, err := optionalID(cs.WorkflowID)
	if err != nil {
		return nil, fmt.Errorf("session workflow: %w", err)
	}
	line, err := optionalID(cs.LineID)
	if err != nil {
		return nil, fmt.Errorf("session line: %w", err)
	}
	var vars any
	if len(cs.VariableValues) > 0 {
		b, err := json.Marshal(cs.VariableValues)
		if err != nil {
			return nil, fmt.Errorf("session variables: %w", err)
		}
		vars = string(b)
	}
	return []any{idValue(agent), idValue(workflow), idValue(line),
		cs.Provider.String(), cs.From, cs.To, cs.Status().String(),
		vars, nullString(cs.LegID), cs.Detail, int64(cs.Duration / time.Second), int64(cs.Cost),
		timeValue(cs.AnsweredAt), timeValue(cs.EndedAt), cs.UpdatedAt.UTC()}, nil
}

func idValue(u *uuid.UUID) any {
	if u == nil {
		return nil
	}
	return u.String()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// pgParams numbers n parameters from first: "$3, $4, ...", each cast to its column's type when
// cast is set.
func pgParams(cols []sessionColumn, first int, cast bool) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
		if cast {
			b.WriteString("::" + c.pgType)
		}
	}
	return b.String()
}

func columnNames(cols []sessionColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// setList is "agent_id = $3, workflow_id = $4, ...".
func setList(cols []sessionColumn, first int) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.name + " = $" + strconv.Itoa(first+i)
	}
	return strings.Join(parts, ", ")
}

// The PostgreSQL statements of the cap. BeginCall's arguments: $1 the user, $2 the cap, then the
// session's insertColumns and mutableColumns, then (keyed) the idempotency record's id,
// created_at, key, request_hash, state and expires_at. SaveSession's: $1 the session, $2 the
// version it was read at, then its mutableColumns.
var (
	pgSessionInsert = `INSERT INTO call_sessions (user_id, holds_slot, ` + columnNames(insertColumns) + `, ` + columnNames(mutableColumns) + `)
	SELECT claim.id, true, ` + pgParams(insertColumns, 3, true) + `, ` + pgParams(mutableColumns, 3+len(insertColumns), true) + ` FROM claim`
	pgKeyParam = 3 + len(insertColumns) + len(mutableColumns)

	// pgBeginCall claims a slot and inserts the session: no row affected is a refusal by the cap
	// (or a user that does not exist).
	pgBeginCall = `WITH claim AS (
	UPDATE users SET active_calls = active_calls + 1 WHERE id = $1 AND active_calls < $2 RETURNING id
)
` + pgSessionInsert

	// pgBeginKeyedCall writes the pending idempotency record first, and claims a slot only if it
	// did: it answers how many records it wrote (0: the key is live, in progress) and how many
	// sessions (0 with a record: refused by the cap, and the caller deletes the record).
	pgBeginKeyedCall = `WITH k AS (
	INSERT INTO idempotency_keys (id, created_at, user_id, "key", request_hash, session_id, state, expires_at)
	VALUES (` + pgKeyParams() + `)
	ON CONFLICT (user_id, "key") DO UPDATE SET id = excluded.id, created_at = excluded.created_at,
		request_hash = excluded.request_hash, session_id = excluded.session_id, state = excluded.state,
		response_status = NULL, response_body = NULL, expires_at = excluded.expires_at
	WHERE idempotency_keys.expires_at <= excluded.created_at
	RETURNING id
), claim AS (
	UPDATE users SET active_calls = active_calls + 1
	WHERE id = $1 AND active_calls < $2 AND EXISTS (SELECT 1 FROM k) RETURNING id
), s AS (
	` + pgSessionInsert + `
	RETURNING id
)
SELECT (SELECT COUNT(*) FROM k), (SELECT COUNT(*) FROM s)`

	// pgSaveSession is the versioned UPDATE of a session that stays active.
	pgSaveSession = `UPDATE call_sessions SET ` + setList(mutableColumns, 3) + `, version = $2 + 1
WHERE id = $1 AND version = $2`

	// pgSaveFinalSession is that UPDATE for a session that ends: it clears holds_slot and gives
	// the user's slot back if the session held one. old reads the row from the statement's
	// snapshot; when the UPDATE matches the version, that snapshot holds that version (it was
	// committed before our read, and every change moves the version on), so old.holds_slot is
	// the flag the UPDATE clears.
	pgSaveFinalSession = `WITH old AS (
	SELECT user_id, holds_slot FROM call_sessions WHERE id = $1 AND version = $2
), s AS (
	UPDATE call_sessions SET ` + setList(mutableColumns, 3) + `, version = $2 + 1, holds_slot = false
	WHERE id = $1 AND version = $2 RETURNING id
), released AS (
	UPDATE users SET active_calls = active_calls - 1
	WHERE id = (SELECT user_id FROM old WHERE holds_slot) AND EXISTS (SELECT 1 FROM s) RETURNING id
)
SELECT COUNT(*) FROM s`
)

func pgKeyParams() string {
	// id, created_at, user_id ($1), key, request_hash, session_id ($3: the session's id), state, expires_at
	p := func(i int) string { return "$" + strconv.Itoa(pgKeyParam+i) }
	return strings.Join([]string{p(0), p(1), "$1", p(2), p(3), "$3", p(4), p(5)}, ", ")
}

// pgReleaseStaleOfUser releases the user's stale slots ($2: created at or before) and says how
// many; no row means no such user.
const pgReleaseStaleOfUser = `WITH released AS (
	UPDATE call_sessions SET holds_slot = false, version = version + 1
	WHERE user_id = $1 AND holds_slot AND created_at <= $2 RETURNING id
)
UPDATE users SET active_calls = active_calls - (SELECT COUNT(*) FROM released) WHERE id = $1
RETURNING (SELECT COUNT(*) FROM released)`

// pgReleaseStale releases every stale slot ($1: created at or before), one row per user with how
// many of theirs.
const pgReleaseStale = `WITH released AS (
	UPDATE call_sessions SET holds_slot = false, version = version + 1
	WHERE holds_slot AND created_at <= $1 RETURNING user_id
), n AS (
	SELECT user_id, COUNT(*) AS n FROM released GROUP BY user_id
)
UPDATE users SET active_calls = active_calls - n.n FROM n WHERE users.id = n.user_id RETURNING n.n`

// pgRecount corrects every count that disagrees with its user's sessions. The counts and the
// sessions are read from one snapshot, in which every committed claim and release had changed
// both; the difference found there is added to the count as it stands when the row is locked,
// so claims and releases that commit meanwhile are kept.
const pgRecount = `UPDATE users u SET active_calls = u.active_calls + d.delta
FROM (
	SELECT x.id, COALESCE(c.n, 0) - x.active_calls AS delta
	FROM users x LEFT JOIN (
		SELECT user_id, COUNT(*) AS n FROM call_sessions WHERE holds_slot GROUP BY user_id
	) c ON c.user_id = x.id
	WHERE x.active_calls <> COALESCE(c.n, 0)
) d
WHERE u.id = d.id
RETURNING d.delta`

// The SQLite statements of the cap, run inside the transactions of BeginCall, SaveSession and
// RepairActiveCalls: SQLite has no UPDATE in a WITH, and a transaction holds the one write lock.
const (
	sqliteClaim              = `UPDATE users SET active_calls = active_calls + 1 WHERE id = $1 AND active_calls < $2`
	sqliteReleaseOfSession   = `UPDATE users SET active_calls = active_calls - 1 WHERE id = (SELECT user_id FROM call_sessions WHERE id = $1 AND version = $2 AND holds_slot)`
	sqliteReleaseStaleCounts = `UPDATE users SET active_calls = active_calls - (
	SELECT COUNT(*) FROM call_sessions WHERE call_sessions.user_id = users.id AND holds_slot AND created_at <= $2)
WHERE ($1 IS NULL OR id = $1) AND id IN (SELECT user_id FROM call_sessions WHERE holds_slot AND created_at <= $2)`
	sqliteReleaseStaleFlags = `UPDATE call_sessions SET holds_slot = false, version = version + 1
WHERE ($1 IS NULL OR user_id = $1) AND holds_slot AND created_at <= $2`
	sqliteUserExists = `SELECT COUNT(*) FROM users WHERE id = $1`
	sqliteRecount    = `UPDATE users SET active_calls = (SELECT COUNT(*) FROM call_sessions WHERE user_id = users.id AND holds_slot)
WHERE active_calls <> (SELECT COUNT(*) FROM call_sessions WHERE user_id = users.id AND holds_slot)`
)

// BeginCall implements createcall.CallStore. On PostgreSQL it is one statement (two when the cap
// refuses a keyed request: the record it wrote is deleted); on SQLite one short transaction.
func (s *Store) BeginCall(ctx context.Context, b createcall.BeginCall) error {
	cs := b.Session
	uid, ok := parseID(cs.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	if s.name == SQLite {
		return s.withTx(ctx, "begin call", func(tx dialect.Tx, client *ent.Client) error {
			return sqliteBeginCall(ctx, tx, client, uid, b)
		})
	}
	for attempt := 0; ; attempt++ {
		claimed, err := s.pgBeginCall(ctx, uid, b)
		if err != nil || claimed {
			return err
		}
		if attempt > 0 {
			return createcall.ErrConcurrencyLimit
		}
		var released int
		err = queryOne(ctx, s.drv, pgReleaseStaleOfUser, []any{uid.String(), b.ActiveSince.UTC()}, &released)
		if err != nil {
			return storeErr("release stale slots", err) // a user that does not exist is ErrNotFound
		}
		if released == 0 {
			return createcall.ErrConcurrencyLimit
		}
	}
}

// pgBeginCall runs pgBeginCall or pgBeginKeyedCall; claimed is false when the cap refused.
func (s *Store) pgBeginCall(ctx context.Context, uid uuid.UUID, b createcall.BeginCall) (claimed bool, err error) {
	cs := b.Session
	args, err := insertArgs(uid, b)
	if err != nil {
		return false, err
	}
	r := b.Idempotency
	if r == nil {
		var res sql.Result
		if err := s.drv.Exec(ctx, pgBeginCall, args, &res); err != nil {
			return false, storeErr("begin call", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("begin call: %w", err)
		}
		return n == 1, nil
	}
	keyID := uuid.NewString()
	args = append(args, keyID, r.CreatedAt.UTC(), r.Key, r.RequestHash, idempotencyPending, r.ExpiresAt.UTC())
	var keys, sessions int
	if err := queryOne(ctx, s.drv, pgBeginKeyedCall, args, &keys, &sessions); err != nil {
		return false, storeErr("begin call", err)
	}
	switch {
	case keys == 0:
		return false, createcall.ErrIdempotencyInProgress
	case sessions == 1:
		return true, nil
	}
	// Refused by the cap: the record written for the key goes again. Until then a retry with the
	// key is told it is in progress, which it is.
	var res sql.Result
	if err := s.drv.Exec(ctx, `DELETE FROM idempotency_keys WHERE id = $1`, []any{keyID}, &res); err != nil {
		return false, storeErr(fmt.Sprintf("delete the idempotency record of refused session %s", cs.ID), err)
	}
	return false, nil
}

// insertArgs are pgBeginCall's arguments: the user, the cap, the session's columns.
func insertArgs(uid uuid.UUID, b createcall.BeginCall) ([]any, error) {
	cs := b.Session
	id, err := requireID("session", cs.ID)
	if err != nil {
		return nil, err
	}
	reqID, err := requireID("request", cs.RequestID)
	if err != nil {
		return nil, err
	}
	mutable, err := mutableValues(cs)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, pgKeyParam+6)
	args = append(args, uid.String(), b.MaxActive,
		id.String(), cs.CreatedAt.UTC(), reqID.String(),
		nullString(cs.RenderedSystemPrompt), nullString(cs.RenderedFirstMessage), cs.Version())
	return append(args, mutable...), nil
}

// sqliteBeginCall is BeginCall inside a SQLite transaction: the key's record, the claim (after a
// release of the user's stale slots if the cap refused it), the insert. Any refusal rolls the
// whole back.
func sqliteBeginCall(ctx context.Context, tx dialect.Tx, client *ent.Client, uid uuid.UUID, b createcall.BeginCall) error {
	if r := b.Idempotency; r != nil {
		if err := claimKey(ctx, tx, uid, b.Session.ID, r); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		n, err := execAffected(ctx, tx, sqliteClaim, uid.String(), b.MaxActive)
		if err != nil {
			return storeErr("claim a slot", err)
		}
		if n == 1 {
			break
		}
		var users int
		if err := queryOne(ctx, tx, sqliteUserExists, []any{uid.String()}, &users); err != nil {
			return storeErr("read user", err)
		}
		if users == 0 {
			return fault.ErrNotFound
		}
		if attempt > 0 {
			return createcall.ErrConcurrencyLimit
		}
		released, err := sqliteReleaseStale(ctx, tx, uid.String(), b.ActiveSince)
		if err != nil {
			return err
		}
		if released == 0 {
			return createcall.ErrConcurrencyLimit
		}
	}
	return createSession(ctx, client, b.Session, true)
}

// sqliteReleaseStale releases the stale slots of one user, or of every user when userID is nil.
func sqliteReleaseStale(ctx context.Context, tx dialect.ExecQuerier, userID any, before time.Time) (int, error) {
	if _, err := execAffected(ctx, tx, sqliteReleaseStaleCounts, userID, before.UTC()); err != nil {
		return 0, storeErr("release stale slots", err)
	}
	n, err := execAffected(ctx, tx, sqliteReleaseStaleFlags, userID, before.UTC())
	if err != nil {
		return 0, storeErr("release stale slots", err)
	}
	return int(n), nil
}

// saveFinalSession is SaveSession for a session in a final status: its slot, if it holds one,
// is given back in the same statement (PostgreSQL) or transaction (SQLite), and its call_final
// job, when the store has Jobs, is recorded in the same transaction. On PostgreSQL the job goes
// first: the user's row, locked by the release, is then held only until the COMMIT.
func (s *Store) saveFinalSession(ctx context.Context, id uuid.UUID, cs *call.Session) error {
	if s.name == SQLite {
		return s.withTx(ctx, "save session", func(tx dialect.Tx, client *ent.Client) error {
			if _, err := execAffected(ctx, tx, sqliteReleaseOfSession, id.String(), cs.Version()); err != nil {
				return storeErr("release slot", err)
			}
			if err := entSaveSession(ctx, client, id, cs, true); err != nil {
				return err
			}
			if s.jobs == nil {
				return nil
			}
			return s.announceFinal(ctx, tx, cs)
		})
	}
	args, err := saveArgs(id, cs)
	if err != nil {
		return err
	}
	save := func(q dialect.ExecQuerier) error {
		var n int
		if err := queryOne(ctx, q, pgSaveFinalSession, args, &n); err != nil {
			return storeErr("save session", err)
		}
		if n == 0 {
			return fault.ErrConflict
		}
		return nil
	}
	if s.jobs == nil {
		return save(s.drv)
	}
	return s.withTx(ctx, "save session", func(tx dialect.Tx, _ *ent.Client) error {
		if err := s.announceFinal(ctx, tx, cs); err != nil {
			return err
		}
		return save(tx)
	})
}

func saveArgs(id uuid.UUID, cs *call.Session) ([]any, error) {
	mutable, err := mutableValues(cs)
	if err != nil {
		return nil, err
	}
	return append([]any{id.String(), cs.Version()}, mutable...), nil
}

// entSaveSession is the versioned UPDATE through ent's builder (SQLite); release also clears
// holds_slot.
func entSaveSession(ctx context.Context, client *ent.Client, id uuid.UUID, cs *call.Session, release bool) error {
	u := client.CallSession.Update().
		Where(callsession.ID(id), callsession.Version(cs.Version())).
		SetVersion(cs.Version() + 1)
	if release {
		u.SetHoldsSlot(false)
	}
	if err := setSession(u.Mutation(), cs); err != nil {
		return err
	}
	n, err := u.Save(ctx)
	return affectedOne("save session", n, err, fault.ErrConflict)
}

// RepairActiveCalls implements createcall.CallStore: on PostgreSQL two statements, each atomic
// with respect to the claims and releases running beside it; on SQLite one transaction.
func (s *Store) RepairActiveCalls(ctx context.Context, staleBefore time.Time) (createcall.ActiveCallRepair, error) {
	var rep createcall.ActiveCallRepair
	if s.name == SQLite {
		err := s.withTx(ctx, "repair active calls", func(tx dialect.Tx, _ *ent.Client) error {
			var err error
			if rep.Released, err = sqliteReleaseStale(ctx, tx, nil, staleBefore); err != nil {
				return err
			}
			n, err := execAffected(ctx, tx, sqliteRecount)
			rep.Corrected = int(n)
			return storeErr("recount active calls", err)
		})
		return rep, err
	}
	var err error
	if rep.Released, err = sumRows(ctx, s.drv, pgReleaseStale, []any{staleBefore.UTC()}); err != nil {
		return rep, storeErr("release stale slots", err)
	}
	if err := eachInt(ctx, s.drv, pgRecount, nil, func(int) { rep.Corrected++ }); err != nil {
		return rep, storeErr("recount active calls", err)
	}
	return rep, nil
}

func execAffected(ctx context.Context, q dialect.ExecQuerier, query string, args ...any) (int64, error) {
	if args == nil {
		args = []any{}
	}
	var res sql.Result
	if err := q.Exec(ctx, query, args, &res); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sumRows adds up the one integer column of every row query returns.
func sumRows(ctx context.Context, q dialect.ExecQuerier, query string, args []any) (int, error) {
	total := 0
	err := eachInt(ctx, q, query, args, func(n int) { total += n })
	return total, err
}

func eachInt(ctx context.Context, q dialect.ExecQuerier, query string, args []any, f func(int)) error {
	if args == nil {
		args = []any{}
	}
	var rows entsql.Rows
	if err := q.Query(ctx, query, args, &rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return err
		}
		f(n)
	}
	return rows.Err()
}
