package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/webhooksender"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// webhookDeps are the webhooks of a rig on its memstore: the sender allows the local receivers
// of the tests when allowPrivate.
func webhookDeps(mem *memstore.Store, hooks *memstore.Webhooks, allowPrivate bool) *httpapi.Webhooks {
	snd := webhooksender.Port{Sender: webhooksender.New(webhooksender.Options{AllowPrivate: allowPrivate})}
	schedule, err := webhook.NewRetrySchedule(time.Second, nil)
	if err != nil {
		panic(err)
	}
	return &httpapi.Webhooks{
		Endpoints:     &webhooks.Endpoints{Store: hooks, Agents: mem, Sender: snd},
		Deliveries:    &webhooks.Deliveries{Endpoints: hooks, Deliveries: hooks, Sessions: mem, Sender: snd, Schedule: schedule},
		StartCalls:    &webhooks.StartCalls{Endpoints: hooks},
		PublicBaseURL: "https://kupe.example",
	}
}

// hookRig is a rig whose ended calls queue their webhooks (memstore's call-final hook).
type hookRig struct {
	*rig
	hooks *memstore.Webhooks
	deps  *httpapi.Webhooks
	mu    sync.Mutex
	jobs  []webhooks.DeliveryJob
}

func newHookRig(t *testing.T, allowPrivate bool) *hookRig {
	t.Helper()
	h := &hookRig{}
	h.hooks = memstore.NewWebhooks(func(job webhooks.DeliveryJob, _ time.Time) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.jobs = append(h.jobs, job)
	})
	h.rig = specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		mem := d.Accounts.Store.(*memstore.Store)
		h.deps = webhookDeps(mem, h.hooks, allowPrivate)
		d.Webhooks = h.deps
		mem.OnCallFinal(h.deps.Deliveries.OnCallFinal)
	})
	return h
}

// statusReceiver answers with its status and counts what it gets.
type statusReceiver struct {
	mu     sync.Mutex
	status int
	got    []http.Header
}

func (s *statusReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r.Header.Clone())
	status := s.status
	s.mu.Unlock()
	w.WriteHeader(status)
}

