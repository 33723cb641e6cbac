package exotelprovider

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit"
)

func TestCarrierContract(t *testing.T) {
	createcalltest.RunCarrierSuite(t, createcalltest.CarrierHarness{
		Timeout: testTimeout,
		Start: func(t *testing.T, sc createcalltest.Scenario) (createcalltest.CarrierRig, bool) {
			f := newFakeExotel(t, sc)
			rig := f.Rig(New(testConfig(f.URL)), testRequest())
			rig.Honoured = func() call.Options {
				form := f.Received().Form
				ring, _ := strconv.Atoi(form.Get("TimeOut"))
				limit, _ := strconv.Atoi(form.Get("TimeLimit"))
				return call.Options{RingTimeout: time.Duration(ring) * time.Second, MaxDuration: time.Duration(limit) * time.Second}
			}
			return rig, true
		},
	})
}

func dial(t *testing.T, c *Carrier, req createcall.DialRequest) (string, *createcall.DialError) {
	t.Helper()
	return createcalltest.Dial(t, c, req)
}

func TestDialSendsTheConnectRequest(t *testing.T) {
	f := newFakeExotel(t, createcalltest.Accept)
	c := New(testConfig(f.URL))
	leg, de := dial(t, c, testRequest())
	if de != nil {
		t.Fatalf("Dial: %v", de)
	}
	if len(leg) != 32 {
		t.Fatalf("leg id %q, want the carrier's 32-character Sid", leg)
	}
	got := f.Received()
	if got.Path != "/v1/Accounts/"+testAccount+"/Calls/connect.json" {
		t.Errorf("path %q", got.Path)
	}
	if got.User != testKey || got.Password != testToken {
		t.Errorf("basic auth %q:%q, want the line's api key and token", got.User, got.Password)
	}
	want := map[string]string{
		"From":                      testDest, // Exotel calls From first: the destination
		"CallerId":                  testLine,
		"StreamUrl":                 "wss://kupe.test/stream/ses_01J8ZK",
		"StreamType":                "bidirectional",
		"StatusCallback":            "https://kupe.test/hooks/exotel/ses_01J8ZK",
		"StatusCallbackEvents[0]":   "terminal",
		"StatusCallbackEvents[1]":   "answered",
		"StatusCallbackContentType": "application/json",
		"TimeLimit":                 "3600",
		"TimeOut":                   "30",
		"CustomField":               "ses_01J8ZK",
	}
	for k, v := range want {
		if g := got.Form[k]; len(g) != 1 || g[0] != v {
			t.Errorf("form %s = %q, want %q", k, g, v)
		}
	}
	for k := range got.Form {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected form field %s = %q", k, got.Form[k])
		}
	}
}

func TestDialRunsTheLinesFlowApp(t *testing.T) {
	f := newFakeExotel(t, createcalltest.Accept)
	cfg := testConfig(f.URL)
	cfg.TimeLimit, cfg.RingTimeout = 600, 45
	req := testRequest()
	req.Credentials[CredFlowURL] = "http://my.exotel.com/kupe42/exoml/start_voice/12345"
	if _, de := dial(t, New(cfg), req); de != nil {
		t.Fatalf("Dial: %v", de)
	}
	form := f.Received().Form
	if g := form.Get("Url"); g != req.Credentials[CredFlowURL] {
		t.Errorf("Url = %q, want the line's flow app", g)
	}
	if form.Has("StreamUrl") || form.Has("StreamType") {
		t.Errorf("a flow app dial also sent a stream: %v", form)
	}
	if form.Get("TimeLimit") != "600" || form.Get("TimeOut") != "45" {
		t.Errorf("TimeLimit %q TimeOut %q, want the configured 600 and 45", form.Get("TimeLimit"), form.Get("TimeOut"))
	}
}

