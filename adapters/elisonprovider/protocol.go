package elisonprovider

// Everything this package assumes about the dialer's wire protocol is in this file; see the
// package comment for the whole exchange. Nothing here is confirmed by published documentation.

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Endpoints, relative to the base URL.
const (
	loginPath = "/api/login"
	leadsPath = "/api/leads"
)

// Token lifetime.
const (
	// defaultTokenLifetime applies when a login answer has no usable expires_in.
	defaultTokenLifetime = 5 * time.Minute
	// maxTokenLifetime caps an implausibly long expires_in.
	maxTokenLifetime = 24 * time.Hour
	// tokenRefreshMargin: a token is replaced this long before the dialer says it expires, so
	// that a lead never travels with a token about to lapse.
	tokenRefreshMargin = time.Minute
)

// bearer is the Authorization header of a lead.
func bearer(token string) string { return "Bearer " + token }

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     carrierhttp.Text `json:"token"`
	ExpiresIn carrierhttp.Text `json:"expires_in"` // seconds
	apiError
}

// tokenUsableFor is how long a token may be reused, given the login answer's expires_in.
func tokenUsableFor(expiresIn int) time.Duration {
	life := defaultTokenLifetime
	switch {
	case expiresIn > int(maxTokenLifetime/time.Second):
		life = maxTokenLifetime
	case expiresIn > 0:
		life = time.Duration(expiresIn) * time.Second
	}
	if life > 2*tokenRefreshMargin {
		return life - tokenRefreshMargin
	}
	return life / 2
}

type leadRequest struct {
	Phone        string `json:"phone"`        // national significant number: 9876543210
	CountryCode  string `json:"country_code"` // without "+": 91
	WebsocketURL string `json:"websocket_url"`
	WebhookURL   string `json:"webhook_url"`
	Reference    string `json:"reference"` // the session id, echoed on the webhook
}

// statusSuccess and statusError are the values of an answer's "status".
const (
	statusSuccess = "success"
	statusError   = "error"
)

type leadResponse struct {
	QueueID carrierhttp.Text `json:"queue_id"`
	apiError
}

// apiError is the error body every endpoint answers with.
type apiError struct {
	Status  carrierhttp.Text `json:"status"`
	Code    carrierhttp.Text `json:"code"`
	Message carrierhttp.Text `json:"message"`
}

func (e apiError) failed() bool { return strings.EqualFold(string(e.Status), statusError) }

// errorCodes classifies an error answer's code, compared in lower case with "-" and " " read
// as "_". A code not listed falls back to the HTTP status (carrierhttp.Refusal).
var errorCodes = map[string]createcall.DialErrorKind{
	"invalid_phone":         createcall.DialInvalidDestination,
	"invalid_number":        createcall.DialInvalidDestination,
	"invalid_country_code":  createcall.DialInvalidDestination,
	"number_blocked":        createcall.DialInvalidDestination,
	"dnd":                   createcall.DialInvalidDestination,
	"caller_id_not_allowed": createcall.DialCallerNotAllowed,
	"invalid_caller_id":     createcall.DialCallerNotAllowed,
	"did_not_allowed":       createcall.DialCallerNotAllowed,
	"unauthorized":          createcall.DialBadCredentials,
	"invalid_credentials":   createcall.DialBadCredentials,
	"invalid_token":         createcall.DialBadCredentials,
	"token_expired":         createcall.DialBadCredentials,
	"rate_limited":          createcall.DialRateLimited,
	"too_many_requests":     createcall.DialRateLimited,
}

func codeKind(code string) createcall.DialErrorKind {
	code = strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(code)))
	return errorCodes[code]
}

// newLead is the lead for a dial. The destination is split into the national number and the
// country code the dialer expects.
func newLead(req createcall.DialRequest, streamURL, webhookURL string) (leadRequest, error) {
	num, err := phonenumbers.Parse(req.To, "")
	if err != nil {
		return leadRequest{}, fmt.Errorf("parse destination: %w", err)
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	if national == "" || num.GetCountryCode() == 0 {
		return leadRequest{}, errors.New("destination has no national number")
	}
	return leadRequest{
		Phone:        national,
		CountryCode:  strconv.Itoa(int(num.GetCountryCode())),
		WebsocketURL: streamURL,
		WebhookURL:   webhookURL,
		Reference:    req.SessionID,
	}, nil
}

// parseLogin reads a login answer; an error means the body was not the JSON assumed here.
func parseLogin(body []byte) (loginResponse, error) {
	var r loginResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return loginResponse{}, fmt.Errorf("decode login answer: %w", err)
	}
	return r, nil
}

// parseLead reads a lead answer; an error means the body was not the JSON assumed here.
func parseLead(body []byte) (leadResponse, error) {
	var r leadResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return leadResponse{}, fmt.Errorf("decode lead answer: %w", err)
	}
	return r, nil
}

// leadOutcome reads the answer to a lead: the queue id, or why there is none. secrets are removed
// from anything kept for logs.
func leadOutcome(status int, body []byte, secrets ...string) (string, *createcall.DialError) {
	r, perr := parseLead(body)
	ok := status >= 200 && status < 300
	if ok && !r.failed() {
		if id := string(r.QueueID); carrierhttp.ValidID(id) {
			return id, nil
		}
		// The dialer took the request, so it may have queued the lead.
		if perr == nil {
			perr = fmt.Errorf("HTTP %d answer has no valid queue id", status)
		}
		return "", carrierhttp.Unknown(perr)
	}
	if ok {
		status = 400 // an error answer sent with HTTP 2xx still refuses the lead
	}
	return "", carrierhttp.Refusal(status, codeKind(string(r.Code)), r.cause(status, secrets))
}

