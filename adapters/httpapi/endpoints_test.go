package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

type pingerFunc func(ctx context.Context) error

func (f pingerFunc) Ping(ctx context.Context) error { return f(ctx) }

func TestHealth(t *testing.T) {
	check := func(t *testing.T, r *rig, status int, health, db string) {
		t.Helper()
		w := r.get("/health", "")
		if w.Code != status {
			t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
		}
		m := decode(t, w)
		if got, want := keys(m), []string{"database", "service", "status", "timestamp", "version"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("keys = %v, want %v", got, want)
		}
		if m["status"] != health || m["database"] != db || m["service"] != "kupe" || m["version"] != "1.2.3" {
			t.Fatalf("body = %s", w.Body)
		}
		ts, err := m["timestamp"].(json.Number).Float64()
		if err != nil || time.Since(time.Unix(int64(ts), 0)).Abs() > time.Minute {
			t.Fatalf("timestamp = %v", m["timestamp"])
		}
	}
	t.Run("healthy", func(t *testing.T) {
		check(t, newRig(t), http.StatusOK, "healthy", "connected")
	})
	t.Run("no database to check", func(t *testing.T) {
		check(t, newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Pinger = nil }), http.StatusOK, "healthy", "connected")
	})
	t.Run("database down", func(t *testing.T) {
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Pinger = pingerFunc(func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: connection refused") })
		})
		check(t, r, http.StatusServiceUnavailable, "unhealthy", "disconnected")
		if n := r.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 1 {
			t.Fatalf("%d error log lines, want 1", n)
		}
	})
	t.Run("ping bounded", func(t *testing.T) {
		var deadline time.Time
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Pinger = pingerFunc(func(ctx context.Context) error {
				deadline, _ = ctx.Deadline()
				return nil
			})
		})
		check(t, r, http.StatusOK, "healthy", "connected")
		if left := time.Until(deadline); left <= 0 || left > 2*time.Second {
			t.Fatalf("ping deadline %v away, want at most 2s", left)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			d.Pinger = pingerFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		})
		start := time.Now()
		check(t, r, http.StatusServiceUnavailable, "unhealthy", "disconnected")
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("health took %v", took)
		}
	})
}

func TestMe(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	w := r.get("/api/v1/me", a.key)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", w.Code, w.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	u, err := r.store.User(context.Background(), a.userID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"user_id": a.userID, "email": u.Email, "phone": nil, "profile_image_url": nil,
		"auth": "api_key", "full_name": nil, "user_metadata": nil}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body = %v, want %v", got, want)
	}
	wantDetail(t, r.get("/api/v1/me", ""), http.StatusUnauthorized, "Invalid or missing API key")
	wantDetail(t, r.get("/api/v1/me", identity.NewAPIKey()), http.StatusUnauthorized, "Invalid or missing API key")
}

// Another authenticator (the Bearer JWT, later) plugs in after x-api-key.
func TestExtraCredential(t *testing.T) {
	var userID string
	bearer := func(req *http.Request) (identity.Principal, error) {
		h := req.Header.Get("Authorization")
		if h == "" {
			return identity.Principal{}, httpapi.ErrNoCredential
		}
		if h != "Bearer good" {
			return identity.Principal{}, fault.ErrUnauthenticated
		}
		return identity.Principal{UserID: userID, Method: identity.AuthBearer}, nil
	}
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Credentials = []httpapi.Credential{bearer} })
	a := r.user(money.FromUnits(5), false)
	userID = a.userID
	send := func(auth, key string) map[string]any {
		req, _ := http.NewRequest(http.MethodGet, "/api/v1/me", nil)
		req.Header.Set("Authorization", auth)
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		w := serve(r, req)
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		m["code"] = w.Code
		return m
	}
	if m := send("Bearer good", ""); m["code"] != 200 || m["auth"] != "bearer" || m["user_id"] != a.userID {
		t.Fatalf("bearer: %v", m)
	}
	if m := send("Bearer bad", ""); m["code"] != 401 {
		t.Fatalf("bad bearer: %v", m)
	}
	// The x-api-key comes first: a good key wins over a bad token.
	if m := send("Bearer bad", a.key); m["code"] != 200 || m["auth"] != "api_key" {
		t.Fatalf("key and bad bearer: %v", m)
	}
}

// A store that cannot check a key is a 500, not a 401: the key may well be good.
func TestAuthStoreDown(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Auth = &accounts.Authenticator{Keys: brokenKeys{}} })
	wantDetail(t, r.get("/api/v1/me", identity.NewAPIKey()), http.StatusInternalServerError, "Internal server error")
}

// brokenKeys fails the key lookup; the other methods are never reached.
type brokenKeys struct{ accounts.KeyStore }

func (brokenKeys) APIKeyByHash(context.Context, identity.KeyHash) (identity.APIKey, error) {
	return identity.APIKey{}, errors.New("pool exhausted")
}

