package entstore

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/domain/call"
)

// Jobs inserts jobs in a transaction of the store's database: *jobqueue.Queue, made on DB().
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args jobqueue.JobArgs, opts *jobqueue.InsertOpts) (jobqueue.Inserted, error)
}

// UseJobs makes the store record its outbox jobs through j, in the transactions of the state
// changes that need them: a session saved in a final status gets its callfinal.Job. Call it
// once, before the store serves requests. Without it no job is recorded (tools, tests).
func (s *Store) UseJobs(j Jobs) { s.jobs = j }

// DB is the store's pool, for the job queue, which shares the database and its transactions.
func (s *Store) DB() *sql.DB { return s.db }

// sqlTx is the *sql.Tx under a transaction of the store's driver: faultDriver's boundTx around
// ent's *entsql.Tx.
func sqlTx(tx dialect.Tx) (*sql.Tx, error) {
	for {
		switch t := tx.(type) {
		case *boundTx:
			tx = t.Tx
		case *entsql.Tx:
			if stx, ok := t.Tx.(*sql.Tx); ok {
				return stx, nil
			}
			return nil, fmt.Errorf("entstore: ent's transaction holds a %T, not a *sql.Tx", t.Tx)
		default:
			return nil, fmt.Errorf("entstore: cannot reach the *sql.Tx of a %T", tx)
		}
	}
}

// insertJob records a job in tx; the store must have Jobs.
func (s *Store) insertJob(ctx context.Context, tx dialect.Tx, args jobqueue.JobArgs, opts *jobqueue.InsertOpts) error {
	stx, err := sqlTx(tx)
	if err != nil {
		return err
	}
	if _, err := s.jobs.InsertTx(ctx, stx, args, opts); err != nil {
		return markUnavailable(err)
	}
	return nil
}

// announceFinal records the call_final job of a session saved in a final status, in tx: every
// final session is announced, once (the job is unique by session id), and none that was not
// saved (saveFinalSession, slots.go).
func (s *Store) announceFinal(ctx context.Context, tx dialect.Tx, cs *call.Session) error {
	return s.insertJob(ctx, tx, callfinal.Job{SessionID: cs.ID}, &jobqueue.InsertOpts{Unique: true})
}
