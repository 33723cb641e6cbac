package twilioprovider_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
)

// testTimeout keeps the hang scenario short.
const testTimeout = 300 * time.Millisecond

const (
	testFrom = "+14155550100"
	testTo   = "+14155550123"
)

func testConfig(baseURL string) twilioprovider.Config {
	return twilioprovider.Config{
		APIBaseURL:        baseURL,
		Timeout:           testTimeout,
		StatusCallbackURL: func(id string) string { return "https://kupe.example/v1/carriers/twilio/status/" + id },
		StreamURL: func(req createcall.DialRequest) string {
			return "wss://kupe.example/media-stream?session=" + req.SessionID + "&request=" + req.RequestID
		},
		AMDCallbackURL: func(id string) string { return "https://kupe.example/api/call/amd-callback/twilio/" + id },
	}
}

// wireOptions reads the call options off a create's form, as Twilio would.
func wireOptions(form url.Values) call.Options {
	ring, _ := strconv.Atoi(form.Get("Timeout"))
	limit, _ := strconv.Atoi(form.Get("TimeLimit"))
	o := call.Options{RingTimeout: time.Duration(ring) * time.Second, MaxDuration: time.Duration(limit) * time.Second}
	// Detection counts only with its asynchronous callback: without it Twilio would hold the
	// call's media until the detection ends.
	if form.Get("AsyncAmd") == "true" && strings.HasPrefix(form.Get("AsyncAmdStatusCallback"), "https://") &&
		form.Get("AsyncAmdStatusCallbackMethod") == "POST" {
		switch form.Get("MachineDetection") {
		case "Enable":
			o.MachineDetection = call.MachineDetectionDetect
		case "DetectMessageEnd":
			o.MachineDetection = call.MachineDetectionEndOfGreeting
		}
	}
	return o
}

