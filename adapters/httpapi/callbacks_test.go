package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zaptest/observer"

	"github.com/kupe-voice/kupe/adapters/entstore/entstoretest"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/fakecarrier"
	"github.com/kupe-voice/kupe/internal/testkit"
	"github.com/kupe-voice/kupe/internal/testkit/apitest"
)

const (
	publicBase   = "https://kupe.example"
	mediaTpl     = "wss://media.example/api/call/media-stream/{request_id}/{call_session_id}"
	twilioSID    = "AC0123456789abcdef0123456789abcdef"
	twilioToken  = "f00dfacef00dfacef00dfacef00dface"
	formType     = "application/x-www-form-urlencoded"
	nickelPerMin = money.Amount(50_000)
)

// leakScan keeps every response body, to be scanned for secrets with the captured log lines.
type leakScan struct {
	logs      *observer.ObservedLogs
	responses []string
}

func (l *leakScan) keep(w *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	l.responses = append(l.responses, w.Body.String())
	return w
}

// The whole life of a Twilio call through the HTTP API, on the ent store (SQLite, credentials
// sealed) and the real Twilio adapter against a local fake: create_call, the signed status
// callbacks with a repeat and a late one, forged ones, then the call log. No credential, API
// key or whole destination number may show in any log line or response.
func TestTwilioCallLifecycleOverHTTP(t *testing.T) {
	ctx := context.Background()
	store := entstoretest.NewSQLite(t)
	acc := &accounts.Accounts{Store: store}
	fake := fakecarrier.New(fakecarrier.Options{Accounts: map[string]string{twilioSID: twilioToken}})
	fakeURL := testkit.Serve(t, fake)
	signer := httpapi.NewCallbackSigner([]byte("callback secret for the test"))
	media := configs.CarriersConfig{MediaStreamURLTpl: mediaTpl}
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: fakeURL, Timeout: 5 * time.Second,
		StatusCallbackURL: func(id string) string {
			return httpapi.StatusCallbackURL(publicBase, call.ProviderTwilio, id, signer)
		},
		StreamURL: func(req createcall.DialRequest) string { return media.MediaStreamURL(req.RequestID, req.SessionID) },
	})
	if err != nil {
		t.Fatal(err)
	}
	deps := apitest.Deps(store, createcall.CarrierSet{call.ProviderTwilio: tw})
	deps.Accounts = acc
	deps.Callbacks = apitest.Callbacks(store, publicBase, signer, call.Tariff{PerMinute: nickelPerMin, IncrementSeconds: 60})
	engine, logs := apitest.New(deps, httpapi.Config{})
	scan := &leakScan{logs: logs}
	send := func(req *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, req)
		return scan.keep(w)
	}

	u, err := acc.CreateUser(ctx, "flow@example.com", money.FromUnits(10))
	mustOK(t, err)
	key, err := acc.CreateAPIKey(ctx, u.ID, "crm")
	mustOK(t, err)
	line, err := acc.AddLine(ctx, accounts.AddLine{UserID: u.ID, Number: lineNumber, Provider: "twilio",
		Credentials: map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}})
	mustOK(t, err)
	agent, err := acc.CreateAgent(ctx, accounts.CreateAgent{UserID: u.ID, Name: "Sales"})
	mustOK(t, err)
	mustOK(t, acc.SetMapping(ctx, line.ID, call.Target{AgentID: agent.ID}))

	// create_call, through the Twilio adapter.
	req := httptest.NewRequest(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", nil)
	req.Header.Set("x-api-key", key.Plain)
	w := send(req)
	if w.Code != http.StatusOK {
		t.Fatalf("create_call: %d %s", w.Code, w.Body)
	}
	created := decode(t, w)
	sessionID, requestID := created["call_session_id"].(string), created["request_id"].(string)
	dialed, placed := fake.Last()
	if !placed || created["status"] != "success" || created["telephony_leg_id"] != dialed.Sid {
		t.Fatalf("create_call answered %s; the carrier placed %+v", w.Body, dialed)
	}

	// What the carrier was given: the callback URL under the public address, and the media
	// stream with both ids in its path and as stream parameters.
	form := dialed.Form
	cbURL := form.Get("StatusCallback")
	if cbURL != publicBase+"/api/call/status-callback/twilio/"+sessionID {
		t.Fatalf("StatusCallback = %q", cbURL)
	}
	stream := strings.NewReplacer("{request_id}", requestID, "{call_session_id}", sessionID).Replace(mediaTpl)
	twiml := form.Get("Twiml")
	for _, want := range []string{`url="` + stream + `"`, `<Parameter name="request_id" value="` + requestID + `"/>`,
		`<Parameter name="call_session_id" value="` + sessionID + `"/>`} {
		if !strings.Contains(twiml, want) {
			t.Fatalf("TwiML %s lacks %s", twiml, want)
		}
	}

	// The carrier's timestamps: whole seconds, in the recent past.
	t0 := time.Now().UTC().Truncate(time.Second).Add(-10 * time.Minute)
	path := strings.TrimPrefix(cbURL, publicBase)
	callback := func(status string, seq, at int, extra url.Values, sig func(url.Values) string) *httptest.ResponseRecorder {
		f := url.Values{"CallSid": {dialed.Sid}, "AccountSid": {twilioSID}, "CallStatus": {status},
			"From": {lineNumber}, "To": {destination}, "Direction": {"outbound-api"}, "ApiVersion": {"2010-04-01"},
			"SequenceNumber": {fmt.Sprint(seq)}, "Timestamp": {t0.Add(time.Duration(at) * time.Second).Format(time.RFC1123Z)}}
		for k, v := range extra {
			f[k] = v
		}
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
		r.Header.Set("Content-Type", formType)
		if s := sig(f); s != "" {
			r.Header.Set(twilioprovider.SignatureHeader, s)
		}
		return send(r)
	}
	signed := func(f url.Values) string { return testkit.TwilioSignature(twilioToken, cbURL, f) }
	ok := func(w *httptest.ResponseRecorder) {
		t.Helper()
		if w.Code != http.StatusOK {
			t.Fatalf("callback: %d %s", w.Code, w.Body)
		}
	}
	ok(callback("initiated", 0, 0, nil, signed))
	ok(callback("ringing", 1, 2, nil, signed))
	ok(callback("in-progress", 2, 10, nil, signed))
	ok(callback("completed", 3, 72, url.Values{"CallDuration": {"62"}}, signed))
	ok(callback("completed", 3, 72, url.Values{"CallDuration": {"62"}}, signed)) // Twilio's retry
	ok(callback("ringing", 1, 2, nil, signed))                                   // late

	// Forged or misdirected callbacks.
	const forged = "Invalid or missing callback signature"
	wantDetail(t, callback("completed", 4, 99, url.Values{"CallDuration": {"3600"}}, func(url.Values) string { return "" }),
		http.StatusForbidden, forged)
	wantDetail(t, callback("completed", 4, 99, url.Values{"CallDuration": {"3600"}},
		func(f url.Values) string {
			return testkit.TwilioSignature("0000000000000000000000000000000a", cbURL, f)
		}), http.StatusForbidden, forged)
	wantDetail(t, callback("completed", 4, 99, url.Values{"CallDuration": {"3600"}},
		func(f url.Values) string {
			return testkit.TwilioSignature(twilioToken, "http://127.0.0.1:8080"+path, f)
		}), http.StatusForbidden, forged)
	other := uuid.NewString()
	r := httptest.NewRequest(http.MethodPost, "/api/call/status-callback/twilio/"+other, strings.NewReader("CallStatus=completed"))
	r.Header.Set("Content-Type", formType)
	r.Header.Set(twilioprovider.SignatureHeader, testkit.TwilioSignature(twilioToken, publicBase+"/api/call/status-callback/twilio/"+other,
		url.Values{"CallStatus": {"completed"}}))
	wantDetail(t, send(r), http.StatusNotFound, "Session not found")
	wantDetail(t, send(httptest.NewRequest(http.MethodPost, "/api/call/status-callback/plivo/"+sessionID, nil)), http.StatusNotFound, "Not Found")
	wantDetail(t, send(httptest.NewRequest(http.MethodPost, "/api/call/status-callback/exotel/"+sessionID+"?token="+signer.Token(sessionID),
		strings.NewReader(`{"Status":"completed"}`))), http.StatusNotFound, "Session not found")

	// The session: completed, timed from the carrier's timestamps, charged once.
	s, err := store.Session(ctx, sessionID)
	mustOK(t, err)
	if s.Status() != call.StatusCompleted || s.Duration != 62*time.Second || s.Cost != 100_000 ||
		!s.AnsweredAt.Equal(t0.Add(10*time.Second)) || !s.EndedAt.Equal(t0.Add(72*time.Second)) {
		t.Fatalf("session: %s duration %v cost %v answered %v ended %v", s.Status(), s.Duration, s.Cost, s.AnsweredAt, s.EndedAt)
	}
	after, err := store.User(ctx, u.ID)
	mustOK(t, err)
	if after.Credits != money.FromUnits(10)-100_000 {
		t.Fatalf("credits %v, want 9.9: charged exactly once for two started minutes", after.Credits)
	}
	req = httptest.NewRequest(http.MethodGet, "/api/v1/call-analytics?request_id="+requestID, nil)
	req.Header.Set("x-api-key", key.Plain)
	w = send(req)
	logged := decode(t, w)
	if logged["status"] != "completed" || fmt.Sprint(logged["cost"]) != "0.1" || fmt.Sprint(logged["duration_seconds"]) != "62" {
		t.Fatalf("call log: %s", w.Body)
	}

	// Nothing secret anywhere. The destination may appear only where the contract puts it: the
	// create_call answer's target_number and the owner's call log's to_number.
	secrets := []string{twilioToken, twilioSID, key.Plain, destination, strings.TrimPrefix(destination, "+")}
	for i, body := range scan.responses {
		body = withoutFields(t, body, "target_number", "to_number")
		if sec := testkit.Leak(body, secrets...); sec != "" {
			t.Errorf("response %d holds a secret (%s…): %s", i, sec[:4], body)
		}
	}
	if n := testkit.ScanLogs(t, logs, secrets...); n < len(scan.responses) {
		t.Fatalf("%d log lines for %d requests: the logs were not captured", n, len(scan.responses))
	}
	if n := logs.FilterMessage("status callback not verified").Len(); n != 3 {
		t.Errorf("%d forged callbacks logged, want 3", n)
	}
}

