package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

// TestCampaignAsServed runs a campaign through kupe serve as it is wired: the batch routes, the
// job engine, the simulated carrier playing each call through the carrier-event use case, the
// call-final outbox settling the rows, and a busy row retried. It ends completed with every row
// accounted for.
func TestCampaignAsServed(t *testing.T) {
	r := startApp(t, map[string]string{"KUPE_SIMULATED_RING_AFTER": "10ms", "KUPE_SIMULATED_TALK": "20ms",
		"KUPE_SIMULATED_RING_TIMEOUT": "20ms"}, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	created := r.do(http.MethodPost, "/api/v1/batch-call/create", c.key, fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "served", "variable_names": ["name"], "batch_size": 2,
		  "retry": {"max_attempts": 2, "on": ["busy"], "backoff_seconds": 1}}`, c.agent.ID, c.line.ID))
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	id := created.body["data"].(map[string]any)["id"].(string)
	csv := "to_phonenumber,name\n+14155550123,Ada\n+14155550124,Grace\n+14155550198,Busy\n+14155550197,Nobody\n+919876543210,Linus\n"
	up := r.do(http.MethodPost, "/api/v1/batch-call/upload-csv/"+id, c.key, csv, "Content-Type", "text/csv")
	if up.status != http.StatusOK || up.body["inserted"] != 5.0 {
		t.Fatalf("upload: %d %s", up.status, up.raw)
	}
	if st := r.do(http.MethodPost, "/api/v1/batch-call/start/"+id, c.key, ""); st.status != http.StatusOK {
		t.Fatalf("start: %d %s", st.status, st.raw)
	}
	deadline := time.Now().Add(60 * time.Second)
	var counts map[string]any
	for {
		a := r.do(http.MethodGet, "/api/v1/batch-call/"+id+"/status", c.key, "")
		data := a.body["data"].(map[string]any)
		counts = data["status_counts"].(map[string]any)
		if data["batch"].(map[string]any)["status"] == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not complete: %s", a.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if counts["completed"] != 3.0 || counts["busy"] != 1.0 || counts["no_answer"] != 1.0 || counts["total"] != 5.0 {
		t.Fatalf("counts %v", counts)
	}
	rows := r.do(http.MethodGet, "/api/v1/batch-call/"+id+"/data?status=busy", c.key, "")
	if !strings.Contains(rows.raw, `"attempts":2`) {
		t.Fatalf("the busy row was not retried once: %s", rows.raw)
	}
}
