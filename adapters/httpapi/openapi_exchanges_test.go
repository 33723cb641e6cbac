package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// The requests the OpenAPI tests drive through the engine: for each documented operation its
// success and each error status it documents. Statuses every operation of a kind shares (401,
// 500 and 503 of an authenticated one; 400 and 413 of one with a body; 404 and 422 of one with
// ids in its path) are driven for every such operation the document lists; the rest are
// scenarios written per operation.

// specCallbackSigner signs the status-callback URLs of the rigs made by allRoutes.
var specCallbackSigner = httpapi.NewCallbackSigner([]byte("openapi test callback secret"))

// allRoutes sets every optional dependency of the API, so that each of its routes is served.
// Pass it first: later options may replace what it sets.
func allRoutes(d *httpapi.Deps, _ *httpapi.Config) {
	mem := d.Accounts.Store.(*memstore.Store)
	if d.APIKeys == nil {
		d.APIKeys = &accounts.APIKeys{Store: mem}
	}
	if d.Readiness == nil {
		d.Readiness = &httpapi.Readiness{}
	}
	if d.Metrics == nil {
		d.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = io.WriteString(w, "# TYPE kupe_up gauge\nkupe_up 1\n")
		})
	}
	if d.Redis == nil {
		d.Redis = redisStatus("connected")
	}
	withCampaigns(d, nil)
	if d.Webhooks == nil {
		d.Webhooks = webhookDeps(mem, memstore.NewWebhooks(nil), true)
	}
	if d.Callbacks == nil {
		d.Callbacks = &httpapi.Callbacks{PublicBaseURL: "https://kupe.example", Signer: specCallbackSigner,
			Events: &callevents.CarrierEvents{Sessions: mem, Lines: mem, Ledger: mem,
				Tariff: call.Tariff{PerMinute: money.FromUnits(1), IncrementSeconds: 60}}}
	}
	if d.Hangups == nil {
		d.Hangups = &callevents.HangupHandler{Sessions: mem, Lines: mem, Carriers: d.CreateCall.Carriers}
	}
}

// redisStatus is a shared limiter whose Redis is always in one state.
type redisStatus string

func (r redisStatus) Status() string { return string(r) }

// checkAllRoutes fails t when a dependency that may leave routes out is unset: a field added to
// Deps must be set in allRoutes, so that the route tests see its routes.
func checkAllRoutes(t testing.TB) rigOption {
	return func(d *httpapi.Deps, _ *httpapi.Config) {
		v := reflect.ValueOf(d).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if (f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface) && f.IsNil() {
				t.Errorf("httpapi.Deps.%s is nil in the OpenAPI tests' rig: set it in allRoutes", v.Type().Field(i).Name)
			}
		}
	}
}

// specRig is the API with every route, opts applied after allRoutes.
func specRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	return newRig(t, append(append([]rigOption{allRoutes}, opts...), checkAllRoutes(t))...)
}

// exchange is one request driven through the engine and the response it got.
type exchange struct {
	name string
	req  *http.Request
	resp *httptest.ResponseRecorder
}

// exchanger drives requests and keeps them. A response with another status than the scenario
// means fails the test, so that a scenario cannot quietly stop covering its case.
type exchanger struct {
	t    *testing.T
	list []exchange
}

func (x *exchanger) do(r *rig, name string, status int, req *http.Request) *httptest.ResponseRecorder {
	x.t.Helper()
	w := serve(r, req)
	x.keep(name, status, req, w)
	return w
}

func (x *exchanger) keep(name string, status int, req *http.Request, w *httptest.ResponseRecorder) {
	x.t.Helper()
	if w.Code != status {
		x.t.Errorf("%s: %s %s → %d, want %d; body %s", name, req.Method, req.URL.Path, w.Code, status, specTruncate(w.Body.String()))
	}
	x.list = append(x.list, exchange{name: name, req: req, resp: w})
}

