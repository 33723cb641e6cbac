package exotelprovider

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
)

// connectResponse is the part of Exotel's answer the adapter reads: {"Call":{"Sid":...}} on
// success, {"RestException":{"Status":..,"Message":..,"Code":..}} on refusal. encoding/json
// matches keys case-insensitively, so {"call":{"sid":...}} reads the same.
type connectResponse struct {
	Call *struct {
		Sid carrierhttp.Text `json:"Sid"`
	} `json:"Call"`
	RestException *restException `json:"RestException"`
}

type restException struct {
	Status  carrierhttp.Text `json:"Status"`
	Message carrierhttp.Text `json:"Message"`
	Code    carrierhttp.Text `json:"Code"`
}

// parseResponse reads an answer; an error means the body was not the JSON Exotel speaks.
func parseResponse(body []byte) (connectResponse, error) {
	var r connectResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return connectResponse{}, fmt.Errorf("decode answer: %w", err)
	}
	return r, nil
}

func (r connectResponse) sid() string {
	if r.Call == nil {
		return ""
	}
	return string(r.Call.Sid)
}

// outcome reads Exotel's answer to a connect request: the call's Sid, or why there is none.
// secrets are removed from anything kept for logs.
func outcome(status int, body []byte, secrets ...string) (string, *createcall.DialError) {
	r, perr := parseResponse(body)
	if ex := r.RestException; ex != nil {
		// A RestException refuses the call even when it arrives with HTTP 200.
		if status >= 200 && status < 300 {
			status = ex.Status.Int()
			if status < 400 || status > 599 {
				status = 400
			}
		}
		cause := fmt.Errorf("carrier answered HTTP %d, code %q: %s", status, ex.Code,
			carrierhttp.Redact(string(ex.Message), secrets...))
		return "", carrierhttp.Refusal(status, classify(ex.Code.Int(), string(ex.Message)), cause)
	}
	if status >= 200 && status < 300 {
		if sid := r.sid(); carrierhttp.ValidID(sid) {
			return sid, nil
		}
		// The carrier accepted the request, so it may have placed the call.
		if perr == nil {
			perr = fmt.Errorf("HTTP %d answer has no valid call Sid", status)
		}
		return "", carrierhttp.Unknown(perr)
	}
	return "", carrierhttp.Refusal(status, 0, fmt.Errorf("carrier answered HTTP %d without a RestException", status))
}

// refusals classifies a RestException by its code and message; the first rule that matches wins,
// and an exception none matches falls back to its HTTP status (carrierhttp.Refusal).
//
// Exotel publishes no complete code list. Its v1 API uses codes in the 34000s for the numbers of
// a call request (a missing or invalid From, a number it will not call), and names the caller id
// or ExoPhone in the message when the caller id is the problem. So the caller-id rule, which only
// reads the message, is tried first: a 34xxx code about the caller id is still the caller id.
var refusals = []struct {
	codeMin, codeMax int      // an inclusive range of codes; zero matches no code
	words            []string // lower-case words, any of which in the message matches
	kind             createcall.DialErrorKind
}{
	{words: []string{"callerid", "caller id", "caller_id", "exophone", "virtual number"},
		kind: createcall.DialCallerNotAllowed},
	{codeMin: 34000, codeMax: 34999, words: []string{"invalid number", "phone number", "this number",
		"the number", "number is", "destination", "dnd", "do not disturb"},
		kind: createcall.DialInvalidDestination},
}

func classify(code int, message string) createcall.DialErrorKind {
	msg := strings.ToLower(message)
	for _, r := range refusals {
		if r.codeMin != 0 && code >= r.codeMin && code <= r.codeMax {
			return r.kind
		}
		for _, w := range r.words {
			if strings.Contains(msg, w) {
				return r.kind
			}
		}
	}
	return 0
}