// withoutFields drops the named fields from a JSON object body; other bodies stay as they are.
func withoutFields(t *testing.T, body string, names ...string) string {
	t.Helper()
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil {
		return body
	}
	for _, n := range names {
		delete(m, n)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tokenRig serves the callbacks of the carriers that prove themselves with a URL token, on
// memstore, with the sessions' lines holding credentials that must never show.
type tokenRig struct {
	t      *testing.T
	store  *memstore.Store
	engine http.Handler
	signer *httpapi.CallbackSigner
	userID string
	scan   *leakScan
}

// Credentials of the token carriers' lines.
const (
	exotelAPIToken = "exo-api-token-5e3c9d7a1b"
	elisonPassword = "elison-password-8f2e4c6a"
)

func newTokenRig(t *testing.T, maxBody int64) *tokenRig {
	t.Helper()
	r := &tokenRig{t: t, store: memstore.New(), signer: httpapi.NewCallbackSigner([]byte("another secret"))}
	acc := &accounts.Accounts{Store: r.store}
	u, err := acc.CreateUser(context.Background(), "token@example.com", money.FromUnits(10))
	mustOK(t, err)
	r.userID = u.ID
	deps := apitest.Deps(r.store, createcall.CarrierSet{})
	deps.Accounts = acc
	deps.Callbacks = apitest.Callbacks(r.store, publicBase, r.signer, call.Tariff{PerMinute: nickelPerMin, IncrementSeconds: 1})
	engine, logs := apitest.New(deps, httpapi.Config{MaxBodyBytes: maxBody})
	r.engine = engine
	r.scan = &leakScan{logs: logs}
	t.Cleanup(func() {
		secrets := []string{exotelAPIToken, elisonPassword, destination}
		for _, text := range r.scan.responses {
			if sec := testkit.Leak(text, secrets...); sec != "" {
				t.Errorf("a response holds a secret (%s…): %s", sec[:4], text)
			}
		}
		if testkit.ScanLogs(t, r.scan.logs, secrets...) == 0 {
			t.Error("no log line captured")
		}
	})
	return r
}

// session stores a dialed session of provider p and returns it with the callback URL's path
// and query, as the carrier was given them.
func (r *tokenRig) session(p call.Provider) (*call.Session, string) {
	r.t.Helper()
	line := call.Line{ID: uuid.NewString(), UserID: r.userID, Number: fmt.Sprintf("+1415555%04d", len(r.scan.responses)+200),
		Provider: p, Active: true, CreatedAt: time.Now().UTC(), Credentials: call.Credentials{
			"api_key": "exo-key", "api_token": exotelAPIToken, "account_sid": "exo-sid", "subdomain": "api.in.exotel.com",
			"username": "eli-user", "password": elisonPassword}}
	mustOK(r.t, r.store.CreateLine(context.Background(), line))
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: r.userID,
		LineID: line.ID, Provider: p, From: line.Number, To: destination}, time.Now().UTC())
	mustOK(r.t, r.store.CreateSession(context.Background(), s))
	_ = s.MarkDialed("LEG-1", time.Now().UTC())
	mustOK(r.t, r.store.SaveSession(context.Background(), s))
	u := httpapi.StatusCallbackURL(publicBase, p, s.ID, r.signer)
	if !strings.Contains(u, "?token=") {
		r.t.Fatalf("callback URL %s carries no token", u)
	}
	return s, strings.TrimPrefix(u, publicBase)
}

