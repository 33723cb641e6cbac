package elisonprovider

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
)

const (
	testUser    = "kupe-ops"
	testPass    = "pw_9c2e7f1a"
	testLine    = "+918047112233"
	testDest    = "+919876543210"
	testTimeout = 300 * time.Millisecond
)

func testRequest() createcall.DialRequest {
	return createcall.DialRequest{
		SessionID: "ses_01J8ZK", RequestID: "req_01J8ZK", LineID: "line_1",
		From: testLine, To: testDest,
		Credentials: call.Credentials{CredUsername: testUser, CredPassword: testPass},
	}
}

func testConfig(base string) Config {
	return Config{
		APIBaseURL:        base,
		Timeout:           testTimeout,
		StatusCallbackURL: func(id string) string { return "https://kupe.test/hooks/elison/" + id },
		StreamURL:         func(r createcall.DialRequest) string { return "wss://kupe.test/stream/" + r.SessionID },
	}
}

// fakeDialer answers logins and leads the way the assumed protocol (doc.go) says, scripted by a
// scenario. The hooks below let a test change one answer.
type fakeDialer struct {
	sc createcalltest.Scenario
	// expiresIn is the login answer's expires_in, 3600 when zero.
	expiresIn int
	// refuseTokens makes the first n leads answer 401, as if the token had been revoked.
	refuseTokens int64
	// hangLogin makes logins hang instead of the lead.
	hangLogin bool

	logins atomic.Int64
	leads  atomic.Int64
	placed atomic.Int64

	mu       sync.Mutex
	tokens   map[string]bool
	lastLead map[string]any
	lastAuth string
}

func (f *fakeDialer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":"error","code":%q,"message":%q}`, code, msg)
	}
	hang := func() {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * testTimeout):
		}
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusBadRequest, "BAD_REQUEST", "POST JSON only")
		return
	}
	switch r.URL.Path {
	case loginPath:
		f.logins.Add(1)
		if f.hangLogin {
			_, _ = io.Copy(io.Discard, r.Body) // a drained body lets the server see the client leave
			hang()
			return
		}
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["username"] != testUser || in["password"] != testPass ||
			f.sc == createcalltest.BadCredentials {
			fail(http.StatusUnauthorized, "INVALID_CREDENTIALS", "Invalid username or password")
			return
		}
		token := "tok-" + randomHex(8)
		f.mu.Lock()
		if f.tokens == nil {
			f.tokens = map[string]bool{}
		}
		f.tokens[token] = true
		f.mu.Unlock()
		exp := f.expiresIn
		if exp == 0 {
			exp = 3600
		}
		fmt.Fprintf(w, `{"token":%q,"expires_in":%d,"token_type":"Bearer"}`, token, exp)
	case leadsPath:
		n := f.leads.Add(1)
		var lead map[string]any
		_ = json.NewDecoder(r.Body).Decode(&lead)
		f.mu.Lock()
		f.lastLead, f.lastAuth = lead, r.Header.Get("Authorization")
		valid := f.tokens[strings.TrimPrefix(f.lastAuth, "Bearer ")]
		f.mu.Unlock()
		if !valid || n <= f.refuseTokens {
			fail(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid or expired token")
			return
		}
		switch f.sc {
		case createcalltest.InvalidDestination:
			fail(http.StatusUnprocessableEntity, "INVALID_PHONE", fmt.Sprintf("Phone %v is not a valid mobile number", lead["phone"]))
			return
		case createcalltest.CallerNotAllowed:
			fail(http.StatusForbidden, "CALLER_ID_NOT_ALLOWED", "The DID 8047112233 assigned to this campaign is blocked")
			return
		case createcalltest.RateLimited:
			fail(http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests")
			return
		case createcalltest.RateLimitedOnce:
			if n == 1 {
				fail(http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests")
				return
			}
		case createcalltest.Unavailable:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html><body><h1>503 Service Temporarily Unavailable</h1><hr><center>nginx</center></body></html>")
			return
		case createcalltest.Hang:
			hang()
			return
		}
		if lead["phone"] == "" || lead["country_code"] == "" {
			fail(http.StatusBadRequest, "MISSING_FIELD", "phone and country_code are required")
			return
		}
		f.placed.Add(1)
		fmt.Fprintf(w, `{"status":"success","queue_id":"Q-%s","message":"Lead queued"}`, randomHex(6))
	default:
		fail(http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	}
}

func (f *fakeDialer) last() (map[string]any, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastLead, f.lastAuth
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func startFake(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusedURL is an address nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