func (s *statusReceiver) set(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func signedStartCall(target, secret, body string) *http.Request {
	req := specRequest(http.MethodPost, target, "", body)
	s, err := webhook.ParseSecret(secret)
	if err != nil {
		panic(err)
	}
	req.Header.Set("X-Webhook-Signature", s.SignStartCall([]byte(body)))
	return req
}

// webhookExchanges: the Webhooks tag, ours and Kupe's, through their successes and errors.
func webhookExchanges(x *exchanger) {
	t := x.t
	recv := &statusReceiver{status: http.StatusOK}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	r := newHookRig(t, true)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	agent := "/api/v1/webhooks/agents/" + a.agent.ID
	do := func(name string, status int, method, target, body string) map[string]any {
		t.Helper()
		w := x.do(r.rig, name, status, specRequest(method, target, a.key, body))
		return decode(t, w)
	}

	got := do("webhooks: first read", http.StatusOK, http.MethodGet, agent, "")
	if _, shown := got["secret"]; shown {
		t.Errorf("the secret is shown without reveal_secret: %v", got)
	}
	do("webhooks: bad reveal_secret", http.StatusUnprocessableEntity, http.MethodGet, agent+"?reveal_secret=maybe", "")
	do("webhooks: another user's agent", http.StatusNotFound, http.MethodGet, "/api/v1/webhooks/agents/"+other.agent.ID, "")
	put := `{"trigger_on_phone_call": true,
		"outgoing": {"enabled": true, "url": "` + srv.URL + `/hook", "method": "POST", "headers": {"X-Tenant": "acme"},
			"auth": {"type": "bearer", "token": "crm-token-77"}, "retry_count": 2},
		"incoming": {"enabled": true, "attached_variables": [{"name": "customer_name", "default_value": "there"}]}}`
	r.secrets = append(r.secrets, "crm-token-77")
	stored := do("webhooks: configure", http.StatusOK, http.MethodPut, agent, put)
	if auth, _ := stored["outgoing"].(map[string]any)["auth"].(map[string]any); auth["token"] != httpapi.HiddenToken {
		t.Errorf("PUT answers the token as %v", auth["token"])
	}
	do("webhooks: configure with retry_count 99", http.StatusUnprocessableEntity, http.MethodPut, agent,
		`{"outgoing": {"enabled": true, "url": "`+srv.URL+`", "retry_count": 99}}`)
	do("webhooks: configure with auth of another kind", http.StatusUnprocessableEntity, http.MethodPut, agent,
		`{"outgoing": {"enabled": true, "url": "`+srv.URL+`", "auth": {"type": "basic", "token": "x"}}}`)
	revealed := do("webhooks: reveal the secret", http.StatusOK, http.MethodGet, agent+"?reveal_secret=true", "")
	secret, _ := revealed["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("revealed secret %q", secret)
	}
	do("webhooks: mine", http.StatusOK, http.MethodGet, "/api/v1/webhooks/me", "")

	do("webhooks: test delivered", http.StatusOK, http.MethodPost, agent+"/test-outgoing", "")
	recv.set(http.StatusServiceUnavailable)
	failed := do("webhooks: test refused", http.StatusBadGateway, http.MethodPost, agent+"/test-outgoing", "")
	if d, _ := failed["detail"].(string); !strings.Contains(d, "503") {
		t.Errorf("test-outgoing's 502 does not name the receiver's status: %v", failed)
	}
	recv.set(http.StatusOK)
	bare := r.agent(a.userID)
	do("webhooks: test without a URL", http.StatusUnprocessableEntity, http.MethodPost,
		"/api/v1/webhooks/agents/"+bare.ID+"/test-outgoing", "")

	// A refused dial ends its session at once: its call.failed is queued.
	x.do(r.rig, "webhooks: a refused call", http.StatusOK,
		specRequest(http.MethodPost, callURL("phoneNumber", rejectedDest, "agent_id", a.agent.ID), a.key, ""))
	list := do("webhooks: deliveries", http.StatusOK, http.MethodGet, "/api/v1/webhooks/deliveries?agent_id="+a.agent.ID, "")
	ds, _ := list["deliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", list)
	}
	id := ds[0].(map[string]any)["id"].(string)
	r.mu.Lock()
	jobs := append([]webhooks.DeliveryJob(nil), r.jobs...)
	r.mu.Unlock()
	for _, j := range jobs {
		if _, err := r.deps.Deliveries.Attempt(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	do("webhooks: delivered deliveries", http.StatusOK, http.MethodGet, "/api/v1/webhooks/deliveries?status=delivered&page=1&page_size=10", "")
	do("webhooks: deliveries by an unknown status", http.StatusUnprocessableEntity, http.MethodGet, "/api/v1/webhooks/deliveries?status=sent", "")
	replayed := do("webhooks: replay", http.StatusAccepted, http.MethodPost, "/api/v1/webhooks/deliveries/"+id+"/replay", "")
	if replayed["status"] != "pending" || replayed["webhook_id"] != ds[0].(map[string]any)["webhook_id"] {
		t.Errorf("replay answered %v", replayed)
	}
	x.do(r.rig, "webhooks: replay another user's", http.StatusNotFound,
		specRequest(http.MethodPost, "/api/v1/webhooks/deliveries/"+id+"/replay", other.key, ""))

	// Start-call.
	in := agent + "/incoming"
	r.secrets = append(r.secrets, secret)
	body := `{"phoneNumber": "` + destination + `", "order": 42, "variable_values": {"plan": "gold"}}`
	started := decode(t, x.do(r.rig, "start-call", http.StatusOK, signedStartCall(in, secret, body)))
	vv, _ := started["variable_values"].(map[string]any)
	if started["status"] != "success" || vv["customer_name"] != "there" || vv["plan"] != "gold" || fmt.Sprint(vv["order"]) != "42" {
		t.Errorf("start-call answered %v", started)
	}
	again := x.do(r.rig, "start-call sent again", http.StatusOK, signedStartCall(in, secret, body))
	if again.Header().Get("Idempotent-Replayed") != "true" || decode(t, again)["call_session_id"] != started["call_session_id"] {
		t.Errorf("the same signed body dialled again: %s", again.Body)
	}
	wrong := signedStartCall(in, secret, body)
	wrong.Header.Set("X-Webhook-Signature", "sha256="+strings.Repeat("0", 64))
	x.do(r.rig, "start-call with a wrong signature", http.StatusUnauthorized, wrong)
	x.do(r.rig, "start-call without a signature", http.StatusUnauthorized, specRequest(http.MethodPost, in, "", body))
	x.do(r.rig, "start-call for an agent without webhooks", http.StatusUnauthorized,
		signedStartCall("/api/v1/webhooks/agents/"+bare.ID+"/incoming", secret, body))
	x.do(r.rig, "start-call without a number", http.StatusUnprocessableEntity, signedStartCall(in, secret, `{"variables": {}}`))
	big := `{"phoneNumber": "` + destination + `", "note": "` + strings.Repeat("x", webhook.MaxStartCallBody) + `"}`
	x.do(r.rig, "start-call too large", http.StatusRequestEntityTooLarge, signedStartCall(in, secret, big))
	unreadable := httptest.NewRequest(http.MethodPost, in, brokenBody{})
	unreadable.ContentLength = -1
	x.do(r.rig, "start-call with an unreadable body", http.StatusBadRequest, unreadable)
	if err := r.store.SetCredits(context.Background(), a.userID, 0); err != nil {
		t.Fatal(err)
	}
	x.do(r.rig, "start-call for an owner without credits", http.StatusPaymentRequired,
		signedStartCall(in, secret, `{"phoneNumber": "`+destination+`", "attempt": 2}`))
	do("webhooks: incoming off", http.StatusOK, http.MethodPut, agent, `{"incoming": {"enabled": false}}`)
	x.do(r.rig, "start-call with incoming off", http.StatusForbidden, signedStartCall(in, secret, body))

	do("webhooks: rotate", http.StatusOK, http.MethodPost, agent+"/rotate-secret", "")

	// A URL the deployment will not deliver to is a 422 that says why.
	strict := newHookRig(t, false)
	s := strict.user(money.FromUnits(5), true)
	for url, why := range map[string]string{
		"https://127.0.0.1/hook":         "loopback",
		"https://169.254.169.254/latest": "metadata",
	} {
		w := x.do(strict.rig, "webhooks: configure "+why, http.StatusUnprocessableEntity,
			specRequest(http.MethodPut, "/api/v1/webhooks/agents/"+s.agent.ID, s.key, `{"outgoing": {"enabled": true, "url": "`+url+`"}}`))
		var e struct{ Detail string }
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if !strings.Contains(e.Detail, why) {
			t.Errorf("PUT %s: detail %q does not say %s", url, e.Detail, why)
		}
	}
}

func TestPutKeepsTheHiddenToken(t *testing.T) {
	r := newHookRig(t, true)
	a := r.user(money.FromUnits(5), true)
	agent := "/api/v1/webhooks/agents/" + a.agent.ID
	put := func(body string) {
		t.Helper()
		if w := serve(r.rig, specRequest(http.MethodPut, agent, a.key, body)); w.Code != http.StatusOK {
			t.Fatalf("PUT: %d %s", w.Code, w.Body)
		}
	}
	token := func() string {
		e, err := r.hooks.Endpoint(context.Background(), a.agent.ID)
		if err != nil {
			t.Fatal(err)
		}
		return e.Config.Outgoing().BearerToken()
	}
	r.secrets = append(r.secrets, "tok-first")
	put(`{"outgoing": {"enabled": true, "url": "http://127.0.0.1:9/h", "auth": {"type": "bearer", "token": "tok-first"}}}`)
	// What GET shows, sent back as it is.
	w := serve(r.rig, specRequest(http.MethodGet, agent, a.key, ""))
	if strings.Contains(w.Body.String(), "tok-first") {
		t.Fatalf("GET shows the token: %s", w.Body)
	}
	put(w.Body.String())
	if token() != "tok-first" {
		t.Fatal("a PUT of the hidden token lost the stored one")
	}
	put(`{"outgoing": {"enabled": true, "url": "http://127.0.0.1:9/h"}}`)
	if token() != "tok-first" {
		t.Fatal("a PUT without auth lost the stored token")
	}
	put(`{"outgoing": {"enabled": true, "url": "http://127.0.0.1:9/h", "auth": null}}`)
	if token() != "" {
		t.Fatal("auth: null kept the token")
	}
}
