package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// These tests run kupe serve as wired, on the embedded SQLite default, with its job engine, and
// a local receiver (KUPE_WEBHOOK_ALLOW_PRIVATE=true lets deliveries reach it over plain http).
// The simulated carrier does not play whole calls: a call is ended by the carrier-event use
// case, on the app's own store, as a carrier's callback would end it.

// hookReceiver answers with its statuses in turn (the last repeats) and hands each request to
// the test.
type hookReceiver struct {
	mu       sync.Mutex
	statuses []int
	got      chan hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
	status int
}

func newHookReceiver(t *testing.T, statuses ...int) (*hookReceiver, string) {
	t.Helper()
	h := &hookReceiver{statuses: statuses, got: make(chan hookRequest, 100)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hooks/kupe"
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status = h.statuses[0]
		if len(h.statuses) > 1 {
			h.statuses = h.statuses[1:]
		}
	}
	h.mu.Unlock()
	w.WriteHeader(status)
	h.got <- hookRequest{header: r.Header.Clone(), body: body, status: status}
}

// next waits for the receiver's next request; the bound is a hang guard, not a measure.
func (h *hookReceiver) next(t *testing.T) hookRequest {
	t.Helper()
	select {
	case req := <-h.got:
		return req
	case <-time.After(60 * time.Second):
		t.Fatal("the receiver got nothing")
		return hookRequest{}
	}
}

var webhookEnv = map[string]string{"KUPE_WEBHOOK_ALLOW_PRIVATE": "true", "KUPE_WEBHOOK_RETRY_BASE": "200ms"}

// configureWebhooks turns the agent's outgoing and incoming webhooks on and returns its secret.
func configureWebhooks(t *testing.T, r *running, c customer, url string, retryCount int) webhook.Secret {
	t.Helper()
	body := `{"trigger_on_phone_call": true,
		"outgoing": {"enabled": true, "url": "` + url + `", "auth": {"type": "bearer", "token": "crm-bearer-5150"}, "retry_count": ` + itoa(retryCount) + `},
		"incoming": {"enabled": true, "attached_variables": [{"name": "name", "default_value": "friend"}]}}`
	if a := r.do(http.MethodPut, "/api/v1/webhooks/agents/"+c.agent.ID, c.key, body); a.status != http.StatusOK {
		t.Fatalf("PUT webhooks: %d %s", a.status, a.raw)
	}
	a := r.do(http.MethodGet, "/api/v1/webhooks/agents/"+c.agent.ID+"?reveal_secret=true", c.key, "")
	s, err := webhook.ParseSecret(stringOf(a.body["secret"]))
	if a.status != http.StatusOK || err != nil {
		t.Fatalf("GET webhooks: %d %s (%v)", a.status, a.raw, err)
	}
	return s
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func stringOf(v any) string { s, _ := v.(string); return s }

// endCall places a call and ends it completed after a minute of talk, through the carrier
// events on the app's store.
func endCall(t *testing.T, r *running, c customer) string {
	t.Helper()
	placed := r.createCall(c.key, "+14155550123", `{"variable_values": {"name": "Ada"}}`)
	id := stringOf(placed.body["call_session_id"])
	if placed.status != http.StatusOK || id == "" {
		t.Fatalf("create_call: %d %s", placed.status, placed.raw)
	}
	ev := &callevents.CarrierEvents{Sessions: r.store, Lines: r.store, Ledger: r.store,
		Tariff: call.Tariff{PerMinute: money.FromUnits(1), IncrementSeconds: 60}}
	ctx := context.Background()
	for _, e := range []callevents.CarrierEvent{
		{SessionID: id, Provider: call.ProviderSimulated, Status: call.StatusInProgress},
		{SessionID: id, Provider: call.ProviderSimulated, Status: call.StatusCompleted, Duration: time.Minute},
	} {
		if err := ev.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

type deliveryView struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	Status    string `json:"status"`
	Attempts  []struct {
		StatusCode *int    `json:"status_code"`
		Error      *string `json:"error"`
	} `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"`
}

func deliveries(t *testing.T, r *running, c customer, query string) []deliveryView {
	t.Helper()
	a := r.do(http.MethodGet, "/api/v1/webhooks/deliveries?agent_id="+c.agent.ID+query, c.key, "")
	var page struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.raw), &page) != nil {
		t.Fatalf("GET deliveries: %d %s", a.status, a.raw)
	}
	return page.Deliveries
}