func TestDialReadsAnswers(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		wantLeg string
		want    createcall.DialErrorKind
	}{
		{"upper-case keys", 200, `{"Call":{"Sid":"a1b2c3","Status":"in-progress"}}`, "a1b2c3", 0},
		{"lower-case keys", 200, `{"call":{"sid":"d4e5f6","status":"in-progress"}}`, "d4e5f6", 0},
		{"numeric code", 400, `{"RestException":{"Status":400,"Message":"Invalid number","Code":34001}}`, "", createcall.DialInvalidDestination},
		{"string code", 400, `{"RestException":{"Status":"400","Message":"Invalid number","Code":"34001"}}`, "", createcall.DialInvalidDestination},
		{"lower-case exception", 400, `{"restexception":{"status":400,"message":"invalid number","code":34002}}`, "", createcall.DialInvalidDestination},
		{"destination named only in the message", 400, `{"RestException":{"Status":400,"Message":"This number is in DND","Code":null}}`, "", createcall.DialInvalidDestination},
		{"caller id with a 34xxx code", 400, `{"RestException":{"Status":400,"Message":"CallerId is not an ExoPhone","Code":34010}}`, "", createcall.DialCallerNotAllowed},
		{"exception with HTTP 200", 200, `{"RestException":{"Status":400,"Message":"Invalid CallerId","Code":"34010"}}`, "", createcall.DialCallerNotAllowed},
		{"exception with HTTP 200, no status", 200, `{"RestException":{"Message":"Something odd"}}`, "", createcall.DialRejected},
		{"exception with HTTP 200, status 401", 200, `{"RestException":{"Status":401,"Message":"Authentication failed"}}`, "", createcall.DialBadCredentials},
		{"other 400", 400, `{"RestException":{"Status":400,"Message":"TimeLimit must be a number","Code":"10001"}}`, "", createcall.DialRejected},
		{"forbidden", 403, `{"RestException":{"Status":403,"Message":"Account suspended"}}`, "", createcall.DialBadCredentials},
		{"forbidden destination", 403, `{"RestException":{"Status":403,"Message":"Your account may not call this number"}}`, "", createcall.DialInvalidDestination},
		{"payment required", 402, `{"RestException":{"Status":402,"Message":"Insufficient balance"}}`, "", createcall.DialRejected},
		{"not found", 404, `not found`, "", createcall.DialRejected},
		{"server error", 500, `{"RestException":{"Status":500,"Message":"Internal error"}}`, "", createcall.DialUnavailable},
		{"200 without a Sid", 200, `{"Call":{"Status":"queued"}}`, "", createcall.DialUnknown},
		{"200 with an empty body", 200, ``, "", createcall.DialUnknown},
		{"200 with HTML", 200, `<html>ok</html>`, "", createcall.DialUnknown},
		{"200 with a Sid unfit for a leg id", 200, `{"Call":{"Sid":"a b"}}`, "", createcall.DialUnknown},
		{"redirect", 302, ``, "", createcall.DialUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &canned{status: tc.status, body: tc.body}
			leg, de := dial(t, New(testConfig(testkit.Serve(t, h))), testRequest())
			switch {
			case tc.want == 0 && de != nil:
				t.Fatalf("Dial: %v, want leg %q", de, tc.wantLeg)
			case tc.want == 0 && leg != tc.wantLeg:
				t.Fatalf("leg %q, want %q", leg, tc.wantLeg)
			case tc.want != 0 && de == nil:
				t.Fatalf("Dial = leg %q, want a %s error", leg, tc.want)
			case tc.want != 0 && de.Kind != tc.want:
				t.Fatalf("kind %s (%v), want %s", de.Kind, de, tc.want)
			}
			if de != nil {
				checkReason(t, de)
			}
			if got := h.n.Load(); got != 1 {
				t.Fatalf("the carrier got %d requests, want 1", got)
			}
		})
	}
}

// checkReason: a customer-facing reason names no vendor, echoes nothing of the carrier's answer
// and holds no number; the log side (Error) holds no credential or whole number either.
func checkReason(t *testing.T, de *createcall.DialError) {
	t.Helper()
	for _, bad := range []string{"exotel", "{", "<", "9876543210", "8047112233", "exophone", "callerid"} {
		if strings.Contains(strings.ToLower(de.Reason), bad) {
			t.Errorf("reason %q contains %q", de.Reason, bad)
		}
	}
	for _, bad := range []string{testDest, testLine, testToken} {
		if strings.Contains(de.Error(), bad) {
			t.Errorf("error %q contains %q", de.Error(), bad)
		}
	}
}

func TestRefusalKeepsTheNumberOutOfLogs(t *testing.T) {
	f := newFakeExotel(t, createcalltest.InvalidDestination)
	_, de := dial(t, New(testConfig(f.URL)), testRequest())
	if de == nil || de.Kind != createcall.DialInvalidDestination {
		t.Fatalf("Dial error %v, want invalid destination", de)
	}
	checkReason(t, de)
	if !strings.Contains(de.Error(), "+91******3210") {
		t.Errorf("error %q should keep the masked number for logs", de.Error())
	}
}

