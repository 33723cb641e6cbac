package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/kupe-voice/kupe/domain/money"
)

// FuzzBatchBodies sends arbitrary bodies to the batch routes that read JSON: each answer is one
// the routes document (never a 500), and an error is {"detail": ...}.
func FuzzBatchBodies(f *testing.F) {
	for _, s := range []string{
		`{"agent_id": "AGENT", "caller_phone_id": "LINE", "batch_name": "n", "batch_size": 3, "call_window": {"start": "20:00", "end": "02:00", "days": ["fri"]}, "retry": {"max_attempts": 5, "on": ["failed"], "backoff_seconds": 86400}}`,
		`{"agent_id": "AGENT", "caller_phone_id": "LINE", "batch_name": "n", "start_at": "2027-01-01T09:00:00+05:30", "variable_names": ["a", "b"]}`,
		`{"records": [{"to_phonenumber": "+919876543210", "name": "Ada", "timezone": "Asia/Kolkata"}, {"to_phonenumber": 5}]}`,
		`{"items": [{"id": null, "to_phonenumber": "+14155550123", "variable_values": {"x": [1]}}]}`,
		`{"phone_numbers": ["+14155550123", "", "+1"]}`,
		`{"batch_size": 1e309}`, `{"call_window": {"start": "24:00", "end": "24:00"}}`, `[]`, `{`, ``, "\x00",
	} {
		f.Add(s)
	}
	r := newRig(f, allRoutes)
	a := r.user(money.FromUnits(5), true)
	w := serve(r, specRequest(http.MethodPost, "/api/v1/batch-call/create", a.key, fmt.Sprintf(
		`{"agent_id": %q, "caller_phone_id": %q, "batch_name": "fuzz", "variable_names": ["name"]}`, a.agent.ID, a.line.ID)))
	var created struct {
		Data struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.Data.ID == "" {
		f.Fatalf("create: %d %s", w.Code, w.Body)
	}
	routes := []string{"/api/v1/batch-call/create", "/api/v1/batch-call/upload-json/" + created.Data.ID,
		"/api/v1/batch-call/" + created.Data.ID + "/data/upsert", "/api/v1/suppressions"}
	f.Fuzz(func(t *testing.T, body string) {
		body = replaceIDs(body, a.agent.ID, a.line.ID)
		for _, path := range routes {
			w := serve(r, specRequest(http.MethodPost, path, a.key, body))
			switch w.Code {
			case http.StatusOK, http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("POST %s %q → %d %s", path, body, w.Code, w.Body)
			}
			if w.Code >= 400 {
				var e map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e) != 1 || e["detail"] == nil {
					t.Fatalf("POST %s %q → %d, body %s is not {\"detail\"}", path, body, w.Code, w.Body)
				}
			}
		}
	})
}

func replaceIDs(s, agent, line string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		switch {
		case len(s)-i >= 5 && s[i:i+5] == "AGENT":
			out = append(out, agent...)
			i += 4
		case len(s)-i >= 4 && s[i:i+4] == "LINE":
			out = append(out, line...)
			i += 3
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}
