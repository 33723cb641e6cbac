package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// hostileRequests is how many random malformed requests TestHostileRequests sends.
const hostileRequests = 3000

// TestHostileRequests sends thousands of random, mostly malformed requests (methods, paths,
// query strings with broken escapes, headers, bodies of every shape and size, content types) to
// the engine and checks every answer:
//
//   - never a 5xx, never a panic;
//   - a 4xx (or any other non-2xx, non-3xx) carries exactly {"detail": "..."} as JSON;
//   - a 2xx only for a request with the caller's real API key (its request may well be valid) or
//     a GET of a public route (/health, /ready, the API's documents), and its body is JSON;
//   - a 3xx only as gin's redirect of a path with a stray trailing slash, with a Location.
//
// The service then still answers /health with 200, and no log line holds the key, a phone
// number or a line credential (the rig checks every line at cleanup).
func TestHostileRequests(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(1_000_000), true)
	r.secrets = append(r.secrets, "line-secret-token", fakeJWT)
	g := &hostile{rng: rand.New(rand.NewPCG(2026, 11)), key: a.key, agent: a.agent.ID, line: a.line.ID}
	counts := map[int]int{}
	for i := range hostileRequests {
		req, desc := g.request()
		path := req.URL.Path // gin rewrites it when it redirects
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("request %d (%s) panicked: %v", i, desc, v)
				}
			}()
			r.engine.ServeHTTP(w, req)
		}()
		counts[w.Code]++
		checkHostileAnswer(t, i, desc, req, path, w, a.key)
	}
	t.Logf("statuses of %d hostile requests: %v", hostileRequests, counts)
	if w := r.get("/health", ""); w.Code != http.StatusOK {
		t.Fatalf("/health after the barrage = %d %s", w.Code, w.Body)
	}
	if counts[http.StatusOK] == 0 || counts[http.StatusUnauthorized] == 0 || counts[http.StatusUnprocessableEntity] == 0 ||
		counts[http.StatusNotFound] == 0 || counts[http.StatusRequestEntityTooLarge] == 0 {
		t.Fatalf("the barrage did not reach every kind of answer: %v", counts)
	}
}

var publicGETs = map[string]bool{"/health": true, "/ready": true, "/docs": true, "/openapi.json": true}

func checkHostileAnswer(t *testing.T, i int, desc string, req *http.Request, path string, w *httptest.ResponseRecorder, key string) {
	t.Helper()
	body := w.Body.Bytes()
	switch {
	case w.Code >= 500:
		t.Fatalf("request %d (%s) answered %d: %s", i, desc, w.Code, body)
	case w.Code >= 300 && w.Code < 400:
		loc := w.Header().Get("Location")
		if loc == "" || strings.TrimSuffix(path, "/") == path {
			t.Fatalf("request %d (%s) answered %d to %q", i, desc, w.Code, loc)
		}
	case w.Code >= 200 && w.Code < 300:
		withKey := len(req.Header.Values("X-Api-Key")) == 1 && req.Header.Get("X-Api-Key") == key
		if !withKey && !(req.Method == http.MethodGet && publicGETs[path]) {
			t.Fatalf("request %d (%s) answered %d without the caller's key: %s", i, desc, w.Code, body)
		}
		if len(body) > 0 && path != "/docs" && !json.Valid(body) {
			t.Fatalf("request %d (%s) answered %d with a body that is not JSON: %q", i, desc, w.Code, body)
		}
	default:
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
			t.Fatalf("request %d (%s) answered %d with %q, want exactly {\"detail\": ...}", i, desc, w.Code, body)
		}
		if d, ok := m["detail"].(string); !ok || d == "" {
			t.Fatalf("request %d (%s) answered %d with %q, want a detail string", i, desc, w.Code, body)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("request %d (%s) answered %d with Content-Type %q", i, desc, w.Code, ct)
		}
	}
}

// fakeJWT is shaped like a JWT: it must be refused, and never logged.
const fakeJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ.c2lnbmF0dXJlLW5vdC12YWxpZA"

