package callevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
)

// CallFetcher is a capability some carriers have beside createcall.Carrier: looking a placed call up by its
// leg id. A carrier without it is asked nothing; its stale sessions end as failed.
type CallFetcher interface {
	// FetchCall returns the status the carrier has for the call. ErrLegNotFound means the
	// carrier has no such call; ErrFetchUnsupported that this carrier (or this line's account)
	// cannot be asked. Other failures are a *createcall.DialError whose Kind says whether the carrier is
	// down (DialUnavailable, DialUnknown) or refused the question.
	FetchCall(ctx context.Context, req FetchRequest) (call.Status, error)
}

// FetchRequest asks a carrier about one call leg.
type FetchRequest struct {
	SessionID   string
	LegID       string
	Credentials call.Credentials
}

var (
	// ErrLegNotFound: the carrier has no call with that leg id.
	ErrLegNotFound = errors.New("the carrier has no call with that leg id")
	// ErrFetchUnsupported: the carrier cannot look a call up.
	ErrFetchUnsupported = errors.New("the carrier cannot look calls up")
)

// Defaults of the Reconciler's zero fields.
const (
	DefaultDialingStaleAfter = 2 * time.Minute
	DefaultReconcileGiveUp   = time.Hour
	DefaultReconcileBatch    = 100
)

// Reasons a reconciled session ends with, readable by the customer.
const (
	reasonOutcomeUnknown = "Outcome unknown: the carrier's answer to the dial was never recorded, so the call may or may not have connected"
	reasonNoCarrierCall  = "Outcome unknown: the carrier has no record of this call"
	reasonCarrierSilent  = "Outcome unknown: the carrier could not be asked what became of this call"
	reasonCarrierFailed  = "The carrier reports that the call failed"
)

// Reconciler settles sessions left in status dialing. It asks the carrier about each one that
// has a leg id, where the carrier can be asked, and otherwise marks it failed with an
// "Outcome unknown" detail. It never dials: a call that may have been placed is never placed
// twice. Running it in several processes at once is safe, since every write is a
// compare-and-set on the session's version.
type Reconciler struct {
	// Sessions finds the stale sessions and settles them.
	Sessions createcall.CallStore
	// Lines reads a line with its carrier credentials, to ask the carrier about a call.
	Lines    accounts.CatalogStore
	Carriers createcall.Carriers
	// StaleAfter is how long a session may stay in dialing before it is reconciled; it must be
	// longer than any dial can take (every attempt of a carrier request, each bounded by the
	// carrier timeout). Default DefaultDialingStaleAfter.
	StaleAfter time.Duration
	// GiveUpAfter is how long a session whose carrier could not be reached is retried before it
	// is marked failed all the same. Default DefaultReconcileGiveUp.
	GiveUpAfter time.Duration
	// Batch is how many sessions one read returns. Default DefaultReconcileBatch.
	Batch int
	// SlotStaleAfter is how long a session holds a slot of its user's cap on active calls at
	// most (create_call's ActiveCallStaleAfter); each run releases the slots of older ones.
	// Default createcall.DefaultActiveCallStaleAfter.
	SlotStaleAfter time.Duration
	Now            func() time.Time
}

// ReconcileReport says what one run did.
type ReconcileReport struct {
	// Settled sessions took the status the carrier reported.
	Settled int
	// Failed sessions were marked failed with an "Outcome unknown" detail (or the carrier's
	// failure).
	Failed int
	// Deferred sessions are left for a later run: the carrier or the line could not be read.
	Deferred int
	// Moved sessions had already left dialing when the reconciler came to write them (a carrier
	// event landed meanwhile); they were left as they were.
	Moved int
	// SlotsReleased is how many sessions past SlotStaleAfter gave their slot of the cap back;
	// CountsCorrected how many users' counts of active calls disagreed with their sessions and
	// were set right (createcall.CallStore.RepairActiveCalls).
	SlotsReleased, CountsCorrected int
}

// errLeftDialing stops an update whose session has left dialing meanwhile.
var errLeftDialing = errors.New("session has left dialing")

// ReconcileOnce settles every session that has been in dialing longer than StaleAfter, then
// repairs the users' counts of active calls. It returns what it did and the errors it met; a
// session it could not settle is left for the next run.
func (r *Reconciler) ReconcileOnce(ctx context.Context) (ReconcileReport, error) {
	rep, err := r.settle(ctx)
	if ctx.Err() != nil {
		return rep, err
	}
	// After the settling, whose saves gave back the slots of the sessions they ended.
	repair, rerr := r.Sessions.RepairActiveCalls(ctx, r.now().Add(-r.slotStaleAfter()))
	rep.SlotsReleased, rep.CountsCorrected = repair.Released, repair.Corrected
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("repair the counts of active calls: %w", rerr))
	}
	return rep, err
}

