package carrierguard_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/carrierguard"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// scripted answers each dial with the next error of its script (nil: a leg id), repeating the
// last one, and counts the dials that reached it.
type scripted struct {
	mu     sync.Mutex
	script []error
	dials  map[string]int // by account sid
}

func (s *scripted) Dial(_ context.Context, req createcall.DialRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dials == nil {
		s.dials = map[string]int{}
	}
	n := s.dials[req.Credentials["account_sid"]]
	s.dials[req.Credentials["account_sid"]]++
	err := s.script[min(n, len(s.script)-1)]
	if err != nil {
		return "", err
	}
	return fmt.Sprint("LEG", n), nil
}

func (s *scripted) reached(account string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials[account]
}

func dialErr(k createcall.DialErrorKind) error {
	return &createcall.DialError{Kind: k, Reason: k.DefaultReason()}
}

func request(account string) createcall.DialRequest {
	return createcall.DialRequest{SessionID: "s", RequestID: "r", From: "+14155550100", To: "+14155550123",
		Credentials: call.Credentials{"account_sid": account, "auth_token": "secret-" + account}}
}

func isOpenRefusal(err error) bool {
	var de *createcall.DialError
	return errors.As(err, &de) && de.Kind == createcall.DialUnavailable && de.Reason == carrierguard.ReasonOpen &&
		(errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests))
}

func TestOpensAfterConsecutiveFailuresAndFailsFast(t *testing.T) {
	for _, kind := range []createcall.DialErrorKind{createcall.DialUnavailable, createcall.DialUnknown} {
		t.Run(kind.String(), func(t *testing.T) {
			next := &scripted{script: []error{dialErr(kind)}}
			g := carrierguard.New(next, carrierguard.Config{Provider: call.ProviderTwilio, Failures: 3, Cooldown: time.Hour}, nil)
			ctx := context.Background()
			for i := range 3 {
				_, err := g.Dial(ctx, request("AC1"))
				var de *createcall.DialError
				if !errors.As(err, &de) || de.Kind != kind || isOpenRefusal(err) {
					t.Fatalf("dial %d: %v, want the carrier's own %s error", i, err, kind)
				}
			}
			for range 10 {
				if _, err := g.Dial(ctx, request("AC1")); !isOpenRefusal(err) {
					t.Fatalf("dial with the breaker open: %v, want carrier unavailable", err)
				}
			}
			if n := next.reached("AC1"); n != 3 {
				t.Fatalf("the carrier received %d dials, want 3: an open breaker must not touch it", n)
			}
			if st := g.State(request("AC1").Credentials); st != gobreaker.StateOpen {
				t.Fatalf("state %s", st)
			}
		})
	}
}

func TestRefusalsProveTheCarrierIsUp(t *testing.T) {
	refusals := []error{
		dialErr(createcall.DialInvalidDestination), dialErr(createcall.DialBadCredentials),
		dialErr(createcall.DialRateLimited), dialErr(createcall.DialCallerNotAllowed), dialErr(createcall.DialRejected),
	}
	// Four failures, a refusal, four failures...: never five in a row.
	var script []error
	for _, r := range refusals {
		for range 4 {
			script = append(script, dialErr(createcall.DialUnavailable))
		}
		script = append(script, r)
	}
	script = append(script, nil)
	next := &scripted{script: script}
	g := carrierguard.New(next, carrierguard.Config{Provider: call.ProviderTwilio, Failures: 5, Cooldown: time.Hour}, nil)
	for i := range len(script) {
		_, err := g.Dial(context.Background(), request("AC1"))
		if isOpenRefusal(err) {
			t.Fatalf("dial %d: the breaker opened, though refusals broke every run of failures", i)
		}
	}
	if n := next.reached("AC1"); n != len(script) {
		t.Fatalf("the carrier received %d dials, want %d", n, len(script))
	}
}

func TestCancelledDialsDoNotCount(t *testing.T) {
	cancelled := &createcall.DialError{Kind: createcall.DialUnavailable, Reason: "cancelled", Err: context.Canceled}
	next := &scripted{script: []error{cancelled}}
	g := carrierguard.New(next, carrierguard.Config{Failures: 2, Cooldown: time.Hour}, nil)
	for range 10 {
		if _, err := g.Dial(context.Background(), request("AC1")); isOpenRefusal(err) {
			t.Fatal("dials the caller cancelled opened the breaker")
		}
	}
}