// settled waits until the agent's one delivery is no longer pending.
func settled(t *testing.T, r *running, c customer) deliveryView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ds := deliveries(t, r, c, "")
		if len(ds) == 1 && ds[0].Status != "pending" {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery never settled: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookCallCompletedIsSignedAndDeliveredOnce(t *testing.T) {
	recv, url := newHookReceiver(t, http.StatusOK)
	r := startApp(t, webhookEnv, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	secret := configureWebhooks(t, r, c, url, 5)
	id := endCall(t, r, c)

	req := recv.next(t)
	wh, err := standardwebhooks.NewWebhook(secret.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.body, req.header); err != nil {
		t.Fatalf("the Standard Webhooks library refuses the delivery: %v\n%s", err, req.body)
	}
	if got := req.header.Get("Authorization"); got != "Bearer crm-bearer-5150" {
		t.Fatalf("Authorization %q", got)
	}
	var p map[string]any
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatal(err)
	}
	if p["event"] != "call.completed" || p["call_session_id"] != id || p["call_status"] != "completed" ||
		p["call_duration"] != 60.0 || p["agent_id"] != c.agent.ID || p["cost"] != 1.0 {
		t.Fatalf("payload %s", req.body)
	}
	d := settled(t, r, c)
	if d.Status != "delivered" || len(d.Attempts) != 1 || d.WebhookID != req.header.Get("webhook-id") {
		t.Fatalf("delivery %+v", d)
	}
	select {
	case extra := <-recv.got:
		t.Fatalf("a second request: %s", extra.body)
	default:
	}
	scanLogs(t, r.logs, secret.Reveal(), strings.TrimPrefix(secret.Reveal(), "whsec_"), "crm-bearer-5150", c.key)
}

func TestWebhookRetriesAcrossARestart(t *testing.T) {
	recv, url := newHookReceiver(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
	env := map[string]string{"KUPE_WEBHOOK_ALLOW_PRIVATE": "true", "KUPE_WEBHOOK_RETRY_BASE": "1s",
		"KUPE_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "kupe.db")}
	r := startApp(t, env, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	configureWebhooks(t, r, c, url, 5)
	endCall(t, r, c)
	first := recv.next(t)
	if first.status != http.StatusServiceUnavailable {
		t.Fatalf("first attempt answered %d", first.status)
	}
	// The server goes away with the retry pending, and comes back on the same database.
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = startApp(t, env, nil, nil)
	second, third := recv.next(t), recv.next(t)
	if second.status != http.StatusServiceUnavailable || third.status != http.StatusOK {
		t.Fatalf("attempts answered %d, %d, %d", first.status, second.status, third.status)
	}
	id := first.header.Get("webhook-id")
	if id == "" || second.header.Get("webhook-id") != id || third.header.Get("webhook-id") != id {
		t.Fatalf("webhook-ids %q %q %q", id, second.header.Get("webhook-id"), third.header.Get("webhook-id"))
	}
	if string(third.body) != string(first.body) {
		t.Fatal("the third attempt sent another body")
	}
	d := settled(t, r, c)
	if d.Status != "delivered" || len(d.Attempts) != 3 || *d.Attempts[0].StatusCode != 503 || *d.Attempts[2].StatusCode != 200 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestWebhook400IsNotRetried(t *testing.T) {
	recv, url := newHookReceiver(t, http.StatusBadRequest, http.StatusOK)
	r := startApp(t, webhookEnv, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	configureWebhooks(t, r, c, url, 5)
	endCall(t, r, c)
	if got := recv.next(t); got.status != http.StatusBadRequest {
		t.Fatalf("first attempt answered %d", got.status)
	}
	d := settled(t, r, c)
	if d.Status != "failed" || len(d.Attempts) != 1 || d.NextAttemptAt != nil || *d.Attempts[0].StatusCode != 400 {
		t.Fatalf("delivery %+v", d)
	}
	// Failed is final: no job is left for it, so nothing more reaches the receiver.
	select {
	case extra := <-recv.got:
		t.Fatalf("the 400 was retried: %d", extra.status)
	default:
	}
}

func TestWebhookURLsOfPrivateAddressesRefused(t *testing.T) {
	r := startApp(t, nil, nil, nil) // KUPE_WEBHOOK_ALLOW_PRIVATE off: the default
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	for url, why := range map[string]string{
		"https://localhost/hook":                   "loopback", // localhost resolves to 127.0.0.1 (and ::1)
		"https://127.0.0.1:8443/hook":              "loopback",
		"https://169.254.169.254/latest/meta-data": "metadata",
	} {
		a := r.do(http.MethodPut, "/api/v1/webhooks/agents/"+c.agent.ID, c.key, `{"outgoing": {"enabled": true, "url": "`+url+`"}}`)
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(stringOf(a.body["detail"]), why) {
			t.Errorf("PUT %s: %d %s, want a 422 that says %s", url, a.status, a.raw, why)
		}
	}
}

func TestStartCallWebhookDials(t *testing.T) {
	r := startApp(t, webhookEnv, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	_, url := newHookReceiver(t)
	secret := configureWebhooks(t, r, c, url, 0)
	path := "/api/v1/webhooks/agents/" + c.agent.ID + "/incoming"
	body := `{"phoneNumber": "+14155550123", "order_id": "A-17"}`

	wrong := r.do(http.MethodPost, path, "", body, "X-Webhook-Signature", "sha256="+strings.Repeat("ab", 32))
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrongly signed: %d %s", wrong.status, wrong.raw)
	}
	ok := r.do(http.MethodPost, path, "", body, "X-Webhook-Signature", secret.SignStartCall([]byte(body)))
	if ok.status != http.StatusOK || ok.body["status"] != "success" {
		t.Fatalf("signed: %d %s", ok.status, ok.raw)
	}
	vv, _ := ok.body["variable_values"].(map[string]any)
	if vv["name"] != "friend" || vv["order_id"] != "A-17" {
		t.Fatalf("variable_values %v", vv)
	}
	s, err := r.store.Session(context.Background(), stringOf(ok.body["call_session_id"]))
	if err != nil || s.UserID != c.userID || s.AgentID != c.agent.ID || s.To != "+14155550123" || s.LegID == "" {
		t.Fatalf("the session the start-call placed: %+v, %v", s, err)
	}
}

// TestWebhookCampaignEvents runs a two-row campaign of an agent with a webhook on the
// simulated carrier that plays whole calls: each call's call.completed names the batch and its
// row, and the batch's end sends one batch.completed with the final counts.
func TestWebhookCampaignEvents(t *testing.T) {
	recv, url := newHookReceiver(t, http.StatusOK)
	env := map[string]string{"KUPE_SIMULATED_RING_AFTER": "10ms", "KUPE_SIMULATED_TALK": "20ms",
		"KUPE_SIMULATED_RING_TIMEOUT": "20ms"}
	for k, v := range webhookEnv {
		env[k] = v
	}
	r := startApp(t, env, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	configureWebhooks(t, r, c, url, 5)
	created := r.do(http.MethodPost, "/api/v1/batch-call/create", c.key, `{"agent_id": "`+c.agent.ID+
		`", "caller_phone_id": "`+c.line.ID+`", "batch_name": "hooks", "variable_names": ["name"], "batch_size": 2}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	id := created.body["data"].(map[string]any)["id"].(string)
	csv := "to_phonenumber,name\n+14155550123,Ada\n+14155550124,Grace\n"
	if up := r.do(http.MethodPost, "/api/v1/batch-call/upload-csv/"+id, c.key, csv, "Content-Type", "text/csv"); up.status != http.StatusOK {
		t.Fatalf("upload: %d %s", up.status, up.raw)
	}
	if st := r.do(http.MethodPost, "/api/v1/batch-call/start/"+id, c.key, ""); st.status != http.StatusOK {
		t.Fatalf("start: %d %s", st.status, st.raw)
	}
	rows, batchDone := map[string]bool{}, 0
	for range 3 {
		req := recv.next(t)
		var p map[string]any
		if err := json.Unmarshal(req.body, &p); err != nil {
			t.Fatal(err)
		}
		switch p["event"] {
		case "call.completed":
			row := stringOf(p["row_id"])
			if p["batch_id"] != id || row == "" || rows[row] || p["call_status"] != "completed" {
				t.Fatalf("call.completed of a campaign call: %s", req.body)
			}
			rows[row] = true
		case "batch.completed":
			totals, _ := p["totals"].(map[string]any)
			if p["batch_id"] != id || p["agent_id"] != c.agent.ID || totals["completed"] != 2.0 || stringOf(p["completed_at"]) == "" {
				t.Fatalf("batch.completed: %s", req.body)
			}
			batchDone++
		default:
			t.Fatalf("unexpected event: %s", req.body)
		}
	}
	if len(rows) != 2 || batchDone != 1 {
		t.Fatalf("rows %v, batch.completed %d", rows, batchDone)
	}
	data := r.do(http.MethodGet, "/api/v1/batch-call/"+id+"/data", c.key, "")
	for row := range rows {
		if !strings.Contains(data.raw, row) {
			t.Fatalf("row_id %s is not a row of the batch: %s", row, data.raw)
		}
	}
}
