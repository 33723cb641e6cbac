package entstoretest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy between a store and its PostgreSQL server that a test can cut, to see
// what the service does while its database is down and after it comes back.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	state proxyState
	pairs map[*proxyPair]struct{}
	held  map[net.Conn]struct{} // client connections accepted and never answered
}

type proxyState int

const (
	proxyUp proxyState = iota
	proxyDown
	proxyBlackhole
)

type proxyPair struct{ client, server net.Conn }

// NewProxy starts a proxy to target (host:port) on a free loopback port, closed when the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("entstoretest: proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, pairs: map[*proxyPair]struct{}{}, held: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// ProxiedPostgresURL creates an empty database like PostgresURL and returns its URL through a
// new proxy, with the proxy; the database is dropped when the test ends.
func ProxiedPostgresURL(t testing.TB) (string, *Proxy) {
	t.Helper()
	raw := PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := NewProxy(t, host)
	u.Host = p.Addr()
	return u.String(), p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut stops the database as a server that goes down does: every connection is closed and new
// ones are closed as soon as they are made.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyDown
	p.dropAll()
}

// Blackhole stops the database as a network that drops packets does: the server side of every
// connection goes away, while the client side stays open and never hears anything again; new
// connections are accepted and never answered.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyBlackhole
	for pair := range p.pairs {
		pair.server.Close()
		p.held[pair.client] = struct{}{}
		delete(p.pairs, pair)
	}
}

// Restore brings the database back. Connections from before the outage stay dead, as they
// would be after a server restart or a network partition.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyUp
	for c := range p.held {
		c.Close()
		delete(p.held, c)
	}
}

func (p *Proxy) dropAll() {
	for pair := range p.pairs {
		pair.client.Close()
		pair.server.Close()
		delete(p.pairs, pair)
	}
	for c := range p.held {
		c.Close()
		delete(p.held, c)
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropAll()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	p.mu.Lock()
	state := p.state
	switch state {
	case proxyDown:
		p.mu.Unlock()
		client.Close()
		return
	case proxyBlackhole:
		p.held[client] = struct{}{}
		p.mu.Unlock()
		_, _ = io.Copy(io.Discard, client) // until the client gives up or Restore closes it
		return
	}
	p.mu.Unlock()

	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	pair := &proxyPair{client: client, server: server}
	p.mu.Lock()
	if p.state != proxyUp { // cut while we dialled
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.pairs[pair] = struct{}{}
	p.mu.Unlock()

	go func() {
		_, _ = io.Copy(server, client)
		// In a blackhole the client keeps talking into the void.
		_, _ = io.Copy(io.Discard, client)
		server.Close()
	}()
	_, _ = io.Copy(client, server)
	p.mu.Lock()
	_, held := p.held[client]
	delete(p.pairs, pair)
	p.mu.Unlock()
	if !held {
		client.Close()
	}
}
