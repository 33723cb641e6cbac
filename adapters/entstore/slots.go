package entstore

// A user's cap on active calls is held by slot counts split into shards, call_slots(user_id,
// shard, held), and by the shard each session holding a slot names, call_sessions.slot. The cap
// is split between min(slotShards, cap) shards (share), so that one user's create_calls claim
// their slots on different rows, each locked only by the statement that claims on it: the calls
// of a campaign never queue behind each other, and no lock is held between round trips. Every
// change of a count changes the sessions' slot in the same statement (PostgreSQL) or the same
// transaction (SQLite), so each count is the number of the user's sessions naming its shard, in
// every snapshot:
//
//   - BeginCall claims a slot in a shard chosen at random (held + 1 where it is below the
//     shard's share) and inserts the session naming it, in one statement;
//   - when that shard is full, it takes the user's shards' locks in order and claims in any with
//     room (a refusal is exact: all the user's shards are full); failing that it releases the
//     user's stale slots (sessions created at or before ActiveSince) and tries once more;
//   - SaveSession of a final status clears the session's slot and gives it back to its shard in
//     the statement that saves the session;
//   - RepairActiveCalls, run by the reconciler, releases every stale slot and corrects the
//     counts that disagree with the sessions (drift: a row changed by hand, a bug).
//
// While a shard holds more than its share (the cap was lowered), no slot is claimed anywhere:
// new calls wait until the calls beyond the cap have ended. Releasing a slot moves the session's
// version on, so that a save based on the session as it was (holding its slot) is refused and
// read again, and no slot is given back twice.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

// slotShards is how many shards a user's cap is split into at most: enough that the claims of
// one user's concurrent requests rarely meet on a row, few enough that a refusal, which locks
// them all, stays cheap.
const slotShards = 32

// shards is how many shards a cap is split into: one per slot for a cap below slotShards.
func shards(maxActive int) int { return min(slotShards, maxActive) }

// share is shard's part of the cap: the cap split evenly between the shards, the first ones
// taking the remainder, and nothing for a shard beyond them.
func share(shard, maxActive int) int {
	n := shards(maxActive)
	if shard < 0 || shard >= n {
		return 0
	}
	s := maxActive / n
	if shard < maxActive%n {
		s++
	}
	return s
}

// pgShare is share in SQL, for the shard in column col: {cap} is the cap, {shards} shards(cap).
// cond puts c where text says /*cond*/: the keyed statements' condition on the key's record.
func cond(text, c string) string { return strings.Replace(text, "/*cond*/", c, 1) }

func pgShare(col string) string {
	return `(CASE WHEN ` + col + ` < {shards}::int THEN {cap}::int / {shards}::int + CASE WHEN ` + col +
		` < {cap}::int % {shards}::int THEN 1 ELSE 0 END ELSE 0 END)`
}

// stmt is a statement whose named parameters ({user}, {cap}, ...) bind numbers: $1 for the
// first of names, and so on.
type stmt struct {
	text  string
	names []string
}

func bind(text string, names ...string) stmt {
	for i, n := range names {
		text = strings.ReplaceAll(text, "{"+n+"}", "$"+strconv.Itoa(i+1))
	}
	if i := strings.IndexByte(text, '{'); i >= 0 {
		if j := strings.IndexByte(text[i:], '}'); j > 0 && !strings.Contains(text[i:i+j], " ") {
			panic("entstore: unbound parameter " + text[i:i+j+1])
		}
	}
	return stmt{text: text, names: names}
}

// args are a statement's arguments, by name.
type args map[string]any

func (s stmt) args(a args) []any {
	out := make([]any, len(s.names))
	for i, n := range s.names {
		v, ok := a[n]
		if !ok {
			panic("entstore: no argument for " + n)
		}
		out[i] = v
	}
	return out
}

// sessionColumn is a column of call_sessions that the store writes, with its PostgreSQL type
// (an INSERT ... SELECT does not infer the types of its parameters).
type sessionColumn struct{ name, pgType string }