// send makes a request; key "" sends no x-api-key header, body "" no body.
func specRequest(method, target, key, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// brokenBody fails every read, as a client connection that breaks mid-body.
type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// keysFailing is an API-key store that fails with err.
// keysFailing fails the key lookup with err; the other methods are never reached.
type keysFailing struct {
	accounts.KeyStore
	err error
}

func (k keysFailing) APIKeyByHash(context.Context, identity.KeyHash) (identity.APIKey, error) {
	return identity.APIKey{}, k.err
}

// plansFailing is create_call's dial plan, which reads its x-api-key too, failing with err.
type plansFailing struct{ err error }

func (p plansFailing) DialPlan(context.Context, createcall.DialPlanQuery) (createcall.DialPlan, error) {
	return createcall.DialPlan{}, p.err
}

// keysFail makes every read of a key fail with err: the Authenticator's, and create_call's
// with its dial plan.
func keysFail(err error) rigOption {
	return func(d *httpapi.Deps, _ *httpapi.Config) {
		d.Auth = &accounts.Authenticator{Keys: keysFailing{err: err}}
		h := *d.CreateCall
		h.Plans = plansFailing{err: err}
		d.CreateCall = &h
	}
}

// linesFailing is the line reader of the carrier events, failing with err; the carrier events
// read nothing else of the catalog.
type linesFailing struct {
	accounts.CatalogStore
	err error
}

func (l linesFailing) Line(context.Context, string) (call.Line, error) { return call.Line{}, l.err }

// brokenCallLog is a call log whose store is down.
type brokenCallLog struct{ createcall.CallStore }

func (brokenCallLog) SessionByRequestID(context.Context, string, string) (*call.Session, error) {
	return nil, errors.New("pool exhausted")
}

func (brokenCallLog) ListSessions(context.Context, string, int, int) ([]*call.Session, int, error) {
	return nil, 0, errors.New("pool exhausted")
}

func (brokenCallLog) SessionsCreated(context.Context, string, createcall.SessionRange, int) ([]*call.Session, error) {
	return nil, errors.New("pool exhausted")
}

// gateCarrier holds each dial until released, so that a request can be caught in flight.
type gateCarrier struct{ entered, release chan struct{} }

func (g *gateCarrier) Dial(ctx context.Context, _ createcall.DialRequest) (string, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return "SIM-GATE-1", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// specSampleBodies are bodies that get an operation with ids in its path as far as looking the ids up.
var specSampleBodies = map[string]string{
	"patchApiKeyLabel":  `{"name": "renamed"}`,
	"updateAgent":       `{"agent": {"name": "Renamed"}}`,
	"updatePhoneNumber": `{"friendly_name": "Renamed"}`,
}

// apiExchanges drives each documented operation through its success and error statuses.
func apiExchanges(t *testing.T) []exchange {
	x := &exchanger{t: t}
	genericExchanges(x, ourSpec(t).doc)
	serviceExchanges(x)
	callExchanges(x)
	ownedExchanges(x)
	apiKeyExchanges(x)
	callbackExchanges(x)
	campaignExchanges(x)
	webhookExchanges(x)
	callControlExchanges(x)
	return x.list
}

// genericExchanges drives, for each operation of doc, the statuses it shares with the others of
// its kind.
func genericExchanges(x *exchanger, doc *openapi3.T) {
	t := x.t
	r := specRig(t)
	a := r.user(money.FromUnits(5), true)
	broken := specRig(t, keysFail(errors.New("pool exhausted")))
	down := specRig(t, keysFail(fmt.Errorf("read key: %w", fault.ErrUnavailable)))
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public: its own scenarios cover it
			}
			params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			target := func(value string) string {
				p := path
				for _, pr := range params {
					if pr.Value.In == openapi3.ParameterInPath {
						v := value
						if v == "" {
							v = uuid.NewString()
						}
						p = strings.ReplaceAll(p, "{"+pr.Value.Name+"}", v)
					}
				}
				return p
			}
			name := op.OperationID
			x.do(r, name+" without a key", http.StatusUnauthorized, specRequest(method, target(""), "", ""))
			x.do(r, name+" with an unknown key", http.StatusUnauthorized, specRequest(method, target(""), identity.NewAPIKey(), ""))
			x.do(broken, name+" with the key store failing", http.StatusInternalServerError,
				specRequest(method, target(""), identity.NewAPIKey(), ""))
			x.do(down, name+" with the database down", http.StatusServiceUnavailable,
				specRequest(method, target(""), identity.NewAPIKey(), ""))
			if op.RequestBody != nil {
				req := httptest.NewRequest(method, target(""), brokenBody{})
				req.Header.Set("x-api-key", a.key)
				req.ContentLength = -1
				x.do(r, name+" with an unreadable body", http.StatusBadRequest, req)
				limit := httpapi.DefaultMaxBodyBytes
				if n, ok := op.Extensions["x-max-body-bytes"].(float64); ok { // an operation with its own bound
					limit = int(n)
				}
				big := `{"name": "` + strings.Repeat("x", limit) + `"}`
				x.do(r, name+" with a body too large", http.StatusRequestEntityTooLarge, specRequest(method, target(""), a.key, big))
			}
			uuidInPath := false
			for _, pr := range params {
				if pr.Value.In == openapi3.ParameterInPath && pr.Value.Schema.Value.Format == "uuid" {
					uuidInPath = true
				}
			}
			if uuidInPath {
				body := specSampleBodies[op.OperationID]
				x.do(r, name+" with an unknown id", http.StatusNotFound, specRequest(method, target(""), a.key, body))
				// 422, or 400 where Kupe documents one for invalid input (and so does ours).
				status := http.StatusUnprocessableEntity
				if op.Responses.Status(status) == nil {
					status = http.StatusBadRequest
				}
				x.do(r, name+" with an id that is not a UUID", status, specRequest(method, target("not-a-uuid"), a.key, body))
			}
		}
	}
}

func serviceExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	get := func(target string) *http.Request { return specRequest(http.MethodGet, target, "", "") }
	x.do(r, "healthy", http.StatusOK, get("/health"))
	dbDown := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.Pinger = pingerFunc(func(context.Context) error { return errors.New("connection refused") })
	})
	x.do(dbDown, "health with the database down", http.StatusServiceUnavailable, get("/health"))
	redisDown := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Redis = redisStatus("disconnected") })
	x.do(redisDown, "health with Redis down", http.StatusOK, get("/health"))
	x.do(r, "metrics", http.StatusOK, get("/metrics"))
	guarded := specRig(t, func(_ *httpapi.Deps, c *httpapi.Config) { c.MetricsToken = "scrape-token-0123456789" })
	x.do(guarded, "metrics without its token", http.StatusUnauthorized, get("/metrics"))
	withToken := get("/metrics")
	withToken.Header.Set("Authorization", "Bearer scrape-token-0123456789")
	x.do(guarded, "metrics with its token", http.StatusOK, withToken)

	x.do(r, "ready", http.StatusOK, get("/ready"))
	x.do(dbDown, "not ready: database down", http.StatusServiceUnavailable, get("/ready"))
	draining := &httpapi.Readiness{}
	draining.Drain()
	stopping := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) { d.Readiness = draining })
	x.do(stopping, "not ready: shutting down", http.StatusServiceUnavailable, get("/ready"))

	x.do(r, "openapi.json", http.StatusOK, get("/openapi.json"))
	x.do(r, "docs", http.StatusOK, get("/docs"))

	a := r.user(money.FromUnits(5), false)
	x.do(r, "me", http.StatusOK, specRequest(http.MethodGet, "/api/v1/me", a.key, ""))
	x.do(r, "credit balance", http.StatusOK, specRequest(http.MethodGet, "/api/v1/billing/credit-balance", a.key, ""))
}

func callExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	broke := r.user(0, true)
	noLine := r.user(money.FromUnits(5), false)
	post := func(key, body string, params ...string) *http.Request {
		return specRequest(http.MethodPost, callURL(params...), key, body)
	}
	withKey := func(req *http.Request, key string) *http.Request {
		req.Header.Set("Idempotency-Key", key)
		return req
	}

	created := decode(t, x.do(r, "call placed", http.StatusOK,
		post(a.key, `{"variable_values": {"name": "Ada", "balance": 0.1, "vip": true, "order": {"id": 7, "items": ["tea"]}}}`,
			"phoneNumber", destination)))
	x.do(r, "call refused by the carrier", http.StatusOK, post(a.key, "", "phoneNumber", rejectedDest, "agent_id", a.agent.ID))
	x.do(r, "call with an idempotency key", http.StatusOK, withKey(post(a.key, "", "phoneNumber", destination), "order-1"))
	replay := x.do(r, "call replayed", http.StatusOK, withKey(post(a.key, "", "phoneNumber", destination), "order-1"))
	if replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("a replayed call has Idempotent-Replayed %q", replay.Header().Get("Idempotent-Replayed"))
	}
	x.do(r, "idempotency key reused for another call", http.StatusUnprocessableEntity,
		withKey(post(a.key, "", "phoneNumber", rejectedDest), "order-1"))
	x.do(r, "call without credits", http.StatusPaymentRequired, post(broke.key, "", "phoneNumber", destination))
	capped := r.user(money.FromUnits(5), true)
	if _, err := r.store.UpdateLimits(context.Background(), capped.userID, func(l *identity.Limits) error {
		zero := money.Amount(0)
		l.DailySpendCap = &zero
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	x.do(r, "call over the daily spend cap", http.StatusPaymentRequired, post(capped.key, "", "phoneNumber", destination))
	fromPage := post(a.key, "", "phoneNumber", destination)
	fromPage.Header.Set("Origin", "https://elsewhere.example")
	x.do(r, "call from a browser origin not allowed", http.StatusForbidden, fromPage)
	x.do(r, "call with another user's agent", http.StatusNotFound, post(a.key, "", "phoneNumber", destination, "agent_id", other.agent.ID))
	vars := make([]string, 0, 5)
	for i := range 5 {
		vars = append(vars, fmt.Sprintf(`"v%d": "%s"`, i, strings.Repeat("x", 4000)))
	}
	x.do(r, "call with variable_values too large", http.StatusRequestEntityTooLarge,
		post(a.key, `{"variable_values": {`+strings.Join(vars, ", ")+`}}`, "phoneNumber", destination))
	x.do(r, "call without phoneNumber", http.StatusUnprocessableEntity, post(a.key, "", "agent_id", a.agent.ID))
	x.do(r, "call with a malformed body", http.StatusUnprocessableEntity, post(a.key, `{"variable_values": [1]}`, "phoneNumber", destination))
	busy := r.user(money.FromUnits(5), true)
	if _, err := r.store.UpdateLimits(context.Background(), busy.userID, func(l *identity.Limits) error {
		l.MaxConcurrentCalls = 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	x.do(r, "first of one concurrent call", http.StatusOK, post(busy.key, "", "phoneNumber", destination))
	if w := x.do(r, "second of one concurrent call", http.StatusTooManyRequests, post(busy.key, "", "phoneNumber", destination)); w.Header().Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}
	x.do(r, "call without a line", http.StatusInternalServerError,
		post(noLine.key, "", "phoneNumber", destination, "agent_id", r.agent(noLine.userID).ID))

	// A retry while the first request with its key is still dialling.
	gate := &gateCarrier{entered: make(chan struct{}), release: make(chan struct{})}
	gated := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CreateCall.Carriers = createcall.CarrierSet{call.ProviderSimulated: gate}
	})
	g := gated.user(money.FromUnits(5), true)
	first := withKey(post(g.key, "", "phoneNumber", destination), "slow-1")
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(gated, first) }()
	<-gate.entered
	x.do(gated, "idempotency key still in progress", http.StatusConflict, withKey(post(g.key, "", "phoneNumber", destination), "slow-1"))
	close(gate.release)
	x.keep("first request with the key", http.StatusOK, first, <-done)

	get := func(target, key string) *http.Request { return specRequest(http.MethodGet, target, key, "") }
	rid := created["request_id"].(string)
	x.do(r, "one session", http.StatusOK, get("/api/v1/call-analytics?request_id="+rid, a.key))
	x.do(r, "a page of sessions", http.StatusOK, get("/api/v1/call-analytics?page=1&page_size=1", a.key))
	x.do(r, "all sessions", http.StatusOK, get("/api/v1/call-analytics", a.key))
	x.do(r, "failed sessions", http.StatusOK, get("/api/v1/call-analytics?filter=failed&page=1", a.key))
	x.do(r, "an empty page", http.StatusOK, get("/api/v1/call-analytics?page=9", a.key))
	x.do(r, "another user's session", http.StatusNotFound, get("/api/v1/call-analytics?request_id="+rid, other.key))
	x.do(r, "page 0", http.StatusUnprocessableEntity, get("/api/v1/call-analytics?page=0", a.key))
	logDown := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
		d.CallLogs = &accounts.CallLogs{Sessions: brokenCallLog{d.CallLogs.Sessions}}
	})
	x.do(logDown, "call log store failing", http.StatusInternalServerError,
		get("/api/v1/call-analytics", logDown.user(money.FromUnits(1), false).key))

	today := time.Now().UTC().Format(time.DateOnly)
	x.do(r, "export one session", http.StatusOK, get("/api/v1/call-analytics/export?request_id="+rid, a.key))
	x.do(r, "export a range", http.StatusOK, get("/api/v1/call-analytics/export?start_date="+today+"&end_date="+today, a.key))
	x.do(r, "export another user's session", http.StatusNotFound, get("/api/v1/call-analytics/export?request_id="+rid, other.key))
	x.do(r, "export without a range", http.StatusBadRequest, get("/api/v1/call-analytics/export", a.key))
	x.do(r, "export of 32 days", http.StatusBadRequest, get("/api/v1/call-analytics/export?start_date=2026-01-01&end_date=2026-02-01", a.key))
	x.do(logDown, "export with the store failing", http.StatusInternalServerError,
		get("/api/v1/call-analytics/export?start_date="+today+"&end_date="+today, logDown.user(money.FromUnits(1), false).key))
}

