package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

func TestAgents(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	other := r.user(money.FromUnits(5), false)
	theirs := r.agent(other.userID)

	w := r.send(http.MethodPost, "/api/v1/agents/simple", a.key, `{"name": "  Quickstart Agent ", "description": "not kept"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST simple = %d %s", w.Code, w.Body)
	}
	m := decode(t, w)
	ag, _ := m["agent"].(map[string]any)
	id, _ := ag["id"].(string)
	if got := keys(m); !reflect.DeepEqual(got, []string{"agent", "configurations", "validation_status"}) {
		t.Fatalf("keys = %v", got)
	}
	if ag["name"] != "Quickstart Agent" || ag["user_id"] != a.userID || ag["is_active"] != true || ag["first_response_message"] != "" ||
		m["validation_status"] != "valid" || !reflect.DeepEqual(m["configurations"], map[string]any{"agent_model_config": map[string]any{"system_prompt": ""}}) {
		t.Fatalf("created = %s", w.Body)
	}
	stored, err := r.store.Agent(context.Background(), id)
	if err != nil || stored.UserID != a.userID || stored.Name != "Quickstart Agent" || !stored.Active {
		t.Fatalf("stored agent = %+v, %v", stored, err)
	}

	// PUT, in Kupe's AgentUpdateRequest shape: only what is sent changes.
	w = r.send(http.MethodPut, "/api/v1/agents/"+id+"?force_update=true", a.key, `{
		"agent": {"name": "Renamed", "first_response_message": "Hi {{name}}, this is Acme."},
		"agent_model_config": {"model_name": "ignored", "system_prompt": "You call {{name}} about {{balance}}."},
		"tts_config": {"voice_name": "ignored"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	m = decode(t, w)
	ag = m["agent"].(map[string]any)
	if ag["name"] != "Renamed" || ag["first_response_message"] != "Hi {{name}}, this is Acme." || ag["is_active"] != true ||
		m["configurations"].(map[string]any)["agent_model_config"].(map[string]any)["system_prompt"] != "You call {{name}} about {{balance}}." {
		t.Fatalf("after PUT = %s", w.Body)
	}
	w = r.send(http.MethodPut, "/api/v1/agents/"+id, a.key, `{"agent": {"is_active": false, "welcome_message": "Hello"}}`)
	if ag = decode(t, w)["agent"].(map[string]any); w.Code != http.StatusOK || ag["is_active"] != false || ag["name"] != "Renamed" ||
		ag["first_response_message"] != "Hello" {
		t.Fatalf("after PUT is_active and welcome_message = %s", w.Body)
	}
	stored, _ = r.store.Agent(context.Background(), id)
	want := call.Agent{ID: id, UserID: a.userID, Name: "Renamed", SystemPrompt: "You call {{name}} about {{balance}}.",
		FirstMessage: "Hello", Active: false, CreatedAt: stored.CreatedAt}
	if stored != want {
		t.Fatalf("stored = %+v, want %+v", stored, want)
	}

	// GET one, and the list: the caller's agents only.
	if m := decode(t, r.get("/api/v1/agents/"+id, a.key)); m["agent"].(map[string]any)["id"] != id {
		t.Fatalf("GET = %v", m)
	}
	var list struct {
		Agents                []map[string]any
		Total, Page, PageSize int `json:"-"`
	}
	w = r.get("/api/v1/agents", a.key)
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Agents) != 1 || list.Agents[0]["id"] != id || list.Agents[0]["name"] != "Renamed" {
		t.Fatalf("list = %d %s", w.Code, w.Body)
	}
	if w := r.get("/api/v1/agents", other.key); strings.Contains(w.Body.String(), id) || !strings.Contains(w.Body.String(), theirs.ID) {
		t.Fatalf("other user's list = %s", w.Body)
	}
	empty := r.user(money.FromUnits(1), false)
	if w := r.get("/api/v1/agents", empty.key); w.Code != http.StatusOK || w.Body.String() != `{"agents":[],"total":0,"page":1,"page_size":20}` {
		t.Fatalf("empty list = %d %s", w.Code, w.Body)
	}

	for _, tc := range []struct{ name, method, target, body, detail string }{
		{"no name", http.MethodPost, "/api/v1/agents/simple", `{}`, "name must be 1 to 200 characters"},
		{"blank name", http.MethodPost, "/api/v1/agents/simple", `{"name": "   "}`, "name must be 1 to 200 characters"},
		{"name not a string", http.MethodPost, "/api/v1/agents/simple", `{"name": 5}`, "name must be a string"},
		{"blank name on PUT", http.MethodPut, "/api/v1/agents/" + id, `{"agent": {"name": ""}}`, "name must be 1 to 200 characters"},
		{"prompt too long", http.MethodPut, "/api/v1/agents/" + id, `{"agent_model_config": {"system_prompt": "` + strings.Repeat("x", 32<<10+1) + `"}}`,
			"system_prompt must be valid text of at most 32768 bytes"},
		{"message and its alias disagree", http.MethodPut, "/api/v1/agents/" + id, `{"agent": {"first_response_message": "a", "welcome_message": "b"}}`,
			"Send first_response_message or its alias welcome_message, not both"},
		{"is_active not a boolean", http.MethodPut, "/api/v1/agents/" + id, `{"agent": {"is_active": 1}}`, "agent.is_active must be a boolean"},
		{"malformed id", http.MethodGet, "/api/v1/agents/abc", "", "agent_id must be a UUID"},
		{"malformed id on PUT", http.MethodPut, "/api/v1/agents/abc", `{}`, "agent_id must be a UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Kupe documents a 400 for invalid input to these operations.
			wantDetail(t, r.send(tc.method, tc.target, a.key, tc.body), http.StatusBadRequest, tc.detail)
		})
	}
	if got, _ := r.store.Agent(context.Background(), id); got != want {
		t.Fatalf("a refused PUT changed the agent: %+v", got)
	}
	wantDetail(t, r.get("/api/v1/agents/"+uuid.NewString(), a.key), http.StatusNotFound, "Agent not found")
	wantDetail(t, r.get("/api/v1/agents", ""), http.StatusUnauthorized, "Invalid or missing API key")
	// Large prompts go through whole (the body limit is the service's).
	big := strings.Repeat("p", 30<<10)
	if w := r.send(http.MethodPut, "/api/v1/agents/"+id, a.key, `{"agent_model_config": {"system_prompt": "`+big+`"}}`); w.Code != http.StatusOK {
		t.Fatalf("PUT of a 30 KiB prompt = %d %s", w.Code, w.Body)
	}
}

// An agent made and set up through the API places calls whose prompt and first message carry
// the call's variable_values, and the call log shows them rendered.
func TestRenderedPromptsThroughTheAPI(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	line := r.addLine(a.userID, lineNumber, false)
	id := decode(t, r.send(http.MethodPost, "/api/v1/agents/simple", a.key, `{"name": "Collections"}`))["agent"].(map[string]any)["id"].(string)
	if w := r.send(http.MethodPut, "/api/v1/agents/"+id, a.key, `{"agent": {"first_response_message": "Hello {{name}}!"},
		"agent_model_config": {"system_prompt": "Remind {{ name }} that {{balance}} is due. {{unknown}} stays."}}`); w.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	if w := r.send(http.MethodPost, "/api/v1/phone/mapping", a.key, `{"phone_number_id": "`+line.ID+`", "agent_id": "`+id+`"}`); w.Code != http.StatusOK {
		t.Fatalf("mapping = %d %s", w.Code, w.Body)
	}
	created := decode(t, r.post(callURL("phoneNumber", destination), a.key, `{"variable_values": {"name": "Ada", "balance": 12.50}}`))
	rid, _ := created["request_id"].(string)
	m := decode(t, r.get("/api/v1/call-analytics?request_id="+rid, a.key))
	if m["agent_id"] != id || m["rendered_system_prompt"] != "Remind Ada that 12.50 is due. {{unknown}} stays." ||
		m["rendered_first_message"] != "Hello Ada!" {
		t.Fatalf("session = %v", m)
	}
	// Changing the agent later does not rewrite what a placed call was rendered with.
	r.send(http.MethodPut, "/api/v1/agents/"+id, a.key, `{"agent_model_config": {"system_prompt": "New"}}`)
	if m := decode(t, r.get("/api/v1/call-analytics?request_id="+rid, a.key)); m["rendered_system_prompt"] != "Remind Ada that 12.50 is due. {{unknown}} stays." {
		t.Fatalf("session after the agent changed = %v", m["rendered_system_prompt"])
	}
	// Objects and arrays, as Kupe's CreateCallBody allows, are rendered as compact JSON; an
	// Idempotency-Key retry with the same object in another key order replays, and the same text
	// sent as a string is another request.
	nested := `{"variable_values": {"name": {"first": "Ada", "last": "L"}, "balance": [1, 2.5]}}`
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, callURL("phoneNumber", destination), strings.NewReader(body))
		req.Header.Set("x-api-key", a.key)
		req.Header.Set("Idempotency-Key", "nested-1")
		return serve(r, req)
	}
	first := send(nested)
	m = decode(t, r.get("/api/v1/call-analytics?request_id="+decode(t, first)["request_id"].(string), a.key))
	if vars, _ := m["variable_values"].(map[string]any); m["rendered_first_message"] != `Hello {"first":"Ada","last":"L"}!` ||
		vars["balance"] != "[1,2.5]" {
		t.Fatalf("nested session = %v", m)
	}
	if w := send(`{"variable_values": {"balance": [1, 2.5], "name": {"last": "L", "first": "Ada"}}}`); w.Code != http.StatusOK ||
		w.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the object reordered = %d %s (replayed %q)", w.Code, w.Body, w.Header().Get("Idempotent-Replayed"))
	}
	wantDetail(t, send(`{"variable_values": {"name": "{\"first\":\"Ada\",\"last\":\"L\"}", "balance": [1, 2.5]}}`),
		http.StatusUnprocessableEntity, "Idempotency-Key was already used with a different request (destination, agent, workflow, phone number or variables)")

	// A workflow's call has nothing rendered.
	flow := decode(t, r.send(http.MethodPost, "/api/v1/workflows", a.key, `{"name": "Survey"}`))["workflow"].(map[string]any)["id"].(string)
	created = decode(t, r.post(callURL("phoneNumber", destination, "workflow_id", flow), a.key, `{"variable_values": {"name": "Ada"}}`))
	if m := decode(t, r.get("/api/v1/call-analytics?request_id="+created["request_id"].(string), a.key)); m["rendered_system_prompt"] != nil ||
		m["rendered_first_message"] != nil || m["workflow_id"] != flow {
		t.Fatalf("workflow session = %v", m)
	}
}

