package twilioprovider

import (
	"context"
	"errors"
	"net/http"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// codeCallNotInProgress is Twilio's answer to an update of a call that has ended.
const codeCallNotInProgress = 21220

var _ callevents.Hanger = (*Carrier)(nil)

// Hangup ends a call through twilio-go's Api.UpdateCall: Status=canceled while the call is not
// answered, Status=completed once it is. A cancel that finds the call answered meanwhile (Twilio
// leaves an in-progress call as it is) is followed by a completed. The end itself arrives as a
// status callback, with Twilio's duration. A call Twilio does not know, or that has ended, is
// callevents.ErrLegNotFound; other failures are a *createcall.DialError classified as a dial's.
func (c *Carrier) Hangup(ctx context.Context, req callevents.HangupRequest) error {
	sid, token := req.Credentials[CredAccountSID], req.Credentials[CredAuthToken]
	if sid == "" || token == "" || !alphanumeric(sid) || !alphanumeric(token) {
		return &createcall.DialError{Kind: createcall.DialBadCredentials,
			Reason: "The line has no usable carrier account id or auth token"}
	}
	// The sid goes into the request path unescaped by twilio-go: only a plain one is sent.
	if !alphanumeric(req.LegID) {
		return callevents.ErrLegNotFound
	}
	status := "completed"
	if req.Status != call.StatusInProgress {
		status = "canceled"
	}
	rest := c.restClient(sid, token)
	for {
		if err := ctx.Err(); err != nil {
			return &createcall.DialError{Kind: createcall.DialUnavailable, Reason: "The hang-up was cancelled", Err: err}
		}
		params := &api.UpdateCallParams{}
		params.SetPathAccountSid(sid)
		params.SetStatus(status)
		resp, err := rest.Api.UpdateCall(req.LegID, params)
		if err != nil {
			var te *client.TwilioRestError
			if errors.As(err, &te) && (te.Status == http.StatusNotFound || te.Code == codeCallNotInProgress) {
				return callevents.ErrLegNotFound
			}
			de, _ := classify(err)
			de.Err = redact(err, token)
			return de
		}
		if status == "canceled" && resp.Status != nil && *resp.Status == "in-progress" {
			status = "completed"
			continue
		}
		return nil
	}
}