func (r *Reconciler) settle(ctx context.Context) (ReconcileReport, error) {
	var (
		rep  ReconcileReport
		errs []error
	)
	batch := r.Batch
	if batch <= 0 {
		batch = DefaultReconcileBatch
	}
	cutoff := r.now().Add(-r.staleAfter())
	for {
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		stale, err := r.Sessions.StaleDialingSessions(ctx, cutoff, batch)
		if err != nil {
			return rep, errors.Join(append(errs, fmt.Errorf("read stale sessions: %w", err))...)
		}
		done := rep.Settled + rep.Failed + rep.Moved
		for _, s := range stale {
			if err := r.reconcile(ctx, s, &rep); err != nil {
				errs = append(errs, fmt.Errorf("reconcile session %s: %w", s.ID, err))
			}
		}
		// A full batch that settled nothing would come back the same: stop until the next run.
		if len(stale) < batch || rep.Settled+rep.Failed+rep.Moved == done {
			return rep, errors.Join(errs...)
		}
	}
}

func (r *Reconciler) reconcile(ctx context.Context, s *call.Session, rep *ReconcileReport) error {
	status, reason, err := r.ask(ctx, s)
	if err != nil {
		if r.now().Sub(s.CreatedAt) < r.giveUpAfter() {
			rep.Deferred++
			return err
		}
		status, reason = call.StatusFailed, reasonCarrierSilent
	}
	at := r.now()
	err = createcall.UpdateSession(ctx, r.Sessions, s, func(s *call.Session) error {
		if s.Status() != call.StatusDialing {
			return errLeftDialing
		}
		if status == call.StatusFailed && reason != reasonCarrierFailed {
			return s.MarkFailed(reason, at)
		}
		// The carrier knows the leg: the dial went through.
		if err := s.MarkDialed(s.LegID, at); err != nil {
			return err
		}
		if status == call.StatusFailed {
			return s.MarkFailed(reason, at)
		}
		_, err := s.Advance(status, at)
		return err
	})
	switch {
	case errors.Is(err, errLeftDialing):
		rep.Moved++
		return nil
	case err != nil:
		rep.Deferred++
		return err
	case status == call.StatusFailed:
		rep.Failed++
	default:
		rep.Settled++
	}
	return nil
}

// ask finds out what became of s: a status to record and, for failed, the reason. An error means
// the answer could not be had now.
func (r *Reconciler) ask(ctx context.Context, s *call.Session) (call.Status, string, error) {
	if s.LegID == "" {
		return call.StatusFailed, reasonOutcomeUnknown, nil
	}
	carrier, ok := r.Carriers.Carrier(s.Provider)
	fetcher, canFetch := carrier.(CallFetcher)
	if !ok || !canFetch {
		return call.StatusFailed, reasonOutcomeUnknown, nil
	}
	line, err := r.Lines.Line(ctx, s.LineID)
	if errors.Is(err, fault.ErrNotFound) {
		return call.StatusFailed, reasonOutcomeUnknown, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read line: %w", err)
	}
	status, err := fetcher.FetchCall(ctx, FetchRequest{SessionID: s.ID, LegID: s.LegID, Credentials: line.Credentials})
	switch {
	case errors.Is(err, ErrFetchUnsupported):
		return call.StatusFailed, reasonOutcomeUnknown, nil
	case errors.Is(err, ErrLegNotFound):
		return call.StatusFailed, reasonNoCarrierCall, nil
	case err != nil:
		return 0, "", fmt.Errorf("fetch call from the carrier: %w", err)
	case !status.Valid() || status == call.StatusDialing:
		return 0, "", fmt.Errorf("the carrier reported status %s", status)
	case status == call.StatusFailed:
		return call.StatusFailed, reasonCarrierFailed, nil
	}
	return status, "", nil
}

func (r *Reconciler) staleAfter() time.Duration {
	if r.StaleAfter > 0 {
		return r.StaleAfter
	}
	return DefaultDialingStaleAfter
}

func (r *Reconciler) slotStaleAfter() time.Duration {
	if r.SlotStaleAfter > 0 {
		return r.SlotStaleAfter
	}
	return createcall.DefaultActiveCallStaleAfter
}

func (r *Reconciler) giveUpAfter() time.Duration {
	if r.GiveUpAfter > 0 {
		return r.GiveUpAfter
	}
	return DefaultReconcileGiveUp
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now().UTC()
}
