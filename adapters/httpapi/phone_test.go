package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// send is do with a JSON body ("" sends none).
func (r *rig) send(method, target, key, body string) *httptest.ResponseRecorder {
	r.t.Helper()
	if body == "" {
		return r.do(method, target, key, nil)
	}
	return r.do(method, target, key, strings.NewReader(body))
}

// noLeak fails if a response body names a carrier or holds a credential.
func noLeak(t *testing.T, w *httptest.ResponseRecorder, secrets ...string) {
	t.Helper()
	body := w.Body.String()
	for _, s := range append([]string{"simulated", "twilio", "exotel", "elison", "provider\"", "credentials", "redacted", "line-secret-token"}, secrets...) {
		if strings.Contains(body, s) {
			t.Fatalf("response holds %q: %s", s, body)
		}
	}
}

func TestPhoneLines(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	const token = "tw-auth-token-0123456789"
	r.secrets = append(r.secrets, token, "+919876543210")

	// Register a Twilio line with its credentials: 201, the documented fields, no provider and
	// no credential.
	w := r.send(http.MethodPost, "/api/v1/phone", a.key, `{"phone_number": "+91 98765 43210", "provider": "twilio",
		"credentials": {"account_sid": "AC123", "auth_token": "`+token+`"}, "friendly_name": " Mumbai desk ", "region": "MH"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST /api/v1/phone = %d %s", w.Code, w.Body)
	}
	noLeak(t, w, token, "AC123")
	m := decode(t, w)
	line, _ := m["phone_number"].(map[string]any)
	if m["success"] != true || line == nil {
		t.Fatalf("body = %s", w.Body)
	}
	id, _ := line["id"].(string)
	if got, want := keys(line), []string{"country_code", "created_at", "friendly_name", "id", "is_active", "phone_number", "region"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("line keys = %v, want %v", got, want)
	}
	if line["phone_number"] != "+919876543210" || line["friendly_name"] != "Mumbai desk" || line["country_code"] != "IN" ||
		line["region"] != "MH" || line["is_active"] != true {
		t.Fatalf("line = %v", line)
	}
	if ts, _ := line["created_at"].(string); ts == "" {
		t.Fatalf("created_at = %v", line["created_at"])
	}
	stored, err := r.store.Line(context.Background(), id)
	if err != nil || stored.UserID != a.userID || stored.Provider != call.ProviderTwilio ||
		stored.Credentials["auth_token"] != token || stored.Credentials["account_sid"] != "AC123" {
		t.Fatalf("stored line = %+v (credentials kept: %v), %v", stored, stored.Credentials["auth_token"] == token, err)
	}

	// The list: the caller's lines only, oldest first, nothing of the carrier.
	w = r.get("/api/v1/phone", a.key)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/phone = %d %s", w.Code, w.Body)
	}
	noLeak(t, w, token)
	var list struct {
		Success      bool             `json:"success"`
		PhoneNumbers []map[string]any `json:"phone_numbers"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || !list.Success || len(list.PhoneNumbers) != 2 ||
		list.PhoneNumbers[0]["id"] != a.line.ID || list.PhoneNumbers[1]["id"] != id {
		t.Fatalf("list = %s", w.Body)
	}
	// A line with no labels shows them as null.
	if p := list.PhoneNumbers[0]; p["friendly_name"] != nil || p["region"] != nil || p["country_code"] != "US" {
		t.Fatalf("unlabelled line = %v", p)
	}
	if w := r.get("/api/v1/phone", other.key); strings.Contains(w.Body.String(), id) {
		t.Fatalf("another user's list shows the line: %s", w.Body)
	}

	// One line.
	w = r.get("/api/v1/phone/"+id, a.key)
	if w.Code != http.StatusOK || decode(t, w)["phone_number"].(map[string]any)["id"] != id {
		t.Fatalf("GET one = %d %s", w.Code, w.Body)
	}
	noLeak(t, w, token)

	// PUT changes what is sent and keeps the rest; credentials are write-only.
	w = r.send(http.MethodPut, "/api/v1/phone/"+id, a.key, `{"is_active": false}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	if l := decode(t, w)["phone_number"].(map[string]any); l["is_active"] != false || l["friendly_name"] != "Mumbai desk" {
		t.Fatalf("after PUT is_active: %v", l)
	}
	w = r.send(http.MethodPut, "/api/v1/phone/"+id, a.key, `{"friendly_name": "", "credentials": {"account_sid": "AC999", "auth_token": "new-token-42"}}`)
	noLeak(t, w, "new-token-42", "AC999")
	if l := decode(t, w)["phone_number"].(map[string]any); w.Code != http.StatusOK || l["friendly_name"] != nil || l["is_active"] != false {
		t.Fatalf("after PUT friendly_name and credentials: %d %s", w.Code, w.Body)
	}
	stored, _ = r.store.Line(context.Background(), id)
	if stored.Credentials["auth_token"] != "new-token-42" || stored.Credentials["account_sid"] != "AC999" || stored.Active || stored.FriendlyName != "" {
		t.Fatalf("stored after PUTs: active %v name %q, credentials replaced: %v", stored.Active, stored.FriendlyName,
			stored.Credentials["auth_token"] == "new-token-42")
	}
	w = r.send(http.MethodPut, "/api/v1/phone/"+id, a.key, `{"friendly_name": "x", "credentials": null}`)
	if stored, _ = r.store.Line(context.Background(), id); w.Code != http.StatusOK || stored.Credentials["auth_token"] != "new-token-42" {
		t.Fatalf("credentials: null removed them: %d %s", w.Code, w.Body)
	}

	for _, tc := range []struct{ name, method, target, body, detail string }{
		{"no number", http.MethodPost, "/api/v1/phone", `{"provider": "twilio"}`, "phone_number is required"},
		{"bad number", http.MethodPost, "/api/v1/phone", `{"phone_number": "+15551234567", "provider": "twilio"}`,
			"number must be a valid E.164 phone number (example: +14155550123)"},
		{"no provider", http.MethodPost, "/api/v1/phone", `{"phone_number": "+14155550123"}`,
			"provider is required: twilio, exotel, elison or simulated"},
		{"unknown provider", http.MethodPost, "/api/v1/phone", `{"phone_number": "+14155550123", "provider": "plivo"}`,
			`unknown provider "plivo": want twilio, exotel, elison or simulated`},
		{"credential not a string", http.MethodPost, "/api/v1/phone", `{"phone_number": "+14155550123", "provider": "twilio", "credentials": {"auth_token": 12345}}`,
			"credentials values must each be a string"},
		{"friendly name too long", http.MethodPut, "/api/v1/phone/" + id, `{"friendly_name": "` + strings.Repeat("x", 201) + `"}`,
			"friendly_name must be valid text of at most 200 bytes"},
		{"is_active not a boolean", http.MethodPut, "/api/v1/phone/" + id, `{"is_active": "no"}`, "is_active must be a boolean"},
		{"not an object", http.MethodPut, "/api/v1/phone/" + id, `[1]`, "Request body must be a JSON object"},
		{"malformed id", http.MethodGet, "/api/v1/phone/12345", "", "phone_number_id must be a UUID"},
		{"malformed id on PUT", http.MethodPut, "/api/v1/phone/not-a-uuid", `{"is_active": true}`, "phone_number_id must be a UUID"},
		{"malformed id on DELETE", http.MethodDelete, "/api/v1/phone/not-a-uuid", "", "phone_number_id must be a UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDetail(t, r.send(tc.method, tc.target, a.key, tc.body), http.StatusUnprocessableEntity, tc.detail)
		})
	}
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone", a.key, `{"phone_number": "+919876543210", "provider": "exotel"}`),
		http.StatusConflict, "Already exists")
	wantDetail(t, r.get("/api/v1/phone/"+uuid.NewString(), a.key), http.StatusNotFound, "Phone number not found")
	wantDetail(t, r.get("/api/v1/phone", ""), http.StatusUnauthorized, "Invalid or missing API key")
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone", "", `{}`), http.StatusUnauthorized, "Invalid or missing API key")
}

// Deleting a line takes its mapping and leaves the sessions placed from it in the call log.
func TestDeletePhoneLine(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	created := decode(t, r.post(callURL("phoneNumber", destination), a.key, ""))
	rid, _ := created["request_id"].(string)
	if rid == "" {
		t.Fatalf("create_call = %v", created)
	}

	w := r.send(http.MethodDelete, "/api/v1/phone/"+a.line.ID, a.key, "")
	if w.Code != http.StatusOK {
		t.Fatalf("DELETE = %d %s", w.Code, w.Body)
	}
	if m := decode(t, w); m["success"] != true || m["message"] != "Phone number deleted" {
		t.Fatalf("DELETE body = %s", w.Body)
	}
	wantDetail(t, r.get("/api/v1/phone/"+a.line.ID, a.key), http.StatusNotFound, "Phone number not found")
	wantDetail(t, r.send(http.MethodDelete, "/api/v1/phone/"+a.line.ID, a.key, ""), http.StatusNotFound, "Phone number not found")
	wantDetail(t, r.get("/api/v1/phone/mapping/"+a.line.ID, a.key), http.StatusNotFound, "Phone number not found")
	if w := r.get("/api/v1/phone/mapping/agent/"+a.agent.ID, a.key); !strings.Contains(w.Body.String(), `"mappings":[]`) {
		t.Fatalf("agent's mappings after its line went: %s", w.Body)
	}

	// The session is still there, naming the line it used.
	m := decode(t, r.get("/api/v1/call-analytics?request_id="+rid, a.key))
	if m["phone_number_id"] != a.line.ID || m["from_number"] != lineNumber {
		t.Fatalf("session after its line went: %v", m)
	}
	// With no line left, create_call says so.
	wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, ""), http.StatusInternalServerError,
		"Telephony configuration error: no active outbound line")
}

// An inactive line registered through the API cannot place calls; reactivated, it can.
func TestPhoneLineActivation(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	agent := r.agent(a.userID)
	w := r.send(http.MethodPost, "/api/v1/phone", a.key, `{"phone_number": "`+lineNumber+`", "provider": "simulated", "is_active": false}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	id := decode(t, w)["phone_number"].(map[string]any)["id"].(string)
	call := callURL("phoneNumber", destination, "agent_id", agent.ID, "phone_number_id", id)
	wantDetail(t, r.post(call, a.key, ""), http.StatusUnprocessableEntity, "Phone number is not active")
	if w := r.send(http.MethodPut, "/api/v1/phone/"+id, a.key, `{"is_active": true}`); w.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	if m := decode(t, r.post(call, a.key, "")); m["status"] != "success" || m["from_phone_number"] != lineNumber {
		t.Fatalf("create_call after reactivation = %v", m)
	}
}
