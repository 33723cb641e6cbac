package fakecarrier_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/kupe-voice/kupe/internal/fakecarrier"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "f00dfacef00dfacef00dfacef00dface"
)

var callSid = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

func start(t *testing.T, opts fakecarrier.Options) (*fakecarrier.Carrier, string) {
	t.Helper()
	c := fakecarrier.New(opts)
	s, err := fakecarrier.Listen("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c, s.URL
}

// post sends a form with basic auth and decodes the JSON answer.
func post(t *testing.T, u, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("answer is not a JSON object: %q", raw)
	}
	return resp.StatusCode, body
}

func dialForm(to string) url.Values {
	return url.Values{"To": {to}, "From": {"+14155550100"}, "Twiml": {"<Response/>"}}
}

func TestTwilioCreateAnswersTheCallResource(t *testing.T) {
	c, base := start(t, fakecarrier.Options{})
	status, body := post(t, base+"/2010-04-01/Accounts/"+sid+"/Calls.json", sid, token, dialForm("+14155550123"))
	if status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %v", status, body)
	}
	got, _ := body["sid"].(string)
	if !callSid.MatchString(got) {
		t.Errorf("sid %q, want CA and 32 hex digits", got)
	}
	for k, want := range map[string]any{"account_sid": sid, "to": "+14155550123", "from": "+14155550100",
		"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01", "to_formatted": "(415) 555-0123",
		"uri": "/2010-04-01/Accounts/" + sid + "/Calls/" + got + ".json", "price": nil} {
		if v, ok := body[k]; !ok || v != want {
			t.Errorf("%s = %v, want %v", k, v, want)
		}
	}
	if c.Accepted() != 1 || c.Refused() != 0 {
		t.Errorf("accepted %d refused %d, want 1 and 0", c.Accepted(), c.Refused())
	}
	last, ok := c.Last()
	if !ok || last.Carrier != "twilio" || last.Account != sid || last.User != sid || last.Sid != got ||
		last.Form.Get("Twiml") != "<Response/>" {
		t.Errorf("last dial %+v", last)
	}

	// The call can be fetched back, by its own account only.
	req, _ := http.NewRequest(http.MethodGet, base+"/2010-04-01/Accounts/"+sid+"/Calls/"+got+".json", nil)
	req.SetBasicAuth(sid, token)
	if status, body := do(t, req); status != http.StatusOK || body["sid"] != got || body["status"] != "queued" {
		t.Errorf("fetch: %d %v", status, body)
	}
	other := "AC" + strings.Repeat("9", 32)
	req, _ = http.NewRequest(http.MethodGet, base+"/2010-04-01/Accounts/"+other+"/Calls/"+got+".json", nil)
	req.SetBasicAuth(other, token)
	if status, body := do(t, req); status != http.StatusNotFound || body["code"] != 20404.0 {
		t.Errorf("fetch from another account: %d %v", status, body)
	}
}

func TestTwilioRefusals(t *testing.T) {
	c, base := start(t, fakecarrier.Options{Reject: []string{"+14155550198"}})
	u := base + "/2010-04-01/Accounts/" + sid + "/Calls.json"
	for name, tc := range map[string]struct {
		user   string
		form   url.Values
		status int
		code   float64
	}{
		"invalid destination": {sid, dialForm("+14155550198"), 400, 21211},
		"no To":               {sid, url.Values{"From": {"+14155550100"}}, 400, 21201},
		"no From":             {sid, url.Values{"To": {"+14155550123"}}, 400, 21213},
		"no credentials":      {"", dialForm("+14155550123"), 401, 20003},
	} {
		status, body := post(t, u, tc.user, token, tc.form)
		if status != tc.status || body["code"] != tc.code || body["status"] != float64(tc.status) || body["message"] == "" ||
			!strings.HasPrefix(body["more_info"].(string), "https://www.twilio.com/docs/errors/") {
			t.Errorf("%s: %d %v, want %d code %v", name, status, body, tc.status, tc.code)
		}
	}
	if c.Accepted() != 0 || c.Refused() != 4 {
		t.Errorf("accepted %d refused %d, want 0 and 4", c.Accepted(), c.Refused())
	}
	if _, ok := c.Last(); ok {
		t.Error("Last reports a dial although none was accepted")
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if status, body := do(t, req); status != http.StatusNotFound || body["code"] != 20404.0 {
		t.Errorf("GET Calls.json: %d %v, want 404", status, body)
	}
}

func TestTwilioAccountsAreChecked(t *testing.T) {
	_, base := start(t, fakecarrier.Options{Accounts: map[string]string{sid: token}})
	u := base + "/2010-04-01/Accounts/" + sid + "/Calls.json"
	if status, _ := post(t, u, sid, "wrong", dialForm("+14155550123")); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", status)
	}
	other := "AC" + strings.Repeat("9", 32)
	if status, _ := post(t, base+"/2010-04-01/Accounts/"+other+"/Calls.json", other, token, dialForm("+14155550123")); status != http.StatusUnauthorized {
		t.Errorf("unknown account: %d, want 401", status)
	}
	if status, body := post(t, u, sid, token, dialForm("+14155550123")); status != http.StatusCreated {
		t.Errorf("right credentials: %d %v, want 201", status, body)
	}
}