func TestCallAnalyticsByRequestID(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	w := r.post(callURL("phoneNumber", destination), a.key, `{"variable_values": {"name": "Ada"}}`)
	created := decode(t, w)
	failed := decode(t, r.post(callURL("phoneNumber", rejectedDest), a.key, ""))
	rid := created["request_id"].(string)

	w = r.get("/api/v1/call-analytics?request_id="+rid, a.key)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "simulated") || strings.Contains(w.Body.String(), "line-secret-token") ||
		strings.Contains(w.Body.String(), "redacted") {
		t.Fatalf("session JSON shows the provider or a credential: %s", w.Body)
	}
	m := decode(t, w)
	s := r.session(created["call_session_id"].(string))
	want := map[string]any{
		"call_session_id": s.ID, "request_id": rid, "status": "initiated", "user_id": a.userID,
		"agent_id": a.agent.ID, "workflow_id": nil, "phone_number_id": a.line.ID, "telephony_provider": "pstn",
		"from_number": lineNumber, "to_number": destination, "variable_values": map[string]any{"name": "Ada"},
		"telephony_leg_id": s.LegID, "detail": nil, "duration_seconds": json.Number("0"), "cost": json.Number("0"),
		"answered_at": nil, "ended_at": nil,
		"created_at": s.CreatedAt.UTC().Format(time.RFC3339Nano), "updated_at": s.UpdatedAt.UTC().Format(time.RFC3339Nano),
		"rendered_system_prompt": nil, "rendered_first_message": nil, // the agent has no prompt
		"answered_by": nil,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("session JSON =\n%v\nwant\n%v", m, want)
	}

	m = decode(t, r.get("/api/v1/call-analytics?request_id="+failed["request_id"].(string), a.key))
	if m["status"] != "failed" || m["detail"] != failed["detail"] || m["ended_at"] == nil || m["telephony_leg_id"] != nil ||
		!reflect.DeepEqual(m["variable_values"], map[string]any{}) {
		t.Fatalf("failed session JSON = %v", m)
	}

	for name, tc := range map[string]struct{ key, rid string }{
		"other user's":             {other.key, rid},
		"unknown":                  {a.key, uuid.NewString()},
		"not a uuid":               {a.key, "abc"},
		"empty":                    {a.key, ""},
		"other user's, uppercased": {other.key, strings.ToUpper(rid)},
	} {
		t.Run(name, func(t *testing.T) {
			wantDetail(t, r.get("/api/v1/call-analytics?request_id="+tc.rid, tc.key), http.StatusNotFound, "Session not found")
		})
	}
	if w := r.get("/api/v1/call-analytics?request_id="+strings.ToUpper(rid), a.key); w.Code != http.StatusOK {
		t.Fatalf("own session by uppercased request_id: %d %s", w.Code, w.Body)
	}
	wantDetail(t, r.get("/api/v1/call-analytics?request_id="+rid, ""), http.StatusUnauthorized, "Invalid or missing API key")
}

