package entstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/idempotencykey"
)

// The states of an idempotency_keys row.
const (
	idempotencyPending = "pending"
	idempotencyDone    = "done"
)

var (
	_ createcall.CallStore     = (*Store)(nil)
	_ createcall.DialPlanStore = (*Store)(nil)
)

// claimKeyQuery writes a pending idempotency record, or takes over the user's record for the key
// if it has expired. A live record is left alone and no row is touched.
const claimKeyQuery = `INSERT INTO idempotency_keys (id, created_at, user_id, "key", request_hash, session_id, state, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (user_id, "key") DO UPDATE SET id = excluded.id, created_at = excluded.created_at,
	request_hash = excluded.request_hash, session_id = excluded.session_id, state = excluded.state,
	response_status = NULL, response_body = NULL, expires_at = excluded.expires_at
WHERE idempotency_keys.expires_at <= excluded.created_at`

func claimKey(ctx context.Context, tx dialect.Tx, uid uuid.UUID, sessionID string, r *createcall.IdempotencyRecord) error {
	sid, err := requireID("session", sessionID)
	if err != nil {
		return err
	}
	var res sql.Result
	err = tx.Exec(ctx, claimKeyQuery, []any{uuid.New().String(), r.CreatedAt.UTC(), uid.String(), r.Key, r.RequestHash,
		sid.String(), idempotencyPending, r.ExpiresAt.UTC()}, &res)
	if err != nil {
		return storeErr("claim idempotency key", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("claim idempotency key: %w", err)
	}
	if n == 0 {
		return createcall.ErrIdempotencyInProgress
	}
	return nil
}

// CompleteIdempotency implements createcall.CallStore: one UPDATE.
func (s *Store) CompleteIdempotency(ctx context.Context, userID, key string, res createcall.Result) error {
	uid, ok := parseID(userID)
	if !ok {
		return fault.ErrNotFound
	}
	body, err := encodeResult(res)
	if err != nil {
		return err
	}
	n, err := s.client.IdempotencyKey.Update().
		Where(idempotencykey.UserID(uid), idempotencykey.Key(key)).
		SetState(idempotencyDone).ClearResponseStatus().SetResponseBody(body).
		Save(ctx)
	return affectedOne("complete idempotency key", n, err, fault.ErrNotFound)
}

// purgeKeysQuery deletes a batch of expired records, found through the expires_at index.
const purgeKeysQuery = `DELETE FROM idempotency_keys WHERE id IN (
	SELECT id FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`

// PurgeIdempotencyKeys implements createcall.CallStore: one DELETE.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var res sql.Result
	if err := s.drv.Exec(ctx, purgeKeysQuery, []any{before.UTC(), limit}, &res); err != nil {
		return 0, storeErr("purge idempotency keys", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// withTx runs fn in a transaction and commits it when fn returns nil. fn may use tx for
// hand-written statements and client for ent's builders, both in the same transaction.
// Application errors from fn come back as they are.
func (s *Store) withTx(ctx context.Context, op string, fn func(tx dialect.Tx, client *ent.Client) error) error {
	tx, err := s.drv.Tx(ctx)
	if err != nil {
		return storeErr(op+": begin", err)
	}
	client := ent.NewClient(ent.Driver(txDriver{tx: tx, dialect: s.drv.Dialect()}))
	if err := fn(tx, client); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return storeErr(op+": commit", err)
	}
	return nil
}

// txDriver lets ent's builders run inside a transaction that withTx commits.
type txDriver struct {
	tx      dialect.Tx
	dialect string
}

func (d txDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.tx.Exec(ctx, query, args, v)
}

func (d txDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.tx.Query(ctx, query, args, v)
}

func (d txDriver) Tx(context.Context) (dialect.Tx, error) { return dialect.NopTx(d), nil }
func (d txDriver) Dialect() string                        { return d.dialect }
func (d txDriver) Close() error                           { return nil }

// queryOne reads the one row query returns into dest; no row is ErrNotFound.
func queryOne(ctx context.Context, q dialect.ExecQuerier, query string, args []any, dest ...any) error {
	var rows entsql.Rows
	if err := q.Query(ctx, query, args, &rows); err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fault.ErrNotFound
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}
