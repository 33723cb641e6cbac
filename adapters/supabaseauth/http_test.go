package supabaseauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/adapters/supabaseauth"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
)

// api is the HTTP API on memstore and the simulated carrier, with Bearer on: HS256 with the
// test secret and ES256/RS256 from a local JWKS.
type api struct {
	t        testing.TB
	store    *memstore.Store
	accounts *accounts.Accounts
	engine   *gin.Engine
	logs     *observer.ObservedLogs
	es       signingKey
	tokens   []string // every token handed out: none may reach a log line
}

func newAPI(t testing.TB) *api {
	t.Helper()
	a := &api{t: t, store: memstore.New(), es: newES256(t, "es-1")}
	jwks := newJWKSServer(t, a.es)
	v := newVerifier(t, supabaseauth.Config{JWTSecret: testSecret, JWKSURL: jwks.url(), Issuer: testIssuer})
	deps := apitest.Deps(a.store, createcall.CarrierSet{call.ProviderSimulated: simprovider.New(simprovider.Config{})})
	a.accounts = deps.Accounts
	deps.APIKeys = &accounts.APIKeys{Store: a.store}
	deps.Credentials = []httpapi.Credential{v.Credential(&accounts.SessionUsers{Store: a.store})}
	a.engine, a.logs = apitest.New(deps, httpapi.Config{})
	t.Cleanup(a.checkLogs)
	return a
}

// checkLogs fails the test if any log line holds a token handed out, caught by its signature part
// alone.
func (a *api) checkLogs() {
	sigs := make([]string, 0, len(a.tokens))
	for _, tok := range a.tokens {
		if i := strings.LastIndexByte(tok, '.'); i > 0 {
			sigs = append(sigs, tok[i+1:])
		}
	}
	testkit.ScanLogs(a.t, a.logs, sigs...)
}

func (a *api) hs256(c map[string]any) string {
	tok := signHS256(a.t, c, []byte(testSecret))
	a.tokens = append(a.tokens, tok)
	return tok
}

func (a *api) do(method, target string, header http.Header, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	} else {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	a.engine.ServeHTTP(w, req)
	return w
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return m
}

func want401(t *testing.T, w *httptest.ResponseRecorder, detail string) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401; body %s", w.Code, w.Body)
	}
	if m := decode(t, w); len(m) != 1 || m["detail"] != detail {
		t.Fatalf("body = %s, want {\"detail\": %q}", w.Body, detail)
	}
}

const invalidSession = "Invalid or expired session token"

func TestBearerOnMeCreatesTheUser(t *testing.T) {
	a := newAPI(t)
	sub := uuid.NewString()
	for name, tok := range map[string]string{
		"HS256": a.hs256(claims(sub)),
		"ES256": a.es.sign(t, claims(sub)),
	} {
		t.Run(name, func(t *testing.T) {
			w := a.do(http.MethodGet, "/api/v1/me", bearer(tok), "")
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; body %s", w.Code, w.Body)
			}
			m := decode(t, w)
			if m["auth"] != "bearer" || m["user_id"] != sub || m["email"] != "jo@example.com" {
				t.Fatalf("me = %s", w.Body)
			}
		})
	}
	u, err := a.store.User(context.Background(), sub)
	if err != nil || u.Email != "jo@example.com" || u.Credits != 0 {
		t.Fatalf("user = %+v, %v; want created with the token's email and no credits", u, err)
	}
	if n, _ := a.store.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
}

func TestBearerFirstRequestsAtOnceCreateOneUser(t *testing.T) {
	a := newAPI(t)
	sub := uuid.NewString()
	tok := a.hs256(claims(sub))
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = a.do(http.MethodGet, "/api/v1/me", bearer(tok), "").Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	if n, _ := a.store.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d users after 16 concurrent first requests, want 1", n)
	}
}

