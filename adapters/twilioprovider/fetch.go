package twilioprovider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

var _ callevents.CallFetcher = (*Carrier)(nil)

// callStatuses maps Twilio's call statuses
// (https://www.twilio.com/docs/voice/api/call-resource#call-status-values) onto the session's.
var callStatuses = map[string]call.Status{
	"queued":      call.StatusInitiated,
	"initiated":   call.StatusInitiated,
	"ringing":     call.StatusRinging,
	"in-progress": call.StatusInProgress,
	"completed":   call.StatusCompleted,
	"busy":        call.StatusBusy,
	"no-answer":   call.StatusNoAnswer,
	"failed":      call.StatusFailed,
	"canceled":    call.StatusCanceled,
}

// FetchCall reads a call by its sid (twilio-go's Api.FetchCall, one GET, never retried) and
// returns its status. A sid Twilio does not know, or one that cannot be a sid, is
// callevents.ErrLegNotFound; any other failure is a *createcall.DialError classified as a
// dial's would be.
func (c *Carrier) FetchCall(ctx context.Context, req callevents.FetchRequest) (call.Status, error) {
	sid, token := req.Credentials[CredAccountSID], req.Credentials[CredAuthToken]
	if sid == "" || token == "" || !alphanumeric(sid) || !alphanumeric(token) {
		return 0, &createcall.DialError{Kind: createcall.DialBadCredentials,
			Reason: "The line has no usable carrier account id or auth token"}
	}
	// The sid goes into the request path unescaped by twilio-go: only a plain one is sent.
	if !alphanumeric(req.LegID) {
		return 0, callevents.ErrLegNotFound
	}
	if err := ctx.Err(); err != nil {
		return 0, &createcall.DialError{Kind: createcall.DialUnavailable, Reason: "The lookup was cancelled", Err: err}
	}
	params := &api.FetchCallParams{}
	params.SetPathAccountSid(sid)
	resp, err := c.restClient(sid, token).Api.FetchCall(req.LegID, params)
	if err != nil {
		var te *client.TwilioRestError
		if errors.As(err, &te) && te.Status == http.StatusNotFound {
			return 0, callevents.ErrLegNotFound
		}
		de, _ := classify(err)
		de.Err = redact(err, token)
		return 0, de
	}
	if resp.Status == nil {
		return 0, &createcall.DialError{Kind: createcall.DialUnknown, Reason: createcall.DialUnknown.DefaultReason(),
			Err: errors.New("call lookup answered without a status")}
	}
	st, ok := callStatuses[*resp.Status]
	if !ok {
		return 0, &createcall.DialError{Kind: createcall.DialRejected, Reason: createcall.DialRejected.DefaultReason(),
			Err: fmt.Errorf("call lookup answered with unknown status %q", *resp.Status)}
	}
	return st, nil
}
