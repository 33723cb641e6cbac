package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// Errors of the HTTP layer itself.
var (
	errRouteNotFound    = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
	errBodyTooLarge     = errors.New("request body too large")
	errBodyUnreadable   = errors.New("request body could not be read")
	errMetricsToken     = errors.New("missing or wrong metrics token")
)

const detailInternal = "Internal server error"

// errorTable is the one place where an error becomes a status and a detail. Entries are matched
// with errors.Is, in order; an *fault.InvalidInputError is a 422 with its own Detail.
// Anything else is a 500 with detailInternal, and only those are logged (see classify). A not-found detail says
// the same whether the thing is missing or someone else's.
var errorTable = []struct {
	err    error
	status int
	detail string
}{
	// First: whatever else a request ran into, the database being down is why it failed.
	{fault.ErrUnavailable, http.StatusServiceUnavailable, "Database unavailable"},
	{errShuttingDown, http.StatusServiceUnavailable, "Service is shutting down"},
	{accounts.ErrInvalidSession, http.StatusUnauthorized, "Invalid or expired session token"},
	{fault.ErrUnauthenticated, http.StatusUnauthorized, "Invalid or missing API key"},
	{errMetricsToken, http.StatusUnauthorized, "Invalid or missing metrics token: send Authorization: Bearer <KUPE_METRICS_TOKEN>"},
	{accounts.ErrForeignUser, http.StatusForbidden, "Not allowed to act for another user"},
	{errOriginNotAllowed, http.StatusForbidden, "Origin not allowed"},
	{errCallbackUnverified, http.StatusForbidden, "Invalid or missing callback signature"},
	{createcall.ErrInsufficientCredits, http.StatusPaymentRequired, "Insufficient credits: add credits to place calls"},

	// Limits and guards (limits.go in application): a *createcall.LimitError brings its own
	// detail, which names the limit, and its Retry-After.
	{createcall.ErrDailySpendCap, http.StatusPaymentRequired, "Daily spend cap reached"},
	{createcall.ErrRateLimited, http.StatusTooManyRequests, "Rate limit exceeded"},
	{createcall.ErrConcurrencyLimit, http.StatusTooManyRequests, "Concurrent call limit reached"},
	{createcall.ErrLinePaced, http.StatusTooManyRequests, "Line call rate exceeded"},
	{createcall.ErrIdempotencyInProgress, http.StatusConflict, "A request with this Idempotency-Key is still in progress"},
	{createcall.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "Idempotency-Key was already used with a different request"},
	{call.ErrDestinationNotAllowed, http.StatusUnprocessableEntity, "Destination not allowed"},

	// Hang-up (hangup.go).
	{callevents.ErrCallEnded, http.StatusConflict, "Call already ended"},
	{callevents.ErrCallNotPlaced, http.StatusConflict, "The call is still being placed: try again in a moment"},
	{callevents.ErrHangupUnsupported, http.StatusConflict, "This line's carrier cannot hang up a call remotely: the call ends when the callee hangs up or its max_duration_seconds is reached"},

	// Kupe answers a mapping that names the wrong number of targets, or no line, with a 400.
	{accounts.ErrMappingTarget, http.StatusBadRequest, "Send exactly one of agent_id and workflow_id"},
	{accounts.ErrMappingLineMissing, http.StatusBadRequest, "phone_number_id is required"},
	{call.ErrTargetBoth, http.StatusUnprocessableEntity, "Pass agent_id or workflow_id, not both"},
	{call.ErrNoTarget, http.StatusUnprocessableEntity, "No agent or workflow for this call: pass agent_id or workflow_id, or map one to the phone number"},
	{call.ErrLineInactive, http.StatusUnprocessableEntity, "Phone number is not active"},
	{call.ErrAgentInactive, http.StatusUnprocessableEntity, "Agent is not active"},
	{call.ErrWorkflowInactive, http.StatusUnprocessableEntity, "Workflow is not active"},

	{call.ErrAgentNotFound, http.StatusNotFound, "Agent not found"},
	{call.ErrWorkflowNotFound, http.StatusNotFound, "Workflow not found"},
	{call.ErrLineNotFound, http.StatusNotFound, "Phone number not found"},
	{call.ErrSessionNotFound, http.StatusNotFound, "Session not found"},
	{webhook.ErrSignatureMissing, http.StatusUnauthorized, "Missing X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>"},
	{webhook.ErrSignatureMismatch, http.StatusUnauthorized, "Invalid webhook signature"},
	{webhooks.ErrIncomingDisabled, http.StatusForbidden, "Incoming webhook is disabled for this agent"},
	{webhooks.ErrNoOutgoingURL, http.StatusUnprocessableEntity, "outgoing.url: no outgoing webhook URL is configured"},
	{webhooks.ErrDeliveryNotFound, http.StatusNotFound, "Webhook delivery not found"},
	{webhooks.ErrEndpointNotFound, http.StatusNotFound, "Webhook configuration not found"},
	{accounts.ErrAPIKeyNotFound, http.StatusNotFound, "API key not found"},
	{accounts.ErrMappingNotFound, http.StatusNotFound, "Mapping not found"},
	{fault.ErrNotFound, http.StatusNotFound, "Not found"},
	{fault.ErrAlreadyExists, http.StatusConflict, "Already exists"},

	// Kupe answers a user without a usable line with a 500 and this text; clients match on it.
	{call.ErrNoActiveLine, http.StatusInternalServerError, "Telephony configuration error: no active outbound line"},

	{errRouteNotFound, http.StatusNotFound, "Not Found"},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "Method Not Allowed"},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge, "Request body too large"},
	{errVariablesTooLarge, http.StatusRequestEntityTooLarge, "variable_values too large: at most 16 KiB"},
	{errBodyUnreadable, http.StatusBadRequest, "Request body could not be read"},
}

