package twilioprovider

import (
	"errors"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// ErrCallbackBody is a status callback body that is not the form Twilio posts.
var ErrCallbackBody = errors.New("twilio status callback: want an application/x-www-form-urlencoded body")

// statuses maps Twilio's CallStatus values onto the session lifecycle.
var statuses = map[string]call.Status{
	"queued":      call.StatusInitiated,
	"initiated":   call.StatusInitiated,
	"ringing":     call.StatusRinging,
	"in-progress": call.StatusInProgress,
	"answered":    call.StatusInProgress,
	"completed":   call.StatusCompleted,
	"busy":        call.StatusBusy,
	"no-answer":   call.StatusNoAnswer,
	"failed":      call.StatusFailed,
	"canceled":    call.StatusCanceled,
}

// MapStatus reads a Twilio CallStatus; ok is false for a value it does not know.
func MapStatus(s string) (st call.Status, ok bool) {
	st, ok = statuses[strings.ToLower(strings.TrimSpace(s))]
	return st, ok
}

// callbackParams reads a callback's form, first value of each name, as Twilio signs it.
func callbackParams(contentType string, body []byte) (map[string]string, error) {
	if mt, _, err := mime.ParseMediaType(contentType); contentType != "" && (err != nil || mt != "application/x-www-form-urlencoded") {
		return nil, ErrCallbackBody
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ErrCallbackBody
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0]
	}
	return params, nil
}

// VerifyStatusCallback reports whether signature (the X-Twilio-Signature header) is Twilio's
// signature, under the line's auth token, of a callback posted to publicURL (the full address
// Twilio was given, query included) with body. A line without an auth token verifies nothing.
func VerifyStatusCallback(creds call.Credentials, publicURL, contentType string, body []byte, signature string) bool {
	token := creds[CredAuthToken]
	if token == "" || signature == "" {
		return false
	}
	params, err := callbackParams(contentType, body)
	if err != nil {
		return false
	}
	v := client.NewRequestValidator(token)
	return v.Validate(publicURL, params, signature)
}

// ParseStatusCallback reads a status callback into an event: CallStatus (a value it does not
// know names no status), CallSid as the leg id, CallDuration (seconds, on completed) and
// Timestamp. The caller sets the event's session and provider.
func ParseStatusCallback(contentType string, body []byte) (callevents.CarrierEvent, error) {
	p, err := callbackParams(contentType, body)
	if err != nil {
		return callevents.CarrierEvent{}, err
	}
	var ev callevents.CarrierEvent
	ev.Status, _ = MapStatus(p["CallStatus"])
	if sid := p["CallSid"]; carrierhttp.ValidID(sid) {
		ev.LegID = sid
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(p["CallDuration"]), 10, 64); err == nil {
		ev.Duration, _ = carrierhttp.CallDuration(n)
	}
	if at, err := time.Parse(time.RFC1123Z, strings.TrimSpace(p["Timestamp"])); err == nil {
		ev.At = at.UTC()
	}
	ev.AnsweredBy = MapAnsweredBy(p["AnsweredBy"])
	return ev, nil
}

// answeredBy maps Twilio's AnsweredBy values onto the session's.
var answeredBy = map[string]call.AnsweredBy{
	"human":               call.AnsweredByHuman,
	"machine_start":       call.AnsweredByMachine,
	"machine_end_beep":    call.AnsweredByMachine,
	"machine_end_silence": call.AnsweredByMachine,
	"machine_end_other":   call.AnsweredByMachine,
	"fax":                 call.AnsweredByMachine,
	"unknown":             call.AnsweredByUnknown,
}

// MapAnsweredBy reads a Twilio AnsweredBy; a value it does not know (or none) is no result.
func MapAnsweredBy(s string) call.AnsweredBy {
	return answeredBy[strings.ToLower(strings.TrimSpace(s))]
}

// ParseAMDCallback reads the asynchronous answering-machine detection's callback (CallSid,
// AnsweredBy) into an event that carries only the result and the leg id. A body without a
// result Twilio defines is ErrCallbackBody. The caller sets the event's session and provider;
// the request is verified as a status callback is (VerifyStatusCallback).
func ParseAMDCallback(contentType string, body []byte) (callevents.CarrierEvent, error) {
	p, err := callbackParams(contentType, body)
	if err != nil {
		return callevents.CarrierEvent{}, err
	}
	ev := callevents.CarrierEvent{AnsweredBy: MapAnsweredBy(p["AnsweredBy"])}
	if !ev.AnsweredBy.Valid() {
		return callevents.CarrierEvent{}, ErrCallbackBody
	}
	if sid := p["CallSid"]; carrierhttp.ValidID(sid) {
		ev.LegID = sid
	}
	return ev, nil
}
