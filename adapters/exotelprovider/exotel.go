// Package exotelprovider places calls through Exotel's v1 "connect to flow" API, streaming the
// call's audio to the voice agent. No maintained Go client exists, so it speaks the REST API with
// net/http; it implements createcall.Carrier and passes application/createcall/createcalltest's carrier suite.
package exotelprovider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Line credential names (createcall.DialRequest.Credentials).
const (
	CredAPIKey     = "api_key"
	CredAPIToken   = "api_token"
	CredAccountSID = "account_sid"
	CredSubdomain  = "subdomain" // the API host of the account's cluster, e.g. api.in.exotel.com
	CredRegion     = "region"    // instead of subdomain: "in" (Mumbai) or "sg" (Singapore)
	CredFlowURL    = "flow_url"  // when set, the call runs this flow app instead of a stream
)

// API hosts of Exotel's clusters.
const (
	HostSingapore = "api.exotel.com"
	HostIndia     = "api.in.exotel.com"
)

// Config is what every line's dials share.
type Config struct {
	// APIBaseURL, when set, is used for every line ("https://api.in.exotel.com", a test server);
	// otherwise each line's subdomain or region credential picks the cluster.
	APIBaseURL string
	// Timeout bounds one request to the carrier; 10s when zero.
	Timeout time.Duration
	// StatusCallbackURL is where the carrier reports the call's progress for a session.
	StatusCallbackURL func(sessionID string) string
	// StreamURL is the bidirectional media stream (wss://) for a dial.
	StreamURL func(req createcall.DialRequest) string
	// TimeLimit caps the call's length in seconds; 3600 when zero.
	TimeLimit int
	// RingTimeout is how long, in seconds, the destination rings; 30 when zero.
	RingTimeout int
}

// Carrier dials through Exotel. It is safe for concurrent use.
type Carrier struct {
	cfg    Config
	client *http.Client
}

// New returns a carrier with cfg's defaults filled in.
func New(cfg Config) *Carrier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = carrierhttp.DefaultTimeout
	}
	if cfg.TimeLimit <= 0 {
		cfg.TimeLimit = 3600
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30
	}
	cfg.APIBaseURL = strings.TrimRight(cfg.APIBaseURL, "/")
	return &Carrier{cfg: cfg, client: carrierhttp.NewClient(cfg.Timeout)}
}

var _ createcall.Carrier = (*Carrier)(nil)

var errSettings = &createcall.DialError{Kind: createcall.DialBadCredentials,
	Reason: "The line's carrier settings are incomplete or invalid"}

// Dial asks Exotel to call req.To from the line's number and returns the call's Sid.
func (c *Carrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	creds := req.Credentials
	key, token, sid := creds[CredAPIKey], creds[CredAPIToken], creds[CredAccountSID]
	if key == "" || token == "" || sid == "" {
		return "", settingsError("api_key, api_token and account_sid are required")
	}
	base, err := c.baseURL(creds)
	if err != nil {
		return "", settingsError(err.Error())
	}
	form, err := c.form(req)
	if err != nil {
		return "", err
	}
	endpoint := base + "/v1/Accounts/" + url.PathEscape(sid) + "/Calls/connect.json"
	body := form.Encode()
	resp, err := carrierhttp.Send(ctx, c.client, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.SetBasicAuth(key, token)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Accept", "application/json")
		return r, nil
	})
	if err != nil {
		return "", err
	}
	leg, de := outcome(resp.Status, resp.Body, key, token)
	if de != nil {
		return "", de
	}
	return leg, nil
}

func settingsError(detail string) *createcall.DialError {
	de := *errSettings
	de.Err = errors.New("exotel line settings: " + detail)
	return &de
}

// form is the connect request. Exotel calls From first and then runs the flow (here, the media
// stream), so the destination goes in From and the line's number is the caller id.
func (c *Carrier) form(req createcall.DialRequest) (url.Values, error) {
	f := url.Values{
		"From":        {req.To},
		"CallerId":    {req.From},
		"TimeLimit":   {strconv.Itoa(seconds(req.Options.MaxDuration, c.cfg.TimeLimit))},
		"TimeOut":     {strconv.Itoa(seconds(req.Options.RingTimeout, c.cfg.RingTimeout))},
		"CustomField": {req.SessionID},
	}
	if flow := req.Credentials[CredFlowURL]; flow != "" {
		f.Set("Url", flow)
	} else {
		stream := ""
		if c.cfg.StreamURL != nil {
			stream = c.cfg.StreamURL(req)
		}
		if stream == "" {
			return nil, &createcall.DialError{Kind: createcall.DialUnavailable,
				Reason: "Calls cannot be placed from this line right now",
				Err:    errors.New("exotelprovider: no stream URL configured and the line has no flow_url")}
		}
		f.Set("StreamUrl", stream)
		f.Set("StreamType", "bidirectional")
	}
	if c.cfg.StatusCallbackURL != nil {
		if cb := c.cfg.StatusCallbackURL(req.SessionID); cb != "" {
			f.Set("StatusCallback", cb)
			f.Set("StatusCallbackEvents[0]", "terminal")
			f.Set("StatusCallbackEvents[1]", "answered")
			f.Set("StatusCallbackContentType", "application/json")
		}
	}
	return f, nil
}

var _ createcall.OptionCarrier = (*Carrier)(nil)

// UnhonouredOption implements createcall.OptionCarrier: the connect API takes a ring timeout
// (TimeOut) and a call length cap (TimeLimit, at most 14400 s, which is also create_call's
// bound), but has no answering-machine detection.
func (c *Carrier) UnhonouredOption(o call.Options) string {
	if o.MachineDetection != call.MachineDetectionOff {
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

// baseURL picks the API host: the configured override, else the line's subdomain, else its region,
// else the Singapore cluster. A line may only name an Exotel host: its credentials are sent there.
func (c *Carrier) baseURL(creds map[string]string) (string, error) {
	if c.cfg.APIBaseURL != "" {
		return c.cfg.APIBaseURL, nil
	}
	if host := creds[CredSubdomain]; host != "" {
		host = strings.ToLower(strings.TrimSpace(host))
		host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "@")
		host = strings.TrimRight(host, "/")
		if !exotelHost(host) {
			return "", errors.New("subdomain is not an API host of the carrier")
		}
		return "https://" + host, nil
	}
	switch strings.ToLower(strings.TrimSpace(creds[CredRegion])) {
	case "", "sg", "singapore":
		return "https://" + HostSingapore, nil
	case "in", "india", "mumbai":
		return "https://" + HostIndia, nil
	}
	return "", errors.New("unknown region")
}

func exotelHost(host string) bool {
	if !strings.HasSuffix(host, ".exotel.com") && !strings.HasSuffix(host, ".exotel.in") {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
