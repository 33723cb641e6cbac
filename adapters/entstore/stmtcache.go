package entstore

import (
	"context"
	"database/sql"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
)

// maxPrepared bounds the statements kept prepared. ent writes LIMIT and OFFSET into the SQL text,
// so paging through call logs makes new texts; past the bound, statements run unprepared.
const maxPrepared = 256

// preparedDriver is ent's driver, but the statements it sends outside a transaction are prepared
// once per connection and reused. On PostgreSQL that saves lib/pq's parse round trip and the
// server's parse and plan of every statement after the first; on SQLite, the compile.
type preparedDriver struct {
	*entsql.Driver             // transactions, dialect, Close
	conn           entsql.Conn // Exec and Query, through the prepared statements
}

func newPreparedDriver(dialectName string, db *sql.DB) *preparedDriver {
	return &preparedDriver{
		Driver: entsql.OpenDB(dialectName, db),
		conn:   entsql.Conn{ExecQuerier: &preparedStmts{db: db, stmts: map[string]*sql.Stmt{}}},
	}
}

func (d *preparedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.conn.Exec(ctx, query, args, v)
}

func (d *preparedDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.conn.Query(ctx, query, args, v)
}

// preparedStmts runs each query text through its *sql.Stmt, which database/sql prepares on each
// connection the first time that connection runs it.
type preparedStmts struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func (p *preparedStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p *preparedStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// stmt returns the prepared statement for query, or nil when there is no room for another. A
// failed prepare is not kept: the caller runs the query unprepared, and its error, if the query
// is at fault, comes from there.
func (p *preparedStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.RLock()
	st, n := p.stmts[query], len(p.stmts)
	p.mu.RUnlock()
	if st != nil || n >= maxPrepared {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.stmts[query]; ok {
		st.Close()
		return prev, nil
	}
	if len(p.stmts) >= maxPrepared {
		st.Close()
		return nil, nil
	}
	p.stmts[query] = st
	return st, nil
}