// GET /api/v1/agents pages and searches in Kupe's object: page, page_size (1 to 100, default
// 20) and q (name contains, any case).
func TestListAgentsPages(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	other := r.user(money.FromUnits(5), false)
	var ids []string
	for _, name := range []string{"Sales East", "Support", "sales west", "Billing", "SALES north"} {
		ids = append(ids, decode(t, r.send(http.MethodPost, "/api/v1/agents/simple", a.key, `{"name": "`+name+`"}`))["agent"].(map[string]any)["id"].(string))
	}
	r.send(http.MethodPost, "/api/v1/agents/simple", other.key, `{"name": "Sales"}`)
	page := func(query string) (got []string, total, pageNo, size string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/agents"+query, nil)
		req.Header.Set("x-api-key", a.key)
		w := serve(r, req)
		validateAgainstSpec(t, req, w)
		m := decode(t, w)
		for _, ag := range m["agents"].([]any) {
			got = append(got, ag.(map[string]any)["id"].(string))
		}
		return got, m["total"].(json.Number).String(), m["page"].(json.Number).String(), m["page_size"].(json.Number).String()
	}
	if got, total, p, size := page(""); !reflect.DeepEqual(got, ids) || total != "5" || p != "1" || size != "20" {
		t.Fatalf("default page = %v total %v page %v size %v", got, total, p, size)
	}
	if got, total, p, size := page("?page=2&page_size=2"); !reflect.DeepEqual(got, ids[2:4]) || total != "5" || p != "2" || size != "2" {
		t.Fatalf("page 2 of 2 = %v total %v page %v size %v", got, total, p, size)
	}
	if got, total, _, _ := page("?q=SALES&page_size=2&scope=all"); !reflect.DeepEqual(got, []string{ids[0], ids[2]}) || total != "3" {
		t.Fatalf("search = %v total %v", got, total)
	}
	if got, total, _, _ := page("?page=9"); got != nil || total != "5" {
		t.Fatalf("past the end = %v total %v", got, total)
	}
	for query, detail := range map[string]string{
		"?page_size=101":                 "page_size must be from 1 to 100",
		"?page_size=0":                   "page_size must be from 1 to 100",
		"?page=0":                        "page must be 1 or more",
		"?page=two":                      "page must be an integer",
		"?q=" + strings.Repeat("x", 201): "q must be valid text of at most 200 bytes",
	} {
		wantDetail(t, r.get("/api/v1/agents"+query, a.key), http.StatusUnprocessableEntity, detail)
	}
}

