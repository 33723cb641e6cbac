package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// tenant is one user and one of each record an endpoint can name by id: a line mapped to an
// agent, a workflow, a call session and an API key.
type tenant struct {
	account
	workflow  call.Workflow
	requestID string
	sessionID string
	keyID     string
}

func (r *rig) tenant() tenant {
	r.t.Helper()
	tn := tenant{account: r.user(money.FromUnits(5), true)}
	tn.workflow = r.workflow(tn.userID)
	m := decode(r.t, r.post(callURL("phoneNumber", destination), tn.key, ""))
	tn.requestID, _ = m["request_id"].(string)
	tn.sessionID, _ = m["call_session_id"].(string)
	k, err := r.store.APIKeyByHash(context.Background(), identity.HashAPIKey(tn.key))
	if err != nil || tn.requestID == "" {
		r.t.Fatalf("tenant: key %v, call %v", err, m)
	}
	tn.keyID = k.ID
	return tn
}

// ghost names records that do not exist, to compare a foreign id's answer with.
func ghost() tenant {
	id := uuid.NewString
	return tenant{
		account:   account{userID: id(), line: call.Line{ID: id()}, agent: call.Agent{ID: id()}},
		workflow:  call.Workflow{ID: id()},
		requestID: id(), sessionID: id(), keyID: id(),
	}
}

// holdings is everything of a tenant's the store keeps, read back through the store.
type holdings struct {
	Line      call.Line // with its mapping and credentials
	Agent     call.Agent
	Workflow  call.Workflow
	Session   call.Session
	Status    call.Status
	Sessions  int
	Lines     []call.Line
	Keys      []identity.APIKey
	KeyWorks  bool
	LineFound bool
}

func (r *rig) holdings(tn tenant, withKeys bool) holdings {
	r.t.Helper()
	ctx := context.Background()
	var h holdings
	var err error
	h.Line, err = r.store.Line(ctx, tn.line.ID)
	h.LineFound = err == nil
	h.Agent, _ = r.store.Agent(ctx, tn.agent.ID)
	h.Workflow, _ = r.store.Workflow(ctx, tn.workflow.ID)
	if s, err := r.store.Session(ctx, tn.sessionID); err == nil {
		h.Session, h.Status = *s, s.Status()
	}
	h.Sessions = r.sessionCount(tn.userID)
	h.Lines, _ = r.store.UserLines(ctx, tn.userID)
	if withKeys {
		// Listed keys carry last_used_at, which only their owner's requests move.
		h.Keys, _ = r.store.UserAPIKeys(ctx, tn.userID)
		_, err = r.store.APIKeyByHash(ctx, identity.HashAPIKey(tn.key))
		h.KeyWorks = err == nil
	}
	return h
}

// withAPIKeys serves the API-key endpoints, which newRig leaves to their own tests.
func withAPIKeys(d *httpapi.Deps, _ *httpapi.Config) {
	d.APIKeys = &accounts.APIKeys{Store: d.Accounts.Store.(*memstore.Store)}
}

// tenancyRow is one endpoint that names a record by id. req builds the request user "own" sends
// naming "target"'s records (and its own where the endpoint needs two); ok is the status when
// target is own.
type tenancyRow struct {
	name string
	req  func(own, target tenant) (method, path, body string)
	ok   int
}