// ownedExchanges: lines, mappings, agents and workflows.
func ownedExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	do := func(name string, status int, method, target, body string) map[string]any {
		w := x.do(r, name, status, specRequest(method, target, a.key, body))
		if w.Code >= 300 || strings.HasPrefix(w.Body.String(), "[") {
			return nil
		}
		return decode(t, w)
	}

	do("list agents", http.StatusOK, http.MethodGet, "/api/v1/agents", "")
	do("search agents, a page", http.StatusOK, http.MethodGet, "/api/v1/agents?q=sup&page=1&page_size=5", "")
	do("list agents, too many a page", http.StatusUnprocessableEntity, http.MethodGet, "/api/v1/agents?page_size=101", "")
	do("agent stats", http.StatusOK, http.MethodGet, "/api/v1/agents/stats", "")
	ag := do("create an agent", http.StatusCreated, http.MethodPost, "/api/v1/agents/simple", `{"name": "Support"}`)
	do("create an agent without a name", http.StatusBadRequest, http.MethodPost, "/api/v1/agents/simple", `{"name": ""}`)
	agentID := ag["agent"].(map[string]any)["id"].(string)
	do("get an agent", http.StatusOK, http.MethodGet, "/api/v1/agents/"+agentID, "")
	do("update an agent", http.StatusOK, http.MethodPut, "/api/v1/agents/"+agentID+"?force_update=true",
		`{"agent": {"name": "Support 2", "first_response_message": "Hi {{name}}"}, "agent_model_config": {"system_prompt": "Be brief."}}`)
	do("update an agent with two welcome messages", http.StatusBadRequest, http.MethodPut, "/api/v1/agents/"+agentID,
		`{"agent": {"first_response_message": "Hi", "welcome_message": "Hello"}}`)

	do("list workflows", http.StatusOK, http.MethodGet, "/api/v1/workflows", "")
	wf := do("create a workflow", http.StatusCreated, http.MethodPost, "/api/v1/workflows", `{"name": "Renewals"}`)
	do("create a workflow without a name", http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/workflows", `{}`)
	do("get a workflow", http.StatusOK, http.MethodGet, "/api/v1/workflows/"+wf["workflow"].(map[string]any)["id"].(string), "")

	do("list lines", http.StatusOK, http.MethodGet, "/api/v1/phone", "")
	added := do("add a line", http.StatusCreated, http.MethodPost, "/api/v1/phone",
		`{"phone_number": "+14155550142", "provider": "simulated", "credentials": {"token": "s3cret"}, "friendly_name": "Desk", "region": "CA"}`)
	do("add a line twice", http.StatusConflict, http.MethodPost, "/api/v1/phone", `{"phone_number": "+14155550142", "provider": "simulated"}`)
	do("add a line without a number", http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/phone", `{"provider": "twilio"}`)
	lineID := added["phone_number"].(map[string]any)["id"].(string)
	do("get a line", http.StatusOK, http.MethodGet, "/api/v1/phone/"+lineID, "")
	do("update a line", http.StatusOK, http.MethodPut, "/api/v1/phone/"+lineID, `{"friendly_name": "", "is_active": false}`)

	do("map a line", http.StatusOK, http.MethodPost, "/api/v1/phone/mapping",
		`{"phone_number_id": "`+lineID+`", "agent_id": "`+agentID+`"}`)
	do("map a line to two targets", http.StatusBadRequest, http.MethodPost, "/api/v1/phone/mapping",
		`{"phone_number_id": "`+lineID+`", "agent_id": "`+agentID+`", "workflow_id": "`+uuid.NewString()+`"}`)
	do("map a line for another user", http.StatusForbidden, http.MethodPost, "/api/v1/phone/mapping",
		`{"phone_number_id": "`+lineID+`", "agent_id": "`+agentID+`", "user_id": "`+other.userID+`"}`)
	do("map a line to another user's agent", http.StatusNotFound, http.MethodPost, "/api/v1/phone/mapping",
		`{"phone_number_id": "`+lineID+`", "agent_id": "`+other.agent.ID+`"}`)
	do("map a line to a malformed id", http.StatusBadRequest, http.MethodPost, "/api/v1/phone/mapping",
		`{"phone_number_id": "`+lineID+`", "agent_id": "xyz"}`)
	do("get a mapping", http.StatusOK, http.MethodGet, "/api/v1/phone/mapping/"+lineID, "")
	do("list an agent's lines", http.StatusOK, http.MethodGet, "/api/v1/phone/mapping/agent/"+agentID, "")
	do("delete a mapping", http.StatusOK, http.MethodDelete, "/api/v1/phone/mapping/"+lineID, "")
	do("get a line's missing mapping", http.StatusNotFound, http.MethodGet, "/api/v1/phone/mapping/"+lineID, "")
	do("delete a line", http.StatusOK, http.MethodDelete, "/api/v1/phone/"+lineID, "")
}

func apiKeyExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	a := r.user(money.FromUnits(5), false)
	other := r.user(money.FromUnits(5), false)
	do := func(name string, status int, method, target, body string) map[string]any {
		w := x.do(r, name, status, specRequest(method, target, a.key, body))
		if w.Code >= 300 || strings.HasPrefix(w.Body.String(), "[") {
			return nil
		}
		return decode(t, w)
	}
	created := do("create a key", http.StatusOK, http.MethodPost, "/api/v1/api-keys", `{"name": "crm", "provider_name": "milli_chat_ai"}`)
	k := created["api_key"].(map[string]any)
	r.secrets = append(r.secrets, k["key"].(string))
	id := k["id"].(string)
	do("create a key for another user", http.StatusForbidden, http.MethodPost, "/api/v1/api-keys", `{"user_id": "`+other.userID+`"}`)
	do("create a key with a long name", http.StatusUnprocessableEntity, http.MethodPost, "/api/v1/api-keys",
		`{"name": "`+strings.Repeat("n", 101)+`"}`)
	do("list keys", http.StatusOK, http.MethodGet, "/api/v1/api-keys/fetch", "")
	do("list another user's keys", http.StatusForbidden, http.MethodGet, "/api/v1/api-keys/fetch?user_id="+other.userID, "")
	do("list keys for a malformed user", http.StatusUnprocessableEntity, http.MethodGet, "/api/v1/api-keys/fetch?user_id=xyz", "")
	do("rename a key", http.StatusOK, http.MethodPatch, "/api/v1/api-keys/"+id, `{"name": "crm sync"}`)
	do("rename a key for another user", http.StatusForbidden, http.MethodPatch, "/api/v1/api-keys/"+id+"?user_id="+other.userID, `{"name": "x"}`)
	do("rename a key without a name", http.StatusUnprocessableEntity, http.MethodPatch, "/api/v1/api-keys/"+id, `{}`)
	do("revoke a key for another user", http.StatusForbidden, http.MethodDelete, "/api/v1/api-keys/"+id+"?user_id="+other.userID, "")
	do("revoke a key", http.StatusOK, http.MethodDelete, "/api/v1/api-keys/"+id, "")
	do("revoke a revoked key", http.StatusNotFound, http.MethodDelete, "/api/v1/api-keys/"+id, "")
}