func newCarrier(t *testing.T, cfg twilioprovider.Config) *twilioprovider.Carrier {
	t.Helper()
	c, err := twilioprovider.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func testRequest() createcall.DialRequest {
	return createcall.DialRequest{
		SessionID:   "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01",
		RequestID:   "0b7e7c2a-5a43-4f4e-8f59-7f3f5d1a2b3c",
		LineID:      "c1d2e3f4-0000-4000-8000-000000000001",
		From:        testFrom,
		To:          testTo,
		Credentials: call.Credentials{"account_sid": testSID, "auth_token": testToken},
	}
}

func TestCarrierSuite(t *testing.T) {
	createcalltest.RunCarrierSuite(t, createcalltest.CarrierHarness{
		Timeout: testTimeout,
		Start: func(t *testing.T, sc createcalltest.Scenario) (createcalltest.CarrierRig, bool) {
			f := startFake(t, sc)
			rig := f.Rig(newCarrier(t, testConfig(f.URL)), testRequest())
			rig.Honoured = func() call.Options { return wireOptions(f.Received().Form) }
			return rig, true
		},
	})
}

func dial(t *testing.T, c *twilioprovider.Carrier, req createcall.DialRequest) (string, *createcall.DialError) {
	t.Helper()
	return createcalltest.Dial(t, c, req)
}

func TestRequestCarriesTheCallAndItsStream(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	c := newCarrier(t, testConfig(f.URL))
	req := testRequest()
	leg, de := dial(t, c, req)
	if de != nil {
		t.Fatalf("Dial: %v", de)
	}
	if !regexp.MustCompile(`^CA[0-9a-f]{32}$`).MatchString(leg) {
		t.Fatalf("leg id %q, want the call sid", leg)
	}
	got := f.Received()
	if want := "/2010-04-01/Accounts/" + testSID + "/Calls.json"; got.Path != want {
		t.Errorf("path %q, want %q", got.Path, want)
	}
	if got.User != testSID || got.Password != testToken {
		t.Errorf("basic auth user %q, want the line's account sid; password matches: %v", got.User, got.Password == testToken)
	}
	form := got.Form
	wantTwiML := `<Response><Connect><Stream url="wss://kupe.example/media-stream?session=` + req.SessionID + `&amp;request=` + req.RequestID + `">` +
		`<Parameter name="request_id" value="` + req.RequestID + `"/>` +
		`<Parameter name="call_session_id" value="` + req.SessionID + `"/>` +
		`</Stream></Connect></Response>`
	for field, want := range map[string]string{
		"To":                   testTo,
		"From":                 testFrom,
		"Twiml":                wantTwiML,
		"StatusCallback":       "https://kupe.example/v1/carriers/twilio/status/" + req.SessionID,
		"StatusCallbackMethod": "POST",
		"Timeout":              "30",
		"TimeLimit":            "3600",
	} {
		if g := form.Get(field); g != want {
			t.Errorf("form %s = %q, want %q", field, g, want)
		}
	}
	if g, want := strings.Join(form["StatusCallbackEvent"], ","), "initiated,ringing,answered,completed"; g != want {
		t.Errorf("form StatusCallbackEvent = %q, want %q", g, want)
	}
	for _, absent := range []string{"Url", "ApplicationSid", "Record"} {
		if _, ok := form[absent]; ok {
			t.Errorf("form has %s, which the call must not set", absent)
		}
	}
}

func TestRingTimeoutAndTimeLimitAreConfigured(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	cfg := testConfig(f.URL)
	cfg.RingTimeout, cfg.TimeLimit = 45, 600
	if _, de := dial(t, newCarrier(t, cfg), testRequest()); de != nil {
		t.Fatalf("Dial: %v", de)
	}
	if g := f.Received().Form; g.Get("Timeout") != "45" || g.Get("TimeLimit") != "600" {
		t.Fatalf("Timeout, TimeLimit = %q, %q; want 45, 600", g.Get("Timeout"), g.Get("TimeLimit"))
	}
}

func TestStreamValuesAreXMLEscaped(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	cfg := testConfig(f.URL)
	cfg.StreamURL = func(createcall.DialRequest) string { return `wss://kupe.example/s?a=1&b="2"<x>` }
	req := testRequest()
	req.RequestID = `r"<&>'`
	if _, de := dial(t, newCarrier(t, cfg), req); de != nil {
		t.Fatalf("Dial: %v", de)
	}
	twiml := f.Received().Form.Get("Twiml")
	for _, want := range []string{
		`url="wss://kupe.example/s?a=1&amp;b=&#34;2&#34;&lt;x&gt;"`,
		`name="request_id" value="r&#34;&lt;&amp;&gt;&#39;"`,
	} {
		if !strings.Contains(twiml, want) {
			t.Errorf("Twiml %s\nlacks %s", twiml, want)
		}
	}
}

func TestPathPrefixOfTheBaseURL(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	if _, de := dial(t, newCarrier(t, testConfig(f.URL+"/twilio/")), testRequest()); de != nil {
		t.Fatalf("Dial: %v", de)
	}
	if want := "/twilio/2010-04-01/Accounts/" + testSID + "/Calls.json"; f.Received().Path != want {
		t.Fatalf("path %q, want %q", f.Received().Path, want)
	}
}

func TestMissingOrMalformedCredentialsAreRefusedBeforeSending(t *testing.T) {
	for name, creds := range map[string]call.Credentials{
		"none":                            nil,
		"no auth token":                   {"account_sid": testSID},
		"no account sid":                  {"auth_token": testToken},
		"token with a symbol":             {"account_sid": testSID, "auth_token": "f00d-face/f00d+face"},
		"sid with a space":                {"account_sid": "AC 0123", "auth_token": testToken},
		"sid with a letter outside ASCII": {"account_sid": "AC0123é", "auth_token": testToken},
		"token ending in a newline":       {"account_sid": testSID, "auth_token": testToken + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, createcalltest.Accept)
			req := testRequest()
			req.Credentials = creds
			_, de := dial(t, newCarrier(t, testConfig(f.URL)), req)
			if de == nil || de.Kind != createcall.DialBadCredentials {
				t.Fatalf("Dial error = %v, want bad credentials", de)
			}
			if strings.TrimSpace(de.Reason) == "" || strings.Contains(strings.ToLower(de.Reason), "twilio") {
				t.Fatalf("reason %q", de.Reason)
			}
			if f.Dials() != 0 {
				t.Fatalf("the fake received %d dials, want none", f.Dials())
			}
		})
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		sc        createcalltest.Scenario
		wantDials int64
		wantKind  createcall.DialErrorKind
	}{
		{createcalltest.RateLimited, 3, createcall.DialRateLimited}, // first try and two retries
		{createcalltest.Unavailable, 1, createcall.DialUnavailable}, // a 5xx is never retried
		{createcalltest.Hang, 1, createcall.DialUnknown},            // nor is a timeout
		{createcalltest.InvalidDestination, 1, createcall.DialInvalidDestination},
	} {
		t.Run(tc.sc.String(), func(t *testing.T) {
			f := startFake(t, tc.sc)
			_, de := dial(t, newCarrier(t, testConfig(f.URL)), testRequest())
			if de == nil || de.Kind != tc.wantKind {
				t.Fatalf("Dial error = %v, want %s", de, tc.wantKind)
			}
			if f.Dials() != tc.wantDials {
				t.Fatalf("the fake received %d dials, want %d", f.Dials(), tc.wantDials)
			}
			if tc.sc == createcalltest.Unavailable && !strings.Contains(de.Err.Error(), "503") {
				t.Fatalf("error for logs %q does not name the HTTP status", de.Err)
			}
		})
	}
}

