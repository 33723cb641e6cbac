package jobqueue_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/user"
)

// How a store on ent puts a job in its own transaction. entstore begins transactions on ent's
// SQL driver (entsql.Driver.Tx), whose dialect.Tx is an *entsql.Tx holding the *sql.Tx; the
// ent client of the transaction runs on that dialect.Tx, and the queue inserts on the *sql.Tx.
// Both write through the one database transaction.

// sqlTxOf is the unwrapping entstore needs (through its own boundTx first).
func sqlTxOf(tx dialect.Tx) (*sql.Tx, bool) {
	etx, ok := tx.(*entsql.Tx)
	if !ok {
		return nil, false
	}
	stx, ok := etx.Tx.(*sql.Tx)
	return stx, ok
}

// txDriver is entstore's: ent's builders inside a transaction someone else commits.
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

func TestEntRowAndJobCommitTogether(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *sql.DB, name string) {
		ctx := context.Background()
		entDialect := map[string]string{jobqueue.SQLite: dialect.SQLite, jobqueue.Postgres: dialect.Postgres}[name]
		drv := entsql.OpenDB(entDialect, db)
		store := ent.NewClient(ent.Driver(drv))
		if err := store.Schema.Create(ctx); err != nil {
			t.Fatal(err)
		}
		r := newRuns()
		q := newQueue(t, db, name, "a", r, jobqueue.Config{})

		// One transaction: a user row through ent and a job through the queue.
		inTx := func(email, note string, commit bool) {
			t.Helper()
			etx, err := drv.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stx, ok := sqlTxOf(etx)
			if !ok {
				t.Fatalf("ent's transaction is a %T", etx)
			}
			client := ent.NewClient(ent.Driver(txDriver{tx: etx, dialect: entDialect}))
			if _, err := client.User.Create().SetEmail(email).Save(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := q.InsertTx(ctx, stx, workArgs{Note: note}, nil); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = etx.Commit()
			} else {
				err = etx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}

		inTx("gone@example.com", "rolled back", false)
		if n, err := store.User.Query().Count(ctx); err != nil || n != 0 {
			t.Fatalf("users after the rollback: %d, %v", n, err)
		}
		if jobs := listJobs(t, q); len(jobs) != 0 {
			t.Fatalf("jobs after the rollback: %d", len(jobs))
		}

		inTx("kept@example.com", "committed", true)
		r.wait(t, 1)
		jobs := listJobs(t, q)
		if len(jobs) != 1 || !strings.Contains(string(jobs[0].EncodedArgs), `"committed"`) {
			t.Fatalf("jobs after the commit: %v", jobs)
		}
		waitState(t, q, jobs[0].ID, rivertype.JobStateCompleted)
		if n, err := store.User.Query().Where(user.Email("kept@example.com")).Count(ctx); err != nil || n != 1 {
			t.Fatalf("users after the commit: %d, %v", n, err)
		}
		stop(t, q)
		if len(r.notes) != 1 || r.notes[0] != "committed" {
			t.Fatalf("runs: %v", r.notes)
		}
	})
}

func listJobs(t testing.TB, q *jobqueue.Queue) []*rivertype.JobRow {
	t.Helper()
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds(workArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}
