package entstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// dialPlanQuery reads a whole dial plan in one statement, so create_call pays one round trip
// for it. Each row is one record, told apart by kind: 'l' a line of the user with its mapping,
// 'u' the user's credits and limits, 'k' the user's live record for the request's
// Idempotency-Key ($5, live until $6), 'a' and 'w' those of the user's agents and workflows that
// the request names ($2, $3) or a line is mapped to. Every column is named and belongs to one
// kind (created_at and is_active to several); the other kinds leave it NULL. The first SELECT
// casts its NULLs so that PostgreSQL types every column of the UNION from it. When the user has
// a daily spend cap, spent_today sums the day's call charges (since $4): the CASE runs that
// indexed subquery only then; suppressed, whether the destination ($7) is on the user's
// do-not-call list, runs its indexed lookup only when there is one. modernc.org/sqlite reads $N
// as the Nth argument too.
const dialPlanQuery = `WITH lines AS (
	SELECT p.id, p.number, p.provider, p.is_active, p.created_at, p.credentials, p.max_cps, m.agent_id, m.workflow_id
	FROM phone_numbers p LEFT JOIN phone_mappings m ON m.phone_number_id = p.id
	WHERE p.user_id = $1
)
SELECT 'l' AS kind, id, created_at, is_active,
	number, provider, credentials, max_cps, agent_id, workflow_id,
	CAST(NULL AS TEXT) AS name, CAST(NULL AS TEXT) AS system_prompt, CAST(NULL AS TEXT) AS first_message,
	CAST(NULL AS BIGINT) AS credits, CAST(NULL AS TEXT) AS allowed_countries, CAST(NULL AS BIGINT) AS max_concurrent_calls,
	CAST(NULL AS DOUBLE PRECISION) AS requests_per_second, CAST(NULL AS BIGINT) AS daily_spend_cap, CAST(NULL AS BIGINT) AS spent_today,
	CAST(NULL AS TEXT) AS request_hash, CAST(NULL AS TEXT) AS state, CAST(NULL AS TEXT) AS session_id,
	CAST(NULL AS BYTEA) AS result, CAST(NULL AS BIGINT) AS legacy_status, CAST(NULL AS BIGINT) AS suppressed
FROM lines
UNION ALL
SELECT 'u', id, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	credits, CAST(allowed_countries AS TEXT), max_concurrent_calls,
	requests_per_second, daily_spend_cap,
	CASE WHEN daily_spend_cap IS NULL THEN NULL ELSE (
		SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM ledger_entries
		WHERE user_id = $1 AND kind = 'call_charge' AND created_at >= $4) END,
	NULL, NULL, NULL,
	NULL, NULL,
	CASE WHEN CAST($7 AS TEXT) IS NULL THEN 0 ELSE (
		SELECT COUNT(*) FROM suppressions WHERE user_id = $1 AND phone_number = CAST($7 AS TEXT)) END
FROM users WHERE id = $1
UNION ALL
SELECT 'k', id, created_at, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	request_hash, state, CAST(session_id AS TEXT),
	response_body, response_status, NULL
FROM idempotency_keys WHERE user_id = $1 AND "key" = $5 AND expires_at > $6
UNION ALL
SELECT 'a', id, created_at, is_active,
	NULL, NULL, NULL, NULL, NULL, NULL,
	name, system_prompt, first_message,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL
FROM agents WHERE user_id = $1 AND (id = $2 OR id IN (SELECT agent_id FROM lines))
UNION ALL
SELECT 'w', id, created_at, is_active,
	NULL, NULL, NULL, NULL, NULL, NULL,
	name, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL
FROM workflows WHERE user_id = $1 AND (id = $3 OR id IN (SELECT workflow_id FROM lines))`

// dialPlanByKeyQuery is dialPlanQuery for the owner of an API key: $1 is the key's hash, and the
// key's row comes first, as kind 'K' (its id, and its last use in created_at). A hash that names
// no live key gives no row at all. create_call's request, authenticated by its x-api-key, thus
// costs one round trip for the key and the plan together.
var dialPlanByKeyQuery = strings.Replace(strings.ReplaceAll(dialPlanQuery, "$1", "(SELECT user_id FROM owner)"),
	"WITH lines AS (", `WITH owner AS (
	SELECT id, user_id, last_used_at FROM api_keys WHERE hash = $1 AND revoked_at IS NULL
), lines AS (`, 1) + `
UNION ALL
SELECT 'K', id, last_used_at, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL
FROM owner`