// tenancyRows are the endpoints of the matrix. An endpoint added later that takes an id is one
// more row here.
var tenancyRows = []tenancyRow{
	// Phone lines.
	{"GET line", func(_, t tenant) (string, string, string) { return http.MethodGet, "/api/v1/phone/" + t.line.ID, "" }, 200},
	{"PUT line", func(_, t tenant) (string, string, string) {
		return http.MethodPut, "/api/v1/phone/" + t.line.ID,
			`{"friendly_name": "hijacked", "is_active": false, "credentials": {"token": "stolen"}}`
	}, 200},
	{"DELETE line", func(_, t tenant) (string, string, string) { return http.MethodDelete, "/api/v1/phone/" + t.line.ID, "" }, 200},
	// Mappings: the line and the target must both be the caller's.
	{"map own line to target's agent", func(o, t tenant) (string, string, string) {
		return http.MethodPost, "/api/v1/phone/mapping", `{"phone_number_id": "` + o.line.ID + `", "agent_id": "` + t.agent.ID + `"}`
	}, 200},
	{"map own line to target's workflow", func(o, t tenant) (string, string, string) {
		return http.MethodPost, "/api/v1/phone/mapping", `{"phone_number_id": "` + o.line.ID + `", "workflow_id": "` + t.workflow.ID + `"}`
	}, 200},
	{"map target's line to own agent", func(o, t tenant) (string, string, string) {
		return http.MethodPost, "/api/v1/phone/mapping", `{"phone_number_id": "` + t.line.ID + `", "agent_id": "` + o.agent.ID + `"}`
	}, 200},
	{"GET mapping", func(_, t tenant) (string, string, string) {
		return http.MethodGet, "/api/v1/phone/mapping/" + t.line.ID, ""
	}, 200},
	{"GET agent's mappings", func(_, t tenant) (string, string, string) {
		return http.MethodGet, "/api/v1/phone/mapping/agent/" + t.agent.ID, ""
	}, 200},
	{"DELETE mapping", func(_, t tenant) (string, string, string) {
		return http.MethodDelete, "/api/v1/phone/mapping/" + t.line.ID, ""
	}, 200},
	// Agents and workflows.
	{"GET agent", func(_, t tenant) (string, string, string) { return http.MethodGet, "/api/v1/agents/" + t.agent.ID, "" }, 200},
	{"PUT agent", func(_, t tenant) (string, string, string) {
		return http.MethodPut, "/api/v1/agents/" + t.agent.ID,
			`{"agent": {"name": "hijacked", "is_active": false}, "agent_model_config": {"system_prompt": "leak"}}`
	}, 200},
	{"GET workflow", func(_, t tenant) (string, string, string) {
		return http.MethodGet, "/api/v1/workflows/" + t.workflow.ID, ""
	}, 200},
	// Calls and the call log.
	{"create_call with target's agent", func(_, t tenant) (string, string, string) {
		return http.MethodPost, callURL("phoneNumber", destination, "agent_id", t.agent.ID), ""
	}, 200},
	{"create_call with target's workflow", func(_, t tenant) (string, string, string) {
		return http.MethodPost, callURL("phoneNumber", destination, "workflow_id", t.workflow.ID), ""
	}, 200},
	{"create_call from target's line", func(_, t tenant) (string, string, string) {
		return http.MethodPost, callURL("phoneNumber", destination, "phone_number_id", t.line.ID), ""
	}, 200},
	{"call-analytics by target's request_id", func(_, t tenant) (string, string, string) {
		return http.MethodGet, "/api/v1/call-analytics?request_id=" + url.QueryEscape(t.requestID), ""
	}, 200},
	{"call-analytics export of target's request_id", func(_, t tenant) (string, string, string) {
		return http.MethodGet, "/api/v1/call-analytics/export?request_id=" + url.QueryEscape(t.requestID), ""
	}, 200},
	// API keys.
	{"PATCH api key", func(_, t tenant) (string, string, string) {
		return http.MethodPatch, "/api/v1/api-keys/" + t.keyID, `{"name": "hijacked"}`
	}, 200},
	{"DELETE api key", func(_, t tenant) (string, string, string) {
		return http.MethodDelete, "/api/v1/api-keys/" + t.keyID, ""
	}, 200},
}