func TestOneBreakerPerAccount(t *testing.T) {
	next := &scripted{script: []error{dialErr(createcall.DialUnavailable)}}
	g := carrierguard.New(next, carrierguard.Config{Failures: 2, Cooldown: time.Hour}, nil)
	for range 3 {
		_, _ = g.Dial(context.Background(), request("AC-down"))
	}
	if _, err := g.Dial(context.Background(), request("AC-down")); !isOpenRefusal(err) {
		t.Fatalf("AC-down: %v, want the breaker open", err)
	}
	if _, err := g.Dial(context.Background(), request("AC-other")); isOpenRefusal(err) {
		t.Fatal("another account's dial was refused by the first account's breaker")
	}
	if next.reached("AC-other") != 1 {
		t.Fatal("another account's dial did not reach the carrier")
	}
	if carrierguard.AccountKey(request("AC1").Credentials) == carrierguard.AccountKey(request("AC2").Credentials) {
		t.Fatal("two accounts share a key")
	}
}

func TestHalfOpenProbe(t *testing.T) {
	next := &scripted{script: []error{dialErr(createcall.DialUnavailable), dialErr(createcall.DialUnavailable),
		dialErr(createcall.DialUnavailable), nil}}
	g := carrierguard.New(next, carrierguard.Config{Failures: 2, Cooldown: 50 * time.Millisecond}, nil)
	ctx := context.Background()
	_, _ = g.Dial(ctx, request("AC1"))
	_, _ = g.Dial(ctx, request("AC1"))
	if _, err := g.Dial(ctx, request("AC1")); !isOpenRefusal(err) {
		t.Fatalf("%v, want open", err)
	}
	time.Sleep(60 * time.Millisecond)
	// The probe fails: open again at once.
	if _, err := g.Dial(ctx, request("AC1")); err == nil || isOpenRefusal(err) {
		t.Fatalf("probe: %v, want the carrier's own failure", err)
	}
	if _, err := g.Dial(ctx, request("AC1")); !isOpenRefusal(err) {
		t.Fatalf("after a failed probe: %v, want open", err)
	}
	time.Sleep(60 * time.Millisecond)
	// The next probe succeeds: closed.
	if leg, err := g.Dial(ctx, request("AC1")); err != nil || leg == "" {
		t.Fatalf("probe: %q, %v", leg, err)
	}
	if st := g.State(request("AC1").Credentials); st != gobreaker.StateClosed {
		t.Fatalf("state after a good probe: %s", st)
	}
	if n := next.reached("AC1"); n != 4 {
		t.Fatalf("the carrier received %d dials, want 4", n)
	}
}

func TestOnlyOneProbeWhileHalfOpen(t *testing.T) {
	release := make(chan struct{})
	var reached atomic.Int32
	slow := carrierFunc(func(ctx context.Context, req createcall.DialRequest) (string, error) {
		if reached.Add(1) <= 2 {
			return "", dialErr(createcall.DialUnavailable)
		}
		<-release
		return "LEG", nil
	})
	g := carrierguard.New(slow, carrierguard.Config{Failures: 2, Cooldown: 20 * time.Millisecond}, nil)
	_, _ = g.Dial(context.Background(), request("AC1"))
	_, _ = g.Dial(context.Background(), request("AC1"))
	time.Sleep(30 * time.Millisecond)
	probe := make(chan error, 1)
	go func() {
		_, err := g.Dial(context.Background(), request("AC1"))
		probe <- err
	}()
	for reached.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Dial(context.Background(), request("AC1")); !isOpenRefusal(err) {
		t.Fatalf("a second dial while the probe is out: %v, want carrier unavailable", err)
	}
	close(release)
	if err := <-probe; err != nil {
		t.Fatal(err)
	}
	if reached.Load() != 3 {
		t.Fatalf("the carrier received %d dials, want 3", reached.Load())
	}
}

type carrierFunc func(context.Context, createcall.DialRequest) (string, error)

func (f carrierFunc) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	return f(ctx, req)
}

type fetcher struct {
	scripted
	status call.Status
	err    error
	calls  int
}

func (f *fetcher) FetchCall(context.Context, callevents.FetchRequest) (call.Status, error) {
	f.calls++
	return f.status, f.err
}