// insertColumns are written once, by the insert; mutableColumns by the insert and every save.
var (
	insertColumns = []sessionColumn{{"id", "uuid"}, {"created_at", "timestamptz"}, {"request_id", "uuid"},
		{"rendered_system_prompt", "text"}, {"rendered_first_message", "text"}, {"version", "bigint"},
		{"ring_timeout_seconds", "bigint"}, {"max_duration_seconds", "bigint"}, {"machine_detection", "text"}}
	mutableColumns = []sessionColumn{{"agent_id", "uuid"}, {"workflow_id", "uuid"}, {"phone_number_id", "uuid"},
		{"provider", "text"}, {"from_number", "text"}, {"to_number", "text"}, {"status", "text"},
		{"variable_values", "jsonb"}, {"leg_id", "text"}, {"detail", "text"}, {"duration_seconds", "bigint"},
		{"cost", "bigint"}, {"answered_at", "timestamptz"}, {"ended_at", "timestamptz"}, {"updated_at", "timestamptz"},
		{"answered_by", "text"}}
)

// paramNames are the parameters' names of cols: c_ and the column's name.
func paramNames(cols ...[]sessionColumn) []string {
	var out []string
	for _, cc := range cols {
		for _, c := range cc {
			out = append(out, "c_"+c.name)
		}
	}
	return out
}

func columnNames(cols []sessionColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// castParams is "{c_id}::uuid, {c_created_at}::timestamptz, ...".
func castParams(cols []sessionColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "{c_" + c.name + "}::" + c.pgType
	}
	return strings.Join(parts, ", ")
}

// setList is "agent_id = {c_agent_id}, ...".
func setList(cols []sessionColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.name + " = {c_" + c.name + "}"
	}
	return strings.Join(parts, ", ")
}

// putMutable sets the c_ arguments of mutableColumns to cs's values, as setSession sets them
// through ent: a change to setSession is a change here.
func putMutable(a args, cs *call.Session) error {
	agent, workflow, line, err := sessionRefs(cs)
	if err != nil {
		return err
	}
	var vars any
	if len(cs.VariableValues) > 0 {
		b, err := json.Marshal(cs.VariableValues)
		if err != nil {
			return fmt.Errorf("session variables: %w", err)
		}
		vars = string(b)
	}
	a["c_agent_id"], a["c_workflow_id"], a["c_phone_number_id"] = idValue(agent), idValue(workflow), idValue(line)
	a["c_provider"], a["c_from_number"], a["c_to_number"] = cs.Provider.String(), cs.From, cs.To
	a["c_status"], a["c_variable_values"], a["c_leg_id"] = cs.Status().String(), vars, nullString(cs.LegID)
	a["c_detail"], a["c_duration_seconds"], a["c_cost"] = cs.Detail, int64(cs.Duration/time.Second), int64(cs.Cost)
	a["c_answered_at"], a["c_ended_at"], a["c_updated_at"] = timeValue(cs.AnsweredAt), timeValue(cs.EndedAt), cs.UpdatedAt.UTC()
	a["c_answered_by"] = nil
	if cs.AnsweredBy.Valid() {
		a["c_answered_by"] = cs.AnsweredBy.String()
	}
	return nil
}

// putInsert sets the c_ arguments of insertColumns and mutableColumns for cs's insert.
func putInsert(a args, cs *call.Session) error {
	id, err := requireID("session", cs.ID)
	if err != nil {
		return err
	}
	reqID, err := requireID("request", cs.RequestID)
	if err != nil {
		return err
	}
	a["c_id"], a["c_created_at"], a["c_request_id"] = id.String(), cs.CreatedAt.UTC(), reqID.String()
	a["c_rendered_system_prompt"], a["c_rendered_first_message"] = nullString(cs.RenderedSystemPrompt), nullString(cs.RenderedFirstMessage)
	a["c_version"] = cs.Version()
	// The call's options never change after the insert, as setOptions writes them.
	a["c_ring_timeout_seconds"], a["c_max_duration_seconds"] = wholeSeconds(cs.Options.RingTimeout), wholeSeconds(cs.Options.MaxDuration)
	a["c_machine_detection"] = cs.Options.MachineDetection.String()
	return putMutable(a, cs)
}

