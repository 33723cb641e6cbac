package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"entgo.io/ent/dialect"

	"github.com/kupe-voice/kupe/domain/fault"
)

// DefaultStatementTimeout bounds each statement, and each transaction from BEGIN to COMMIT, when
// Open is given no WithStatementTimeout.
const DefaultStatementTimeout = 5 * time.Second

// WithStatementTimeout bounds each statement the store sends, and each transaction as a whole,
// by d; past it the call fails with an error that is fault.ErrUnavailable. On PostgreSQL
// it also bounds connecting (lib/pq's connect_timeout, unless the URL sets one) and how long a
// connection may wait for the server's answer (d and a few seconds more), so that a database
// behind a network that drops packets fails within a bound as well.
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("entstore: the statement timeout must be positive")
		}
		o.timeout = d
		return nil
	}
}

// faultDriver bounds every statement and transaction in time and marks the errors that say the
// database is down or unreachable, so that errors.Is(err, fault.ErrUnavailable) holds for
// them whatever path they take to the caller.
type faultDriver struct {
	dialect.Driver
	timeout time.Duration
}

func newFaultDriver(next dialect.Driver, timeout time.Duration) *faultDriver {
	if timeout <= 0 {
		timeout = DefaultStatementTimeout
	}
	return &faultDriver{Driver: next, timeout: timeout}
}

func (d *faultDriver) Exec(ctx context.Context, query string, args, v any) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return markUnavailable(d.Driver.Exec(ctx, query, args, v))
}

// Query bounds the statement and the reading of its rows. The rows are read after Query returns
// and cancelling the context would close them, so it ends at its deadline instead. (The rows
// cannot be wrapped to cancel on Close: ent's migration engine needs them as *sql.Rows.)
func (d *faultDriver) Query(ctx context.Context, query string, args, v any) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	if err := d.Driver.Query(ctx, query, args, v); err != nil {
		cancel()
		return markUnavailable(err)
	}
	_ = cancel // see above
	return nil
}

func (d *faultDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		cancel()
		return nil, markUnavailable(err)
	}
	return &boundTx{Tx: tx, timeout: d.timeout, cancel: cancel}, nil
}

type boundTx struct {
	dialect.Tx
	timeout time.Duration
	cancel  context.CancelFunc
}

func (t *boundTx) Exec(ctx context.Context, query string, args, v any) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return markUnavailable(t.Tx.Exec(ctx, query, args, v))
}

func (t *boundTx) Query(ctx context.Context, query string, args, v any) error {
	// Rows read inside a transaction are bounded by the transaction's own deadline.
	return markUnavailable(t.Tx.Query(ctx, query, args, v))
}

func (t *boundTx) Commit() error {
	defer t.cancel()
	return markUnavailable(t.Tx.Commit())
}

func (t *boundTx) Rollback() error {
	defer t.cancel()
	return markUnavailable(t.Tx.Rollback())
}

// unavailableError is a database error that means the database is down, unreachable or too busy
// to answer: errors.Is finds both fault.ErrUnavailable and the cause's chain.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{fault.ErrUnavailable, e.err} }

// markUnavailable marks err when it says the database could not serve the statement.
func markUnavailable(err error) error {
	if err == nil || errors.Is(err, fault.ErrUnavailable) || !unavailable(err) {
		return err
	}
	return &unavailableError{err: err}
}

// sqlState is implemented by lib/pq's *pq.Error (and pgx's *pgconn.PgError).
type sqlState interface{ SQLState() string }

// sqliteCode is implemented by modernc.org/sqlite's *sqlite.Error.
type sqliteCode interface{ Code() int }

// SQLite result codes (the primary code is the low byte of an extended one).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteProtocol = 15
)

// unavailable reports whether err says the database could not serve the statement, as opposed
// to refusing it (a constraint, a syntax error, a row that is not there).
func unavailable(err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up (a client that left); the database said nothing.
		return false
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	case err.Error() == "sql: database is closed":
		return true // database/sql's errDBClosed is not exported
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var st sqlState
	if errors.As(err, &st) {
		code := st.SQLState()
		switch {
		case len(code) != 5:
			return false
		case code[:2] == "08", // connection exception
			code[:2] == "53",                                  // insufficient resources: too many connections, out of memory, disk full
			code[:2] == "58",                                  // system error: I/O
			code == "57P01", code == "57P02", code == "57P03", // shutting down, crashed, starting up
			code == "57014": // statement cancelled: a deadline ran out, ours or the server's
			return true
		}
		return false
	}
	var sc sqliteCode
	if errors.As(err, &sc) {
		switch sc.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteProtocol:
			return true
		}
	}
	return false
}
