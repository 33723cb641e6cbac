package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

func TestPhoneMappings(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true) // its line runs its agent
	flow := r.workflow(a.userID)
	second := r.addLine(a.userID, "+14155550101", false)
	mapping := func(lineID string) call.Target {
		t.Helper()
		l, err := r.store.UserLine(context.Background(), a.userID, lineID)
		if err != nil {
			t.Fatal(err)
		}
		return l.Mapping
	}

	// Map the second line to the workflow, then to the agent: the last one wins.
	w := r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+second.ID+`", "workflow_id": "`+flow.ID+`", "webhook_url": "https://ignored.example", "config_source": "x"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("POST mapping = %d %s", w.Code, w.Body)
	}
	var got struct {
		Success bool           `json:"success"`
		Message string         `json:"message"`
		Mapping map[string]any `json:"mapping"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"phone_number_id": second.ID, "phone_number": "+14155550101", "agent_id": nil, "workflow_id": flow.ID}
	if !got.Success || !reflect.DeepEqual(got.Mapping, want) {
		t.Fatalf("POST mapping = %s, want mapping %v", w.Body, want)
	}
	if m := mapping(second.ID); m != (call.Target{WorkflowID: flow.ID}) {
		t.Fatalf("stored mapping = %+v", m)
	}
	w = r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+second.ID+`", "agent_id": "`+a.agent.ID+`", "workflow_id": null, "user_id": "`+a.userID+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("POST mapping to the agent = %d %s", w.Code, w.Body)
	}
	if m := mapping(second.ID); m != (call.Target{AgentID: a.agent.ID}) {
		t.Fatalf("stored mapping = %+v", m)
	}

	// Read it back, and list the agent's lines.
	m := decode(t, r.get("/api/v1/phone/mapping/"+second.ID, a.key))
	if !reflect.DeepEqual(m["mapping"], map[string]any{"phone_number_id": second.ID, "phone_number": "+14155550101",
		"agent_id": a.agent.ID, "workflow_id": nil}) || m["success"] != true {
		t.Fatalf("GET mapping = %v", m)
	}
	var list struct {
		Mappings []map[string]any `json:"mappings"`
	}
	w = r.get("/api/v1/phone/mapping/agent/"+a.agent.ID, a.key)
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Mappings) != 2 ||
		list.Mappings[0]["phone_number_id"] != a.line.ID || list.Mappings[1]["phone_number_id"] != second.ID {
		t.Fatalf("GET agent's mappings = %d %s", w.Code, w.Body)
	}
	lonely := r.agent(a.userID)
	if w := r.get("/api/v1/phone/mapping/agent/"+lonely.ID, a.key); w.Code != http.StatusOK || w.Body.String() != `{"success":true,"mappings":[]}` {
		t.Fatalf("unmapped agent's mappings = %d %s", w.Code, w.Body)
	}

	// Delete it: the line runs nothing; the agent is still there.
	w = r.send(http.MethodDelete, "/api/v1/phone/mapping/"+second.ID, a.key, "")
	if w.Code != http.StatusOK || decode(t, w)["message"] != "Mapping deleted" {
		t.Fatalf("DELETE mapping = %d %s", w.Code, w.Body)
	}
	if m := mapping(second.ID); !m.IsZero() {
		t.Fatalf("mapping after delete = %+v", m)
	}
	wantDetail(t, r.get("/api/v1/phone/mapping/"+second.ID, a.key), http.StatusNotFound, "Mapping not found")
	wantDetail(t, r.send(http.MethodDelete, "/api/v1/phone/mapping/"+second.ID, a.key, ""), http.StatusNotFound, "Mapping not found")
	if w := r.get("/api/v1/agents/"+a.agent.ID, a.key); w.Code != http.StatusOK {
		t.Fatalf("agent after its mapping went: %d", w.Code)
	}

	// Exactly one of agent_id and workflow_id, and a line: else 400, and nothing changes.
	before := mapping(a.line.ID)
	for _, tc := range []struct{ name, body, detail string }{
		{"both", `{"phone_number_id": "` + a.line.ID + `", "agent_id": "` + a.agent.ID + `", "workflow_id": "` + flow.ID + `"}`,
			"Send exactly one of agent_id and workflow_id"},
		{"neither", `{"phone_number_id": "` + a.line.ID + `"}`, "Send exactly one of agent_id and workflow_id"},
		{"both null", `{"phone_number_id": "` + a.line.ID + `", "agent_id": null, "workflow_id": null}`, "Send exactly one of agent_id and workflow_id"},
		{"no line", `{"agent_id": "` + a.agent.ID + `"}`, "phone_number_id is required"},
		{"no body", ``, "phone_number_id is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key, tc.body), http.StatusBadRequest, tc.detail)
		})
	}
	for _, tc := range []struct{ name, body, detail string }{
		{"malformed line", `{"phone_number_id": "12", "agent_id": "` + a.agent.ID + `"}`, "phone_number_id must be a UUID"},
		{"malformed agent", `{"phone_number_id": "` + a.line.ID + `", "agent_id": "abc"}`, "agent_id must be a UUID"},
		{"malformed workflow", `{"phone_number_id": "` + a.line.ID + `", "workflow_id": "abc"}`, "workflow_id must be a UUID"},
		{"agent_id not a string", `{"phone_number_id": "` + a.line.ID + `", "agent_id": 7}`, "agent_id must be a string"},
		{"malformed JSON", `{"phone_number_id": `, "Request body is not valid JSON (it ends too early)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Kupe documents a 400 for every invalid mapping request.
			wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key, tc.body), http.StatusBadRequest, tc.detail)
		})
	}
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+a.line.ID+`", "agent_id": "`+uuid.NewString()+`"}`), http.StatusNotFound, "Agent not found")
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+a.line.ID+`", "workflow_id": "`+uuid.NewString()+`"}`), http.StatusNotFound, "Workflow not found")
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+uuid.NewString()+`", "agent_id": "`+a.agent.ID+`"}`), http.StatusNotFound, "Phone number not found")
	// user_id may name the caller only.
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+a.line.ID+`", "workflow_id": "`+flow.ID+`", "user_id": "`+uuid.NewString()+`"}`),
		http.StatusForbidden, "Not allowed to act for another user")
	if m := mapping(a.line.ID); m != before {
		t.Fatalf("a refused mapping changed the line: %+v, was %+v", m, before)
	}
	wantDetail(t, r.get("/api/v1/phone/mapping/agent/xyz", a.key), http.StatusUnprocessableEntity, "agent_id must be a UUID")
	wantDetail(t, r.get("/api/v1/phone/mapping/agent/"+uuid.NewString(), a.key), http.StatusNotFound, "Agent not found")
	wantDetail(t, r.get("/api/v1/phone/mapping/xyz", a.key), http.StatusUnprocessableEntity, "phone_number_id must be a UUID")
	wantDetail(t, r.send(http.MethodPost, "/api/v1/phone/mapping", "", `{}`), http.StatusUnauthorized, "Invalid or missing API key")
}

