package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kupe-voice/kupe/domain/call"
)

// A create_call retried with its Idempotency-Key gets the very bytes of the first answer, on the
// real store (SQLite): the idempotency record keeps the use case's Result, and the HTTP adapter
// renders it again through the same encoder. The bytes are pinned here as Kupe's answer reads.
func TestCreateCallReplayIsByteForByte(t *testing.T) {
	const refused = "+14155550199"
	r := startApp(t, map[string]string{"KUPE_SIMULATED_REJECT": refused}, nil, nil)
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	post := func(to, key string) answer {
		t.Helper()
		a := r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B"+to[1:], c.key,
			`{"variable_values": {"name": "Ada & <Bob>"}}`, "Idempotency-Key", key)
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("create_call to %s: %d %s %v", to, a.status, a.raw, a.err)
		}
		return a
	}
	for _, tc := range []struct {
		name, to, key string
		golden        func(body map[string]any) string
	}{
		{"success", "+14155550123", "order-1", func(b map[string]any) string {
			return fmt.Sprintf(`{"status":"success","request_id":%q,"call_session_id":%q,"user_id":%q,`+
				`"telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100",`+
				`"telephony_leg_id":%q}`, b["request_id"], b["call_session_id"], c.userID, b["telephony_leg_id"])
		}},
		{"failed", refused, "order-2", func(b map[string]any) string {
			return fmt.Sprintf(`{"status":"failed","request_id":%q,"call_session_id":%q,"user_id":%q,`+
				`"telephony_provider":"pstn","target_number":%q,"detail":%q}`,
				b["request_id"], b["call_session_id"], c.userID, refused, b["detail"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := post(tc.to, tc.key)
			if want := tc.golden(first.body); first.raw != want {
				t.Fatalf("first answer\n%s\nwant\n%s", first.raw, want)
			}
			if tc.name == "success" && first.body["telephony_leg_id"] == "" || tc.name == "failed" && first.body["detail"] == "" {
				t.Fatalf("answer without its leg id or detail: %s", first.raw)
			}
			for i := range 2 {
				if again := post(tc.to, tc.key); again.raw != first.raw {
					t.Fatalf("replay %d\n%s\nwant the first answer\n%s", i, again.raw, first.raw)
				}
			}
		})
	}
}