// wholeSeconds is an optional duration column: NULL when not set.
func wholeSeconds(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return int64(d / time.Second)
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

// The PostgreSQL statements of the cap. {user} is the user, {cap} the cap and {shards}
// shards(cap); {shard} the shard chosen at random and {slot_id} the id of its row should it be
// made; {key_*} the idempotency record's columns.
var (
	beginNames      = append([]string{"user", "cap", "shards", "shard", "slot_id"}, paramNames(insertColumns, mutableColumns)...)
	exactNames      = append([]string{"user", "cap", "shards"}, paramNames(insertColumns, mutableColumns)...)
	keyNames        = []string{"key_id", "key_created_at", "key", "key_hash", "key_state", "key_expires_at"}
	pgSessionInsert = `INSERT INTO call_sessions (user_id, slot, ` + columnNames(insertColumns) + `, ` + columnNames(mutableColumns) + `)
	SELECT {user}::uuid, claim.shard, ` + castParams(insertColumns) + `, ` + castParams(mutableColumns) + ` FROM claim`
	pgKeyInsert = `k AS (
	INSERT INTO idempotency_keys (id, created_at, user_id, "key", request_hash, session_id, state, expires_at)
	VALUES ({key_id}::uuid, {key_created_at}::timestamptz, {user}::uuid, {key}, {key_hash}, {c_id}::uuid, {key_state}, {key_expires_at}::timestamptz)
	ON CONFLICT (user_id, "key") DO UPDATE SET id = excluded.id, created_at = excluded.created_at,
		request_hash = excluded.request_hash, session_id = excluded.session_id, state = excluded.state,
		response_status = NULL, response_body = NULL, expires_at = excluded.expires_at
	WHERE idempotency_keys.expires_at <= excluded.created_at
	RETURNING id
), `
	// noOverfull holds while no shard of the user holds more than its share.
	noOverfull = `NOT EXISTS (SELECT 1 FROM call_slots o WHERE o.user_id = {user}::uuid AND o.held > ` + pgShare("o.shard") + `)`

	// pgClaim takes a slot in {shard}, making its row if it has none, where it holds less than
	// its share.
	pgClaim = `claim AS (
	INSERT INTO call_slots (id, user_id, shard, held)
	SELECT {slot_id}::uuid, {user}::uuid, {shard}::int, 1 WHERE /*cond*/` + noOverfull + `
	ON CONFLICT (user_id, shard) DO UPDATE SET held = call_slots.held + 1
	WHERE call_slots.held < ` + pgShare("call_slots.shard") + `
	RETURNING shard
)`
	// pgExactClaim locks the user's shards in order and takes a slot in the first with room.
	pgExactClaim = `locked AS (
	SELECT shard, held FROM call_slots WHERE user_id = {user}::uuid ORDER BY shard FOR UPDATE
), pick AS (
	SELECT shard FROM locked
	WHERE held < ` + pgShare("shard") + `
		AND NOT EXISTS (SELECT 1 FROM locked o WHERE o.held > ` + pgShare("o.shard") + `)
	ORDER BY shard LIMIT 1
), claim AS (
	UPDATE call_slots SET held = held + 1
	WHERE user_id = {user}::uuid AND shard = (SELECT shard FROM pick) /*cond*/ RETURNING shard
)`

	// No row affected: refused by the shard's share (or an overfull shard).
	pgBeginCall = bind(`WITH `+cond(pgClaim, "")+`
`+pgSessionInsert, beginNames...)
	// Answers how many records it wrote (0: the key is live, in progress) and how many sessions
	// (0 with a record: refused, and the caller deletes the record).
	pgBeginKeyedCall = bind(`WITH `+pgKeyInsert+cond(pgClaim, "EXISTS (SELECT 1 FROM k) AND ")+`, s AS (
	`+pgSessionInsert+`
	RETURNING id
)
SELECT (SELECT COUNT(*) FROM k), (SELECT COUNT(*) FROM s)`, append(beginNames, keyNames...)...)
	pgExactBeginCall = bind(`WITH `+cond(pgExactClaim, "")+`
`+pgSessionInsert, exactNames...)
	pgExactBeginKeyedCall = bind(`WITH `+pgKeyInsert+cond(pgExactClaim, "AND EXISTS (SELECT 1 FROM k)")+`, s AS (
	`+pgSessionInsert+`
	RETURNING id
)
SELECT (SELECT COUNT(*) FROM k), (SELECT COUNT(*) FROM s)`, append(exactNames, keyNames...)...)

	// pgMakeShards makes the user's shard rows that do not exist yet.
	pgMakeShards = bind(`INSERT INTO call_slots (id, user_id, shard, held)
SELECT gen_random_uuid(), {user}::uuid, g, 0 FROM generate_series(0, {shards}::int - 1) AS g
ON CONFLICT (user_id, shard) DO NOTHING`, "user", "shards")

	// pgSaveSession is the versioned UPDATE of a session that stays active.
	pgSaveSession = bind(`UPDATE call_sessions SET `+setList(mutableColumns)+`, version = {version} + 1
WHERE id = {id} AND version = {version}`, append([]string{"id", "version"}, paramNames(mutableColumns)...)...)

	// pgSaveFinalSession is that UPDATE for a session that ends: it clears the session's slot and
	// gives it back to its shard. old reads the row from the statement's snapshot; when the
	// UPDATE matches the version, that snapshot holds that version (it was committed before our
	// read, and every change moves the version on), so old.slot is the slot the UPDATE clears.
	pgSaveFinalSession = bind(`WITH old AS (
	SELECT user_id, slot FROM call_sessions WHERE id = {id} AND version = {version}
), s AS (
	UPDATE call_sessions SET `+setList(mutableColumns)+`, version = {version} + 1, slot = NULL
	WHERE id = {id} AND version = {version} RETURNING id
), released AS (
	UPDATE call_slots SET held = held - 1 FROM old
	WHERE call_slots.user_id = old.user_id AND call_slots.shard = old.slot AND EXISTS (SELECT 1 FROM s)
	RETURNING call_slots.shard
)
SELECT COUNT(*) FROM s`, append([]string{"id", "version"}, paramNames(mutableColumns)...)...)

	// pgReleaseStaleOfUser releases the user's slots of sessions created at or before
	// {before}; it answers how many, and whether the user exists. (RETURNING gives the values an
	// UPDATE wrote: old, read from the snapshot, has the slot it clears, which a session never
	// changes otherwise.)
	pgReleaseStaleOfUser = bind(`WITH released AS (
	UPDATE call_sessions SET slot = NULL, version = call_sessions.version + 1
	FROM (SELECT id, slot FROM call_sessions
		WHERE user_id = {user}::uuid AND slot IS NOT NULL AND created_at <= {before}::timestamptz) old
	WHERE call_sessions.id = old.id AND call_sessions.slot IS NOT NULL RETURNING old.slot
), n AS (
	SELECT slot, COUNT(*) AS n FROM released GROUP BY slot
), given AS (
	UPDATE call_slots SET held = held - n.n FROM n
	WHERE call_slots.user_id = {user}::uuid AND call_slots.shard = n.slot RETURNING call_slots.shard
)
SELECT (SELECT COUNT(*) FROM released), (SELECT COUNT(*) FROM users WHERE id = {user}::uuid)`, "user", "before")

	// pgReleaseStale releases every stale slot, and answers how many.
	pgReleaseStale = bind(`WITH released AS (
	UPDATE call_sessions SET slot = NULL, version = call_sessions.version + 1
	FROM (SELECT id, slot FROM call_sessions WHERE slot IS NOT NULL AND created_at <= {before}::timestamptz) old
	WHERE call_sessions.id = old.id AND call_sessions.slot IS NOT NULL RETURNING call_sessions.user_id, old.slot
), n AS (
	SELECT user_id, slot, COUNT(*) AS n FROM released GROUP BY user_id, slot
), given AS (
	UPDATE call_slots SET held = held - n.n FROM n
	WHERE call_slots.user_id = n.user_id AND call_slots.shard = n.slot RETURNING call_slots.shard
)
SELECT COUNT(*) FROM released`, "before")

	// pgMakeMissingShards makes the rows of shards that sessions name and that have none (a row
	// deleted by hand), for pgRecount to set.
	pgMakeMissingShards = bind(`INSERT INTO call_slots (id, user_id, shard, held)
SELECT gen_random_uuid(), user_id, slot, 0 FROM (SELECT DISTINCT user_id, slot FROM call_sessions WHERE slot IS NOT NULL) s
ON CONFLICT (user_id, shard) DO NOTHING`)

	// pgRecount corrects every count that disagrees with the sessions naming its shard. The
	// counts and the sessions are read from one snapshot, in which every committed claim and
	// release had changed both; the difference found there is added to the count as it stands
	// when the row is locked, so claims and releases that commit meanwhile are kept.
	pgRecount = bind(`UPDATE call_slots c SET held = c.held + d.delta
FROM (
	SELECT x.id, COALESCE(n.n, 0) - x.held AS delta
	FROM call_slots x LEFT JOIN (
		SELECT user_id, slot, COUNT(*) AS n FROM call_sessions WHERE slot IS NOT NULL GROUP BY user_id, slot
	) n ON n.user_id = x.user_id AND n.slot = x.shard
	WHERE x.held <> COALESCE(n.n, 0)
) d
WHERE c.id = d.id
RETURNING d.delta`)
)

// The SQLite statements of the cap, run inside the transactions of BeginCall, SaveSession and
// RepairActiveCalls: SQLite has no UPDATE in a WITH, and a transaction holds the one write lock.
const (
	sqliteShards = `SELECT shard, held FROM call_slots WHERE user_id = $1`
	sqliteClaim  = `INSERT INTO call_slots (id, user_id, shard, held) VALUES ($1, $2, $3, 1)
ON CONFLICT (user_id, shard) DO UPDATE SET held = held + 1`
	sqliteReleaseOfSession = `UPDATE call_slots SET held = held - 1
WHERE (user_id, shard) = (SELECT user_id, slot FROM call_sessions WHERE id = $1 AND version = $2 AND slot IS NOT NULL)`
	sqliteReleaseStaleCounts = `UPDATE call_slots SET held = held - (
	SELECT COUNT(*) FROM call_sessions s
	WHERE s.user_id = call_slots.user_id AND s.slot = call_slots.shard AND s.created_at <= $2)
WHERE ($1 IS NULL OR user_id = $1) AND EXISTS (SELECT 1 FROM call_sessions s
	WHERE s.user_id = call_slots.user_id AND s.slot = call_slots.shard AND s.created_at <= $2)`
	sqliteReleaseStaleSlots = `UPDATE call_sessions SET slot = NULL, version = version + 1
WHERE ($1 IS NULL OR user_id = $1) AND slot IS NOT NULL AND created_at <= $2`
	sqliteUserExists        = `SELECT COUNT(*) FROM users WHERE id = $1`
	sqliteMakeMissingShards = `INSERT INTO call_slots (id, user_id, shard, held)
SELECT lower(hex(randomblob(16))), user_id, slot, 0 FROM (SELECT DISTINCT user_id, slot FROM call_sessions WHERE slot IS NOT NULL)
WHERE true ON CONFLICT (user_id, shard) DO NOTHING`
	sqliteRecount = `UPDATE call_slots SET held = (
	SELECT COUNT(*) FROM call_sessions s WHERE s.user_id = call_slots.user_id AND s.slot = call_slots.shard)
WHERE held <> (SELECT COUNT(*) FROM call_sessions s WHERE s.user_id = call_slots.user_id AND s.slot = call_slots.shard)`
)

// BeginCall implements createcall.CallStore. On PostgreSQL it is one statement while the shard
// it draws has room; on SQLite one short transaction.
func (s *Store) BeginCall(ctx context.Context, b createcall.BeginCall) error {
	uid, ok := parseID(b.Session.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	a := make(args, len(beginNames)+len(keyNames)) // sized for the largest statement: no growth
	a["user"], a["cap"], a["shards"] = uid.String(), b.MaxActive, max(shards(b.MaxActive), 1)
	if err := putInsert(a, b.Session); err != nil {
		return err
	}
	if s.name == SQLite {
		return s.withTx(ctx, "begin call", func(tx dialect.Tx, client *ent.Client) error {
			return sqliteBeginCall(ctx, tx, client, uid, b)
		})
	}
	if b.MaxActive <= 0 {
		return createcall.ErrConcurrencyLimit
	}
	a["shard"], a["slot_id"] = rand.IntN(shards(b.MaxActive)), uuid.NewString()
	claimed, err := s.pgBeginCall(ctx, pgBeginCall, pgBeginKeyedCall, a, b)
	if err != nil || claimed {
		return err
	}
	// The shard drawn is full: every shard then, under their locks, in order.
	if _, err := execAffected(ctx, s.drv, pgMakeShards.text, pgMakeShards.args(a)...); err != nil {
		return storeErr("make slot shards", err)
	}
	for attempt := 0; ; attempt++ {
		claimed, err := s.pgBeginCall(ctx, pgExactBeginCall, pgExactBeginKeyedCall, a, b)
		if err != nil || claimed {
			return err
		}
		if attempt > 0 {
			return createcall.ErrConcurrencyLimit
		}
		var released, users int
		err = queryOne(ctx, s.drv, pgReleaseStaleOfUser.text,
			pgReleaseStaleOfUser.args(args{"user": uid.String(), "before": b.ActiveSince.UTC()}), &released, &users)
		switch {
		case err != nil:
			return storeErr("release stale slots", err)
		case users == 0:
			return fault.ErrNotFound
		case released == 0:
			return createcall.ErrConcurrencyLimit
		}
	}
}

// pgBeginCall runs plain, or keyed when the request has an idempotency record; claimed is false
// when the cap refused it.
func (s *Store) pgBeginCall(ctx context.Context, plain, keyed stmt, a args, b createcall.BeginCall) (claimed bool, err error) {
	r := b.Idempotency
	if r == nil {
		n, err := execAffected(ctx, s.drv, plain.text, plain.args(a)...)
		if err != nil {
			return false, storeErr("begin call", err)
		}
		return n == 1, nil
	}
	keyID := uuid.NewString()
	a["key_id"], a["key_created_at"], a["key"], a["key_hash"] = keyID, r.CreatedAt.UTC(), r.Key, r.RequestHash
	a["key_state"], a["key_expires_at"] = idempotencyPending, r.ExpiresAt.UTC()
	var keys, sessions int
	if err := queryOne(ctx, s.drv, keyed.text, keyed.args(a), &keys, &sessions); err != nil {
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
	if _, err := execAffected(ctx, s.drv, `DELETE FROM idempotency_keys WHERE id = $1`, keyID); err != nil {
		return false, storeErr(fmt.Sprintf("delete the idempotency record of refused session %s", b.Session.ID), err)
	}
	return false, nil
}

// sqliteBeginCall is BeginCall inside a SQLite transaction: the key's record, the claim in the
// first shard with room (after a release of the user's stale slots if there is none), the
// insert. Any refusal rolls the whole back.
func sqliteBeginCall(ctx context.Context, tx dialect.Tx, client *ent.Client, uid uuid.UUID, b createcall.BeginCall) error {
	if r := b.Idempotency; r != nil {
		if err := claimKey(ctx, tx, uid, b.Session.ID, r); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		held := map[int]int{}
		err := eachRow(ctx, tx, sqliteShards, []any{uid.String()}, func(rows *entsql.Rows) error {
			var shard, n int
			if err := rows.Scan(&shard, &n); err != nil {
				return err
			}
			held[shard] = n
			return nil
		})
		if err != nil {
			return storeErr("read slot shards", err)
		}
		if shard, ok := pickShard(held, b.MaxActive); ok {
			if _, err := execAffected(ctx, tx, sqliteClaim, uuid.NewString(), uid.String(), shard); err != nil {
				return storeErr("claim a slot", err)
			}
			return createSession(ctx, client, b.Session, &shard)
		}
		var users int
		if err := queryOne(ctx, tx, sqliteUserExists, []any{uid.String()}, &users); err != nil {
			return storeErr("read user", err)
		}
		if users == 0 {
			return fault.ErrNotFound
		}
		if attempt > 0 || b.MaxActive <= 0 {
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
}

// pickShard is the first shard with room under the cap maxActive, given what each shard holds
// (a shard with no row holds nothing); none while a shard holds more than its share.
func pickShard(held map[int]int, maxActive int) (int, bool) {
	for shard, n := range held {
		if n > share(shard, maxActive) {
			return 0, false
		}
	}
	for shard := range shards(maxActive) {
		if held[shard] < share(shard, maxActive) {
			return shard, true
		}
	}
	return 0, false
}

// sqliteReleaseStale releases the stale slots of one user, or of every user when userID is nil.
func sqliteReleaseStale(ctx context.Context, tx dialect.ExecQuerier, userID any, before time.Time) (int, error) {
	if _, err := execAffected(ctx, tx, sqliteReleaseStaleCounts, userID, before.UTC()); err != nil {
		return 0, storeErr("release stale slots", err)
	}
	n, err := execAffected(ctx, tx, sqliteReleaseStaleSlots, userID, before.UTC())
	if err != nil {
		return 0, storeErr("release stale slots", err)
	}
	return int(n), nil
}

// saveFinalSession is SaveSession for a session in a final status: its slot, if it holds one,
// is given back in the same statement (PostgreSQL) or transaction (SQLite), and its call_final
// job, when the store has Jobs, is recorded in the same transaction. On PostgreSQL the job goes
// first: the shard's row, locked by the release, is then held only until the COMMIT.
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
	a := make(args, 2+len(mutableColumns))
	a["id"], a["version"] = id.String(), cs.Version()
	if err := putMutable(a, cs); err != nil {
		return err
	}
	save := func(q dialect.ExecQuerier) error {
		var n int
		if err := queryOne(ctx, q, pgSaveFinalSession.text, pgSaveFinalSession.args(a), &n); err != nil {
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

// pgSaveSession is the versioned UPDATE of a session that stays active, written out rather than
// built by ent: it is the last statement of every create_call.
func (s *Store) pgSaveSession(ctx context.Context, id uuid.UUID, cs *call.Session) error {
	a := make(args, 2+len(mutableColumns))
	a["id"], a["version"] = id.String(), cs.Version()
	if err := putMutable(a, cs); err != nil {
		return err
	}
	n, err := execAffected(ctx, s.drv, pgSaveSession.text, pgSaveSession.args(a)...)
	return affectedOne("save session", int(n), err, fault.ErrConflict)
}

// entSaveSession is the versioned UPDATE through ent's builder (SQLite); release also clears
// the session's slot.
func entSaveSession(ctx context.Context, client *ent.Client, id uuid.UUID, cs *call.Session, release bool) error {
	u := client.CallSession.Update().
		Where(callsession.ID(id), callsession.Version(cs.Version())).
		SetVersion(cs.Version() + 1)
	if release {
		u.ClearSlot()
	}
	if err := setSession(u.Mutation(), cs); err != nil {
		return err
	}
	n, err := u.Save(ctx)
	return affectedOne("save session", n, err, fault.ErrConflict)
}

// RepairActiveCalls implements createcall.CallStore: on PostgreSQL three statements, each atomic
// with respect to the claims and releases running beside it; on SQLite one transaction.
func (s *Store) RepairActiveCalls(ctx context.Context, staleBefore time.Time) (createcall.ActiveCallRepair, error) {
	var rep createcall.ActiveCallRepair
	if s.name == SQLite {
		err := s.withTx(ctx, "repair active calls", func(tx dialect.Tx, _ *ent.Client) error {
			var err error
			if rep.Released, err = sqliteReleaseStale(ctx, tx, nil, staleBefore); err != nil {
				return err
			}
			if _, err := execAffected(ctx, tx, sqliteMakeMissingShards); err != nil {
				return storeErr("recount active calls", err)
			}
			n, err := execAffected(ctx, tx, sqliteRecount)
			rep.Corrected = int(n)
			return storeErr("recount active calls", err)
		})
		return rep, err
	}
	if err := queryOne(ctx, s.drv, pgReleaseStale.text, pgReleaseStale.args(args{"before": staleBefore.UTC()}), &rep.Released); err != nil {
		return rep, storeErr("release stale slots", err)
	}
	if _, err := execAffected(ctx, s.drv, pgMakeMissingShards.text); err != nil {
		return rep, storeErr("recount active calls", err)
	}
	err := eachRow(ctx, s.drv, pgRecount.text, nil, func(*entsql.Rows) error { rep.Corrected++; return nil })
	return rep, storeErr("recount active calls", err)
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

// eachRow runs query and calls f on each of its rows.
func eachRow(ctx context.Context, q dialect.ExecQuerier, query string, args []any, f func(*entsql.Rows) error) error {
	if args == nil {
		args = []any{}
	}
	var rows entsql.Rows
	if err := q.Query(ctx, query, args, &rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(&rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
