package main

import (
	"testing"

	"github.com/kupe-voice/kupe/application/createcall"
)

// kupectl prints a call as the HTTP API answers it: same fields, names, order and escaping.
func TestRenderCall(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  createcall.Result
		want string
	}{
		{"success", createcall.Result{Success: true, SessionID: "s-1", RequestID: "r-1", UserID: "u-1",
			From: "+14155550100", To: "+14155550123", LegID: "CA42", Detail: "not shown"},
			`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100","telephony_leg_id":"CA42"}`},
		{"success without a leg id", createcall.Result{Success: true, SessionID: "s-1", RequestID: "r-1", UserID: "u-1",
			From: "+14155550100", To: "+14155550123"},
			`{"status":"success","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","from_phone_number":"+14155550100"}`},
		{"failed", createcall.Result{SessionID: "s-1", RequestID: "r-1", UserID: "u-1", From: "+14155550100",
			To: "+14155550123", LegID: "CA42", Detail: `The carrier said "no" & <left>` + "\n\u2028"},
			`{"status":"failed","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","detail":"The carrier said \"no\" & <left>\n\u2028"}`},
		{"failed without a detail", createcall.Result{SessionID: "s-1", RequestID: "r-1", UserID: "u-1", To: "+14155550123"},
			`{"status":"failed","request_id":"r-1","call_session_id":"s-1","user_id":"u-1","telephony_provider":"pstn","target_number":"+14155550123","detail":""}`},
	} {
		got, err := renderCall(tc.res)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.name, got, err, tc.want)
		}
	}
}
