package jobqueue_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"  // "postgres"
	_ "modernc.org/sqlite" // "sqlite"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/internal/testkit/pgtest"
)

// The databases here are made the way adapters/entstore makes them (same drivers, same SQLite
// settings), so the queue is tested on the pools it will share with the store. entstoretest is
// not used because it brings the whole store, and the application with it, into this package's
// tests; its PostgreSQL databases come from the same place, internal/testkit/pgtest.

// sqliteURL is entstore's SQLite DSN for a file: foreign keys, WAL, a 10 s busy timeout, UTC
// text times and transactions that take the write lock at BEGIN.
func sqliteURL(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteURL(filepath.Join(t.TempDir(), "kupe.db")))
	if err != nil {
		t.Fatal(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresURL creates an empty database, dropped when the test ends.
func postgresURL(t testing.TB) string {
	t.Helper()
	return pgtest.URL(t)
}

func openPostgres(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { db.Close() })
	return db
}

// migrated returns a new, migrated database of each dialect.
func eachDialect(t *testing.T, test func(t *testing.T, db *sql.DB, dialect string)) {
	t.Run("sqlite", func(t *testing.T) {
		db := openSQLite(t)
		migrate(t, db, jobqueue.SQLite)
		test(t, db, jobqueue.SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		db := openPostgres(t, postgresURL(t))
		migrate(t, db, jobqueue.Postgres)
		test(t, db, jobqueue.Postgres)
	})
}

func migrate(t testing.TB, db *sql.DB, dialect string) {
	t.Helper()
	if err := jobqueue.Migrate(context.Background(), db, dialect); err != nil {
		t.Fatal(err)
	}
}

// runs records each run of a job, by job id and by who ran it, and signals each run.
type runs struct {
	mu    sync.Mutex
	byID  map[int64]int
	by    map[string]int
	notes []string
	ran   chan int64
}

func newRuns() *runs {
	return &runs{byID: map[int64]int{}, by: map[string]int{}, ran: make(chan int64, 1000)}
}

func (r *runs) record(id int64, who, note string) {
	r.mu.Lock()
	r.byID[id]++
	r.by[who]++
	r.notes = append(r.notes, note)
	r.mu.Unlock()
	r.ran <- id
}

func (r *runs) count(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// wait waits for n runs; the deadline only keeps a broken test from hanging.
func (r *runs) wait(t testing.TB, n int) []int64 {
	t.Helper()
	var ids []int64
	deadline := time.After(60 * time.Second)
	for len(ids) < n {
		select {
		case id := <-r.ran:
			ids = append(ids, id)
		case <-deadline:
			t.Fatalf("%d of %d runs after 60 s", len(ids), n)
		}
	}
	return ids
}

type workArgs struct {
	Note string `json:"note"`
}

func (workArgs) Kind() string { return "test_work" }

// newQueue starts a queue whose worker records its runs, stopped when the test ends.
func newQueue(t testing.TB, db *sql.DB, dialect, who string, r *runs, cfg jobqueue.Config) *jobqueue.Queue {
	t.Helper()
	ws := jobqueue.NewWorkers()
	if err := jobqueue.Register(ws, func(ctx context.Context, job jobqueue.Job[workArgs]) error {
		r.record(job.ID, who, job.Args.Note)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return startQueue(t, db, dialect, ws, cfg)
}

func startQueue(t testing.TB, db *sql.DB, dialect string, ws *jobqueue.Workers, cfg jobqueue.Config) *jobqueue.Queue {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	q, err := jobqueue.New(db, dialect, ws, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// As fx does: the start context ends once started.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, q) })
	return q
}

func stop(t testing.TB, q *jobqueue.Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}