func TestCallAnalyticsPages(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	// 25 calls that stay initiated: more than the default cap of 20 active calls.
	r.setLimits(a.userID, func(l *identity.Limits) error { l.MaxConcurrentCalls = 100; return nil })
	other := r.user(money.FromUnits(5), true)
	r.post(callURL("phoneNumber", destination), other.key, "")
	var ids []string
	for i := 0; i < 25; i++ {
		m := decode(t, r.post(callURL("phoneNumber", destination), a.key, ""))
		ids = append([]string{m["call_session_id"].(string)}, ids...) // newest first
	}
	type page struct {
		Items    []map[string]any `json:"items"`
		Total    int              `json:"total"`
		Page     int              `json:"page"`
		PageSize int              `json:"page_size"`
	}
	list := func(t *testing.T, query string) page {
		t.Helper()
		w := r.get("/api/v1/call-analytics"+query, a.key)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d, body %s", w.Code, w.Body)
		}
		var p page
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || !strings.Contains(w.Body.String(), `"items":[`) {
			t.Fatalf("body %s: %v", w.Body, err)
		}
		for _, it := range p.Items {
			if it["user_id"] != a.userID {
				t.Fatalf("another user's session in the list: %v", it)
			}
		}
		return p
	}
	for _, tc := range []struct {
		query                    string
		items, total, page, size int
		first                    int // index into ids of the first item
	}{
		{"", 25, 25, 1, 100, 0},
		{"?page=1&page_size=10", 10, 25, 1, 10, 0},
		{"?page=3&page_size=10", 5, 25, 3, 10, 20},
		{"?page=4&page_size=10", 0, 25, 4, 10, -1},
		{"?page=2", 5, 25, 2, 20, 20},
		{"?page_size=100", 25, 25, 1, 100, 0},
		{"?page_size=1", 1, 25, 1, 1, 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := list(t, tc.query)
			if len(p.Items) != tc.items || p.Total != tc.total || p.Page != tc.page || p.PageSize != tc.size {
				t.Fatalf("got %d items, total %d, page %d, size %d; want %d, %d, %d, %d",
					len(p.Items), p.Total, p.Page, p.PageSize, tc.items, tc.total, tc.page, tc.size)
			}
			if tc.first >= 0 && p.Items[0]["call_session_id"] != ids[tc.first] {
				t.Fatalf("first item %v, want session %s", p.Items[0]["call_session_id"], ids[tc.first])
			}
		})
	}
	for _, tc := range []struct{ query, detail string }{
		{"?page_size=0", "page_size must be from 1 to 100"},
		{"?page_size=101", "page_size must be from 1 to 100"},
		{"?page=0", "page must be 1 or more"},
		{"?page=-1&page_size=5", "page must be 1 or more"},
		{"?page=abc", "page must be an integer"},
		{"?page=1.5", "page must be an integer"},
		{"?page=", "page must be an integer"},
		{"?page_size=ten", "page_size must be an integer"},
		{"?page=99999999999999999999", "page must be an integer"},
		{"?page=999999999&page_size=100", "page is too large"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			wantDetail(t, r.get("/api/v1/call-analytics"+tc.query, a.key), http.StatusUnprocessableEntity, tc.detail)
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	wantDetail(t, r.get("/nope", ""), http.StatusNotFound, "Not Found")
	wantDetail(t, r.get("/api/v1/nope", a.key), http.StatusNotFound, "Not Found")
	w := r.get(createCall+"?phoneNumber=%2B14155550123", a.key)
	wantDetail(t, w, http.StatusMethodNotAllowed, "Method Not Allowed")
	if allow := w.Header().Get("Allow"); allow != http.MethodPost {
		t.Fatalf("Allow = %q", allow)
	}
	wantDetail(t, r.post("/health", "", ""), http.StatusMethodNotAllowed, "Method Not Allowed")
	if n := r.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("%d error log lines for client errors", n)
	}
}

func TestPanicRecovered(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.Pinger = pingerFunc(func(context.Context) error { panic("boom at 0xdeadbeef") })
	})
	w := r.get("/health", "")
	wantDetail(t, w, http.StatusInternalServerError, "Internal server error")
	errs := r.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 || errs[0].ContextMap()["request_id"] != w.Header().Get("X-Request-Id") {
		t.Fatalf("error logs = %v", errs)
	}
	// The engine keeps serving.
	if w := r.get("/nope", ""); w.Code != http.StatusNotFound {
		t.Fatalf("after a panic: %d", w.Code)
	}
}

// One debug line per request, naming the route and never the query (which holds the number).
func TestRequestLog(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	r.post(callURL("phoneNumber", destination), a.key, "")
	lines := r.logs.FilterMessage("http request").All()
	if len(lines) != 1 {
		t.Fatalf("%d request log lines, want 1", len(lines))
	}
	f := lines[0].ContextMap()
	if f["route"] != createCall || f["status"] != int64(200) || f["method"] != "POST" || f["request_id"] == "" {
		t.Fatalf("request log = %v", f)
	}
	if lines[0].Level != zapcore.DebugLevel {
		t.Fatalf("request log level = %v", lines[0].Level)
	}
}

func TestRequestIDHeader(t *testing.T) {
	r := newRig(t)
	req, _ := http.NewRequest(http.MethodGet, "/health", nil)
	req.Header.Set("X-Request-Id", "lb-1234.abc_DEF")
	if got := serve(r, req).Header().Get("X-Request-Id"); got != "lb-1234.abc_DEF" {
		t.Fatalf("X-Request-Id = %q, want the caller's", got)
	}
	req.Header.Set("X-Request-Id", "evil\nline")
	if got := serve(r, req).Header().Get("X-Request-Id"); got == "" || strings.ContainsAny(got, "\n ") {
		t.Fatalf("X-Request-Id = %q, want a fresh one", got)
	}
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := r.get("/health", "").Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request id %q repeats", id)
		}
		seen[id] = true
	}
}

func TestNewRefusesMissingDeps(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New did not panic without use cases")
		}
	}()
	httpapi.New(httpapi.Deps{}, httpapi.Config{}, nil)
}

// With shared rate limits /health says whether Redis answers, and stays 200 when it does not;
// without them it says nothing of Redis.
func TestHealthReportsRedis(t *testing.T) {
	if body := decode(t, newRig(t).get("/health", "")); body["redis"] != nil {
		t.Fatalf("health without Redis = %v, want no redis field", body)
	}
	for _, state := range []string{"connected", "disconnected"} {
		r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Redis = redisStatus(state) })
		w := r.get("/health", "")
		if body := decode(t, w); w.Code != http.StatusOK || body["redis"] != state || body["status"] != "healthy" {
			t.Fatalf("health with Redis %s = %d %v", state, w.Code, body)
		}
	}
}