type hostile struct {
	rng               *rand.Rand
	key, agent, line  string
	methods, paths    []string
	contentTypes      []string
	phones, ids, junk []string
}

func (g *hostile) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *hostile) chance(p float64) bool { return g.rng.Float64() < p }

// bytesOf returns n random bytes, any value at all.
func (g *hostile) bytesOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	return b
}

func (g *hostile) init() {
	g.methods = []string{"GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "get", ""}
	g.paths = []string{
		"/api/call/create_call", "/api/call/create_call", "/api/call/create_call", "/api/call/create_call/",
		"/API/CALL/CREATE_CALL", "/api/call/create_call/extra", "/api/call/", "/api/call/status-callback/twilio/x",
		"/api/v1/me", "/api/v1/call-analytics", "/api/v1/call-analytics/", "/api/v1/agents", "/api/v1/api-keys",
		"/health", "/ready", "/", "//", "/api/../health", "/api/v1/me/../../health", "/docs", "/openapi.json",
		"/%00", "/api/call/create_call%00", "/ap%69/v1/me", "/" + strings.Repeat("a", 5000),
	}
	g.contentTypes = []string{"", "application/json", "application/json; charset=utf-8", "application/json; charset=utf-16",
		"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "multipart/form-data",
		"application/xml", "*/*", "application/json\x00", ";;;", strings.Repeat("a/b;", 500)}
	g.phones = []string{"%2B14155550123", "+14155550123", "14155550123", "%2B15551234567", "%2B1", "%2B", "", "%", "%2",
		"%zz", "%2B%2B14155550123", "%2B1415555012%", "%ff%fe", "%00", "%2B919876543210", "tel:%2B14155550123",
		"%2B1+415+555+0123", strings.Repeat("9", 300), "%2B14155550199", "%E2%80%AE%2B14155550123", "null", "[]"}
	g.ids = []string{"", "42", "not-a-uuid", "%zz", "00000000-0000-0000-0000-000000000000", "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01",
		g.agent, g.line, strings.Repeat("f", 36), "6F1C1F64-8D1C-4A55-9A3B-2F0D8A1E9C01", "{6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01}",
		"urn:uuid:6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01"}
	g.junk = []string{"%", "%%", "%g0", "&&&", "=", "==", "a=%", ";", "phoneNumber", "phoneNumber=", "page=-1", "page=99999999999999999999",
		"page_size=0", "page_size=1000", "page=1&page_size=10", "request_id=%zz", "request_id=x", "status=bogus", "page=%ff"}
}

// request makes one random request and says what it is, for failure messages.
func (g *hostile) request() (*http.Request, string) {
	if g.methods == nil {
		g.init()
	}
	// Most requests are create_call's, so that most reach its parsing; the rest go anywhere.
	method, path := http.MethodPost, "/api/call/create_call"
	if g.chance(0.35) {
		method, path = g.pick(g.methods), g.pick(g.paths)
	}
	if g.chance(0.03) {
		path = "/" + url.PathEscape(string(g.bytesOf(g.rng.IntN(40))))
	}
	query := g.query()
	body, ctype := g.body()
	req := &http.Request{
		Method:     method,
		URL:        &url.URL{Path: path, RawQuery: query},
		RequestURI: path + "?" + query,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:     http.Header{},
		Host:       "kupe.test",
		RemoteAddr: "192.0.2.1:1234",
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		switch g.rng.IntN(6) {
		case 0:
			req.ContentLength = -1 // chunked: only the read limit holds
		case 1:
			req.ContentLength = int64(g.rng.IntN(1 << 20)) // a lie
		}
	} else {
		req.Body = http.NoBody
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch g.rng.IntN(8) {
	case 0: // no key
	case 1:
		req.Header.Set("x-api-key", identity.NewAPIKey()) // well-formed, unknown
	case 2:
		req.Header.Set("x-api-key", g.pick([]string{"", "kupe_", "kupe_" + strings.Repeat("A", 38), string(g.bytesOf(44)), g.key + " ", strings.ToUpper(g.key)}))
	case 3:
		req.Header["X-Api-Key"] = []string{g.key, g.key}
	case 4:
		req.Header.Set("Authorization", g.pick([]string{"Bearer " + fakeJWT, "Bearer", "Bearer  ", "Basic YTpi", "bearer " + fakeJWT, "Bearer " + string(g.bytesOf(30))}))
	default:
		req.Header.Set("x-api-key", g.key)
	}
	if g.chance(0.2) {
		req.Header.Set("X-Request-Id", g.pick([]string{"abc", strings.Repeat("x", 100), "a\nb", "../../etc", string(g.bytesOf(10))}))
	}
	if g.chance(0.1) {
		req.Header.Set("Origin", g.pick([]string{"https://evil.example", "null", "http://localhost:3000", string(g.bytesOf(8))}))
	}
	if g.chance(0.05) {
		req.Header.Set("Idempotency-Key", g.pick([]string{"", strings.Repeat("k", 1000), string(g.bytesOf(20)), "abc"}))
	}
	desc := fmt.Sprintf("%s %q query %.80q body %d bytes %q", method, clip(path, 60), query, len(body), ctype)
	return req, desc
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (g *hostile) query() string {
	var parts []string
	for range g.rng.IntN(5) {
		switch g.rng.IntN(6) {
		case 0, 1:
			parts = append(parts, "phoneNumber="+g.pick(g.phones))
		case 2:
			parts = append(parts, g.pick([]string{"agent_id", "workflow_id", "phone_number_id", "request_id"})+"="+g.pick(g.ids))
		case 3:
			parts = append(parts, g.pick(g.junk))
		case 4:
			parts = append(parts, url.QueryEscape(string(g.bytesOf(g.rng.IntN(20))))+"="+string(g.bytesOf(g.rng.IntN(20))))
		default:
			parts = append(parts, "phoneNumber="+g.pick(g.phones)+"&phoneNumber="+g.pick(g.phones))
		}
	}
	sep := "&"
	if g.chance(0.1) {
		sep = ";"
	}
	return strings.Join(parts, sep)
}

func (g *hostile) body() ([]byte, string) {
	ctype := g.pick(g.contentTypes)
	var b []byte
	switch g.rng.IntN(16) {
	case 0:
		return nil, ctype
	case 1:
		b = []byte{}
	case 2:
		b = g.bytesOf(g.rng.IntN(200))
	case 3:
		b = g.bytesOf(70 << 10) // over the body cap
	case 4:
		b = []byte(`{"variable_values": {"name": "` + strings.Repeat("x", 17<<10) + `"}}`) // over the variables cap
	case 5:
		b = []byte(strings.Repeat("[", 100_000))
	case 6:
		b = []byte(`{"variable_values": ` + strings.Repeat(`{"a":`, 20_000) + `1` + strings.Repeat("}", 20_000) + `}`)
	case 7:
		b = []byte(g.pick([]string{`{`, `}`, `{"variable_values":}`, `{"variable_values": [1,2]}`, `{"variable_values": "x"}`,
			`{"variable_values": 1e999}`, `{"variable_values": null}`, `{"variable_values": {"a": {"b": 1}}}`, `{} {}`, `{}garbage`,
			`null`, `[]`, `"str"`, `{"variable_values": {"": "empty key"}}`, `{"variable_values": {"a": "\ud800"}}`,
			"\xef\xbb\xbf{}", `{"variable_values": {"a": 1, "a": 2}}`, `{"VARIABLE_VALUES": {"name": "x"}}`}))
	case 8:
		var sb strings.Builder
		sb.WriteString(`{"variable_values": {`)
		for i := range g.rng.IntN(120) {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `"k%d": %q`, i, strings.Repeat("v", g.rng.IntN(6000)))
		}
		sb.WriteString(`}}`)
		b = []byte(sb.String())
	case 9:
		b = []byte("phoneNumber=%2B14155550123&variable_values=x")
	case 10:
		b = []byte("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xyz--\r\n")
	case 11:
		b = []byte(`<?xml version="1.0"?><call><to>+14155550123</to></call>`)
	default:
		b = []byte(`{"variable_values": {"name": "Ada", "n": 3, "vip": true}}`)
	}
	return b, ctype
}
