package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

const createCall = "/api/call/create_call"

func callURL(params ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		v.Add(params[i], params[i+1])
	}
	return createCall + "?" + v.Encode()
}

func TestCreateCallSuccess(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)

	w := r.post(createCall+"?phoneNumber=%2B14155550123", a.key,
		`{"variable_values": {"name": "Ada", "balance": 0.10, "vip": true, "note": null}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", w.Code, w.Body)
	}
	m := decode(t, w)
	want := []string{"call_session_id", "from_phone_number", "request_id", "status", "target_number",
		"telephony_leg_id", "telephony_provider", "user_id"}
	if got := keys(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	if m["status"] != "success" || m["telephony_provider"] != "pstn" || m["user_id"] != a.userID ||
		m["target_number"] != destination || m["from_phone_number"] != lineNumber {
		t.Fatalf("body = %s", w.Body)
	}
	leg, _ := m["telephony_leg_id"].(string)
	if !strings.HasPrefix(leg, simprovider.LegPrefix) {
		t.Fatalf("telephony_leg_id = %q", leg)
	}

	s := r.session(m["call_session_id"].(string))
	if s.RequestID != m["request_id"] || s.UserID != a.userID || s.Status() != call.StatusInitiated ||
		s.To != destination || s.From != lineNumber || s.LineID != a.line.ID || s.AgentID != a.agent.ID ||
		s.WorkflowID != "" || s.LegID != leg {
		t.Fatalf("stored session = %+v (status %s)", s, s.Status())
	}
	wantVars := map[string]string{"name": "Ada", "balance": "0.10", "vip": "true", "note": ""}
	if !reflect.DeepEqual(s.VariableValues, wantVars) {
		t.Fatalf("stored variable_values = %v, want %v", s.VariableValues, wantVars)
	}
	if r.carrier.Placed() != 1 {
		t.Fatalf("carrier placed %d calls, want 1", r.carrier.Placed())
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Fatal("no X-Request-Id header")
	}
}

// A curl user encodes the + as %2B; one who does not sends a literal +, which a query string
// decodes as a space. Both must dial the same number.
func TestCreateCallPhoneNumberPlus(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	for _, q := range []string{"phoneNumber=%2B14155550123", "phoneNumber=+14155550123", "phoneNumber=14155550123",
		"phoneNumber=%2B1%20(415)%20555-0123"} {
		t.Run(q, func(t *testing.T) {
			w := r.post(createCall+"?"+q, a.key, "")
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, body %s", w.Code, w.Body)
			}
			m := decode(t, w)
			if m["status"] != "success" || m["target_number"] != destination {
				t.Fatalf("body = %s", w.Body)
			}
			if s := r.session(m["call_session_id"].(string)); s.To != destination {
				t.Fatalf("stored to = %q", s.To)
			}
		})
	}
}

func TestCreateCallBodies(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	for name, body := range map[string]string{
		"no body":             "",
		"whitespace":          " \n\t ",
		"empty object":        "{}",
		"null variables":      `{"variable_values": null}`,
		"empty variables":     `{"variable_values": {}}`,
		"unknown field":       `{"other": [1, 2], "variable_values": {"a": "b"}}`,
		"trailing whitespace": `{"variable_values": {"a": "b"}}` + "\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			w := r.post(callURL("phoneNumber", destination), a.key, body)
			if w.Code != http.StatusOK || decode(t, w)["status"] != "success" {
				t.Fatalf("status = %d, body %s", w.Code, w.Body)
			}
		})
	}
	t.Run("form content type from curl -d", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, callURL("phoneNumber", destination),
			strings.NewReader(`{"variable_values":{"name":"Ada"}}`))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("x-api-key", a.key)
		w := serve(r, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d, body %s", w.Code, w.Body)
		}
		s := r.session(decode(t, w)["call_session_id"].(string))
		if s.VariableValues["name"] != "Ada" {
			t.Fatalf("variable_values = %v", s.VariableValues)
		}
	})
}

func TestCreateCallFailedDial(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	w := r.post(callURL("phoneNumber", rejectedDest, "agent_id", a.agent.ID), a.key, `{"variable_values":{"k":"v"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", w.Code, w.Body)
	}
	m := decode(t, w)
	want := []string{"call_session_id", "detail", "request_id", "status", "target_number", "telephony_provider", "user_id"}
	if got := keys(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	if m["status"] != "failed" || m["target_number"] != rejectedDest || m["user_id"] != a.userID ||
		m["detail"] != "The destination number is invalid or cannot be reached" {
		t.Fatalf("body = %s", w.Body)
	}
	s := r.session(m["call_session_id"].(string))
	if s.Status() != call.StatusFailed || s.Detail != m["detail"] || s.To != rejectedDest || s.From != lineNumber ||
		s.RequestID != m["request_id"] || s.LegID != "" || s.EndedAt.IsZero() || s.VariableValues["k"] != "v" {
		t.Fatalf("stored session = %+v (status %s)", s, s.Status())
	}
	if r.carrier.Placed() != 0 || r.carrier.Dials() != 1 {
		t.Fatalf("carrier dials %d placed %d, want 1 and 0", r.carrier.Dials(), r.carrier.Placed())
	}
}

func TestCreateCallUnauthenticated(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	revoked, err := r.accounts.CreateAPIKey(context.Background(), a.userID, "old")
	if err != nil {
		t.Fatal(err)
	}
	r.secrets = append(r.secrets, revoked.Plain)
	if err := r.accounts.RevokeAPIKey(context.Background(), revoked.ID); err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{
		"missing":   "",
		"unknown":   identity.NewAPIKey(), // well formed, never issued
		"malformed": "kupe_not-a-key",
		"revoked":   revoked.Plain,
	} {
		t.Run(name, func(t *testing.T) {
			w := r.post(callURL("phoneNumber", destination), key, "")
			wantDetail(t, w, http.StatusUnauthorized, "Invalid or missing API key")
		})
	}
	t.Run("empty header", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, callURL("phoneNumber", destination), nil)
		req.Header["X-Api-Key"] = []string{""}
		wantDetail(t, serve(r, req), http.StatusUnauthorized, "Invalid or missing API key")
	})
	if n := r.sessionCount(a.userID); n != 0 || r.carrier.Dials() != 0 {
		t.Fatalf("%d sessions, %d dials after refused requests", n, r.carrier.Dials())
	}
}

