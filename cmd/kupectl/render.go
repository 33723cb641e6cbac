package main

import (
	"bytes"
	"encoding/json"

	"github.com/kupe-voice/kupe/application/createcall"
)

// callAnswer is what `calls create` prints for a create_call Result: the fields, names and order
// of the HTTP API's answer (Kupe's CreateOutboundCallSuccess or CreateOutboundCallFailed), so a
// script reads either the same way. kupectl renders it itself rather than borrow the HTTP
// adapter's encoder: the Result is the contract, the transport's bytes are not.
type callAnswer struct {
	Status            string  `json:"status"`
	RequestID         string  `json:"request_id,omitempty"`
	CallSessionID     string  `json:"call_session_id,omitempty"`
	UserID            string  `json:"user_id,omitempty"`
	TelephonyProvider string  `json:"telephony_provider,omitempty"`
	TargetNumber      string  `json:"target_number,omitempty"`
	FromPhoneNumber   string  `json:"from_phone_number,omitempty"`
	TelephonyLegID    string  `json:"telephony_leg_id,omitempty"`
	Detail            *string `json:"detail,omitempty"`
}

// publicProvider is the only telephony label an answer carries: Kupe never names the vendor.
const publicProvider = "pstn"

// renderCall is res as one line of JSON.
func renderCall(res createcall.Result) (json.RawMessage, error) {
	a := callAnswer{Status: "failed"}
	switch {
	case res.SessionID == "":
		a.Detail = &res.Detail
	default:
		a.RequestID, a.CallSessionID, a.UserID = res.RequestID, res.SessionID, res.UserID
		a.TelephonyProvider, a.TargetNumber = publicProvider, res.To
		if res.Success {
			a.Status, a.FromPhoneNumber, a.TelephonyLegID = "success", res.From, res.LegID
		} else {
			a.Detail = &res.Detail
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}
