package entstore

import (
	"encoding/json"
	"fmt"

	"github.com/kupe-voice/kupe/application/createcall"
)

// storedResult is what an idempotency_keys row keeps of a create_call Result, as JSON in
// response_body: the store's own names, so that the use case's types can change without a
// migration of the rows.
type storedResult struct {
	Success   bool   `json:"success"`
	SessionID string `json:"session_id"`
	RequestID string `json:"request_id"`
	UserID    string `json:"user_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	LegID     string `json:"leg_id,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func encodeResult(r createcall.Result) ([]byte, error) {
	b, err := json.Marshal(storedResult{Success: r.Success, SessionID: r.SessionID, RequestID: r.RequestID,
		UserID: r.UserID, From: r.From, To: r.To, LegID: r.LegID, Detail: r.Detail})
	if err != nil {
		return nil, fmt.Errorf("encode create_call result: %w", err)
	}
	return b, nil
}

// legacyAnswer is the HTTP answer that rows written before the stored Result (with a
// response_status) hold instead; such a row is at most IdempotencyKeyTTL old, so this reading
// can go once that long has passed since every server writes storedResult.
type legacyAnswer struct {
	Status    string `json:"status"`
	RequestID string `json:"request_id"`
	SessionID string `json:"call_session_id"`
	UserID    string `json:"user_id"`
	To        string `json:"target_number"`
	From      string `json:"from_phone_number"`
	LegID     string `json:"telephony_leg_id"`
	Detail    string `json:"detail"`
}

// decodeResult reads a done row's response_body; legacy says it holds a legacyAnswer.
func decodeResult(b []byte, legacy bool) (createcall.Result, error) {
	if legacy {
		var a legacyAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			return createcall.Result{}, fmt.Errorf("decode stored create_call answer: %w", err)
		}
		return createcall.Result{Success: a.Status == "success", SessionID: a.SessionID, RequestID: a.RequestID,
			UserID: a.UserID, From: a.From, To: a.To, LegID: a.LegID, Detail: a.Detail}, nil
	}
	var r storedResult
	if err := json.Unmarshal(b, &r); err != nil {
		return createcall.Result{}, fmt.Errorf("decode stored create_call result: %w", err)
	}
	return createcall.Result{Success: r.Success, SessionID: r.SessionID, RequestID: r.RequestID, UserID: r.UserID,
		From: r.From, To: r.To, LegID: r.LegID, Detail: r.Detail}, nil
}