func TestCreateCallInvalid(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	wf := r.workflow(a.userID)
	inactive := r.addLine(a.userID, "+14155550101", true)
	unmapped := r.user(money.FromUnits(5), false)
	r.addLine(unmapped.userID, "+14155550102", false)

	cases := []struct {
		name, target, key, body, detail string
	}{
		{"missing phoneNumber", createCall, a.key, "", "phoneNumber is required"},
		{"empty phoneNumber", callURL("phoneNumber", ""), a.key, "", "phoneNumber is required"},
		{"area code 555", callURL("phoneNumber", "+15551234567"), a.key, "",
			"phoneNumber is not a valid E.164 phone number (example: +14155550123)"},
		{"letters", callURL("phoneNumber", "call-me"), a.key, "",
			"phoneNumber is not a valid E.164 phone number (example: +14155550123)"},
		{"malformed agent_id", callURL("phoneNumber", destination, "agent_id", "123"), a.key, "", "agent_id must be a UUID"},
		{"malformed workflow_id", callURL("phoneNumber", destination, "workflow_id", "x"), a.key, "", "workflow_id must be a UUID"},
		{"malformed phone_number_id", callURL("phoneNumber", destination, "phone_number_id", a.line.ID+"0"), a.key, "",
			"phone_number_id must be a UUID"},
		{"both agent and workflow", callURL("phoneNumber", destination, "agent_id", a.agent.ID, "workflow_id", wf.ID),
			a.key, "", "Pass agent_id or workflow_id, not both"},
		{"neither on an unmapped line", callURL("phoneNumber", destination), unmapped.key, "",
			"No agent or workflow for this call: pass agent_id or workflow_id, or map one to the phone number"},
		{"inactive explicit line", callURL("phoneNumber", destination, "phone_number_id", inactive.ID), a.key, "",
			"Phone number is not active"},
		{"malformed query escape", createCall + "?phoneNumber=%2", a.key, "", "Malformed query string"},
		{"body not JSON", callURL("phoneNumber", destination), a.key, "{", "Request body is not valid JSON (it ends too early)"},
		{"body garbage", callURL("phoneNumber", destination), a.key, `{"variable_values": {"a": tru}}`,
			"Request body is not valid JSON (at byte 30)"},
		{"body an array", callURL("phoneNumber", destination), a.key, `[{"variable_values": {}}]`,
			"Request body must be a JSON object"},
		{"body a string", callURL("phoneNumber", destination), a.key, `"hi"`, "Request body must be a JSON object"},
		{"trailing data", callURL("phoneNumber", destination), a.key, `{"variable_values": {}} {}`,
			"Request body must hold one JSON object and nothing after it"},
		{"trailing garbage", callURL("phoneNumber", destination), a.key, `{} x`,
			"Request body must hold one JSON object and nothing after it"},
		{"variable_values a string", callURL("phoneNumber", destination), a.key, `{"variable_values": "name=Ada"}`,
			"variable_values must be a JSON object"},
		{"variable_values an array", callURL("phoneNumber", destination), a.key, `{"variable_values": ["Ada"]}`,
			"variable_values must be a JSON object"},
		{"variable too long as JSON", callURL("phoneNumber", destination), a.key,
			`{"variable_values": {"name": {"first": "` + strings.Repeat("a", 4096) + `"}}}`,
			`variable_values["name"] is longer than 4096 characters`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantDetail(t, r.post(tc.target, tc.key, tc.body), http.StatusUnprocessableEntity, tc.detail)
		})
	}
	if n := r.sessionCount(a.userID) + r.sessionCount(unmapped.userID); n != 0 || r.carrier.Dials() != 0 {
		t.Fatalf("%d sessions, %d dials after invalid requests", n, r.carrier.Dials())
	}
	if n := r.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("%d error log lines for client errors", n)
	}
}

