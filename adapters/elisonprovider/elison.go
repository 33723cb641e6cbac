package elisonprovider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/adapters/internal/carrierhttp"
	"github.com/kupe-voice/kupe/application/createcall"
)

// Line credential names (createcall.DialRequest.Credentials).
const (
	CredUsername = "username"
	CredPassword = "password"
	CredBaseURL  = "base_url" // the dialer's https:// address; Config.APIBaseURL overrides it
)

// Config is what every line's dials share.
type Config struct {
	// APIBaseURL, when set, is used for every line instead of its base_url credential.
	APIBaseURL string
	// Timeout bounds one request to the dialer (a login or a lead); 10s when zero.
	Timeout time.Duration
	// StatusCallbackURL is where the dialer reports the call's progress for a session.
	StatusCallbackURL func(sessionID string) string
	// StreamURL is the bidirectional media stream (wss://) for a dial.
	StreamURL func(req createcall.DialRequest) string
}

// Carrier dials through the dialer. It is safe for concurrent use.
type Carrier struct {
	cfg    Config
	client *http.Client
	tokens *tokenCache
}

// New returns a carrier with cfg's defaults filled in.
func New(cfg Config) *Carrier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = carrierhttp.DefaultTimeout
	}
	cfg.APIBaseURL = strings.TrimRight(cfg.APIBaseURL, "/")
	return &Carrier{cfg: cfg, client: carrierhttp.NewClient(cfg.Timeout), tokens: newTokenCache(time.Now)}
}

var _ createcall.Carrier = (*Carrier)(nil)

// account is one line's login at one dialer.
type account struct {
	base, username, password string
}

// key identifies the account's cached token. It holds a digest of the password, not only the
// username: a line that knows another line's username but not its password must log in itself
// rather than ride on the other's token.
func (a account) key() tokenKey {
	return tokenKey{base: a.base, username: a.username, password: sha256.Sum256([]byte(a.password))}
}

// Dial queues req.To as a lead and returns its queue id.
func (c *Carrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	acct, err := c.account(req.Credentials)
	if err != nil {
		return "", settingsError(err.Error())
	}
	body, err := c.leadBody(req)
	if err != nil {
		return "", err
	}
	token, err := c.token(ctx, acct, "")
	if err != nil {
		return "", err
	}
	resp, err := c.postLead(ctx, acct, token, body)
	if err != nil {
		return "", err
	}
	if resp.Status == http.StatusUnauthorized {
		// The dialer refused the token before looking at the lead, so nothing was queued: log
		// in again, once, and send the lead again.
		if token, err = c.token(ctx, acct, token); err != nil {
			return "", err
		}
		if resp, err = c.postLead(ctx, acct, token, body); err != nil {
			return "", err
		}
	}
	leg, de := leadOutcome(resp.Status, resp.Body, acct.password, token)
	if de != nil {
		return "", de
	}
	return leg, nil
}

func (c *Carrier) leadBody(req createcall.DialRequest) ([]byte, error) {
	stream, webhook := "", ""
	if c.cfg.StreamURL != nil {
		stream = c.cfg.StreamURL(req)
	}
	if c.cfg.StatusCallbackURL != nil {
		webhook = c.cfg.StatusCallbackURL(req.SessionID)
	}
	if stream == "" {
		return nil, &createcall.DialError{Kind: createcall.DialUnavailable,
			Reason: "Calls cannot be placed from this line right now",
			Err:    errors.New("elisonprovider: no stream URL configured")}
	}
	lead, err := newLead(req, stream, webhook)
	if err != nil {
		return nil, &createcall.DialError{Kind: createcall.DialInvalidDestination,
			Reason: createcall.DialInvalidDestination.DefaultReason(), Err: err}
	}
	return json.Marshal(lead)
}

func (c *Carrier) postLead(ctx context.Context, acct account, token string, body []byte) (carrierhttp.Response, error) {
	return carrierhttp.Send(ctx, c.client, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.base+leadsPath, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", bearer(token))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		return r, nil
	})
}

// token returns a token for acct: the cached one unless it is stale (the one the dialer just
// refused), else a fresh login.
func (c *Carrier) token(ctx context.Context, acct account, stale string) (string, error) {
	token, err := c.tokens.get(ctx, acct.key(), stale, func(ctx context.Context) (string, time.Duration, error) {
		return c.login(ctx, acct)
	})
	if err != nil {
		var de *createcall.DialError
		if !errors.As(err, &de) { // the context ended while another dial was logging in
			de = &createcall.DialError{Kind: createcall.DialUnavailable,
				Reason: "The call was cancelled before it was placed", Err: err}
		}
		return "", de
	}
	return token, nil
}

func (c *Carrier) login(ctx context.Context, acct account) (string, time.Duration, error) {
	body, err := json.Marshal(loginRequest{Username: acct.username, Password: acct.password})
	if err != nil {
		return "", 0, err
	}
	resp, err := carrierhttp.Send(ctx, c.client, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, acct.base+loginPath, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		return r, nil
	})
	if err != nil {
		// A login places no call: whatever became of it, the dial is refused for certain.
		de := createcall.AsDialError(err)
		if de.Kind == createcall.DialUnknown {
			de = &createcall.DialError{Kind: createcall.DialUnavailable,
				Reason: createcall.DialUnavailable.DefaultReason(), Err: de.Err}
		}
		return "", 0, de
	}
	token, ttl, de := loginOutcome(resp.Status, resp.Body, acct.password)
	if de != nil {
		return "", 0, de
	}
	return token, ttl, nil
}

// account reads a line's credentials. A base_url from the line must be https with no user or
// query: the line's password is sent there.
func (c *Carrier) account(creds map[string]string) (account, error) {
	a := account{base: c.cfg.APIBaseURL, username: creds[CredUsername], password: creds[CredPassword]}
	if a.username == "" || a.password == "" {
		return account{}, errors.New("username and password are required")
	}
	if a.base != "" {
		return a, nil
	}
	raw := strings.TrimSpace(creds[CredBaseURL])
	if raw == "" {
		return account{}, errors.New("base_url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return account{}, errors.New("base_url must be an https address without user, query or fragment")
	}
	a.base = strings.TrimRight(u.String(), "/")
	return a, nil
}

func settingsError(detail string) *createcall.DialError {
	return &createcall.DialError{Kind: createcall.DialBadCredentials,
		Reason: "The line's carrier settings are incomplete or invalid",
		Err:    errors.New("elison line settings: " + detail)}
}
