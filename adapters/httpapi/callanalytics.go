package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

const defaultPageSize = 20

var callAnalyticsKeys = []string{"request_id", "page", "page_size", "filter"}

const (
	qRequestID = iota
	qPage
	qPageSize
	qFilter
)

// sessionJSON is a call session as the call logs show it. It carries no credential and no
// vendor name: the provider is reported as "pstn", like create_call does.
type sessionJSON struct {
	CallSessionID     string            `json:"call_session_id"`
	RequestID         string            `json:"request_id"`
	Status            string            `json:"status"`
	UserID            string            `json:"user_id"`
	AgentID           *string           `json:"agent_id"`
	WorkflowID        *string           `json:"workflow_id"`
	PhoneNumberID     *string           `json:"phone_number_id"`
	TelephonyProvider string            `json:"telephony_provider"`
	FromNumber        string            `json:"from_number"`
	ToNumber          string            `json:"to_number"`
	VariableValues    map[string]string `json:"variable_values"`
	TelephonyLegID    *string           `json:"telephony_leg_id"`
	Detail            *string           `json:"detail"`
	DurationSeconds   float64           `json:"duration_seconds"`
	Cost              money.Amount      `json:"cost"`
	AnsweredAt        *string           `json:"answered_at"`
	EndedAt           *string           `json:"ended_at"`
	CreatedAt         *string           `json:"created_at"`
	UpdatedAt         *string           `json:"updated_at"`
	// The agent's prompt and first message with variable_values filled in, as the voice runtime
	// reads them; null for a workflow's call.
	RenderedSystemPrompt *string `json:"rendered_system_prompt"`
	RenderedFirstMessage *string `json:"rendered_first_message"`
	// AnsweredBy is the carrier's machine-detection result: human, machine or unknown; null
	// without detection or until it reports.
	AnsweredBy *string `json:"answered_by"`
}

type pageJSON struct {
	Items    []sessionJSON `json:"items"`
	Total    int           `json:"total"`
	Page     int           `json:"page"`
	PageSize int           `json:"page_size"`
}

func toSessionJSON(s *call.Session) sessionJSON {
	vars := s.VariableValues
	if vars == nil {
		vars = map[string]string{}
	}
	return sessionJSON{
		CallSessionID:     s.ID,
		RequestID:         s.RequestID,
		Status:            s.Status().String(),
		UserID:            s.UserID,
		AgentID:           nullable(s.AgentID),
		WorkflowID:        nullable(s.WorkflowID),
		PhoneNumberID:     nullable(s.LineID),
		TelephonyProvider: publicProvider,
		FromNumber:        s.From,
		ToNumber:          s.To,
		VariableValues:    vars,
		TelephonyLegID:    nullable(s.LegID),
		Detail:            nullable(s.Detail),
		DurationSeconds:   s.Duration.Seconds(),
		Cost:              s.Cost,
		AnsweredAt:        timeJSON(s.AnsweredAt),
		EndedAt:           timeJSON(s.EndedAt),
		CreatedAt:         timeJSON(s.CreatedAt),
		UpdatedAt:         timeJSON(s.UpdatedAt),

		RenderedSystemPrompt: nullable(s.RenderedSystemPrompt),
		RenderedFirstMessage: nullable(s.RenderedFirstMessage),
		AnsweredBy:           nullable(s.AnsweredBy.String()),
	}
}

// timeJSON is t in RFC 3339, UTC, or null when t is unset.
func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// callAnalytics serves GET /api/v1/call-analytics: one session by request_id, a page of them
// (page, page_size), or, with neither, the first MaxPageSize in the same wrapper. filter narrows
// the page or the list to a status ("failed") or to request ids that start with it; text that
// can be neither matches nothing.
func (s *server) callAnalytics(c *gin.Context) {
	p, ok := principal(c)
	if !ok {
		fail(c, fault.ErrUnauthenticated)
		return
	}
	var (
		values [4]string
		found  [4]bool
	)
	q := queryParams{keys: callAnalyticsKeys, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if found[qRequestID] {
		sess, err := s.deps.CallLogs.ByRequestID(ctx, p.UserID, values[qRequestID])
		if err != nil {
			fail(c, err)
			return
		}
		writeJSON(c, http.StatusOK, toSessionJSON(sess))
		return
	}

	page, size := 1, accounts.MaxPageSize
	if found[qPage] || found[qPageSize] {
		size = defaultPageSize
		var err error
		if found[qPage] {
			if page, err = pageParam("page", values[qPage]); err != nil {
				fail(c, err)
				return
			}
		}
		if found[qPageSize] {
			if size, err = pageParam("page_size", values[qPageSize]); err != nil {
				fail(c, err)
				return
			}
		}
	}
	// filter (a status, or a request id or its first characters) narrows the list or the page.
	res, err := s.deps.CallLogs.Search(ctx, p.UserID, values[qFilter], page, size)
	if err != nil {
		fail(c, err)
		return
	}
	out := pageJSON{Items: make([]sessionJSON, 0, len(res.Items)), Total: res.Total, Page: res.Page, PageSize: res.PageSize}
	for _, sess := range res.Items {
		out.Items = append(out.Items, toSessionJSON(sess))
	}
	writeJSON(c, http.StatusOK, out)
}

// pageParam reads a page or page_size; ranges are the use case's to check.
func pageParam(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalid(name + " must be an integer")
	}
	return n, nil
}