// classify maps err to its status and the detail the client may see. internal is true for an
// error the table does not know: only those are logged, since every known one is an answer the
// service meant to give (even Kupe's 500 for a user without a line).
func classify(err error) (status int, detail string, internal bool) {
	var inv *fault.InvalidInputError
	if errors.As(err, &inv) {
		return http.StatusUnprocessableEntity, inv.Detail, false
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			if le := limitError(err); le != nil && le.Detail != "" {
				return e.status, le.Detail, false
			}
			return e.status, e.detail, false
		}
	}
	return http.StatusInternalServerError, detailInternal, true
}

// setRetryAfter tells the client when the same request may succeed, for an error that knows (a
// *createcall.LimitError): whole seconds, rounded up, at least 1.
func setRetryAfter(c *gin.Context, err error) {
	le := limitError(err)
	if le == nil || le.RetryAfter <= 0 {
		return
	}
	secs := int64((le.RetryAfter + time.Second - 1) / time.Second)
	c.Writer.Header()["Retry-After"] = []string{strconv.FormatInt(secs, 10)}
}

// limitError is errors.As for a *createcall.LimitError, without the allocation errors.As makes
// for its target: it runs on every error answer.
func limitError(err error) *createcall.LimitError {
	for err != nil {
		switch e := err.(type) {
		case *createcall.LimitError:
			return e
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if le := limitError(inner); le != nil {
					return le
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// invalidIs400 marks a request whose invalid input is answered 400, not 422 (see kupeBadRequest).
const invalidIs400 = "httpapi.invalidIs400"

// kupeBadRequest is the first handler of the routes whose Kupe operation documents a 400 for
// invalid input (createAgentSimple, getAgentById, updateAgent, createAgentPhoneMapping,
// exportCallAnalytics): there every 422 the table would answer is a 400, with the same detail.
// Elsewhere Kupe is silent and the 422 stays.
func kupeBadRequest(c *gin.Context) { c.Set(invalidIs400, true) }

// invalid is a 422 the HTTP layer finds itself (a malformed body or query).
func invalid(detail string) error { return &fault.InvalidInputError{Detail: detail} }

// writeDetail writes Kupe's error body, {"detail": "..."}.
func writeDetail(c *gin.Context, status int, detail string) {
	b := getBuf()
	b.b = append(b.b, `{"detail":`...)
	b.b = appendJSONString(b.b, detail)
	b.b = append(b.b, '}')
	writeJSONBytes(c, status, b.b)
	putBuf(b)
}