// A thing that does not exist and a thing that is someone else's get the same answer.
func TestCreateCallNotFound(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	otherWF := r.workflow(other.userID)
	missing := uuid.NewString()

	for _, tc := range []struct{ name, param, id, detail string }{
		{"missing agent", "agent_id", missing, "Agent not found"},
		{"other user's agent", "agent_id", other.agent.ID, "Agent not found"},
		{"missing workflow", "workflow_id", missing, "Workflow not found"},
		{"other user's workflow", "workflow_id", otherWF.ID, "Workflow not found"},
		{"missing line", "phone_number_id", missing, "Phone number not found"},
		{"other user's line", "phone_number_id", other.line.ID, "Phone number not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := r.post(callURL("phoneNumber", destination, tc.param, tc.id), a.key, "")
			wantDetail(t, w, http.StatusNotFound, tc.detail)
		})
	}
	if n := r.sessionCount(a.userID); n != 0 || r.carrier.Dials() != 0 {
		t.Fatalf("%d sessions, %d dials", n, r.carrier.Dials())
	}
}

func TestCreateCallInsufficientCredits(t *testing.T) {
	r := newRig(t)
	for name, credits := range map[string]money.Amount{"zero": 0, "negative": -1} {
		t.Run(name, func(t *testing.T) {
			a := r.user(credits, true)
			w := r.post(callURL("phoneNumber", destination), a.key, "")
			wantDetail(t, w, http.StatusPaymentRequired, "Insufficient credits: add credits to place calls")
			if n := r.sessionCount(a.userID); n != 0 {
				t.Fatalf("%d sessions stored", n)
			}
		})
	}
}

func TestCreateCallNoActiveLine(t *testing.T) {
	r := newRig(t)
	noLine := r.user(money.FromUnits(5), false)
	onlyInactive := r.user(money.FromUnits(5), false)
	r.addLine(onlyInactive.userID, "+14155550103", true)
	for name, a := range map[string]account{"no line": noLine, "only an inactive line": onlyInactive} {
		t.Run(name, func(t *testing.T) {
			w := r.post(callURL("phoneNumber", destination, "agent_id", r.agent(a.userID).ID), a.key, "")
			wantDetail(t, w, http.StatusInternalServerError, "Telephony configuration error: no active outbound line")
		})
	}
}

