package memstore

import (
	"context"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// ledgerEntry is one call charge, as the database's ledger_entries keeps it.
type ledgerEntry struct {
	UserID        string
	Amount        money.Amount // negative: a charge
	BilledSeconds int
	At            time.Time
}

var _ callevents.Ledger = (*Store)(nil)

// ChargeSession implements callevents.Ledger: under the store's one lock, so a session is
// charged once however many charge it at the same time.
func (s *Store) ChargeSession(_ context.Context, sessionID, userID string, amount money.Amount, billedSeconds int, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, done := s.ledger[sessionID]; done {
		return false, nil
	}
	sess, ok := s.sessions[sessionID]
	if !ok || sess.UserID != userID {
		return false, fault.ErrNotFound
	}
	u, ok := s.users[userID]
	if !ok {
		return false, fault.ErrNotFound
	}
	if s.ledger == nil {
		s.ledger = map[string]ledgerEntry{}
	}
	s.ledger[sessionID] = ledgerEntry{UserID: userID, Amount: -amount, BilledSeconds: billedSeconds, At: at}
	u.Credits -= amount
	s.users[userID] = u
	// The session changed under any copy a caller holds: its version moves on, as in the
	// database, so that a save from an older read cannot put the cost back to zero.
	sess.Cost = amount
	s.sessions[sessionID] = sess
	s.versions[sessionID]++
	return true, nil
}
