// Package twilioprovider places calls through Twilio's REST API (the Calls create request, sent
// as twilio-go sends it: create.go) and connects each answered call to the voice agent's media
// stream; it looks calls up with twilio-go's Api.FetchCall.
package twilioprovider

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Defaults for the zero fields of Config.
const (
	DefaultAPIBaseURL  = "https://api.twilio.com"
	DefaultTimeout     = 10 * time.Second
	DefaultRingTimeout = 30   // seconds
	DefaultTimeLimit   = 3600 // seconds
)

// Credential keys a Twilio line carries in call.Credentials.
const (
	CredAccountSID = "account_sid"
	CredAuthToken  = "auth_token"
)

// Config sets up the Twilio carrier. The wiring fills it from its typed configuration; this
// package reads no environment.
type Config struct {
	// APIBaseURL is where API requests go, scheme and host (and an optional path prefix):
	// "https://api.twilio.com" by default, a local fake or mock in tests.
	APIBaseURL string
	// Timeout bounds one create request from connect to the last byte of the answer. The SDK
	// takes no context, so this is the only bound on a request in flight. Default 10s.
	Timeout time.Duration
	// StatusCallbackURL is the address Twilio posts the call's progress to, for a session.
	StatusCallbackURL func(sessionID string) string
	// StreamURL is the wss:// address the answered call's media is streamed to. Twilio drops
	// query strings from stream URLs, so the request and session ids also travel as stream
	// parameters.
	StreamURL func(req createcall.DialRequest) string
	// AMDCallbackURL is the address Twilio posts the asynchronous answering-machine detection's
	// result to, for a session. Without it, calls asking for machine detection are refused.
	AMDCallbackURL func(sessionID string) string
	// RingTimeout is how long, in seconds, the destination may ring unanswered (1 to 600).
	// Default 30.
	RingTimeout int
	// TimeLimit caps the length of a call, in seconds. Default 3600.
	TimeLimit int
}

// Carrier is the Twilio createcall.Carrier. It is safe for concurrent use.
type Carrier struct {
	cfg        Config
	httpClient *http.Client // twilio-go's: its transport points api.twilio.com at APIBaseURL
	// direct sends the create request, which create addresses to APIBaseURL itself (callsURL):
	// the same connection pool and timeout as httpClient, without the rewriting transport, which
	// net/http does not know and so times out with a goroutine and a timer per request.
	direct   *http.Client
	callsURL string // APIBaseURL + "/2010-04-01/Accounts/"
	backoff  []time.Duration
	// clients caches one REST client per (account sid, auth token), for FetchCall: twilio-go
	// builds some sixty service objects per client, too much to repeat on every lookup.
	clients sync.Map // clientKey -> *twilio.RestClient
}

type clientKey struct{ accountSID, authToken string }

// retryBackoff is the wait before each retry of a create the carrier provably did not act on.
var retryBackoff = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}