func TestRetryStopsWithTheContext(t *testing.T) {
	f := startFake(t, createcalltest.RateLimited)
	c := newCarrier(t, testConfig(f.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := c.Dial(ctx, testRequest())
	var de *createcall.DialError
	if !errors.As(err, &de) || de.Kind != createcall.DialRateLimited {
		t.Fatalf("Dial error = %v, want rate limited", err)
	}
	if time.Since(t0) > 90*time.Millisecond+testTimeout || f.Dials() != 1 {
		t.Fatalf("Dial took %v with %d dials; want it to stop waiting when the context ends", time.Since(t0), f.Dials())
	}
}

func TestConnectionRefusedIsRetriedAndKeepsItsCause(t *testing.T) {
	f := startFake(t, createcalltest.Refused)
	t0 := time.Now()
	_, de := dial(t, newCarrier(t, testConfig(f.URL)), testRequest())
	if de == nil || de.Kind != createcall.DialUnavailable {
		t.Fatalf("Dial error = %v, want unavailable", de)
	}
	if time.Since(t0) < 400*time.Millisecond {
		t.Fatalf("Dial gave up after %v: the two retries (100ms, 300ms) did not happen", time.Since(t0))
	}
	if !strings.Contains(de.Error(), "connection refused") {
		t.Fatalf("error for logs %q does not say the connection was refused", de.Error())
	}
}

// A carrier or proxy that echoes the request back must not get the auth token or whole phone
// numbers into the error that is logged.
func TestLoggedErrorHoldsNoSecretNorNumber(t *testing.T) {
	for _, sc := range []createcalltest.Scenario{createcalltest.InvalidDestination, createcalltest.CallerNotAllowed, createcalltest.BadCredentials} {
		t.Run(sc.String(), func(t *testing.T) {
			f := startFake(t, sc, fakecarrier.Options{Echo: " (auth " + testToken + ")"})
			_, de := dial(t, newCarrier(t, testConfig(f.URL)), testRequest())
			if de == nil {
				t.Fatal("Dial succeeded")
			}
			for _, s := range []string{de.Error(), de.Err.Error(), de.Reason} {
				for _, secret := range []string{testToken, testTo, testFrom} {
					if strings.Contains(s, secret) {
						t.Fatalf("%q contains %q", s, secret)
					}
				}
			}
			if !strings.Contains(de.Err.Error(), "[redacted]") {
				t.Fatalf("Err %q: the token was not replaced", de.Err)
			}
			if errors.Unwrap(de.Err) != nil {
				t.Fatalf("Err unwraps to the raw error %v", errors.Unwrap(de.Err))
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	ok := testConfig("https://api.twilio.com")
	for name, mutate := range map[string]func(*twilioprovider.Config){
		"base url without scheme":   func(c *twilioprovider.Config) { c.APIBaseURL = "api.twilio.com" },
		"base url with credentials": func(c *twilioprovider.Config) { c.APIBaseURL = "https://u:p@api.twilio.com" },
		"base url ftp":              func(c *twilioprovider.Config) { c.APIBaseURL = "ftp://api.twilio.com" },
		"negative timeout":          func(c *twilioprovider.Config) { c.Timeout = -time.Second },
		"ring timeout too long":     func(c *twilioprovider.Config) { c.RingTimeout = 601 },
		"negative time limit":       func(c *twilioprovider.Config) { c.TimeLimit = -1 },
		"no status callback":        func(c *twilioprovider.Config) { c.StatusCallbackURL = nil },
		"no stream url":             func(c *twilioprovider.Config) { c.StreamURL = nil },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := twilioprovider.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	cfg := ok
	cfg.APIBaseURL, cfg.Timeout = "", 0
	if _, err := twilioprovider.New(cfg); err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
}

func TestCancelledBeforeSendingIsNotSent(t *testing.T) {
	f := startFake(t, createcalltest.Accept)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newCarrier(t, testConfig(f.URL)).Dial(ctx, testRequest())
	var de *createcall.DialError
	if !errors.As(err, &de) || de.Kind != createcall.DialUnavailable || f.Dials() != 0 {
		t.Fatalf("Dial with a cancelled context = %v after %d dials; want unavailable, nothing sent", err, f.Dials())
	}
}