// loginOutcome reads the answer to a login: the token and how long it may be used, or why there
// is none. No call exists yet, so every failure is a definite refusal: bad credentials for any
// 4xx but 429 (a login concerns nothing but the line's credentials and base URL), unavailable
// for anything else.
func loginOutcome(status int, body []byte, secrets ...string) (string, time.Duration, *createcall.DialError) {
	r, perr := parseLogin(body)
	ok := status >= 200 && status < 300
	if ok && !r.failed() && carrierhttp.ValidID(string(r.Token)) {
		return string(r.Token), tokenUsableFor(r.ExpiresIn.Int()), nil
	}
	kind := createcall.DialUnavailable
	switch {
	case status == 429 || codeKind(string(r.Code)) == createcall.DialRateLimited:
		kind = createcall.DialRateLimited
	case status >= 400 && status < 500, ok && r.failed():
		kind = createcall.DialBadCredentials
	}
	cause := r.cause(status, secrets)
	if ok && !r.failed() {
		cause = fmt.Errorf("login: HTTP %d answer has no valid token", status)
		if perr != nil {
			cause = fmt.Errorf("login: %w", perr)
		}
	}
	return "", 0, &createcall.DialError{Kind: kind, Reason: kind.DefaultReason(), Err: cause}
}

func (e apiError) cause(status int, secrets []string) error {
	return fmt.Errorf("carrier answered HTTP %d, code %q: %s", status, carrierhttp.Redact(string(e.Code), secrets...),
		carrierhttp.Redact(string(e.Message), secrets...))
}

// webhookEvent is the dialer's report on a lead's call, posted to the lead's webhook_url as JSON
// (a urlencoded form with the same names is read too):
//
//	{"reference": "{session id}", "queue_id": "...", "call_id": "...", "status": "answered",
//	 "duration": 42, "timestamp": "2026-11-28T09:00:00Z"}
//
// duration is the talk time in seconds, with a terminal status; timestamp is RFC 3339.
type webhookEvent struct {
	Reference carrierhttp.Text `json:"reference"`
	QueueID   carrierhttp.Text `json:"queue_id"`
	CallID    carrierhttp.Text `json:"call_id"`
	Status    carrierhttp.Text `json:"status"`
	Duration  carrierhttp.Text `json:"duration"`
	Timestamp carrierhttp.Text `json:"timestamp"`
}

// webhookStatuses maps the dialer's statuses onto the session lifecycle, compared in lower case
// with "-" and " " read as "_".
var webhookStatuses = map[string]call.Status{
	"queued":       call.StatusInitiated,
	"dialing":      call.StatusInitiated,
	"initiated":    call.StatusInitiated,
	"ringing":      call.StatusRinging,
	"answered":     call.StatusInProgress,
	"connected":    call.StatusInProgress,
	"in_progress":  call.StatusInProgress,
	"completed":    call.StatusCompleted,
	"disconnected": call.StatusCompleted,
	"busy":         call.StatusBusy,
	"no_answer":    call.StatusNoAnswer,
	"noanswer":     call.StatusNoAnswer,
	"not_answered": call.StatusNoAnswer,
	"failed":       call.StatusFailed,
	"cancelled":    call.StatusCanceled,
	"canceled":     call.StatusCanceled,
}

// ErrCallbackBody is a webhook body that is neither the JSON nor the form assumed here.
var ErrCallbackBody = errors.New("elison webhook: want a JSON or urlencoded body")

// MapStatus reads one of the dialer's statuses; ok is false for a value it does not know.
func MapStatus(s string) (st call.Status, ok bool) {
	s = strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	st, ok = webhookStatuses[s]
	return st, ok
}

// ParseStatusCallback reads one of the dialer's webhook posts into an event. The leg id is the
// queue id (what the dial recorded), else the dialer's call id. The caller sets the event's
// session and provider.
func ParseStatusCallback(contentType string, body []byte) (callevents.CarrierEvent, error) {
	var w webhookEvent
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return callevents.CarrierEvent{}, ErrCallbackBody
		}
		w = webhookEvent{Reference: carrierhttp.Text(form.Get("reference")), QueueID: carrierhttp.Text(form.Get("queue_id")),
			CallID: carrierhttp.Text(form.Get("call_id")), Status: carrierhttp.Text(form.Get("status")),
			Duration: carrierhttp.Text(form.Get("duration")), Timestamp: carrierhttp.Text(form.Get("timestamp"))}
	case "application/json", "":
		if err := json.Unmarshal(body, &w); err != nil {
			return callevents.CarrierEvent{}, ErrCallbackBody
		}
	default:
		return callevents.CarrierEvent{}, ErrCallbackBody
	}
	var ev callevents.CarrierEvent
	ev.Status, _ = MapStatus(string(w.Status))
	for _, id := range []carrierhttp.Text{w.QueueID, w.CallID} {
		if carrierhttp.ValidID(strings.TrimSpace(string(id))) {
			ev.LegID = strings.TrimSpace(string(id))
			break
		}
	}
	ev.Duration, _ = carrierhttp.CallDuration(int64(w.Duration.Int()))
	if at, err := time.Parse(time.RFC3339, strings.TrimSpace(string(w.Timestamp))); err == nil {
		ev.At = at.UTC()
	}
	return ev, nil
}