func (r *tokenRig) post(target, contentType, body string) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	r.engine.ServeHTTP(w, req)
	return r.scan.keep(w)
}

func (r *tokenRig) stored(id string) *call.Session {
	r.t.Helper()
	s, err := r.store.Session(context.Background(), id)
	mustOK(r.t, err)
	return s
}

func TestExotelCallbacks(t *testing.T) {
	r := newTokenRig(t, 0)
	s, target := r.session(call.ProviderExotel)

	w := r.post(target, "application/json", `{"CallSid":"LEG-1","EventType":"answered","Status":"in-progress"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("answered: %d %s", w.Code, w.Body)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"CallSid": "LEG-1", "EventType": "terminal", "Status": "completed", "ConversationDuration": "61"} {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	if w := r.post(target, mw.FormDataContentType(), b.String()); w.Code != http.StatusOK {
		t.Fatalf("terminal (multipart): %d %s", w.Code, w.Body)
	}
	got := r.stored(s.ID)
	if got.Status() != call.StatusCompleted || got.Duration != 61*time.Second || got.AnsweredAt.IsZero() || got.Cost != 50_834 {
		t.Fatalf("session: %s duration %v answered %v cost %v", got.Status(), got.Duration, got.AnsweredAt, got.Cost)
	}

	other, otherTarget := r.session(call.ProviderExotel)
	base, _, _ := strings.Cut(otherTarget, "?")
	const forged = "Invalid or missing callback signature"
	wantDetail(t, r.post(base, "application/json", `{"Status":"completed"}`), http.StatusForbidden, forged)
	wantDetail(t, r.post(base+"?token=", "application/json", `{"Status":"completed"}`), http.StatusForbidden, forged)
	wantDetail(t, r.post(base+"?token="+r.signer.Token(s.ID), "application/json", `{"Status":"completed"}`), http.StatusForbidden, forged)
	wantDetail(t, r.post(base+"?token="+httpapi.NewCallbackSigner([]byte("x")).Token(other.ID), "application/json", `{"Status":"completed"}`),
		http.StatusForbidden, forged)
	wantDetail(t, r.post(otherTarget, "application/json", `{"Status":`), http.StatusUnprocessableEntity,
		"Status callback body is not in the carrier's format")
	if got := r.stored(other.ID); got.Status() != call.StatusInitiated {
		t.Fatalf("refused callbacks moved the session to %s", got.Status())
	}
	// An unknown session is a 404 whatever its token; a session of another carrier too.
	unknown := uuid.NewString()
	wantDetail(t, r.post("/api/call/status-callback/exotel/"+unknown+"?token="+r.signer.Token(unknown), "application/json", `{}`),
		http.StatusNotFound, "Session not found")
	wantDetail(t, r.post("/api/call/status-callback/exotel/"+unknown+"?token=nope", "application/json", `{}`),
		http.StatusNotFound, "Session not found")
	wantDetail(t, r.post("/api/call/status-callback/elison/"+other.ID+"?token="+r.signer.Token(other.ID), "application/json", `{}`),
		http.StatusNotFound, "Session not found")
	wantDetail(t, r.post("/api/call/status-callback/simulated/"+other.ID, "application/json", `{}`), http.StatusNotFound, "Not Found")
}

func TestElisonCallbacks(t *testing.T) {
	r := newTokenRig(t, 1024)
	s, target := r.session(call.ProviderElison)
	for _, body := range []string{
		`{"reference":"` + s.ID + `","call_id":"D-9","status":"ringing"}`,
		`{"reference":"` + s.ID + `","call_id":"D-9","status":"answered"}`,
		`{"reference":"` + s.ID + `","call_id":"D-9","status":"busy"}`,
		`{"reference":"` + s.ID + `","call_id":"D-9","status":"paused"}`, // unknown: recorded as nothing
	} {
		if w := r.post(target, "application/json", body); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
	}
	if got := r.stored(s.ID); got.Status() != call.StatusBusy || got.LegID != "LEG-1" || got.Cost != 0 {
		t.Fatalf("session: %s leg %q cost %v", got.Status(), got.LegID, got.Cost)
	}
	wantDetail(t, r.post(target, "application/json", `{"status":"`+strings.Repeat("x", 2048)+`"}`),
		http.StatusRequestEntityTooLarge, "Request body too large")
	wantDetail(t, r.post(target, "text/xml", "<x/>"), http.StatusUnprocessableEntity, "Status callback body is not in the carrier's format")
}

func TestCallbackSigner(t *testing.T) {
	s := httpapi.NewCallbackSigner([]byte("k"))
	a, b := s.Token("6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01"), s.Token("6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c02")
	if a == b || len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Fatalf("tokens %q and %q: want distinct unpadded base64url SHA-256 MACs", a, b)
	}
	if !s.Valid("6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01", a) || s.Valid("6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01", b) ||
		s.Valid("6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01", "") {
		t.Fatal("Valid does not tell a session's token from others")
	}
	if got := httpapi.StatusCallbackURL(publicBase, call.ProviderTwilio, "id1", s); got != publicBase+"/api/call/status-callback/twilio/id1" {
		t.Fatalf("Twilio URL %s", got)
	}
	if got := httpapi.StatusCallbackURL(publicBase, call.ProviderElison, "id1", s); got != publicBase+"/api/call/status-callback/elison/id1?token="+s.Token("id1") {
		t.Fatalf("Elison URL %s", got)
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