func TestCreateCallBodyTooLarge(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	big := `{"variable_values": {"a": "` + strings.Repeat("x", httpapi.DefaultMaxBodyBytes) + `"}}`
	t.Run("with Content-Length", func(t *testing.T) {
		wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, big), http.StatusRequestEntityTooLarge,
			"Request body too large")
	})
	t.Run("chunked", func(t *testing.T) {
		// A reader of unknown length: the request has no Content-Length, so only the read limit holds.
		req, _ := http.NewRequest(http.MethodPost, callURL("phoneNumber", destination),
			io.MultiReader(strings.NewReader(big)))
		req.Header.Set("x-api-key", a.key)
		req.ContentLength = -1
		wantDetail(t, serve(r, req), http.StatusRequestEntityTooLarge, "Request body too large")
	})
	t.Run("just under the limit", func(t *testing.T) {
		body := `{"pad": "` + strings.Repeat("x", httpapi.DefaultMaxBodyBytes-12) + `"}`
		if len(body) > httpapi.DefaultMaxBodyBytes {
			t.Fatalf("body is %d bytes", len(body))
		}
		w := r.post(callURL("phoneNumber", destination), a.key, body)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d, body %s", w.Code, w.Body)
		}
	})
	t.Run("smaller configured limit", func(t *testing.T) {
		r := newRig(t, func(_ *httpapi.Deps, c *httpapi.Config) { c.MaxBodyBytes = 32 })
		a := r.user(money.FromUnits(5), true)
		wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, `{"variable_values": {"name": "Ada Lovelace"}}`),
			http.StatusRequestEntityTooLarge, "Request body too large")
	})
	if n := r.sessionCount(a.userID); n != 1 {
		t.Fatalf("%d sessions, want only the one under the limit", n)
	}
}

// failingPlans is the store with its dial plan read broken, as when the database goes away.
type failingPlans struct{ *memstore.Store }

func (failingPlans) DialPlan(context.Context, createcall.DialPlanQuery) (createcall.DialPlan, error) {
	return createcall.DialPlan{}, errors.New(`pq: relation "phone_numbers" does not exist`)
}

func TestCreateCallInternalError(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CreateCall.Plans = failingPlans{d.CreateCall.Sessions.(*memstore.Store)}
	})
	a := r.user(money.FromUnits(5), true)
	w := r.post(callURL("phoneNumber", destination), a.key, "")
	wantDetail(t, w, http.StatusInternalServerError, "Internal server error")
	errs := r.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 {
		t.Fatalf("%d error log lines, want 1", len(errs))
	}
	fields := errs[0].ContextMap()
	if fields["request_id"] != w.Header().Get("X-Request-Id") || fields["request_id"] == "" {
		t.Fatalf("error log request_id = %v, response header %q", fields["request_id"], w.Header().Get("X-Request-Id"))
	}
	if !strings.Contains(fields["error"].(string), "phone_numbers") {
		t.Fatalf("error log = %v, want the cause", fields)
	}
}

// lossySessions refuses every save, as when the database drops after the dial.
type lossySessions struct{ *memstore.Store }

func (lossySessions) SaveSession(context.Context, *call.Session) error {
	return errors.New("connection reset by peer")
}

// Once a session exists, the client gets its ids even if the outcome could not be written.
func TestCreateCallOutcomeNotRecorded(t *testing.T) {
	r := newRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CreateCall.Sessions = lossySessions{d.CreateCall.Sessions.(*memstore.Store)}
	})
	a := r.user(money.FromUnits(5), true)
	w := r.post(callURL("phoneNumber", destination), a.key, "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", w.Code, w.Body)
	}
	m := decode(t, w)
	if m["status"] != "success" || m["call_session_id"] == "" || m["request_id"] == "" {
		t.Fatalf("body = %s", w.Body)
	}
	if s := r.session(m["call_session_id"].(string)); s.Status() != call.StatusDialing {
		t.Fatalf("stored status = %s, want dialing (the outcome was lost)", s.Status())
	}
	errs := r.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 {
		t.Fatalf("%d error log lines, want 1", len(errs))
	}
	f := errs[0].ContextMap()
	if f["call_session_id"] != m["call_session_id"] || f["to"] != call.MaskNumber(destination) || f["status"] != int64(200) {
		t.Fatalf("error log fields = %v", f)
	}
}

// serve runs a hand-made request through the engine.
func serve(r *rig, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r.engine.ServeHTTP(w, req)
	return w
}