// GET /api/v1/agents/stats is routed to the stats, not read as an agent id: per agent its calls
// by status, talk seconds and cost, and the sums; only the caller's sessions count.
func TestAgentStats(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(50), true)
	other := r.user(money.FromUnits(50), true)
	second := r.agent(a.userID)
	for range 2 {
		if w := r.post(callURL("phoneNumber", destination, "agent_id", second.ID), a.key, ""); w.Code != http.StatusOK {
			t.Fatalf("call = %d %s", w.Code, w.Body)
		}
	}
	r.post(callURL("phoneNumber", rejectedDest, "agent_id", a.agent.ID), a.key, "")
	r.post(callURL("phoneNumber", destination, "agent_id", other.agent.ID), other.key, "")
	// One of the calls completes: a minute and a half, charged.
	sessions, _, err := r.store.ListSessions(context.Background(), a.userID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var done *call.Session
	for _, s := range sessions {
		if s.AgentID == second.ID {
			done = s
			break
		}
	}
	now := time.Now().UTC()
	for _, st := range []call.Status{call.StatusInProgress, call.StatusCompleted} {
		if _, err := done.Advance(st, now); err != nil {
			t.Fatal(err)
		}
	}
	done.Duration, done.Cost = 90*time.Second, money.FromUnits(2)
	if err := r.store.SaveSession(context.Background(), done); err != nil {
		t.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/agents/stats", nil)
	req.Header.Set("x-api-key", a.key)
	w := serve(r, req)
	if op := validateAgainstSpec(t, req, w); op != "getAgentStats" {
		t.Fatalf("routed to %s", op)
	}
	var got struct {
		TotalAgents   int            `json:"total_agents"`
		ActiveAgents  int            `json:"active_agents"`
		TotalCalls    int            `json:"total_calls"`
		CallsByStatus map[string]int `json:"calls_by_status"`
		TalkSeconds   int            `json:"total_talk_seconds"`
		Cost          float64        `json:"total_cost"`
		Agents        []struct {
			AgentID       string         `json:"agent_id"`
			TotalCalls    int            `json:"total_calls"`
			CallsByStatus map[string]int `json:"calls_by_status"`
			TalkSeconds   int            `json:"total_talk_seconds"`
			Cost          float64        `json:"total_cost"`
		} `json:"agents"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.TotalAgents != 2 || got.ActiveAgents != 2 || got.TotalCalls != 3 || got.TalkSeconds != 90 || got.Cost != 2 ||
		got.CallsByStatus["completed"] != 1 || got.CallsByStatus["initiated"] != 1 || got.CallsByStatus["failed"] != 1 ||
		len(got.CallsByStatus) != len(call.AllStatuses()) || len(got.Agents) != 2 {
		t.Fatalf("stats = %s", w.Body)
	}
	first, sec := got.Agents[0], got.Agents[1]
	if first.AgentID != a.agent.ID || first.TotalCalls != 1 || first.CallsByStatus["failed"] != 1 ||
		sec.AgentID != second.ID || sec.TotalCalls != 2 || sec.CallsByStatus["completed"] != 1 || sec.TalkSeconds != 90 || sec.Cost != 2 {
		t.Fatalf("per agent = %s", w.Body)
	}
	if strings.Contains(w.Body.String(), other.agent.ID) {
		t.Fatal("another user's agent is in the stats")
	}
}

func TestWorkflows(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	other := r.user(money.FromUnits(5), false)
	w := r.send(http.MethodPost, "/api/v1/workflows", a.key, `{"name": "Renewals"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	wf := decode(t, w)["workflow"].(map[string]any)
	id, _ := wf["id"].(string)
	if got := keys(wf); !reflect.DeepEqual(got, []string{"created_at", "id", "is_active", "name", "user_id"}) ||
		wf["name"] != "Renewals" || wf["user_id"] != a.userID || wf["is_active"] != true {
		t.Fatalf("created = %s", w.Body)
	}
	if stored, err := r.store.Workflow(context.Background(), id); err != nil || stored.UserID != a.userID || stored.Name != "Renewals" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if m := decode(t, r.get("/api/v1/workflows/"+id, a.key)); m["workflow"].(map[string]any)["id"] != id {
		t.Fatalf("GET = %v", m)
	}
	var list []map[string]any
	w = r.get("/api/v1/workflows", a.key)
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("list = %s", w.Body)
	}
	if w := r.get("/api/v1/workflows", other.key); w.Body.String() != "[]" {
		t.Fatalf("other user's list = %s", w.Body)
	}
	wantDetail(t, r.send(http.MethodPost, "/api/v1/workflows", a.key, `{"name": ""}`), http.StatusUnprocessableEntity, "name must be 1 to 200 characters")
	wantDetail(t, r.get("/api/v1/workflows/nope", a.key), http.StatusUnprocessableEntity, "workflow_id must be a UUID")
	wantDetail(t, r.get("/api/v1/workflows/"+uuid.NewString(), a.key), http.StatusNotFound, "Workflow not found")
}

func TestCreditBalance(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), false)
	if err := r.accounts.SetCredits(context.Background(), a.userID, money.Amount(12_345_678)); err != nil {
		t.Fatal(err)
	}
	w := r.get("/api/v1/billing/credit-balance", a.key)
	if w.Code != http.StatusOK || w.Body.String() != `{"user_id":"`+a.userID+`","credit_balance":12.345678,"currency":"credits"}` {
		t.Fatalf("credit balance = %d %s", w.Code, w.Body)
	}
	wantDetail(t, r.get("/api/v1/billing/credit-balance", ""), http.StatusUnauthorized, "Invalid or missing API key")
	wantDetail(t, r.send(http.MethodPost, "/api/v1/billing/credit-balance", a.key, "{}"), http.StatusMethodNotAllowed, "Method Not Allowed")
}