func TestBearerPlacesACall(t *testing.T) {
	a := newAPI(t)
	sub := uuid.NewString()
	tok := a.hs256(claims(sub))
	// The first request creates the user, with no credits.
	w := a.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", bearer(tok), "")
	if w.Code != http.StatusPaymentRequired && w.Code != http.StatusInternalServerError {
		t.Fatalf("first call of a new user: status %d; body %s", w.Code, w.Body)
	}
	ctx := context.Background()
	if err := a.accounts.SetCredits(ctx, sub, money.FromUnits(10)); err != nil {
		t.Fatal(err)
	}
	line, err := a.accounts.AddLine(ctx, accounts.AddLine{UserID: sub, Number: "+14155550100", Provider: "simulated"})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := a.accounts.CreateAgent(ctx, accounts.CreateAgent{UserID: sub, Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.accounts.SetMapping(ctx, line.ID, call.Target{AgentID: ag.ID}); err != nil {
		t.Fatal(err)
	}
	w = a.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", bearer(tok), "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	m := decode(t, w)
	if m["status"] != "success" || m["user_id"] != sub {
		t.Fatalf("create_call = %s", w.Body)
	}
	cs, err := a.store.Session(ctx, m["call_session_id"].(string))
	if err != nil || cs.UserID != sub {
		t.Fatalf("session %+v, %v", cs, err)
	}
}

func TestBearerManagesAPIKeys(t *testing.T) {
	a := newAPI(t)
	sub := uuid.NewString()
	tok := a.hs256(claims(sub))
	w := a.do(http.MethodPost, "/api/v1/api-keys", bearer(tok), `{"name":"from the dashboard"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	key := decode(t, w)["api_key"].(map[string]any)["key"].(string)
	a.tokens = append(a.tokens, "x."+key)
	w = a.do(http.MethodGet, "/api/v1/me", http.Header{"X-Api-Key": {key}}, "")
	if w.Code != http.StatusOK || decode(t, w)["user_id"] != sub || decode(t, w)["auth"] != "api_key" {
		t.Fatalf("the new key on /me: %d %s", w.Code, w.Body)
	}
	// With both, x-api-key decides.
	h := bearer(a.hs256(claims(uuid.NewString())))
	h["X-Api-Key"] = []string{key}
	if w := a.do(http.MethodGet, "/api/v1/me", h, ""); decode(t, w)["user_id"] != sub {
		t.Fatalf("x-api-key beside a Bearer: %s", w.Body)
	}
}

func TestBearerRefusals(t *testing.T) {
	a := newAPI(t)
	sub := uuid.NewString()
	now := time.Now()
	for name, h := range map[string]http.Header{
		"expired":          bearer(a.hs256(with(claims(sub), map[string]any{"exp": now.Add(-time.Hour).Unix()}))),
		"not yet valid":    bearer(a.hs256(with(claims(sub), map[string]any{"nbf": now.Add(time.Hour).Unix()}))),
		"wrong audience":   bearer(a.hs256(with(claims(sub), map[string]any{"aud": "anon"}))),
		"wrong issuer":     bearer(a.hs256(with(claims(sub), map[string]any{"iss": "https://other.supabase.co/auth/v1"}))),
		"service role":     bearer(a.hs256(with(claims(sub), map[string]any{"role": "service_role"}))),
		"sub not a UUID":   bearer(a.hs256(with(claims(sub), map[string]any{"sub": "42"}))),
		"garbage":          bearer("abc.def.ghi"),
		"empty token":      {"Authorization": {"Bearer "}},
		"lower-case name":  {"Authorization": {"bearer garbage"}},
		"two headers":      {"Authorization": {"Bearer " + a.hs256(claims(sub)), "Bearer " + a.hs256(claims(sub))}},
		"unknown ES256 id": bearer(newES256(t, "nope").sign(t, claims(sub))),
	} {
		t.Run(name, func(t *testing.T) {
			for _, target := range []string{"/api/v1/me", "/api/call/create_call?phoneNumber=%2B14155550123"} {
				method := http.MethodGet
				if strings.HasPrefix(target, "/api/call") {
					method = http.MethodPost
				}
				want401(t, a.do(method, target, h, ""), invalidSession)
			}
		})
	}
	if n, _ := a.store.CountUsers(context.Background()); n != 0 {
		t.Fatalf("refused tokens created %d users", n)
	}
	// Another scheme is not a Bearer token: without an API key it is the usual 401.
	want401(t, a.do(http.MethodGet, "/api/v1/me", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, ""), "Invalid or missing API key")
}