func TestFetchCallGoesThroughTheBreaker(t *testing.T) {
	ctx := context.Background()
	g := carrierguard.New(&scripted{script: []error{nil}}, carrierguard.Config{}, nil)
	if _, err := g.FetchCall(ctx, callevents.FetchRequest{LegID: "CA1"}); !errors.Is(err, callevents.ErrFetchUnsupported) {
		t.Fatalf("FetchCall on a carrier that cannot fetch: %v", err)
	}

	f := &fetcher{scripted: scripted{script: []error{nil}}, status: call.StatusCompleted}
	g = carrierguard.New(f, carrierguard.Config{Failures: 2, Cooldown: time.Hour}, nil)
	req := callevents.FetchRequest{LegID: "CA1", Credentials: request("AC1").Credentials}
	if st, err := g.FetchCall(ctx, req); err != nil || st != call.StatusCompleted {
		t.Fatalf("FetchCall = %s, %v", st, err)
	}
	// A leg the carrier does not know proves it is up.
	f.err = callevents.ErrLegNotFound
	for range 5 {
		if _, err := g.FetchCall(ctx, req); !errors.Is(err, callevents.ErrLegNotFound) {
			t.Fatalf("FetchCall = %v, want ErrLegNotFound", err)
		}
	}
	f.err = dialErr(createcall.DialUnavailable)
	_, _ = g.FetchCall(ctx, req)
	_, _ = g.FetchCall(ctx, req)
	before := f.calls
	if _, err := g.FetchCall(ctx, req); !isOpenRefusal(err) {
		t.Fatalf("FetchCall with the breaker open: %v", err)
	}
	if _, err := g.Dial(ctx, request("AC1")); !isOpenRefusal(err) {
		t.Fatalf("Dial after lookups failed: %v; a lookup and a dial share the account's breaker", err)
	}
	if f.calls != before || f.reached("AC1") != 0 {
		t.Fatal("the open breaker let a request through")
	}
}

// A dead carrier, seen through the real Twilio adapter: a server that answers every request
// with a 503 page, then one that never answers.
func TestDeadCarrierFailsFast(t *testing.T) {
	var hits atomic.Int32
	hang := make(chan struct{})
	var hanging atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if hanging.Load() {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body>503 Service Unavailable</body></html>")
	}))
	defer srv.Close()
	defer close(hang)
	const timeout = 300 * time.Millisecond
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: srv.URL, Timeout: timeout,
		StatusCallbackURL: func(string) string { return "https://example.com/cb" },
		StreamURL:         func(createcall.DialRequest) string { return "wss://example.com/ws" }})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	g := carrierguard.New(tw, carrierguard.Config{Provider: call.ProviderTwilio, Failures: 3, Cooldown: time.Hour}, zap.New(core))
	req := createcall.DialRequest{SessionID: "s", RequestID: "r", From: "+14155550100", To: "+14155550123",
		Credentials: call.Credentials{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "f00dfacef00dfacef00dfacef00dface"}}
	ctx := context.Background()

	for range 3 {
		_, err := g.Dial(ctx, req)
		var de *createcall.DialError
		if !errors.As(err, &de) || de.Kind != createcall.DialUnavailable {
			t.Fatalf("dial through a 503: %v", err)
		}
	}
	if hits.Load() != 3 {
		t.Fatalf("the server saw %d requests, want 3 (a 503 is never retried)", hits.Load())
	}
	start := time.Now()
	for range 100 {
		if _, err := g.Dial(ctx, req); !isOpenRefusal(err) {
			t.Fatalf("dial with the breaker open: %v", err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("100 refused dials took %v; an open breaker answers at once", took)
	}
	if hits.Load() != 3 {
		t.Fatalf("the server saw %d requests with the breaker open", hits.Load())
	}

	// A carrier that hangs: each dial takes the timeout until the breaker opens.
	hanging.Store(true)
	other := req
	other.Credentials = call.Credentials{"account_sid": "AC11111111111111111111111111111111", "auth_token": "0123456789abcdef0123456789abcdef"}
	for range 3 {
		t0 := time.Now()
		_, err := g.Dial(ctx, other)
		var de *createcall.DialError
		if !errors.As(err, &de) || de.Kind != createcall.DialUnknown || time.Since(t0) < timeout/2 {
			t.Fatalf("dial to a hanging carrier: %v after %v", err, time.Since(t0))
		}
	}
	t0 := time.Now()
	if _, err := g.Dial(ctx, other); !isOpenRefusal(err) || time.Since(t0) > 200*time.Millisecond {
		t.Fatalf("dial after three timeouts: %v after %v, want an immediate carrier unavailable", err, time.Since(t0))
	}
	if hits.Load() != 6 {
		t.Fatalf("the server saw %d requests, want 6: every dial exactly once, none retried", hits.Load())
	}

	// The state changes were logged with a hash of the account, never a credential.
	if n := logs.FilterMessage("carrier circuit breaker").Len(); n != 2 {
		t.Fatalf("%d breaker log lines, want 2 (two accounts opened)", n)
	}
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		for _, secret := range []string{req.Credentials["auth_token"], req.Credentials["account_sid"], other.Credentials["auth_token"], other.Credentials["account_sid"]} {
			if strings.Contains(line, secret) {
				t.Fatalf("log line holds a credential: %s", line)
			}
		}
	}
}

