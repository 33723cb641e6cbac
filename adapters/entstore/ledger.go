package entstore

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/ent/callsession"
	"github.com/kupe-voice/kupe/ent/user"
)

// ledgerKindCallCharge is the kind of a ledger entry that charges a completed call.
const ledgerKindCallCharge = "call_charge"

var _ callevents.Ledger = (*Store)(nil)

// ChargeSession implements callevents.Ledger in one transaction: the ledger entry first, so
// that a second charge of the session stops at the unique session_id before it touches anything
// (on PostgreSQL it waits there for the first to commit or roll back), then the user's credits
// and the session's cost, billed seconds and version.
func (s *Store) ChargeSession(ctx context.Context, sessionID, userID string, amount money.Amount, billedSeconds int, at time.Time) (charged bool, err error) {
	sid, ok1 := parseID(sessionID)
	uid, ok2 := parseID(userID)
	if !ok1 || !ok2 {
		return false, fault.ErrNotFound
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return false, storeErr("charge session: begin", err)
	}
	defer func() {
		if !charged {
			_ = tx.Rollback()
		}
	}()
	err = tx.LedgerEntry.Create().
		SetID(uuid.New()).SetUserID(uid).SetSessionID(sid).SetAmount(-int64(amount)).
		SetKind(ledgerKindCallCharge).SetCreatedAt(at.UTC()).
		Exec(ctx)
	if sqlgraph.IsUniqueConstraintError(err) {
		return false, nil // charged already
	}
	if err != nil {
		return false, storeErr("charge session: ledger entry", err)
	}
	n, err := tx.User.Update().Where(user.ID(uid)).AddCredits(-int64(amount)).Save(ctx)
	if err := affectedOne("charge session: credits", n, err, fault.ErrNotFound); err != nil {
		return false, err
	}
	n, err = tx.CallSession.Update().
		Where(callsession.ID(sid), callsession.UserID(uid)).
		SetCost(int64(amount)).SetBilledSeconds(billedSeconds).AddVersion(1).
		Save(ctx)
	if err := affectedOne("charge session: session", n, err, fault.ErrNotFound); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, storeErr("charge session: commit", err)
	}
	return true, nil
}