// planRow is one row of dialPlanQuery, each field scanned from the column of its name.
type planRow struct {
	Kind      string
	ID        string
	CreatedAt anyTime
	Active    sql.NullBool
	// A line ('l'), with its mapping.
	Number, Provider    sql.NullString
	Credentials         []byte
	MaxCPS              sql.NullFloat64
	AgentID, WorkflowID sql.NullString
	// An agent ('a') or a workflow ('w', Name only).
	Name, SystemPrompt, FirstMessage sql.NullString
	// The user ('u').
	Credits            sql.NullInt64
	AllowedCountries   sql.NullString
	MaxConcurrentCalls sql.NullInt64
	RequestsPerSecond  sql.NullFloat64
	DailySpendCap      sql.NullInt64
	SpentToday         sql.NullInt64
	// The idempotency record ('k').
	RequestHash, State, SessionID sql.NullString
	Result                        []byte
	LegacyStatus                  sql.NullInt64
	// The user's do-not-call list holds the destination ('u'): a count, 0 or 1.
	Suppressed sql.NullInt64
}

// planColumns say where each column of dialPlanQuery scans to in a planRow.
var planColumns = map[string]func(r *planRow) any{
	"kind": func(r *planRow) any { return &r.Kind }, "id": func(r *planRow) any { return &r.ID },
	"created_at": func(r *planRow) any { return &r.CreatedAt }, "is_active": func(r *planRow) any { return &r.Active },
	"number": func(r *planRow) any { return &r.Number }, "provider": func(r *planRow) any { return &r.Provider },
	"credentials": func(r *planRow) any { return &r.Credentials }, "max_cps": func(r *planRow) any { return &r.MaxCPS },
	"agent_id": func(r *planRow) any { return &r.AgentID }, "workflow_id": func(r *planRow) any { return &r.WorkflowID },
	"name": func(r *planRow) any { return &r.Name }, "system_prompt": func(r *planRow) any { return &r.SystemPrompt },
	"first_message": func(r *planRow) any { return &r.FirstMessage }, "credits": func(r *planRow) any { return &r.Credits },
	"allowed_countries":    func(r *planRow) any { return &r.AllowedCountries },
	"max_concurrent_calls": func(r *planRow) any { return &r.MaxConcurrentCalls },
	"requests_per_second":  func(r *planRow) any { return &r.RequestsPerSecond },
	"daily_spend_cap":      func(r *planRow) any { return &r.DailySpendCap },
	"spent_today":          func(r *planRow) any { return &r.SpentToday },
	"request_hash":         func(r *planRow) any { return &r.RequestHash }, "state": func(r *planRow) any { return &r.State },
	"session_id": func(r *planRow) any { return &r.SessionID }, "result": func(r *planRow) any { return &r.Result },
	"legacy_status": func(r *planRow) any { return &r.LegacyStatus },
	"suppressed":    func(r *planRow) any { return &r.Suppressed },
}

// dest returns where each of columns scans to in r, which every row of the query reuses.
func (r *planRow) dest(columns []string) ([]any, error) {
	dest := make([]any, len(columns))
	for i, c := range columns {
		f, ok := planColumns[c]
		if !ok {
			return nil, fmt.Errorf("unexpected column %q", c)
		}
		dest[i] = f(r)
	}
	return dest, nil
}