func TestRetries(t *testing.T) {
	t.Run("429 is retried twice, then refused", func(t *testing.T) {
		f := newFakeExotel(t, createcalltest.RateLimited)
		_, de := dial(t, New(testConfig(f.URL)), testRequest())
		if de == nil || de.Kind != createcall.DialRateLimited {
			t.Fatalf("Dial error %v, want rate limited", de)
		}
		if got := f.Dials(); got != 3 {
			t.Fatalf("the carrier got %d requests, want 3 (two retries)", got)
		}
	})
	t.Run("a long Retry-After is not waited for", func(t *testing.T) {
		h := &canned{status: 429, header: http.Header{"Retry-After": {"30"}}}
		t0 := time.Now()
		_, de := dial(t, New(testConfig(testkit.Serve(t, h))), testRequest())
		if de == nil || de.Kind != createcall.DialRateLimited || h.n.Load() != 1 || time.Since(t0) > 5*time.Second {
			t.Fatalf("Dial error %v after %d requests in %v, want one rate-limited request", de, h.n.Load(), time.Since(t0))
		}
	})
	t.Run("the context ends the backoff", func(t *testing.T) {
		h := &canned{status: 429, header: http.Header{"Retry-After": {"2"}}}
		c := New(testConfig(testkit.Serve(t, h)))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := c.Dial(ctx, testRequest())
		var de *createcall.DialError
		if !errors.As(err, &de) || de.Kind != createcall.DialRateLimited {
			t.Fatalf("Dial error %v, want rate limited", err)
		}
		if time.Since(t0) > time.Second || h.n.Load() != 1 {
			t.Fatalf("Dial took %v and %d requests; the context should end the wait", time.Since(t0), h.n.Load())
		}
	})
	t.Run("5xx is not retried", func(t *testing.T) {
		f := newFakeExotel(t, createcalltest.Unavailable)
		_, de := dial(t, New(testConfig(f.URL)), testRequest())
		if de == nil || de.Kind != createcall.DialUnavailable || f.Dials() != 1 {
			t.Fatalf("Dial error %v after %d requests, want one unavailable request", de, f.Dials())
		}
	})
	t.Run("a cancelled context sends nothing", func(t *testing.T) {
		f := newFakeExotel(t, createcalltest.Accept)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(testConfig(f.URL)).Dial(ctx, testRequest())
		var de *createcall.DialError
		if !errors.As(err, &de) || de.Kind != createcall.DialUnavailable || f.Dials() != 0 {
			t.Fatalf("Dial error %v after %d requests, want unavailable and none sent", err, f.Dials())
		}
	})
}

func TestBodyIsCapped(t *testing.T) {
	// Valid JSON behind 100 KiB of whitespace: read whole it would give a leg id.
	h := &canned{status: 200, body: strings.Repeat(" ", 100<<10) + `{"Call":{"Sid":"abc"}}`}
	leg, de := dial(t, New(testConfig(testkit.Serve(t, h))), testRequest())
	if de == nil || de.Kind != createcall.DialUnknown {
		t.Fatalf("Dial = %q, %v; want unknown for an answer past the cap", leg, de)
	}
}

func TestSettings(t *testing.T) {
	t.Run("missing credentials", func(t *testing.T) {
		f := newFakeExotel(t, createcalltest.Accept)
		req := testRequest()
		delete(req.Credentials, CredAPIToken)
		_, de := dial(t, New(testConfig(f.URL)), req)
		if de == nil || de.Kind != createcall.DialBadCredentials || f.Dials() != 0 {
			t.Fatalf("Dial error %v, want bad credentials before any request", de)
		}
	})
	t.Run("no stream and no flow", func(t *testing.T) {
		f := newFakeExotel(t, createcalltest.Accept)
		cfg := testConfig(f.URL)
		cfg.StreamURL = nil
		_, de := dial(t, New(cfg), testRequest())
		if de == nil || de.Kind != createcall.DialUnavailable || f.Dials() != 0 {
			t.Fatalf("Dial error %v, want unavailable before any request", de)
		}
	})
	c := New(Config{})
	for _, tc := range []struct {
		creds map[string]string
		want  string // "" for an error
	}{
		{map[string]string{}, "https://api.exotel.com"},
		{map[string]string{CredRegion: "in"}, "https://api.in.exotel.com"},
		{map[string]string{CredRegion: "Singapore"}, "https://api.exotel.com"},
		{map[string]string{CredSubdomain: "api.in.exotel.com"}, "https://api.in.exotel.com"},
		{map[string]string{CredSubdomain: "@api.in.exotel.com", CredRegion: "sg"}, "https://api.in.exotel.com"},
		{map[string]string{CredSubdomain: "https://api.exotel.com/"}, "https://api.exotel.com"},
		{map[string]string{CredSubdomain: "attacker.example.com"}, ""},
		{map[string]string{CredSubdomain: "api.exotel.com.attacker.example"}, ""},
		{map[string]string{CredSubdomain: "x@evil.exotel.com"}, ""},
		{map[string]string{CredRegion: "mars"}, ""},
	} {
		got, err := c.baseURL(tc.creds)
		if (err == nil) != (tc.want != "") || got != tc.want {
			t.Errorf("baseURL(%v) = %q, %v; want %q", tc.creds, got, err, tc.want)
		}
	}
}

// New works as an fx constructor, as the wiring (cmd/internal/app) could use it.
func TestNewIsAnFxConstructor(t *testing.T) {
	if err := fx.ValidateApp(fx.Provide(New), fx.Supply(Config{}), fx.Invoke(func(*Carrier) {})); err != nil {
		t.Fatal(err)
	}
}
