package elisonprovider

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
	"github.com/kupe-voice/kupe/internal/testkit"
)

func TestCarrierContract(t *testing.T) {
	createcalltest.RunCarrierSuite(t, createcalltest.CarrierHarness{
		Timeout: testTimeout,
		Start: func(t *testing.T, sc createcalltest.Scenario) (createcalltest.CarrierRig, bool) {
			f := newFakeDialer(t, sc, fakecarrier.Options{})
			return f.Rig(New(testConfig(f.URL)), testRequest()), true
		},
	})
}

func dial(t *testing.T, c *Carrier, req createcall.DialRequest) (string, *createcall.DialError) {
	t.Helper()
	leg, de := createcalltest.Dial(t, c, req)
	if de == nil {
		return leg, nil
	}
	if de.Reason == "" || strings.ContainsAny(de.Reason, "{<") || strings.Contains(strings.ToLower(de.Reason), "elison") ||
		strings.Contains(de.Reason, "9876543210") {
		t.Errorf("reason %q", de.Reason)
	}
	for _, secret := range []string{testPass, testDest, "8047112233"} {
		if strings.Contains(de.Error(), secret) {
			t.Errorf("error %q contains %q", de.Error(), secret)
		}
	}
	return leg, de
}

func TestDialSendsTheLead(t *testing.T) {
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	leg, de := dial(t, New(testConfig(f.URL)), testRequest())
	if de != nil {
		t.Fatalf("Dial: %v", de)
	}
	if !strings.HasPrefix(leg, "Q-") {
		t.Fatalf("leg id %q, want the queue id", leg)
	}
	got := f.Received()
	lead, auth := got.Lead, got.Auth
	want := map[string]any{
		"phone":         "9876543210",
		"country_code":  "91",
		"websocket_url": "wss://kupe.test/stream/ses_01J8ZK",
		"webhook_url":   "https://kupe.test/hooks/elison/ses_01J8ZK",
		"reference":     "ses_01J8ZK",
	}
	if fmt.Sprint(lead) != fmt.Sprint(want) {
		t.Errorf("lead %v, want %v", lead, want)
	}
	if !strings.HasPrefix(auth, "Bearer tok-") {
		t.Errorf("Authorization %q, want the login's bearer token", auth)
	}
}

func TestNewLeadSplitsTheNumber(t *testing.T) {
	for _, tc := range []struct{ to, phone, cc string }{
		{"+919876543210", "9876543210", "91"},
		{"+918047112233", "8047112233", "91"},
		{"+12024561111", "2024561111", "1"},
		{"+442071838750", "2071838750", "44"},
		{"+390612345678", "0612345678", "39"}, // Italy keeps its leading zero
	} {
		lead, err := newLead(createcall.DialRequest{To: tc.to}, "wss://s", "https://h")
		if err != nil || lead.Phone != tc.phone || lead.CountryCode != tc.cc {
			t.Errorf("newLead(%s) = %q, %q, %v; want %q, %q", tc.to, lead.Phone, lead.CountryCode, err, tc.phone, tc.cc)
		}
	}
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	req := testRequest()
	req.To = "not a number"
	if _, de := dial(t, New(testConfig(f.URL)), req); de == nil || de.Kind != createcall.DialInvalidDestination ||
		f.Logins()+f.Dials() != 0 {
		t.Fatalf("Dial error %v, want invalid destination before any request", de)
	}
}

func TestTokenIsReused(t *testing.T) {
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	c := New(testConfig(f.URL))
	for range 2 {
		if _, de := dial(t, c, testRequest()); de != nil {
			t.Fatalf("Dial: %v", de)
		}
	}
	if f.Logins() != 1 || f.Accepted() != 2 {
		t.Fatalf("%d logins for %d calls, want 1 for 2", f.Logins(), f.Accepted())
	}
}

