package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// callbackRecorder is a carrier's API that accepts every call and keeps the status callback URL
// it was given.
type callbackRecorder struct {
	mu  sync.Mutex
	url string
}

func (c *callbackRecorder) serve(answer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		c.mu.Lock()
		c.url = r.PostForm.Get("StatusCallback")
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, answer)
	}
}

func (c *callbackRecorder) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}

// postCallback sends a callback to the running service, as the carrier would, to the URL it was given.
func postCallback(t *testing.T, u, contentType, body string, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// The service as kupe serve wires it: the secrets key made on first run beside the SQLite file,
// the callback URLs the carriers are given (Twilio's under KUPE_PUBLIC_BASE_URL, Exotel's with a
// token), their verification, and the charge at the configured tariff.
func TestStatusCallbacksAsWired(t *testing.T) {
	const (
		twSID, twToken  = "AC44444444444444444444444444444444", "ddddddddddddddddddddddddddddddd4"
		exoKey, exoTok  = "exo-key-1", "exo-api-token-0f9e8d7c"
		exoSID, exoLeg  = "kupe1", "b6cfaf5d6a1a4e3f"
		twLeg           = "CA0123456789abcdef0123456789abcdef"
		dest, exoDest   = "+14155550123", "+919876543210"
		twLine, exoLine = "+14155550101", "+919876543211"
	)
	var tw, exo callbackRecorder
	twSrv := httptest.NewServer(tw.serve(`{"sid":"` + twLeg + `","status":"queued"}`))
	defer twSrv.Close()
	exoSrv := httptest.NewServer(exo.serve(`{"Call":{"Sid":"` + exoLeg + `","Status":"in-progress"}}`))
	defer exoSrv.Close()
	dir := t.TempDir()
	r := startApp(t, map[string]string{
		"KUPE_DATABASE_URL":        "file:" + filepath.Join(dir, "kupe.db"),
		"KUPE_TWILIO_API_BASE_URL": twSrv.URL, "KUPE_EXOTEL_API_BASE_URL": exoSrv.URL,
		"KUPE_RATE_PER_MINUTE": "0.6", "KUPE_BILLING_INCREMENT_SECONDS": "1",
	}, nil, nil)

	info, err := os.Stat(filepath.Join(dir, "secrets.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secrets key file beside the database: %v, %v; want one of mode 0600", info, err)
	}

	// Twilio: the callback URL is under KUPE_PUBLIC_BASE_URL; a signed completed charges 30 s.
	twc := r.customer(call.ProviderTwilio, twLine, map[string]string{"account_sid": twSID, "auth_token": twToken})
	a := r.createCall(twc.key, dest, "")
	if a.err != nil || a.body["status"] != "success" {
		t.Fatalf("twilio call: %d %s %v", a.status, a.raw, a.err)
	}
	sessionID := a.body["call_session_id"].(string)
	cb := tw.last()
	if cb != r.base+"/api/call/status-callback/twilio/"+sessionID {
		t.Fatalf("Twilio was given %q", cb)
	}
	form := url.Values{"CallSid": {twLeg}, "AccountSid": {twSID}, "CallStatus": {"completed"}, "CallDuration": {"30"}, "To": {dest}}
	if got := postCallback(t, cb, "application/x-www-form-urlencoded", form.Encode()); got != http.StatusForbidden {
		t.Fatalf("unsigned Twilio callback: %d, want 403", got)
	}
	if got := postCallback(t, cb, "application/x-www-form-urlencoded", form.Encode(), "X-Twilio-Signature", testkit.TwilioSignature(twToken, cb, form)); got != http.StatusOK {
		t.Fatalf("signed Twilio callback: %d, want 200", got)
	}
	s, err := r.store.Session(context.Background(), sessionID)
	if err != nil || s.Status() != call.StatusCompleted || s.Cost != 300_000 {
		t.Fatalf("twilio session: %v status %s cost %v; want completed, 0.3 (30 s at 0.6 a minute)", err, s.Status(), s.Cost)
	}
	u, _ := r.accounts.Store.User(context.Background(), twc.userID)
	if u.Credits != money.FromUnits(100)-300_000 {
		t.Fatalf("credits %v, want 99.7", u.Credits)
	}

	// Exotel: the callback URL carries the session's token; without it, 403.
	exc := r.customer(call.ProviderExotel, exoLine, map[string]string{"api_key": exoKey, "api_token": exoTok, "account_sid": exoSID})
	a = r.createCall(exc.key, exoDest, "")
	if a.err != nil || a.body["status"] != "success" {
		t.Fatalf("exotel call: %d %s %v", a.status, a.raw, a.err)
	}
	sessionID = a.body["call_session_id"].(string)
	cb = exo.last()
	plain, _, _ := strings.Cut(cb, "?")
	if plain != r.base+"/api/call/status-callback/exotel/"+sessionID || !strings.Contains(cb, "?token=") {
		t.Fatalf("Exotel was given %q", cb)
	}
	body := `{"CallSid":"` + exoLeg + `","EventType":"terminal","Status":"completed","ConversationDuration":10}`
	if got := postCallback(t, plain, "application/json", body); got != http.StatusForbidden {
		t.Fatalf("Exotel callback without its token: %d, want 403", got)
	}
	if got := postCallback(t, cb, "application/json", body); got != http.StatusOK {
		t.Fatalf("Exotel callback: %d, want 200", got)
	}
	if s, err := r.store.Session(context.Background(), sessionID); err != nil || s.Status() != call.StatusCompleted || s.Cost != 100_000 {
		t.Fatalf("exotel session: %v status %s cost %v; want completed, 0.1", err, s.Status(), s.Cost)
	}

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	scanLogs(t, r.logs, twToken, exoTok, twc.key, exc.key, dest, exoDest)
}