func TestCallAnalyticsFilter(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	theirs := decode(t, r.post(callURL("phoneNumber", rejectedDest), other.key, ""))
	var all, ok, failed []map[string]any // newest first
	for i := range 6 {
		to := destination
		if i%3 == 0 {
			to = rejectedDest
		}
		m := decode(t, r.post(callURL("phoneNumber", to), a.key, ""))
		all = append([]map[string]any{m}, all...)
		if m["status"] == "failed" {
			failed = append([]map[string]any{m}, failed...)
		} else {
			ok = append([]map[string]any{m}, ok...)
		}
		time.Sleep(time.Millisecond) // distinct creation times, so "newest first" is one order
	}
	type page struct {
		Items    []map[string]any `json:"items"`
		Total    int              `json:"total"`
		Page     int              `json:"page"`
		PageSize int              `json:"page_size"`
	}
	list := func(t *testing.T, query string) page {
		t.Helper()
		w := r.get("/api/v1/call-analytics?"+query, a.key)
		var p page
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &p) != nil || !strings.Contains(w.Body.String(), `"items":[`) {
			t.Fatalf("%s = %d %s", query, w.Code, w.Body)
		}
		return p
	}
	rids := func(p page) []string {
		out := []string{}
		for _, it := range p.Items {
			out = append(out, it["request_id"].(string))
		}
		return out
	}
	field := func(ms []map[string]any) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m["request_id"].(string))
		}
		return out
	}
	rid := ok[1]["request_id"].(string)
	for _, tc := range []struct {
		query       string
		want        []string
		total, size int
	}{
		{"filter=failed", field(failed), 2, 100},
		{"filter=FAILED&page=1&page_size=1", field(failed[:1]), 2, 1},
		{"filter=failed&page=2&page_size=1", field(failed[1:]), 2, 1},
		{"filter=initiated", field(ok), 4, 100},
		{"filter=in-progress", []string{}, 0, 100},
		{"filter=" + rid, []string{rid}, 1, 100},
		{"filter=" + strings.ToUpper(rid[:8]), []string{rid}, 1, 100},
		{"filter=" + theirs["request_id"].(string), []string{}, 0, 100},
		{"filter=not+a+status", []string{}, 0, 100},
		{"filter=&page_size=2", field(all[:2]), 6, 2},
		{"filter=+", field(all), 6, 100},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := list(t, tc.query)
			if p.Total != tc.total || p.PageSize != tc.size {
				t.Fatalf("total %d size %d, want %d %d", p.Total, p.PageSize, tc.total, tc.size)
			}
			if got := rids(p); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("items %v, want %v", got, tc.want)
			}
		})
	}
	wantDetail(t, r.get("/api/v1/call-analytics?filter=failed&page_size=101", a.key), http.StatusUnprocessableEntity, "page_size must be from 1 to 100")
	wantDetail(t, r.get("/api/v1/call-analytics?filter=zzz&page=0", a.key), http.StatusUnprocessableEntity, "page must be 1 or more")
	// request_id wins over filter: one session, or 404.
	if m := decode(t, r.get("/api/v1/call-analytics?filter=failed&request_id="+rid, a.key)); m["request_id"] != rid {
		t.Fatalf("request_id with filter = %v", m)
	}
}