func TestConcurrentDialsShareOneLogin(t *testing.T) {
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	c := New(testConfig(f.URL))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 20 {
		wg.Go(func() {
			if _, err := c.Dial(context.Background(), testRequest()); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || f.Logins() != 1 || f.Accepted() != 20 {
		t.Fatalf("%d failed, %d logins, %d placed; want 0, 1, 20", failed.Load(), f.Logins(), f.Accepted())
	}
}

func TestTokenExpiry(t *testing.T) {
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{ElisonExpiresIn: 600})
	c := New(testConfig(f.URL))
	now := time.Now()
	c.tokens.now = func() time.Time { return now }
	for _, step := range []struct {
		after  time.Duration
		logins int64
	}{
		{0, 1},
		{8 * time.Minute, 1},  // still usable
		{90 * time.Second, 2}, // 9m30s: within the refresh margin, so a new login
	} {
		now = now.Add(step.after)
		if _, de := dial(t, c, testRequest()); de != nil {
			t.Fatalf("Dial: %v", de)
		}
		if f.Logins() != step.logins {
			t.Fatalf("after %v: %d logins, want %d", step.after, f.Logins(), step.logins)
		}
	}
	if got := tokenUsableFor(0); got != defaultTokenLifetime-tokenRefreshMargin {
		t.Errorf("no expires_in: usable for %v", got)
	}
	if got := tokenUsableFor(1 << 62); got != maxTokenLifetime-tokenRefreshMargin {
		t.Errorf("an absurd expires_in: usable for %v", got)
	}
	if got := tokenUsableFor(60); got != 30*time.Second {
		t.Errorf("a one-minute token: usable for %v, want half of it", got)
	}
}

func TestUnauthorizedLeadLogsInAgainOnce(t *testing.T) {
	t.Run("a revoked token is replaced", func(t *testing.T) {
		f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
		c := New(testConfig(f.URL))
		if _, de := dial(t, c, testRequest()); de != nil { // caches a token
			t.Fatalf("Dial: %v", de)
		}
		f.RefuseTokens(2) // the next lead (the 2nd) is refused
		leg, de := dial(t, c, testRequest())
		if de != nil || leg == "" {
			t.Fatalf("Dial = %q, %v; want the retry with a new token to succeed", leg, de)
		}
		if f.Logins() != 2 || f.Dials() != 3 || f.Accepted() != 2 {
			t.Fatalf("%d logins, %d leads, %d placed; want 2, 3, 2", f.Logins(), f.Dials(), f.Accepted())
		}
	})
	t.Run("a second refusal is bad credentials", func(t *testing.T) {
		f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
		f.RefuseTokens(100)
		_, de := dial(t, New(testConfig(f.URL)), testRequest())
		if de == nil || de.Kind != createcall.DialBadCredentials {
			t.Fatalf("Dial error %v, want bad credentials", de)
		}
		if f.Logins() != 2 || f.Dials() != 2 {
			t.Fatalf("%d logins, %d leads; want 2 and 2", f.Logins(), f.Dials())
		}
	})
}

func TestTokenIsNotSharedWithoutThePassword(t *testing.T) {
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	c := New(testConfig(f.URL))
	if _, de := dial(t, c, testRequest()); de != nil {
		t.Fatalf("Dial: %v", de)
	}
	req := testRequest()
	req.Credentials[CredPassword] = "guessed-wrong"
	if _, de := dial(t, c, req); de == nil || de.Kind != createcall.DialBadCredentials {
		t.Fatalf("Dial with a wrong password: %v, want bad credentials", de)
	}
	if f.Accepted() != 1 || f.Logins() != 2 {
		t.Fatalf("%d placed, %d logins; the wrong password must log in itself and fail", f.Accepted(), f.Logins())
	}
}

func TestLoginFailuresPlaceNothing(t *testing.T) {
	t.Run("a login that hangs is unavailable, not unknown", func(t *testing.T) {
		f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{ElisonHangLogin: true})
		_, de := dial(t, New(testConfig(f.URL)), testRequest())
		if de == nil || de.Kind != createcall.DialUnavailable || f.Dials() != 0 || f.Logins() != 1 {
			t.Fatalf("Dial error %v after %d logins, %d leads; want unavailable after one login", de, f.Logins(), f.Dials())
		}
	})
	for _, tc := range []struct {
		status int
		body   string
		want   createcall.DialErrorKind
	}{
		{503, `<html>down</html>`, createcall.DialUnavailable},
		{500, `{"status":"error","code":"INTERNAL","message":"oops"}`, createcall.DialUnavailable},
		{403, `{"status":"error","code":"ACCOUNT_DISABLED","message":"disabled"}`, createcall.DialBadCredentials},
		{404, `not found`, createcall.DialBadCredentials},
		{200, `{"status":"error","code":"INVALID_CREDENTIALS","message":"no"}`, createcall.DialBadCredentials},
		{200, `{"expires_in":3600}`, createcall.DialUnavailable},
		{200, `<html>login page</html>`, createcall.DialUnavailable},
	} {
		t.Run(fmt.Sprintf("HTTP %d %s", tc.status, tc.body), func(t *testing.T) {
			var leads atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc(loginPath, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			mux.HandleFunc(leadsPath, func(w http.ResponseWriter, r *http.Request) { leads.Add(1) })
			_, de := dial(t, New(testConfig(testkit.Serve(t, mux))), testRequest())
			if de == nil || de.Kind != tc.want || leads.Load() != 0 {
				t.Fatalf("Dial error %v after %d leads, want %s and none sent", de, leads.Load(), tc.want)
			}
		})
	}
}

func TestDialReadsLeadAnswers(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		wantLeg string
		want    createcall.DialErrorKind
	}{
		{200, `{"status":"success","queue_id":"Q-1"}`, "Q-1", 0},
		{201, `{"status":"success","queue_id":48213}`, "48213", 0},
		{200, `{"queue_id":"Q-2"}`, "Q-2", 0},
		{200, `{"status":"success"}`, "", createcall.DialUnknown},
		{200, `<html>queued</html>`, "", createcall.DialUnknown},
		{200, `{"status":"error","code":"DND","message":"Number 9876543210 is on DND"}`, "", createcall.DialInvalidDestination},
		{200, `{"status":"ERROR","code":"something-new"}`, "", createcall.DialRejected},
		{400, `{"status":"error","code":"invalid-number"}`, "", createcall.DialInvalidDestination},
		{400, `{"status":"error","code":"Invalid Caller ID"}`, "", createcall.DialCallerNotAllowed},
		{403, `{"status":"error","code":"FORBIDDEN"}`, "", createcall.DialBadCredentials},
		{402, `{"status":"error","code":"LOW_BALANCE"}`, "", createcall.DialRejected},
		{422, `{"status":"error","code":"VALIDATION"}`, "", createcall.DialRejected},
		{502, `{"status":"error","code":"INVALID_PHONE"}`, "", createcall.DialUnavailable},
	} {
		t.Run(fmt.Sprintf("HTTP %d %s", tc.status, tc.body), func(t *testing.T) {
			var leads atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc(loginPath, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"token":"t1","expires_in":"3600"}`)
			})
			mux.HandleFunc(leadsPath, func(w http.ResponseWriter, r *http.Request) {
				leads.Add(1)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			leg, de := dial(t, New(testConfig(testkit.Serve(t, mux))), testRequest())
			switch {
			case tc.want == 0 && (de != nil || leg != tc.wantLeg):
				t.Fatalf("Dial = %q, %v; want leg %q", leg, de, tc.wantLeg)
			case tc.want != 0 && (de == nil || de.Kind != tc.want):
				t.Fatalf("Dial = %q, %v; want %s", leg, de, tc.want)
			}
			if leads.Load() != 1 {
				t.Fatalf("%d leads sent, want 1", leads.Load())
			}
		})
	}
}

func TestSettings(t *testing.T) {
	c := New(Config{})
	for _, tc := range []struct {
		creds map[string]string
		want  string // "" for an error
	}{
		{map[string]string{CredUsername: "u", CredPassword: "p", CredBaseURL: "https://dialer.example.in/"}, "https://dialer.example.in"},
		{map[string]string{CredUsername: "u", CredPassword: "p", CredBaseURL: "https://dialer.example.in/vl"}, "https://dialer.example.in/vl"},
		{map[string]string{CredUsername: "u", CredPassword: "p", CredBaseURL: "http://dialer.example.in"}, ""},
		{map[string]string{CredUsername: "u", CredPassword: "p", CredBaseURL: "https://x:y@dialer.example.in"}, ""},
		{map[string]string{CredUsername: "u", CredPassword: "p", CredBaseURL: "https://dialer.example.in?a=b"}, ""},
		{map[string]string{CredUsername: "u", CredPassword: "p"}, ""},
		{map[string]string{CredUsername: "u", CredBaseURL: "https://dialer.example.in"}, ""},
	} {
		a, err := c.account(tc.creds)
		if (err == nil) != (tc.want != "") || a.base != tc.want {
			t.Errorf("account(%v) = %q, %v; want %q", tc.creds, a.base, err, tc.want)
		}
	}
	f := newFakeDialer(t, createcalltest.Accept, fakecarrier.Options{})
	cfg := testConfig(f.URL)
	cfg.StreamURL = nil
	if _, de := dial(t, New(cfg), testRequest()); de == nil || de.Kind != createcall.DialUnavailable || f.Logins() != 0 {
		t.Fatalf("Dial without a stream URL: %v, want unavailable before any request", de)
	}
}

// New works as an fx constructor, as the wiring (cmd/internal/app) could use it.
func TestNewIsAnFxConstructor(t *testing.T) {
	if err := fx.ValidateApp(fx.Provide(New), fx.Supply(Config{}), fx.Invoke(func(*Carrier) {})); err != nil {
		t.Fatal(err)
	}
}