// TestTenancyMatrix: for every endpoint that takes an id, user A naming user B's record gets
// the 404 it would get for an id that names nothing, byte for byte, and neither user's records
// change; A naming its own record gets its answer.
func TestTenancyMatrix(t *testing.T) {
	for _, row := range tenancyRows {
		t.Run(row.name, func(t *testing.T) {
			r := newRig(t, withAPIKeys)
			a, b := r.tenant(), r.tenant()
			beforeA, beforeB := r.holdings(a, false), r.holdings(b, true)

			method, target, body := row.req(a, b)
			w := r.send(method, target, a.key, body)
			if w.Code != http.StatusNotFound {
				t.Fatalf("A naming B's record: %s %s = %d %s, want 404", method, target, w.Code, w.Body)
			}
			if m := decode(t, w); len(m) != 1 || m["detail"] == nil {
				t.Fatalf("404 body = %s, want only a detail", w.Body)
			}
			gm, gt, gb := row.req(a, ghost())
			if g := r.send(gm, gt, a.key, gb); g.Code != w.Code || g.Body.String() != w.Body.String() {
				t.Fatalf("B's record answers %d %s; a record that does not exist %d %s: the answer tells them apart",
					w.Code, w.Body, g.Code, g.Body)
			}
			if after := r.holdings(b, true); !reflect.DeepEqual(after, beforeB) {
				t.Fatalf("B's records changed:\nbefore %+v\nafter  %+v", beforeB, after)
			}
			if after := r.holdings(a, false); !reflect.DeepEqual(after, beforeA) {
				t.Fatalf("A's records changed:\nbefore %+v\nafter  %+v", beforeA, after)
			}
			for _, s := range []string{b.userID, b.line.ID, b.agent.ID, b.workflow.ID, b.requestID, b.sessionID, b.keyID} {
				if strings.Contains(w.Body.String(), s) {
					t.Fatalf("the refusal names B's id %s: %s", s, w.Body)
				}
			}

			method, target, body = row.req(a, a)
			if w := r.send(method, target, a.key, body); w.Code != row.ok {
				t.Fatalf("A naming its own record: %s %s = %d %s, want %d", method, target, w.Code, w.Body, row.ok)
			}
		})
	}
}

// TestTenancyLists: what lists and searches show A holds nothing of B's.
func TestTenancyLists(t *testing.T) {
	r := newRig(t, withAPIKeys)
	a, b := r.tenant(), r.tenant()
	bIDs := []string{b.userID, b.line.ID, b.agent.ID, b.workflow.ID, b.requestID, b.sessionID, b.keyID}
	// Yesterday to today: A's session is in the range even if midnight passed since.
	today, yesterday := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().Add(-24*time.Hour).Format(time.DateOnly)
	for _, tc := range []struct {
		target string
		showsA bool // the answer holds A's own records
	}{
		{"/api/v1/phone", true},
		{"/api/v1/agents", true},
		{"/api/v1/agents?q=a&page_size=100", true},
		{"/api/v1/agents/stats", true},
		{"/api/v1/workflows", true},
		{"/api/v1/phone/mapping/agent/" + a.agent.ID, true},
		{"/api/v1/call-analytics", true},
		{"/api/v1/call-analytics?page=1&page_size=100", true},
		{"/api/v1/call-analytics?filter=initiated", true},
		{"/api/v1/call-analytics/export?start_date=" + yesterday + "&end_date=" + today, true},
		{"/api/v1/call-analytics?filter=" + b.requestID, false},
		{"/api/v1/call-analytics?filter=" + b.requestID[:4], false},
		{"/api/v1/billing/credit-balance", true},
		{"/api/v1/api-keys/fetch", true},
		{"/api/v1/me", true},
	} {
		target := tc.target
		t.Run(target, func(t *testing.T) {
			w := r.get(target, a.key)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", target, w.Code, w.Body)
			}
			if w.Header().Get("Content-Type") == "application/zip" {
				// Read what the ZIP holds, not its compressed bytes.
				_, files := unzip(t, w)
				w = httptest.NewRecorder()
				for _, f := range files {
					w.Body.Write(f)
				}
			}
			for _, id := range bIDs {
				if strings.Contains(w.Body.String(), id) {
					t.Fatalf("GET %s shows B's id %s: %s", target, id, w.Body)
				}
			}
			if tc.showsA && !strings.Contains(w.Body.String(), a.userID) && !strings.Contains(w.Body.String(), a.line.ID) &&
				!strings.Contains(w.Body.String(), a.agent.ID) &&
				!strings.Contains(w.Body.String(), a.keyID) && !strings.Contains(w.Body.String(), a.requestID) {
				t.Fatalf("GET %s shows nothing of A's own: %s", target, w.Body)
			}
		})
	}
}
