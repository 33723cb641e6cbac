package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// Twilio as kupe serve wires it for the call options: the create carries them and the
// machine-detection callback's address under KUPE_PUBLIC_BASE_URL; Twilio's signed result at
// that address sets the session's answered_by; a hang-up reaches Twilio as a call update.
func TestTwilioCallOptionsAsWired(t *testing.T) {
	const (
		sid, token = "AC55555555555555555555555555555555", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5"
		leg        = "CA55555555555555555555555555555555"
	)
	var (
		mu      sync.Mutex
		create  url.Values
		updates []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/2010-04-01/Accounts/"+sid+"/Calls/"+leg+".json" {
			updates = append(updates, r.PostForm.Get("Status"))
			fmt.Fprintf(w, `{"sid":%q,"status":"completed"}`, leg)
			return
		}
		create = r.PostForm
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":%q,"status":"queued"}`, leg)
	}))
	defer srv.Close()
	r := startApp(t, map[string]string{"KUPE_TWILIO_API_BASE_URL": srv.URL}, nil, nil)
	c := r.customer(call.ProviderTwilio, "+14155550102", map[string]string{"account_sid": sid, "auth_token": token})
	a := r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123&ring_timeout_seconds=25&max_duration_seconds=600&machine_detection=detect_end_of_greeting", c.key, "")
	if a.err != nil || a.body["status"] != "success" {
		t.Fatalf("create_call: %d %s %v", a.status, a.raw, a.err)
	}
	id := a.body["call_session_id"].(string)
	mu.Lock()
	form := create
	mu.Unlock()
	amdURL := r.base + "/api/call/amd-callback/twilio/" + id
	if form.Get("Timeout") != "25" || form.Get("TimeLimit") != "600" || form.Get("MachineDetection") != "DetectMessageEnd" ||
		form.Get("AsyncAmd") != "true" || form.Get("AsyncAmdStatusCallback") != amdURL {
		t.Fatalf("Twilio was sent Timeout %q TimeLimit %q MachineDetection %q AsyncAmd %q AsyncAmdStatusCallback %q",
			form.Get("Timeout"), form.Get("TimeLimit"), form.Get("MachineDetection"), form.Get("AsyncAmd"), form.Get("AsyncAmdStatusCallback"))
	}

	result := url.Values{"CallSid": {leg}, "AccountSid": {sid}, "AnsweredBy": {"machine_end_beep"}}
	if got := postCallback(t, amdURL, "application/x-www-form-urlencoded", result.Encode()); got != http.StatusForbidden {
		t.Fatalf("unsigned AMD callback: %d", got)
	}
	if got := postCallback(t, amdURL, "application/x-www-form-urlencoded", result.Encode(),
		"X-Twilio-Signature", testkit.TwilioSignature(token, amdURL, result)); got != http.StatusOK {
		t.Fatalf("signed AMD callback: %d", got)
	}
	s, err := r.store.Session(context.Background(), id)
	if err != nil || s.AnsweredBy != call.AnsweredByMachine {
		t.Fatalf("session after the AMD result: %v answered_by %q", err, s.AnsweredBy)
	}

	h := r.do(http.MethodPost, "/api/v1/calls/"+id+"/hangup", c.key, "")
	mu.Lock()
	sent := append([]string(nil), updates...)
	mu.Unlock()
	if h.status != http.StatusAccepted || len(sent) != 1 || sent[0] != "canceled" {
		t.Fatalf("hang-up: %d %s; Twilio got updates %v (want one cancel: the call is not answered yet)", h.status, h.raw, sent)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	scanLogs(t, r.logs, token, c.key, "+14155550123")
}