// rewrite sends twilio-go's requests for api.twilio.com to the fake.
type rewrite struct{ base *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.base.Scheme, r.base.Host
	return http.DefaultTransport.RoundTrip(req)
}

// The SDK our Twilio adapter uses reads the fake's answers as it reads Twilio's.
func TestTwilioSDKReadsTheFake(t *testing.T) {
	c, base := start(t, fakecarrier.Options{Reject: []string{"+14155550198"}})
	bu, _ := url.Parse(base)
	cl := &client.Client{Credentials: client.NewCredentials(sid, token), HTTPClient: &http.Client{Transport: rewrite{bu}}}
	cl.SetAccountSid(sid)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: token, AccountSid: sid, Client: cl})
	rc.SetEdge("")
	rc.SetRegion("")

	p := &api.CreateCallParams{}
	p.SetTo("+14155550123")
	p.SetFrom("+14155550100")
	p.SetTwiml("<Response/>")
	call, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if call.Sid == nil || !callSid.MatchString(*call.Sid) || call.Status == nil || *call.Status != "queued" ||
		call.To == nil || *call.To != "+14155550123" {
		t.Errorf("call %+v", call)
	}
	fetched, err := rc.Api.FetchCall(*call.Sid, &api.FetchCallParams{})
	if err != nil || fetched.Sid == nil || *fetched.Sid != *call.Sid {
		t.Errorf("FetchCall: %+v %v", fetched, err)
	}

	p.SetTo("+14155550198")
	_, err = rc.Api.CreateCall(p)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != 21211 || te.Status != 400 {
		t.Errorf("refused dial: %v, want a TwilioRestError 21211", err)
	}
	if c.Accepted() != 1 {
		t.Errorf("accepted %d, want 1", c.Accepted())
	}
}

func TestExotelConnect(t *testing.T) {
	c, base := start(t, fakecarrier.Options{Reject: []string{"+919876500000"}})
	u := base + "/v1/Accounts/kupe1/Calls/connect.json"
	status, body := post(t, u, "key", "token", url.Values{"From": {"+919876543210"}, "CallerId": {"08047112233"}})
	call, _ := body["Call"].(map[string]any)
	if status != http.StatusOK || call == nil || len(call["Sid"].(string)) != 32 || call["From"] != "+919876543210" {
		t.Errorf("connect: %d %v", status, body)
	}
	status, body = post(t, u, "key", "token", url.Values{"From": {"+919876500000"}})
	if exc, _ := body["RestException"].(map[string]any); status != http.StatusBadRequest || exc == nil {
		t.Errorf("rejected number: %d %v", status, body)
	}
	if c.Accepted() != 1 || c.Refused() != 1 {
		t.Errorf("accepted %d refused %d, want 1 and 1", c.Accepted(), c.Refused())
	}
}

func TestListenRefusesAPublicAddress(t *testing.T) {
	if _, err := fakecarrier.Listen("0.0.0.0:0", fakecarrier.New(fakecarrier.Options{})); err == nil {
		t.Error("Listen accepted 0.0.0.0")
	}
}