// A call without agent_id runs what its line is mapped to, as the mapping endpoint set it.
func TestMappingDrivesCreateCall(t *testing.T) {
	r := newRig(t)
	a := r.user(money.FromUnits(5), true)
	flow := r.workflow(a.userID)
	if w := r.send(http.MethodPost, "/api/v1/phone/mapping", a.key,
		`{"phone_number_id": "`+a.line.ID+`", "workflow_id": "`+flow.ID+`"}`); w.Code != http.StatusOK {
		t.Fatalf("POST mapping = %d %s", w.Code, w.Body)
	}
	m := decode(t, r.post(callURL("phoneNumber", destination), a.key, ""))
	if s := r.session(m["call_session_id"].(string)); s.WorkflowID != flow.ID || s.AgentID != "" {
		t.Fatalf("session runs agent %q workflow %q, want the mapped workflow", s.AgentID, s.WorkflowID)
	}
	if w := r.send(http.MethodDelete, "/api/v1/phone/mapping/"+a.line.ID, a.key, ""); w.Code != http.StatusOK {
		t.Fatalf("DELETE mapping = %d %s", w.Code, w.Body)
	}
	wantDetail(t, r.post(callURL("phoneNumber", destination), a.key, ""), http.StatusUnprocessableEntity,
		"No agent or workflow for this call: pass agent_id or workflow_id, or map one to the phone number")
}
