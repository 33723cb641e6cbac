package twilioprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/client"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
)

// create sends the Calls create request (POST /2010-04-01/Accounts/{sid}/Calls.json) itself,
// rather than through twilio-go's Api.CreateCall, which decodes the whole Call resource into a
// struct of some forty fields where the adapter reads only the sid: that decode was a third of
// the dial's CPU, and the dial a fifth of create_call's, in the load harness. The request is the
// one twilio-go sends (the same form fields, basic auth and Accept header, through the same
// connection pool and timeout, to APIBaseURL), and an error answer becomes the
// same *client.TwilioRestError, or for a body that is not JSON the same error text, so that
// classify reads both as before.
//
// Like the SDK's, the request does not end with ctx: a create in flight runs to its answer or
// to the client's Timeout, since abandoning it would turn a placed call into an unknown outcome.
func (c *Carrier) create(ctx context.Context, sid, token, form string) (string, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost,
		c.callsURL+sid+"/Calls.json", strings.NewReader(form))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(sid, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.direct.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := readBody(res)
	// As twilio-go: 3xx answers count as success.
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		te := &client.TwilioRestError{}
		if err == nil {
			err = json.Unmarshal(body, te)
		}
		if err != nil {
			return "", fmt.Errorf("error decoding the response for an HTTP error code: %s: %w", strconv.Itoa(res.StatusCode), err)
		}
		return "", te
	}
	if err != nil {
		return "", err
	}
	var created struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		return "", err
	}
	return created.Sid, nil
}

// readBody reads an answer of at most carrierhttp.MaxBody, into one buffer of its length when
// the carrier gives one (json.Decoder grew its buffer three times for the 2 KB Call resource:
// a sixth of everything create_call allocated), then drains what is left so that the connection
// is reused.
func readBody(res *http.Response) ([]byte, error) {
	defer io.Copy(io.Discard, io.LimitReader(res.Body, carrierhttp.MaxBody))
	if n := res.ContentLength; n >= 0 && n <= carrierhttp.MaxBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(res.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(res.Body, carrierhttp.MaxBody))
}

// createForm is the create request's form, encoded: the call with its options (ring timeout,
// length cap, asynchronous machine detection), its TwiML connecting the answer to the media
// stream, and the status callback. Written out in one pass: url.Values would
// build a map and sort its keys for every dial, and Twilio reads the fields in any order.
func (c *Carrier) createForm(req createcall.DialRequest) string {
	var b strings.Builder
	b.Grow(1024)
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	field("To", req.To)
	field("From", req.From)
	field("Twiml", streamTwiML(c.cfg.StreamURL(req), req.RequestID, req.SessionID))
	field("StatusCallback", c.cfg.StatusCallbackURL(req.SessionID))
	for _, e := range statusEvents {
		field("StatusCallbackEvent", e)
	}
	field("StatusCallbackMethod", http.MethodPost)
	field("Timeout", strconv.Itoa(seconds(req.Options.RingTimeout, c.cfg.RingTimeout)))
	field("TimeLimit", strconv.Itoa(seconds(req.Options.MaxDuration, c.cfg.TimeLimit)))
	if md, ok := machineDetection[req.Options.MachineDetection]; ok && c.cfg.AMDCallbackURL != nil {
		// Asynchronous: the call is connected to the stream at once, and the result comes to
		// its own callback instead of delaying the answer by the detection's few seconds.
		field("MachineDetection", md)
		field("AsyncAmd", "true")
		field("AsyncAmdStatusCallback", c.cfg.AMDCallbackURL(req.SessionID))
		field("AsyncAmdStatusCallbackMethod", http.MethodPost)
	}
	return b.String()
}
