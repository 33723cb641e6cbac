package entstore

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// readGrace is how much longer than the statement timeout a PostgreSQL connection waits for the
// server's answer: time for the cancel request lib/pq sends at the deadline to come back as an
// error. Past it the connection is given up for dead.
const readGrace = 2 * time.Second

// openPostgresDB opens the pool. With a statement timeout (WithStatementTimeout), connecting is
// bounded by it (unless the URL sets connect_timeout) and every read waits at most the timeout
// and readGrace: a server that stops answering, or a network that drops packets, fails the
// statement instead of holding it until TCP gives up, minutes later. Without one (kupe migrate,
// whose statements may run long) the connections are lib/pq's own. Either way each connection
// keeps its statements prepared (cachingConnector).
func openPostgresDB(dsn string, timeout time.Duration) (*sql.DB, error) {
	// lib/pq's parse errors may quote the URL, password included.
	malformed := errors.New("entstore: open PostgreSQL: malformed URL")
	if timeout <= 0 {
		conn, err := pq.NewConnector(dsn)
		if err != nil {
			return nil, malformed
		}
		return sql.OpenDB(&cachingConnector{next: conn, serverFrees: true}), nil
	}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, malformed
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = timeout
	}
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, malformed
	}
	conn.Dialer(&deadlineDialer{wait: timeout + readGrace})
	return sql.OpenDB(&cachingConnector{next: conn, serverFrees: true}), nil
}

// deadlineDialer makes connections whose reads give up after wait without data.
type deadlineDialer struct {
	d    net.Dialer
	wait time.Duration
}

func (d *deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, wait: d.wait}, nil
}

// deadlineConn sets a read deadline of now+wait before each read. lib/pq reads only while it
// waits for the answer to something it sent (it runs no LISTEN here), so an idle pooled
// connection is never cut. A deadline lib/pq sets itself (for connect_timeout) still holds when
// it comes sooner.
type deadlineConn struct {
	net.Conn
	wait  time.Duration
	fixed atomic.Int64 // lib/pq's own read deadline in Unix nanoseconds; 0 for none
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	dl := time.Now().Add(c.wait)
	if f := c.fixed.Load(); f != 0 && f < dl.UnixNano() {
		dl = time.Unix(0, f)
	}
	if err := c.Conn.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.fixed.Store(unixNano(t))
	return c.Conn.SetDeadline(t)
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.fixed.Store(unixNano(t))
	return c.Conn.SetReadDeadline(t)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
