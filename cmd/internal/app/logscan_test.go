package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
)

// TestLogsHoldNoSecrets runs the service through much of what it does (calls placed, refused
// and failed at carriers that echo what they are sent, a carrier whose circuit breaker opens,
// session tokens good and bad, malformed requests) with every log line captured at debug level,
// then scans them all for API keys, JWTs and the JWT secret, carrier credentials and whole
// phone numbers.
func TestLogsHoldNoSecrets(t *testing.T) {
	const (
		goodSID, goodToken = "AC11111111111111111111111111111111", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
		badSID, badToken   = "AC22222222222222222222222222222222", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
		downSID, downToken = "AC33333333333333333333333333333333", "ccccccccccccccccccccccccccccccc3"
		jwtSecret          = "super-secret-jwt-signing-key-of-the-project-0123456789"
	)
	var echoed atomic.Int32
	// A carrier that repeats back what it was sent: the number called, the account and the token.
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		echo := fmt.Sprintf("to=%s from=%s account=%s token=%s", r.PostForm.Get("To"), r.PostForm.Get("From"), user, pass)
		w.Header().Set("Content-Type", "application/json")
		switch user {
		case goodSID:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}`)
		case badSID:
			echoed.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"code":20003,"message":%q,"status":401}`, "Authenticate "+echo)
		default:
			echoed.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"code":20500,"message":%q,"status":500}`, "Internal error "+echo)
		}
	}))
	defer twilio.Close()

	r := startApp(t, map[string]string{
		"KUPE_TWILIO_API_BASE_URL": twilio.URL, "KUPE_SUPABASE_JWT_SECRET": jwtSecret,
		"KUPE_BREAKER_FAILURES": "2", "KUPE_CARRIER_TIMEOUT": "2s",
	}, nil, nil)
	sim := r.customer(call.ProviderSimulated, "+14155550100", nil)
	good := r.customer(call.ProviderTwilio, "+14155550101", map[string]string{"account_sid": goodSID, "auth_token": goodToken})
	bad := r.customer(call.ProviderTwilio, "+14155550102", map[string]string{"account_sid": badSID, "auth_token": badToken})
	down := r.customer(call.ProviderTwilio, "+14155550103", map[string]string{"account_sid": downSID, "auth_token": downToken})
	dests := []string{"+14155550123", "+14155550199", "+919876543210", "+442071838750"}

	want := func(what string, a answer, status int) {
		t.Helper()
		if a.err != nil || a.status != status {
			t.Fatalf("%s: %d %s %v, want %d", what, a.status, a.raw, a.err, status)
		}
	}
	want("simulated call", r.createCall(sim.key, dests[0], `{"variable_values":{"name":"Ada","card":"4111111111111111"}}`), http.StatusOK)
	if a := r.createCall(sim.key, dests[1], ""); a.body["status"] != "failed" {
		t.Fatalf("simulated refusal: %s", a.raw)
	}
	want("twilio call", r.createCall(good.key, dests[2], ""), http.StatusOK)
	if a := r.createCall(bad.key, dests[3], ""); a.body["status"] != "failed" {
		t.Fatalf("refused credentials: %s", a.raw)
	}
	for i := range 4 { // two failures open the breaker; the next two fail fast
		a := r.createCall(down.key, dests[i], "")
		if a.body["status"] != "failed" {
			t.Fatalf("carrier down, call %d: %s", i, a.raw)
		}
		if i >= 2 && a.body["detail"] != "carrier unavailable" {
			t.Fatalf("call %d with the breaker open: %s", i, a.raw)
		}
	}
	if echoed.Load() != 3 {
		t.Fatalf("the echoing carrier answered %d refusals, want 3 (1 bad credentials, 2 failures before the breaker opened)", echoed.Load())
	}
	if r.logs.FilterMessage("carrier circuit breaker").Len() == 0 {
		t.Fatal("the breaker's opening was not logged")
	}

	// Session tokens: a good one, a forged one, an expired one, garbage.
	mint := func(secret string, exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": sim.userID, "aud": "authenticated", "role": "authenticated", "email": "ada@example.com",
			"exp": exp.Unix(), "iat": time.Now().Unix(),
		}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	goodJWT := mint(jwtSecret, time.Now().Add(time.Hour))
	forged := mint("not-the-secret-not-the-secret-not-the-secret", time.Now().Add(time.Hour))
	expired := mint(jwtSecret, time.Now().Add(-time.Hour))
	garbage := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
	for _, tok := range []string{goodJWT, forged, expired, garbage} {
		r.do(http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+tok)
		r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", "", "", "Authorization", "Bearer "+tok)
	}
	// Keys that are no one's, a key in the wrong place, malformed requests.
	unknown := identity.NewAPIKey()
	r.do(http.MethodGet, "/api/v1/me", unknown, "")
	r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123&agent_id="+sim.key, sim.key, "")
	r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%zz", sim.key, "{")
	r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", sim.key, `{"variable_values":`+strings.Repeat("[", 5000))
	r.do(http.MethodGet, "/api/v1/call-analytics?page=1&page_size=10", sim.key, "")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	secrets := []string{sim.key, good.key, bad.key, down.key, unknown,
		goodJWT, forged, expired, garbage, jwtSecret,
		goodToken, badToken, downToken, goodSID, badSID, downSID, "4111111111111111",
		sim.line.Number, good.line.Number, bad.line.Number, down.line.Number}
	// JWTs are also caught by their signature part alone.
	for _, tok := range []string{goodJWT, forged, expired} {
		secrets = append(secrets, tok[strings.LastIndexByte(tok, '.')+1:])
	}
	scanLogs(t, r.logs, append(secrets, dests...)...)
	t.Logf("scanned %d log lines", r.logs.Len())
}