// specCallbackSession stores a dialled session on an Exotel line of a new user of r, as a carrier
// would report on, and returns it with the path and query of its callback URL.
func specCallbackSession(t *testing.T, r *rig) (string, string) {
	t.Helper()
	ctx := context.Background()
	u := r.user(money.FromUnits(5), false)
	line := call.Line{ID: uuid.NewString(), UserID: u.userID, Number: "+14155550177", Provider: call.ProviderExotel,
		Active: true, CreatedAt: time.Now().UTC(), Credentials: call.Credentials{"api_key": "k", "api_token": "exo-token-9d2f"}}
	if err := r.store.CreateLine(ctx, line); err != nil {
		t.Fatal(err)
	}
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: u.userID,
		LineID: line.ID, Provider: call.ProviderExotel, From: line.Number, To: destination}, time.Now().UTC())
	if err := r.store.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDialed("EXO-LEG-1", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := r.store.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s.ID, strings.TrimPrefix(httpapi.StatusCallbackURL("https://kupe.example", call.ProviderExotel, s.ID, specCallbackSigner),
		"https://kupe.example")
}

func callbackExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	id, target := specCallbackSession(t, r)
	r.secrets = append(r.secrets, "exo-token-9d2f")
	post := func(target, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	x.do(r, "callback: answered", http.StatusOK, post(target, `{"CallSid": "EXO-LEG-1", "EventType": "answered", "Status": "in-progress"}`))
	form := httptest.NewRequest(http.MethodPost, target, strings.NewReader("CallSid=EXO-LEG-1&EventType=terminal&Status=completed&ConversationDuration=61"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	x.do(r, "callback: completed, as a form", http.StatusOK, form)
	x.do(r, "callback: repeated", http.StatusOK, post(target, `{"CallSid": "EXO-LEG-1", "EventType": "terminal", "Status": "completed"}`))
	base, _, _ := strings.Cut(target, "?")
	x.do(r, "callback without its token", http.StatusForbidden, post(base, `{"Status": "completed"}`))
	unknown := uuid.NewString()
	x.do(r, "callback of an unknown session", http.StatusNotFound,
		post("/api/call/status-callback/exotel/"+unknown+"?token="+specCallbackSigner.Token(unknown), `{}`))
	x.do(r, "callback of an unknown carrier", http.StatusNotFound, post("/api/call/status-callback/plivo/"+id, `{}`))
	x.do(r, "callback too large", http.StatusRequestEntityTooLarge,
		post(target, `{"Status": "`+strings.Repeat("x", httpapi.DefaultMaxBodyBytes)+`"}`))
	x.do(r, "callback in another format", http.StatusUnprocessableEntity, post(target, `{"Status":`))
	unreadable := httptest.NewRequest(http.MethodPost, target, brokenBody{})
	unreadable.ContentLength = -1
	x.do(r, "callback with an unreadable body", http.StatusBadRequest, unreadable)

	for status, err := range map[int]error{
		http.StatusInternalServerError: errors.New("pool exhausted"),
		http.StatusServiceUnavailable:  fmt.Errorf("read line: %w", fault.ErrUnavailable),
	} {
		failing := specRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			cb := *d.Callbacks
			ev := *cb.Events
			ev.Lines = linesFailing{err: err}
			cb.Events = &ev
			d.Callbacks = &cb
		})
		_, target := specCallbackSession(t, failing)
		x.do(failing, fmt.Sprintf("callback with the store failing (%d)", status), status, post(target, `{"Status": "completed"}`))
	}
}