// A carrier whose address refuses connections is unavailable from the first dial, and the
// breaker then spares it the connection attempts.
func TestRefusedConnectionsOpenTheBreaker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: "http://" + addr, Timeout: time.Second,
		StatusCallbackURL: func(string) string { return "https://example.com/cb" },
		StreamURL:         func(createcall.DialRequest) string { return "wss://example.com/ws" }})
	if err != nil {
		t.Fatal(err)
	}
	g := carrierguard.New(tw, carrierguard.Config{Failures: 2, Cooldown: time.Hour}, nil)
	req := createcall.DialRequest{From: "+14155550100", To: "+14155550123",
		Credentials: call.Credentials{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "f00dfacef00dfacef00dfacef00dface"}}
	for range 2 {
		if _, err := g.Dial(context.Background(), req); err == nil || isOpenRefusal(err) {
			t.Fatalf("dial to a refusing address: %v", err)
		}
	}
	if _, err := g.Dial(context.Background(), req); !isOpenRefusal(err) {
		t.Fatalf("third dial: %v, want carrier unavailable", err)
	}
}

type honouring struct {
	carrierFunc
	refuse string
}

func (h honouring) UnhonouredOption(call.Options) string { return h.refuse }

// The guard answers for the options as the carrier behind it does, and for none when that
// carrier has no say.
func TestOptionsAreTheGuardedCarriers(t *testing.T) {
	dialer := carrierFunc(func(context.Context, createcall.DialRequest) (string, error) { return "LEG", nil })
	o := call.Options{MaxDuration: time.Minute, MachineDetection: call.MachineDetectionDetect}
	if got := carrierguard.New(honouring{dialer, ""}, carrierguard.Config{}, nil).UnhonouredOption(o); got != "" {
		t.Fatalf("guarded carrier honouring everything: refused %q", got)
	}
	if got := carrierguard.New(honouring{dialer, call.OptionMachineDetection}, carrierguard.Config{}, nil).UnhonouredOption(o); got != call.OptionMachineDetection {
		t.Fatalf("guarded carrier refusing machine detection: refused %q", got)
	}
	if got := carrierguard.New(dialer, carrierguard.Config{}, nil).UnhonouredOption(o); got != call.OptionMaxDuration {
		t.Fatalf("guarded carrier without options: refused %q, want the first option asked", got)
	}
	if got := carrierguard.New(dialer, carrierguard.Config{}, nil).UnhonouredOption(call.Options{}); got != "" {
		t.Fatalf("no options refused as %q", got)
	}
}

type hangingUp struct {
	carrierFunc
	calls int
}

func (h *hangingUp) Hangup(context.Context, callevents.HangupRequest) error { h.calls++; return nil }

func TestHangupIsTheGuardedCarriers(t *testing.T) {
	dialer := carrierFunc(func(context.Context, createcall.DialRequest) (string, error) { return "LEG", nil })
	ctx := context.Background()
	if err := carrierguard.New(dialer, carrierguard.Config{}, nil).Hangup(ctx, callevents.HangupRequest{LegID: "L"}); !errors.Is(err, callevents.ErrHangupUnsupported) {
		t.Fatalf("Hangup through a carrier that cannot: %v", err)
	}
	h := &hangingUp{carrierFunc: dialer}
	if err := carrierguard.New(h, carrierguard.Config{}, nil).Hangup(ctx, callevents.HangupRequest{LegID: "L"}); err != nil || h.calls != 1 {
		t.Fatalf("Hangup through a carrier that can: %v, %d calls", err, h.calls)
	}
}
