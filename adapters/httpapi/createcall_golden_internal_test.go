package httpapi

import (
	"testing"

	"github.com/kupe-voice/kupe/application/createcall"
)

// createCallGolden pins create_call's answer for each kind of Result, byte for byte: a replay
// is rendered from the stored Result through this encoder, so these bytes are what a client gets
// the first time and on every retry with the same Idempotency-Key.
var createCallGolden = []struct {
	name string
	res  createcall.Result
	want string
}{
	{"success", createcall.Result{Success: true, SessionID: "s-1", RequestID: "r-1", UserID: "u-1",
		From: "+14155550100", To: "+14155550123", LegID: "CA42"},
		`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100","telephony_leg_id":"CA42"}`},
	{"success without a leg id", createcall.Result{Success: true, SessionID: "s-1", RequestID: "r-1", UserID: "u-1",
		From: "+14155550100", To: "+14155550123"},
		`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100"}`},
	{"failed", createcall.Result{SessionID: "s-1", RequestID: "r-1", UserID: "u-1", From: "+14155550100",
		To: "+14155550123", LegID: "CA42", Detail: `The carrier said "no" & <left>` + "\n\u2028"},
		`{"status":"failed","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","detail":"The carrier said \"no\" & <left>\n\u2028"}`},
	{"replayed is not shown", createcall.Result{Success: true, SessionID: "s-1", RequestID: "r-1", UserID: "u-1",
		From: "+14155550100", To: "+14155550123", LegID: "CA42", Replayed: true},
		`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100","telephony_leg_id":"CA42"}`},
	{"no session", createcall.Result{Detail: "refused"}, `{"status":"failed","detail":"refused"}`},
}

func TestCreateCallResponseGolden(t *testing.T) {
	for _, tc := range createCallGolden {
		if got := string(AppendCreateCallResponse(nil, tc.res)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
