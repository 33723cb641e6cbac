package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/campaigncalls"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/domain/money"
)

func init() {
	// A batch's event stream is text; kin-openapi checks it against {type: string}.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	specSampleBodies["uploadBatchDataJson"] = `{"records": []}`
	specSampleBodies["upsertBatchData"] = `{"items": []}`
}

// withCampaigns serves batch calling on an in-memory campaign store beside the rig's own, its
// dials through the rig's create_call (no job runs them here: the dialler has its own tests).
func withCampaigns(d *httpapi.Deps, _ *httpapi.Config) {
	mem := d.Accounts.Store.(*memstore.Store)
	cs := memstore.NewCampaigns(mem)
	if d.Campaigns == nil {
		d.Campaigns = &campaigns.Service{Store: cs, Suppressions: mem, Accounts: &campaigncalls.Accounts{Plans: mem},
			Placer: &campaigncalls.Placer{CreateCall: d.CreateCall}, Sessions: mem}
	}
	if d.DoNotCall == nil {
		d.DoNotCall = &campaigns.DoNotCall{Store: mem}
	}
}

// campaignExchanges drives the batch-calling and do-not-call operations through their own
// statuses (the generic ones are driven for every operation).
func campaignExchanges(x *exchanger) {
	t := x.t
	r := specRig(t)
	a := r.user(money.FromUnits(5), true)
	other := r.user(money.FromUnits(5), true)
	post := func(path, body string) *http.Request { return specRequest(http.MethodPost, path, a.key, body) }
	get := func(path string) *http.Request { return specRequest(http.MethodGet, path, a.key, "") }
	create := func(name string) string {
		w := x.do(r, "batch created: "+name, http.StatusCreated, post("/api/v1/batch-call/create", fmt.Sprintf(
			`{"agent_id": %q, "caller_phone_id": %q, "batch_name": %q, "variable_names": ["name"], "batch_size": 2,
			  "start_at": "2026-12-01T09:00:00Z", "call_window": {"start": "09:00", "end": "20:00", "days": ["mon", "fri"]},
			  "retry": {"max_attempts": 3, "on": ["busy"], "backoff_seconds": 60}}`, a.agent.ID, a.line.ID, name)))
		var out struct {
			Data struct{ ID string } `json:"data"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Data.ID == "" {
			t.Fatalf("create batch: %s", w.Body)
		}
		return out.Data.ID
	}
	b := create("first")
	x.do(r, "batch with both agent and workflow", http.StatusBadRequest, post("/api/v1/batch-call/create", fmt.Sprintf(
		`{"agent_id": %q, "workflow_id": %q, "caller_phone_id": %q, "batch_name": "x"}`, a.agent.ID, uuid.NewString(), a.line.ID)))
	x.do(r, "batch on another user's line", http.StatusBadRequest, post("/api/v1/batch-call/create", fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "x"}`, a.agent.ID, other.line.ID)))
	x.do(r, "batch of size 101", http.StatusBadRequest, post("/api/v1/batch-call/create", fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "x", "batch_size": 101}`, a.agent.ID, a.line.ID)))
	x.do(r, "my batches", http.StatusOK, get("/api/v1/batch-call/me"))
	x.do(r, "batch metadata", http.StatusOK, get("/api/v1/batch-call/"+b))
	x.do(r, "another user's batch", http.StatusNotFound, specRequest(http.MethodGet, "/api/v1/batch-call/"+b, other.key, ""))

	x.do(r, "start without recipients", http.StatusBadRequest, post("/api/v1/batch-call/start/"+b, ""))
	x.do(r, "upload json", http.StatusOK, post("/api/v1/batch-call/upload-json/"+b,
		`{"records": [{"to_phonenumber": "+919876543210", "name": "Ada"}, {"to_phonenumber": "12", "name": "x"},
		  {"to_phonenumber": "+919876543211"}]}`))
	x.do(r, "upload json without records", http.StatusBadRequest, post("/api/v1/batch-call/upload-json/"+b, `{}`))
	csv := specRequest(http.MethodPost, "/api/v1/batch-call/upload-csv/"+b, a.key, "to_phonenumber,name\n+919876543212,Grace\n+919876543210,Ada\n")
	csv.Header.Set("Content-Type", "text/csv")
	x.do(r, "upload csv", http.StatusOK, csv)
	x.do(r, "upload csv without to_phonenumber", http.StatusBadRequest,
		specRequest(http.MethodPost, "/api/v1/batch-call/upload-csv/"+b, a.key, "name\nAda\n"))
	x.do(r, "upsert rows", http.StatusOK, post("/api/v1/batch-call/"+b+"/data/upsert",
		`{"items": [{"to_phonenumber": "+919876543213", "variable_values": {"name": "Linus"}}, {"id": "`+uuid.NewString()+`", "to_phonenumber": "+919876543214", "variable_values": {"name": "x"}}]}`))
	x.do(r, "upsert without items", http.StatusBadRequest, post("/api/v1/batch-call/"+b+"/data/upsert", `{"items": null}`))
	x.do(r, "rows", http.StatusOK, get("/api/v1/batch-call/"+b+"/data?status=not_started&page=1&page_size=2"))
	x.do(r, "rows of an unknown status", http.StatusBadRequest, get("/api/v1/batch-call/"+b+"/data?status=ringing"))
	x.do(r, "status", http.StatusOK, get("/api/v1/batch-call/"+b+"/status"))

	x.do(r, "pause before start", http.StatusConflict, post("/api/v1/batch-call/"+b+"/pause", ""))
	x.do(r, "resume before start", http.StatusConflict, post("/api/v1/batch-call/"+b+"/resume", ""))
	x.do(r, "start", http.StatusOK, post("/api/v1/batch-call/start/"+b, ""))
	x.do(r, "start again", http.StatusConflict, post("/api/v1/batch-call/start/"+b, ""))
	x.do(r, "upsert after start", http.StatusConflict, post("/api/v1/batch-call/"+b+"/data/upsert",
		`{"items": [{"to_phonenumber": "+919876543215", "variable_values": {"name": "x"}}]}`))
	x.do(r, "pause", http.StatusOK, post("/api/v1/batch-call/"+b+"/pause", ""))
	x.do(r, "resume", http.StatusOK, post("/api/v1/batch-call/"+b+"/resume", ""))
	x.do(r, "cancel", http.StatusOK, post("/api/v1/batch-call/"+b+"/cancel", ""))
	x.do(r, "cancel again", http.StatusConflict, post("/api/v1/batch-call/"+b+"/cancel", ""))
	x.do(r, "upload json to an ended batch", http.StatusConflict, post("/api/v1/batch-call/upload-json/"+b,
		`{"records": [{"to_phonenumber": "+919876543216", "name": "x"}]}`))
	x.do(r, "upload csv to an ended batch", http.StatusConflict,
		specRequest(http.MethodPost, "/api/v1/batch-call/upload-csv/"+b, a.key, "to_phonenumber,name\n+919876543217,x\n"))
	ev := x.do(r, "events of an ended batch", http.StatusOK, get("/api/v1/batch-call/"+b+"/events"))
	if body := ev.Body.String(); !strings.HasPrefix(body, "event: status\ndata: {") || !strings.Contains(body, `"status":"canceled"`) {
		t.Errorf("event stream: %q", body)
	}

	x.do(r, "do-not-call add", http.StatusOK, post("/api/v1/suppressions", `{"phone_numbers": ["+14155550123", "+14155550124"]}`))
	x.do(r, "do-not-call add an invalid number", http.StatusBadRequest, post("/api/v1/suppressions", `{"phone_numbers": ["555"]}`))
	x.do(r, "do-not-call list", http.StatusOK, get("/api/v1/suppressions?page=1&page_size=10"))
	x.do(r, "do-not-call list, page 0", http.StatusBadRequest, get("/api/v1/suppressions?page=0"))
	listed := x.do(r, "call to a number on the do-not-call list", http.StatusUnprocessableEntity,
		specRequest(http.MethodPost, callURL("phoneNumber", "+14155550123"), a.key, ""))
	if !strings.Contains(listed.Body.String(), "Destination is on your do-not-call list") {
		t.Errorf("call to a listed number: %s", listed.Body)
	}
	x.do(r, "do-not-call remove", http.StatusOK, specRequest(http.MethodDelete, "/api/v1/suppressions/%2B14155550124", a.key, ""))
	x.do(r, "do-not-call remove a number not listed", http.StatusNotFound, specRequest(http.MethodDelete, "/api/v1/suppressions/%2B14155550124", a.key, ""))
	x.do(r, "do-not-call remove an invalid number", http.StatusBadRequest, specRequest(http.MethodDelete, "/api/v1/suppressions/555", a.key, ""))
}

// TestBatchAnswers checks what the batch routes say, beyond their shapes: the upload's refused
// rows, the counts, and that a user's do-not-call list is theirs.
func TestBatchAnswers(t *testing.T) {
	r := specRig(t)
	a := r.user(money.FromUnits(5), true)
	b := decode(t, serve(r, specRequest(http.MethodPost, "/api/v1/batch-call/create", a.key, fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "n", "variable_names": ["name"]}`, a.agent.ID, a.line.ID))))
	id := b["data"].(map[string]any)["id"].(string)
	if b["data"].(map[string]any)["status"] != "not_started" || b["data"].(map[string]any)["batch_size"] != json.Number("1") {
		t.Fatalf("new batch: %v", b)
	}
	serve(r, specRequest(http.MethodPost, "/api/v1/suppressions", a.key, `{"phone_numbers": ["+919876543219"]}`))
	up := decode(t, serve(r, specRequest(http.MethodPost, "/api/v1/batch-call/upload-json/"+id, a.key,
		`{"records": [{"to_phonenumber": "+919876543210", "name": "Ada"}, {"to_phonenumber": "+919876543210", "name": "Ada"},
		  {"to_phonenumber": "+919876543219", "name": "X"}, {"to_phonenumber": "+919876543218"}, {"to_phonenumber": "nope", "name": "Y"}]}`)))
	failed, _ := up["failed"].([]any)
	reasons := map[string]string{}
	for _, f := range failed {
		m := f.(map[string]any)
		reasons[m["index"].(json.Number).String()] = m["reason"].(string)
	}
	if up["inserted"] != json.Number("1") || len(failed) != 4 || !strings.Contains(reasons["1"], "duplicate") ||
		reasons["2"] != campaigns.ReasonSuppressed || !strings.Contains(reasons["3"], `"name"`) || reasons["4"] == "" {
		t.Fatalf("upload answer: %v", up)
	}
	st := decode(t, serve(r, specRequest(http.MethodGet, "/api/v1/batch-call/"+id+"/status", a.key, "")))
	counts := st["data"].(map[string]any)["status_counts"].(map[string]any)
	if counts["not_started"] != json.Number("1") || counts["total"] != json.Number("1") {
		t.Fatalf("counts: %v", counts)
	}
	other := r.user(money.FromUnits(5), true)
	list := decode(t, serve(r, specRequest(http.MethodGet, "/api/v1/suppressions", other.key, "")))
	if list["total"] != json.Number("0") {
		t.Fatalf("another user's list: %v", list)
	}
}

