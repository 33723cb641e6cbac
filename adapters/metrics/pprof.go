package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"
)

// Pprof serves net/http/pprof on a listener of its own, bound to a loopback address only: the
// profiles show the process's memory and the command line, never for the network.
type Pprof struct {
	addr string
	log  *zap.Logger
	srv  *http.Server
	ln   net.Listener
}

// NewPprof returns the pprof server for addr (KUPE_PPROF_ADDR, such as 127.0.0.1:6060). An
// empty addr gives a disabled server whose Start and Stop do nothing. An address that is not
// loopback (0.0.0.0, :6060, a LAN address, a host name other than localhost) is refused.
func NewPprof(addr string, log *zap.Logger) (*Pprof, error) {
	if log == nil {
		log = zap.NewNop()
	}
	p := &Pprof{addr: addr, log: log}
	if addr == "" {
		return p, nil
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No WriteTimeout: a CPU profile or a trace streams for as many seconds as asked.
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log)}
	return p, nil
}

// Enabled reports whether an address was given.
func (p *Pprof) Enabled() bool { return p.srv != nil }

// Addr is the address listened on once started (the port chosen when addr's was 0), else "".
func (p *Pprof) Addr() string {
	if p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// Start opens the listener (so a taken port fails the start) and serves in the background: an
// fx OnStart hook.
func (p *Pprof) Start(context.Context) error {
	if p.srv == nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("pprof: listen on %s: %w", p.addr, err)
	}
	// localhost is resolved by the system; make sure what was bound is loopback after all.
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		_ = ln.Close()
		return fmt.Errorf("pprof: %s resolved to %s, not a loopback address", p.addr, ln.Addr())
	}
	p.ln = ln
	p.log.Info("pprof serving", zap.String("addr", ln.Addr().String()))
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("pprof server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Stop closes the listener and waits for the requests in flight until ctx ends, then drops
// them (a profile being taken): an fx OnStop hook.
func (p *Pprof) Stop(ctx context.Context) error {
	if p.srv == nil || p.ln == nil {
		return nil
	}
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("pprof: stop: %w", err)
		}
	}
	return nil
}

// CheckLoopback accepts host:port addresses whose host is a loopback IP (127.0.0.0/8, ::1) or
// localhost, and refuses the rest, including an empty host (every interface).
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address (want 127.0.0.1:PORT, [::1]:PORT or localhost:PORT)", addr)
}
