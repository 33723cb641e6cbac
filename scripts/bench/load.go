package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loopbackClient is the load generator's HTTP client: it dials 127.0.0.1 only, ignores any
// proxy setting, keeps connections alive across the warm-up and the run, and follows no redirect.
func loopbackClient(conc int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if err := checkLoopback(addr); err != nil {
					return nil, err
				}
				return d.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: conc * 2,
			MaxIdleConns:        conc * 2,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkLoopback refuses any address but 127.0.0.1: the harness never sends a request elsewhere.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("bench: refusing to connect to %s: only 127.0.0.1", hostport)
	}
	return nil
}

// createCalls is the targeter: POST /api/call/create_call with the key, each request to the next
// of 10,000 valid US numbers (+1 415 555 0000 to 9999), no body.
func createCalls(base, key string) vegeta.Targeter {
	var n atomic.Uint64
	header := http.Header{"X-Api-Key": {key}}
	return func(t *vegeta.Target) error {
		i := n.Add(1) % 10000
		t.Method = http.MethodPost
		t.URL = base + "/api/call/create_call?phoneNumber=" + url.QueryEscape(fmt.Sprintf("+1415555%04d", i))
		t.Header = header // vegeta copies it into each request
		return nil
	}
}

// attack drives tr with conc workers in a closed loop (each sends its next request when the
// previous one is answered: vegeta's Rate{0} with MaxWorkers) for d, and tallies the answers.
// It stops early when ctx ends.
func attack(ctx context.Context, client *http.Client, tr vegeta.Targeter, conc int, d time.Duration) (*tally, time.Duration) {
	a := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(uint64(conc)), vegeta.MaxWorkers(uint64(conc)),
		vegeta.MaxBody(64<<10))
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			a.Stop()
		case <-done:
		}
	}()
	t := newTally()
	start := time.Now()
	for r := range a.Attack(tr, vegeta.Rate{}, d, "create_call") {
		code := int(r.Code)
		if code == 0 && r.Error == "" {
			r.Error = "no answer"
		}
		t.add(code, r.Latency, r.Body, r.Error)
	}
	return t, time.Since(start)
}
