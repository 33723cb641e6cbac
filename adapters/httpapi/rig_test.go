package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
)

const (
	lineNumber   = "+14155550100"
	destination  = "+14155550123"
	rejectedDest = "+14155550199"
)

// rig is the API wired as in production, on memstore and the simulated carrier, with every log
// line captured.
type rig struct {
	t        testing.TB
	store    *memstore.Store
	carrier  *simprovider.Carrier
	accounts *accounts.Accounts
	engine   *gin.Engine
	logs     *observer.ObservedLogs
	// secrets must never appear in a log line: API keys and whole phone numbers.
	secrets []string
}

type rigOption func(*httpapi.Deps, *httpapi.Config)

func newRig(t testing.TB, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, store: memstore.New(), carrier: simprovider.New(simprovider.Config{Reject: []string{rejectedDest}})}
	deps := apitest.WithRecords(apitest.Deps(r.store, createcall.CarrierSet{call.ProviderSimulated: r.carrier}), r.store)
	r.accounts = deps.Accounts
	cfg := httpapi.Config{Version: "1.2.3"}
	for _, o := range opts {
		o(&deps, &cfg)
	}
	r.engine, r.logs = apitest.New(deps, cfg)
	r.secrets = []string{lineNumber, destination, rejectedDest}
	if tt, ok := t.(*testing.T); ok {
		tt.Cleanup(r.checkLogs)
	}
	return r
}

// checkLogs fails the test if any log line holds a secret.
func (r *rig) checkLogs() { testkit.ScanLogs(r.t, r.logs, r.secrets...) }

type account struct {
	userID string
	key    string
	line   call.Line
	agent  call.Agent
}

// user makes a customer with credits and an API key and, withLine, an active simulated line
// mapped to an agent.
func (r *rig) user(credits money.Amount, withLine bool) account {
	r.t.Helper()
	ctx := context.Background()
	u, err := r.accounts.CreateUser(ctx, strings.ToLower(strings.ReplaceAll(r.t.Name(), "/", "."))+
		"."+uuid.NewString()[:8]+"@example.com", credits)
	if err != nil {
		r.t.Fatal(err)
	}
	k, err := r.accounts.CreateAPIKey(ctx, u.ID, "test")
	if err != nil {
		r.t.Fatal(err)
	}
	r.secrets = append(r.secrets, k.Plain)
	a := account{userID: u.ID, key: k.Plain}
	if !withLine {
		return a
	}
	a.line = r.addLine(u.ID, lineNumber, false)
	a.agent = r.agent(u.ID)
	if err := r.accounts.SetMapping(ctx, a.line.ID, call.Target{AgentID: a.agent.ID}); err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) addLine(userID, number string, inactive bool) call.Line {
	r.t.Helper()
	l, err := r.accounts.AddLine(context.Background(), accounts.AddLine{UserID: userID, Number: number,
		Provider: call.ProviderSimulated.String(), Inactive: inactive,
		Credentials: map[string]string{"token": "line-secret-token"}})
	if err != nil {
		r.t.Fatal(err)
	}
	return l
}

func (r *rig) agent(userID string) call.Agent {
	r.t.Helper()
	a, err := r.accounts.CreateAgent(context.Background(), accounts.CreateAgent{UserID: userID, Name: "Sales"})
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) workflow(userID string) call.Workflow {
	r.t.Helper()
	w, err := r.accounts.CreateWorkflow(context.Background(), userID, "Survey")
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// do sends a request; key "" sends no x-api-key header.
func (r *rig) do(method, target, key string, body io.Reader) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	w := httptest.NewRecorder()
	r.engine.ServeHTTP(w, req)
	return w
}

func (r *rig) post(target, key, body string) *httptest.ResponseRecorder {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return r.do(http.MethodPost, target, key, rd)
}

func (r *rig) get(target, key string) *httptest.ResponseRecorder {
	r.t.Helper()
	return r.do(http.MethodGet, target, key, nil)
}

func (r *rig) session(id string) *call.Session {
	r.t.Helper()
	s, err := r.store.Session(context.Background(), id)
	if err != nil {
		r.t.Fatalf("session %s: %v", id, err)
	}
	return s
}

// sessionCount is how many sessions the user has in the store.
func (r *rig) sessionCount(userID string) int {
	r.t.Helper()
	_, n, err := r.store.ListSessions(context.Background(), userID, 0, 1)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// decode reads a JSON object response, requiring the JSON content type.
func decode(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, w.Body)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(w.Body.String()))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", w.Body, err)
	}
	return m
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantDetail asserts an error response: the status and exactly {"detail": detail}.
func wantDetail(t testing.TB, w *httptest.ResponseRecorder, status int, detail string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	m := decode(t, w)
	if len(m) != 1 || m["detail"] != detail {
		t.Fatalf("body = %s, want exactly {\"detail\": %q}", w.Body, detail)
	}
}