// TestBatchEventsStream: the event stream sends the batch's status at once and again when it
// changes, and ends when the batch ends.
func TestBatchEventsStream(t *testing.T) {
	r := specRig(t, func(_ *httpapi.Deps, c *httpapi.Config) { c.BatchEventsInterval = 10 * time.Millisecond })
	a := r.user(money.FromUnits(5), true)
	created := decode(t, serve(r, specRequest(http.MethodPost, "/api/v1/batch-call/create", a.key, fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "live"}`, a.agent.ID, a.line.ID))))
	id := created["data"].(map[string]any)["id"].(string)
	srv := httptest.NewServer(r.engine)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/batch-call/"+id+"/events", nil)
	req.Header.Set("x-api-key", a.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("stream: %d %q", res.StatusCode, ct)
	}
	events := make(chan string, 10)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
	}()
	next := func() map[string]any {
		t.Helper()
		select {
		case data, ok := <-events:
			if !ok {
				t.Fatal("the stream ended early")
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
			return m["batch"].(map[string]any)
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return nil
	}
	if b := next(); b["status"] != "not_started" {
		t.Fatalf("first event: %v", b)
	}
	serve(r, specRequest(http.MethodPost, "/api/v1/batch-call/"+id+"/cancel", a.key, ""))
	if b := next(); b["status"] != "canceled" {
		t.Fatalf("event after the cancel: %v", b)
	}
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("an event after the batch ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end with the batch")
	}
}
