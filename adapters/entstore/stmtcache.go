package entstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/lib/pq"
)

// maxPrepared bounds the statements each connection keeps prepared. ent writes LIMIT and OFFSET
// into the SQL text, so paging through call logs makes new texts; past the bound, statements
// run unprepared.
const maxPrepared = 256

// cachingConnector makes connections that prepare each statement with arguments once and reuse
// it, in or out of a transaction. On PostgreSQL that saves lib/pq's parse round trip and the
// server's parse and plan of every statement after the first; on SQLite, the compile.
//
// The cache lives in the driver's connection, which database/sql hands to one goroutine at a
// time, so it needs no lock. (database/sql's own *sql.Stmt, used before, shares one mutex and
// the pool's lock between every goroutine running the statement: under load the most contended
// locks in the process.)
type cachingConnector struct {
	next driver.Connector
	// serverFrees: closing a connection frees its statements (PostgreSQL ends the session), so
	// Close does not spend a round trip on each. SQLite's must be finalized first.
	serverFrees bool
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.next.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]driver.Stmt{}, serverFrees: c.serverFrees}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.next.Driver() }

// dsnConnector is the connector of a driver that has none of its own.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type cachingConn struct {
	driver.Conn
	stmts       map[string]driver.Stmt
	serverFrees bool
	bad         bool // a statement went stale: the connection is to be closed
}

var (
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.NamedValueChecker  = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

// stmt is query's prepared statement on this connection, prepared now if need be; nil (and no
// error) when the query is left unprepared: it has no arguments (DDL, migrations, BEGIN and
// COMMIT), or the cache is full.
func (c *cachingConn) stmt(ctx context.Context, query string, args []driver.NamedValue) (driver.Stmt, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxPrepared {
		return nil, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// stale reports whether err is PostgreSQL refusing a prepared statement because a migration
// changed a table under it ("cached plan must not change result type"): nothing was executed.
// The connection then answers driver.ErrBadConn, so that database/sql closes it (and with it
// every statement it prepared) and, outside a transaction, runs the statement again on another.
func (c *cachingConn) stale(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type") {
		c.bad = true
		return true
	}
	return false
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if q, ok := c.Conn.(driver.QueryerContext); ok {
			return q.QueryContext(ctx, query, args)
		}
		return nil, driver.ErrSkip
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil && c.stale(err) {
		return nil, driver.ErrBadConn
	}
	return rows, err
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if e, ok := c.Conn.(driver.ExecerContext); ok {
			return e.ExecContext(ctx, query, args)
		}
		return nil, driver.ErrSkip
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil && c.stale(err) {
		return nil, driver.ErrBadConn
	}
	return res, err
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver has nothing newer
}

func (c *cachingConn) CheckNamedValue(v *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// Ping asks the server (database/sql's own Ping only takes a connection from the pool).
func (c *cachingConn) Ping(ctx context.Context) error {
	if c.bad {
		return driver.ErrBadConn
	}
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if c.bad {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close closes the statements (unless the server frees them), then the connection.
func (c *cachingConn) Close() error {
	if !c.serverFrees {
		for _, st := range c.stmts {
			_ = st.Close()
		}
	}
	clear(c.stmts)
	return c.Conn.Close()
}
