package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/cmd/internal/app"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// running is the service started in-process as `kupe serve` wires it, with every log line
// captured.
type running struct {
	t        *testing.T
	app      *fx.App
	base     string // http://host:port
	addr     string
	store    *entstore.Store
	accounts *accounts.Accounts
	logs     *observer.ObservedLogs
	stopped  bool
	// demo is what the first run printed for the demo account (its API key).
	demo *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startApp sets env (KUPE_* variables; the HTTP address is chosen here), then starts the app
// exactly as kupe serve does (app.Server). before go ahead of it, so their stop hooks run after
// the HTTP server's and the background jobs' and before the database closes; after go last
// (decorations, for instance).
func startApp(t *testing.T, env map[string]string, before, after []fx.Option) *running {
	t.Helper()
	r := &running{t: t, addr: freeAddr(t), demo: &syncBuffer{}}
	r.base = "http://" + r.addr
	defaults := map[string]string{
		"KUPE_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "kupe.db"), "KUPE_HTTP_ADDR": r.addr,
		"KUPE_ENV": "production", "KUPE_LOG_LEVEL": "debug", "KUPE_HTTP_DRAIN_DELAY": "0s",
		"KUPE_PUBLIC_BASE_URL": r.base,
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			t.Setenv(k, v)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	r.logs = logs
	c, err := configs.Load()
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	// before go first: their invokes run before the server's, so their stop hooks run after the
	// HTTP server's and the background jobs' and before the database closes.
	opts := append([]fx.Option{}, before...)
	opts = append(opts, app.Server(c),
		fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }),
		fx.Decorate(func(app.DemoOutput) app.DemoOutput { return app.DemoOutput{Writer: r.demo} }),
		fx.Populate(&r.store, &r.accounts),
		fx.StopTimeout(30*time.Second),
		fx.NopLogger,
	)
	opts = append(opts, after...)
	r.app = fx.New(opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.app.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if !r.stopped {
			r.stop()
		}
	})
	return r
}

func (r *running) stop() error {
	r.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.app.Stop(ctx)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// customer is a user with an API key and a line mapped to an agent.
type customer struct {
	userID, key string
	line        call.Line
	agent       call.Agent
}

func (r *running) customer(provider call.Provider, number string, creds map[string]string) customer {
	r.t.Helper()
	ctx := context.Background()
	u, err := r.accounts.CreateUser(ctx, uuid.NewString()[:8]+"@example.com", money.FromUnits(100))
	if err != nil {
		r.t.Fatal(err)
	}
	k, err := r.accounts.CreateAPIKey(ctx, u.ID, "test")
	if err != nil {
		r.t.Fatal(err)
	}
	l, err := r.accounts.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: number, Provider: provider.String(), Credentials: creds})
	if err != nil {
		r.t.Fatal(err)
	}
	a, err := r.accounts.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales", SystemPrompt: "Hi {{name}}"})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.accounts.SetMapping(ctx, l.ID, call.Target{AgentID: a.ID}); err != nil {
		r.t.Fatal(err)
	}
	return customer{userID: u.ID, key: k.Plain, line: l, agent: a}
}

// client has no keep-alive: every request is a new connection, as a new client's would be.
var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

type answer struct {
	status int
	body   map[string]any
	raw    string
	err    error
}

func (r *running) do(method, path, key, body string, header ...string) answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (r *running) createCall(key, to, body string) answer {
	return r.do(http.MethodPost, "/api/call/create_call?phoneNumber="+strings.ReplaceAll(to, "+", "%2B"), key, body)
}

// events records what happened, in order, across goroutines.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// index is where s first happened, or -1.
func (e *events) index(s string) int {
	for i, x := range e.all() {
		if x == s {
			return i
		}
	}
	return -1
}

// scanLogs fails the test if any captured log line holds one of secrets (API keys, JWTs,
// carrier credentials, whole phone numbers, with or without their +).
func scanLogs(t *testing.T, logs *observer.ObservedLogs, secrets ...string) {
	t.Helper()
	if testkit.ScanLogs(t, logs, secrets...) == 0 {
		t.Fatal("no log line was captured: the scan would prove nothing")
	}
}
