package entstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// dialPlanQuery reads a whole dial plan in one statement, so create_call pays one round trip
// for it: the user's lines with their mappings, the user's credits and limits, and those of the
// user's agents and workflows that the request names ($2, $3) or a line is mapped to. When the
// request carries an Idempotency-Key ($5) the user's live record for it comes along, and when
// the user has a daily spend cap, the sum of the day's call charges (since $4): the CASE runs
// that indexed subquery only then. Rows are told apart by their first column. Lines come first,
// and the user second, so that PostgreSQL types each column from a real one, not from a NULL.
// modernc.org/sqlite reads $N as the Nth argument too.
const dialPlanQuery = `WITH lines AS (
	SELECT p.id, p.number, p.provider, p.is_active, p.created_at, p.credentials, p.max_cps, m.agent_id, m.workflow_id
	FROM phone_numbers p LEFT JOIN phone_mappings m ON m.phone_number_id = p.id
	WHERE p.user_id = $1
)
SELECT 'l', id, number, provider, NULL, is_active, created_at, credentials, agent_id, workflow_id, NULL, NULL, NULL, NULL, max_cps
FROM lines
UNION ALL
SELECT 'u', id, CAST(allowed_countries AS TEXT), NULL, NULL, NULL, NULL, NULL, NULL, NULL, credits,
	max_concurrent_calls, daily_spend_cap,
	CASE WHEN daily_spend_cap IS NULL THEN NULL ELSE (
		SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM ledger_entries
		WHERE user_id = $1 AND kind = 'call_charge' AND created_at >= $4) END,
	requests_per_second
FROM users WHERE id = $1
UNION ALL
SELECT 'k', id, request_hash, state, NULL, NULL, created_at, response_body, session_id, NULL, response_status, NULL, NULL, NULL, NULL
FROM idempotency_keys WHERE user_id = $1 AND "key" = $5 AND expires_at > $6
UNION ALL
SELECT 'a', id, name, system_prompt, first_message, is_active, created_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM agents WHERE user_id = $1 AND (id = $2 OR id IN (SELECT agent_id FROM lines))
UNION ALL
SELECT 'w', id, name, NULL, NULL, is_active, created_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM workflows WHERE user_id = $1 AND (id = $3 OR id IN (SELECT workflow_id FROM lines))`

// DialPlan implements application.DialPlanStore in one query. A user with no row gets an empty
// plan (no credits, no lines, the default limits), not ErrNotFound; the use case then answers as
// for any user without an active line.
func (s *Store) DialPlan(ctx context.Context, userID string, requested call.Target, opts ...application.DialPlanOption) (application.DialPlan, error) {
	plan := application.DialPlan{Agents: map[string]call.Agent{}, Workflows: map[string]call.Workflow{},
		Limits: identity.DefaultLimits()}
	uid, ok := parseID(userID)
	if !ok {
		return plan, nil
	}
	q := application.NewDialPlanQuery(opts...)
	owner := uid.String()
	var key any
	if q.IdempotencyKey != "" {
		key = q.IdempotencyKey
	}
	args := []any{owner, idArg(requested.AgentID), idArg(requested.WorkflowID), q.DayStart(), key, q.Now}
	var rows entsql.Rows
	if err := s.drv.Query(ctx, dialPlanQuery, args, &rows); err != nil {
		return application.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, id            string
			text1, text2, text3 sql.NullString
			active              sql.NullBool
			created             anyTime
			creds               []byte
			agentID, workflowID sql.NullString
			credits, n1, n2, n3 sql.NullInt64
			f1                  sql.NullFloat64
		)
		if err := rows.Scan(&kind, &id, &text1, &text2, &text3, &active, &created, &creds, &agentID, &workflowID,
			&credits, &n1, &n2, &n3, &f1); err != nil {
			return application.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
		}
		switch kind {
		case "u":
			plan.Credits = money.Amount(credits.Int64)
			plan.Limits = identity.Limits{MaxConcurrentCalls: int(n1.Int64), RequestsPerSecond: f1.Float64}
			if n2.Valid {
				c := money.Amount(n2.Int64)
				plan.Limits.DailySpendCap = &c
				plan.SpentToday = money.Amount(n3.Int64)
			}
			if text1.Valid && text1.String != "" {
				if err := json.Unmarshal([]byte(text1.String), &plan.Limits.AllowedCountries); err != nil {
					return application.DialPlan{}, fmt.Errorf("read dial plan: user %s: allowed countries: %w", id, err)
				}
			}
		case "l":
			l, err := s.line(id, owner, text1.String, text2.String, active.Bool, created.Time,
				creds, call.Target{AgentID: agentID.String, WorkflowID: workflowID.String})
			if err != nil {
				return application.DialPlan{}, err
			}
			l.MaxCPS = f1.Float64
			plan.Lines = append(plan.Lines, l)
		case "k":
			plan.Idempotency = &application.IdempotencyRecord{UserID: owner, Key: q.IdempotencyKey,
				RequestHash: text1.String, Done: text2.String == idempotencyDone, SessionID: agentID.String,
				ResponseStatus: int(credits.Int64), Response: creds, CreatedAt: created.Time}
		case "a":
			plan.Agents[id] = call.Agent{ID: id, UserID: owner, Name: text1.String, SystemPrompt: text2.String,
				FirstMessage: text3.String, Active: active.Bool, CreatedAt: created.Time}
		case "w":
			plan.Workflows[id] = call.Workflow{ID: id, UserID: owner, Name: text1.String, Active: active.Bool, CreatedAt: created.Time}
		}
	}
	if err := rows.Err(); err != nil {
		return application.DialPlan{}, fmt.Errorf("read dial plan: %w", err)
	}
	call.SortLines(plan.Lines)
	return plan, nil
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