// New validates cfg, fills its defaults and returns the carrier.
func New(cfg Config) (*Carrier, error) {
	if cfg.APIBaseURL == "" {
		cfg.APIBaseURL = DefaultAPIBaseURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RingTimeout == 0 {
		cfg.RingTimeout = DefaultRingTimeout
	}
	if cfg.TimeLimit == 0 {
		cfg.TimeLimit = DefaultTimeLimit
	}
	base, err := url.Parse(cfg.APIBaseURL)
	switch {
	case err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.User != nil || base.RawQuery != "" || base.Fragment != "":
		return nil, fmt.Errorf("twilio api base url %q: want http(s)://host[:port][/prefix]", cfg.APIBaseURL)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("twilio timeout %v is negative", cfg.Timeout)
	case cfg.RingTimeout < 1 || cfg.RingTimeout > 600:
		return nil, fmt.Errorf("twilio ring timeout %ds: want 1 to 600 seconds", cfg.RingTimeout)
	case cfg.TimeLimit < 1:
		return nil, fmt.Errorf("twilio time limit %ds: want a positive number of seconds", cfg.TimeLimit)
	case cfg.StatusCallbackURL == nil:
		return nil, errors.New("twilio: StatusCallbackURL is required")
	case cfg.StreamURL == nil:
		return nil, errors.New("twilio: StreamURL is required")
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	// The carriers' shared client: Timeout bounds the whole request, redirects are not followed
	// (as with twilio-go's own default client, a create is never replayed elsewhere).
	hc := carrierhttp.NewClient(cfg.Timeout)
	direct := *hc
	hc.Transport = &rewriteTransport{base: base, next: hc.Transport}
	callsURL := (&url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path + "/2010-04-01/Accounts/"}).String()
	return &Carrier{cfg: cfg, backoff: retryBackoff, httpClient: hc, direct: &direct, callsURL: callsURL}, nil
}

var _ createcall.Carrier = (*Carrier)(nil)

// statusEvents are the call progress events the status callback receives.
var statusEvents = []string{"initiated", "ringing", "answered", "completed"}

// alphanumeric reports whether s is what twilio-go accepts in an account sid or auth token: one
// or more ASCII letters and digits. (A loop: the regexp it replaces was 2% of a dial's CPU.)
func alphanumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Dial creates the call and returns its sid (CA...). A create is retried, at most twice, only
// when the carrier provably did not act on it: a rate-limit answer, or a connection refused
// before anything was sent. A timeout or a server error is never retried.
func (c *Carrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	sid, token := req.Credentials[CredAccountSID], req.Credentials[CredAuthToken]
	if sid == "" || token == "" {
		return "", &createcall.DialError{Kind: createcall.DialBadCredentials,
			Reason: "The line has no carrier account id or auth token configured"}
	}
	if !alphanumeric(sid) || !alphanumeric(token) {
		// twilio-go would refuse them before sending; say so in our words.
		return "", &createcall.DialError{Kind: createcall.DialBadCredentials,
			Reason: "The line's carrier account id or auth token is malformed: only letters and digits are allowed"}
	}
	if err := ctx.Err(); err != nil {
		return "", &createcall.DialError{Kind: createcall.DialUnavailable,
			Reason: "The call was not placed: the request was cancelled before it reached the carrier", Err: err}
	}
	form := c.createForm(req)
	for attempt := 0; ; attempt++ {
		// A create in flight runs to its answer or to Timeout even if ctx ends (create.go), which
		// is what we want, since abandoning it would turn a placed call into an unknown outcome.
		// ctx only cuts the wait between retries.
		callSid, err := c.create(ctx, sid, token, form)
		if err == nil {
			if callSid == "" {
				// A success answer without a call id: the call may well be placed.
				return "", &createcall.DialError{Kind: createcall.DialUnknown,
					Reason: createcall.DialUnknown.DefaultReason(),
					Err:    errors.New("create call answered without a call sid")}
			}
			return callSid, nil
		}
		de, retry := classify(err)
		de.Err = redact(err, token, req.To, req.From)
		if !retry || attempt >= len(c.backoff) {
			return "", de
		}
		t := time.NewTimer(c.backoff[attempt])
		select {
		case <-ctx.Done():
			t.Stop()
			return "", de
		case <-t.C:
		}
	}
}

func (c *Carrier) restClient(sid, token string) *twilio.RestClient {
	key := clientKey{sid, token}
	if rc, ok := c.clients.Load(key); ok {
		return rc.(*twilio.RestClient)
	}
	base := &client.Client{Credentials: client.NewCredentials(sid, token), HTTPClient: c.httpClient}
	base.SetAccountSid(sid)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: token, AccountSid: sid, Client: base})
	// twilio-go reads TWILIO_EDGE and TWILIO_REGION from the environment; the host is ours to
	// choose (the transport rewrites it), so neither may steer it.
	rc.SetEdge("")
	rc.SetRegion("")
	actual, _ := c.clients.LoadOrStore(key, rc)
	return actual.(*twilio.RestClient)
}

// machineDetection is Twilio's MachineDetection for each mode that asks for one.
var machineDetection = map[call.MachineDetection]string{
	call.MachineDetectionDetect:        "Enable",
	call.MachineDetectionEndOfGreeting: "DetectMessageEnd",
}

var _ createcall.OptionCarrier = (*Carrier)(nil)

// UnhonouredOption implements createcall.OptionCarrier: Twilio takes a ring timeout (Timeout, up
// to 600 s), a call length cap (TimeLimit, up to 14400 s) and machine detection, the last only
// when the adapter has an address for its result.
func (c *Carrier) UnhonouredOption(o call.Options) string {
	if o.MachineDetection != call.MachineDetectionOff && c.cfg.AMDCallbackURL == nil {
		return call.OptionMachineDetection
	}
	return ""
}

// seconds is d in whole seconds, or def when d is unset.
func seconds(d time.Duration, def int) int {
	if d <= 0 {
		return def
	}
	return int(d / time.Second)
}

// streamTwiML connects the answered call to the media stream, passing the ids as stream
// parameters since Twilio strips the stream URL's query string.
func streamTwiML(streamURL, requestID, sessionID string) string {
	var b strings.Builder
	b.WriteString(`<Response><Connect><Stream url="`)
	xmlEscape(&b, streamURL)
	b.WriteString(`"><Parameter name="request_id" value="`)
	xmlEscape(&b, requestID)
	b.WriteString(`"/><Parameter name="call_session_id" value="`)
	xmlEscape(&b, sessionID)
	b.WriteString(`"/></Stream></Connect></Response>`)
	return b.String()
}

func xmlEscape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a strings.Builder never fails to write
}

// rewriteTransport sends every request to the configured API host: twilio-go has no base-URL
// option and always builds https://api.twilio.com/... addresses.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.base.Scheme
	r2.URL.Host = t.base.Host
	r2.Host = ""
	if t.base.Path != "" {
		r2.URL.Path = t.base.Path + r2.URL.Path
		r2.URL.RawPath = ""
	}
	return t.next.RoundTrip(r2)
}
