package webhooks

import (
	"encoding/json"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// callCompleted is Kupe's CallCompletedPayload with the fields this service knows, and ours:
// event, request_id, cost and variable_values. Kupe's lead fields (customer_name, ai_summary,
// ...) come from its post-call analysis, which this service does not run.
type callCompleted struct {
	Event          Event             `json:"event"`
	CallID         string            `json:"call_id"`
	CallSessionID  string            `json:"call_session_id"`
	RequestID      string            `json:"request_id"`
	AgentID        string            `json:"agent_id"`
	MobileNumber   string            `json:"mobile_number"`
	FromNumber     string            `json:"from_number"`
	ToNumber       string            `json:"to_number"`
	CallDatetime   string            `json:"call_datetime"`
	CallDuration   float64           `json:"call_duration"`
	CallDirection  string            `json:"call_direction"`
	CallStatus     string            `json:"call_status"`
	AnsweredBy     string            `json:"answered_by,omitempty"`
	BatchID        string            `json:"batch_id,omitempty"`
	RowID          string            `json:"row_id,omitempty"`
	AnsweredAt     string            `json:"answered_at,omitempty"`
	EndedAt        string            `json:"ended_at,omitempty"`
	Cost           money.Amount      `json:"cost"`
	VariableValues map[string]string `json:"variable_values,omitempty"`
	Test           bool              `json:"test,omitempty"`
}

// callFailed is Kupe's CallErrorPayload (call_id, error_reason), with ours: event and the ids
// call.completed carries.
type callFailed struct {
	Event         Event  `json:"event"`
	CallID        string `json:"call_id"`
	ErrorReason   string `json:"error_reason"`
	CallSessionID string `json:"call_session_id"`
	RequestID     string `json:"request_id"`
	AgentID       string `json:"agent_id"`
	CallStatus    string `json:"call_status"`
	CallDatetime  string `json:"call_datetime"`
	BatchID       string `json:"batch_id,omitempty"`
	RowID         string `json:"row_id,omitempty"`
}

// batchCompleted is ours: a campaign of the agent has ended.
type batchCompleted struct {
	Event       Event          `json:"event"`
	BatchID     string         `json:"batch_id"`
	AgentID     string         `json:"agent_id"`
	CompletedAt string         `json:"completed_at"`
	Totals      map[string]int `json:"totals,omitempty"`
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// sessionEvent is the event a session's final status reports.
func sessionEvent(s *call.Session) Event {
	if s.Status() == call.StatusFailed {
		return EventCallFailed
	}
	return EventCallCompleted
}

// sessionPayload is the body that reports s's end; cc is its campaign row, zero when it is no
// campaign's call.
func sessionPayload(s *call.Session, cc CampaignCall) ([]byte, error) {
	if sessionEvent(s) == EventCallFailed {
		reason := s.Detail
		if reason == "" {
			reason = "call failed"
		}
		return json.Marshal(callFailed{Event: EventCallFailed, CallID: s.ID, ErrorReason: reason, CallSessionID: s.ID,
			RequestID: s.RequestID, AgentID: s.AgentID, CallStatus: s.Status().String(), CallDatetime: timeText(s.CreatedAt),
			BatchID: cc.BatchID, RowID: cc.RowID})
	}
	answeredBy := ""
	if s.AnsweredBy.Valid() {
		answeredBy = s.AnsweredBy.String()
	}
	return json.Marshal(callCompleted{
		Event:          EventCallCompleted,
		CallID:         s.ID,
		CallSessionID:  s.ID,
		RequestID:      s.RequestID,
		AgentID:        s.AgentID,
		MobileNumber:   s.To,
		FromNumber:     s.From,
		ToNumber:       s.To,
		CallDatetime:   timeText(s.CreatedAt),
		CallDuration:   s.Duration.Seconds(),
		CallDirection:  "outbound",
		CallStatus:     s.Status().String(),
		AnsweredBy:     answeredBy,
		BatchID:        cc.BatchID,
		RowID:          cc.RowID,
		AnsweredAt:     timeText(s.AnsweredAt),
		EndedAt:        timeText(s.EndedAt),
		Cost:           s.Cost,
		VariableValues: s.VariableValues,
	})
}

// samplePayload is test-outgoing's body: a call.completed with "test": true and made-up ids.
func samplePayload(e Endpoint, now time.Time) ([]byte, error) {
	return json.Marshal(callCompleted{
		Event:         EventCallCompleted,
		CallID:        "00000000-0000-4000-8000-000000000000",
		CallSessionID: "00000000-0000-4000-8000-000000000000",
		RequestID:     "00000000-0000-4000-8000-000000000001",
		AgentID:       e.AgentID,
		MobileNumber:  "+15555550100",
		FromNumber:    "+15555550199",
		ToNumber:      "+15555550100",
		CallDatetime:  timeText(now.Add(-2 * time.Minute)),
		CallDuration:  92,
		CallDirection: "outbound",
		CallStatus:    call.StatusCompleted.String(),
		EndedAt:       timeText(now),
		Test:          true,
	})
}