// DialPlan implements createcall.DialPlanStore in one query. A user with no row gets an empty
// plan (no credits, no lines, the default limits), not ErrNotFound; the use case then answers as
// for any user without an active line. A KeyHash that names no live key is ErrUnauthenticated.
func (s *Store) DialPlan(ctx context.Context, q createcall.DialPlanQuery) (createcall.DialPlan, error) {
	plan := createcall.DialPlan{UserID: q.UserID, Agents: map[string]call.Agent{}, Workflows: map[string]call.Workflow{},
		Limits: identity.DefaultLimits()}
	query, owner := dialPlanQuery, any(nil)
	if q.ByKey() {
		query, owner = dialPlanByKeyQuery, q.KeyHash[:]
	} else if uid, ok := parseID(q.UserID); ok {
		owner = uid.String()
	} else {
		return plan, nil
	}
	var key any
	if q.IdempotencyKey != "" {
		key = q.IdempotencyKey
	}
	var to any
	if q.Destination != "" {
		to = q.Destination
	}
	args := []any{owner, idArg(q.Requested.AgentID), idArg(q.Requested.WorkflowID), q.DayStart(), key, q.At(), to}
	var rows entsql.Rows
	if err := s.drv.Query(ctx, query, args, &rows); err != nil {
		return createcall.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return createcall.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	var r planRow
	dest, err := r.dest(columns)
	if err != nil {
		return createcall.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	for rows.Next() {
		r = planRow{}
		err := rows.Scan(dest...)
		if err == nil {
			err = s.decodePlanRow(&plan, q, &r)
		}
		if err != nil {
			return createcall.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return createcall.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	if q.ByKey() {
		if err := ownPlan(&plan, q.KeyHash); err != nil {
			return createcall.DialPlan{}, err
		}
	}
	call.SortLines(plan.Lines)
	return plan, nil
}

// ownPlan completes a plan read by key: its rows learn their owner from the user's row, which
// may come after them.
func ownPlan(plan *createcall.DialPlan, hash identity.KeyHash) error {
	if plan.Key == nil || plan.UserID == "" {
		return fault.ErrUnauthenticated
	}
	plan.Key.UserID, plan.Key.Hash = plan.UserID, hash
	for i := range plan.Lines {
		plan.Lines[i].UserID = plan.UserID
	}
	for id, a := range plan.Agents {
		a.UserID = plan.UserID
		plan.Agents[id] = a
	}
	for id, w := range plan.Workflows {
		w.UserID = plan.UserID
		plan.Workflows[id] = w
	}
	if plan.Idempotency != nil {
		plan.Idempotency.UserID = plan.UserID
	}
	return nil
}

// decodePlanRow adds what r holds to plan: one decode per kind of row.
func (s *Store) decodePlanRow(plan *createcall.DialPlan, q createcall.DialPlanQuery, r *planRow) error {
	owner := plan.UserID
	switch r.Kind {
	case "K":
		plan.Key = &identity.APIKey{ID: r.ID, LastUsedAt: r.CreatedAt.Time}
	case "u":
		plan.UserID = r.ID
		plan.Credits = money.Amount(r.Credits.Int64)
		plan.Suppressed = r.Suppressed.Int64 > 0
		plan.Limits = identity.Limits{MaxConcurrentCalls: int(r.MaxConcurrentCalls.Int64), RequestsPerSecond: r.RequestsPerSecond.Float64}
		if r.DailySpendCap.Valid {
			c := money.Amount(r.DailySpendCap.Int64)
			plan.Limits.DailySpendCap = &c
			plan.SpentToday = money.Amount(r.SpentToday.Int64)
		}
		if r.AllowedCountries.Valid && r.AllowedCountries.String != "" {
			if err := json.Unmarshal([]byte(r.AllowedCountries.String), &plan.Limits.AllowedCountries); err != nil {
				return fmt.Errorf("user %s: allowed countries: %w", r.ID, err)
			}
		}
	case "l":
		l, err := s.line(r.ID, owner, r.Number.String, r.Provider.String, r.Active.Bool, r.CreatedAt.Time,
			r.Credentials, call.Target{AgentID: r.AgentID.String, WorkflowID: r.WorkflowID.String})
		if err != nil {
			return err
		}
		l.MaxCPS = r.MaxCPS.Float64
		plan.Lines = append(plan.Lines, l)
	case "k":
		rec := &createcall.IdempotencyRecord{UserID: owner, Key: q.IdempotencyKey, RequestHash: r.RequestHash.String,
			Done: r.State.String == idempotencyDone, SessionID: r.SessionID.String, CreatedAt: r.CreatedAt.Time}
		if rec.Done {
			res, err := decodeResult(r.Result, r.LegacyStatus.Valid)
			if err != nil {
				return fmt.Errorf("idempotency key of user %s: %w", owner, err)
			}
			rec.Result = res
		}
		plan.Idempotency = rec
	case "a":
		plan.Agents[r.ID] = call.Agent{ID: r.ID, UserID: owner, Name: r.Name.String, SystemPrompt: r.SystemPrompt.String,
			FirstMessage: r.FirstMessage.String, Active: r.Active.Bool, CreatedAt: r.CreatedAt.Time}
	case "w":
		plan.Workflows[r.ID] = call.Workflow{ID: r.ID, UserID: owner, Name: r.Name.String, Active: r.Active.Bool, CreatedAt: r.CreatedAt.Time}
	default:
		return fmt.Errorf("unexpected row kind %q", r.Kind)
	}
	return nil
}

// idArg is a requested id as a query argument: NULL, which matches nothing, when it is absent or
// not a UUID.
func idArg(id string) any {
	u, ok := parseID(id)
	if !ok {
		return nil
	}
	return u.String()
}

// anyTime scans a time from a column the driver may not know is one: SQLite declares no type
// for the columns of a UNION, so modernc.org/sqlite may hand over the stored text.
type anyTime struct{ time.Time }

// sqliteTimeLayouts are the text forms modernc.org/sqlite writes (with _time_format=sqlite, and
// its default).
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	time.RFC3339Nano,
}

func (t *anyTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case time.Time:
		t.Time = v.UTC()
		return nil
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	}
	return fmt.Errorf("cannot read %T as a time", v)
}

func (t *anyTime) parse(s string) error {
	for _, layout := range sqliteTimeLayouts {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("cannot read %q as a time", s)
}
