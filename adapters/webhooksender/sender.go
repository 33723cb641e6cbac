// Package webhooksender delivers one signed webhook to a customer's endpoint: Standard Webhooks
// headers (webhook-id, webhook-timestamp, webhook-signature) under the agent's secret, the
// endpoint's bearer token and custom headers, a timeout, no redirects, at most a few deliveries
// in flight per endpoint, and no connection to loopback, private, link-local or metadata
// addresses (checked when the URL is configured and again on every connection). What to do
// with the result (retry, record, disable) is the caller's; Result.Retry follows domain/webhook.
package webhooksender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kupe-voice/kupe/domain/webhook"
)

// DefaultTimeout bounds one delivery, from connecting to reading the answer.
const DefaultTimeout = 10 * time.Second

// UserAgent is sent with every delivery.
const UserAgent = "kupe-webhooks/1"

const (
	maxSnippet      = 256      // of the receiver's answer, in Result.Error
	maxScan         = 16 << 10 // of the answer, read to redact before cutting to maxSnippet
	maxDrain        = 64 << 10 // read of the receiver's answer, so the connection can be reused
	maxErrorText    = 300
	redactedMarker  = "[redacted]"
	headerUserAgent = "User-Agent"
)

// Options configure a Sender. The zero value is the production setting.
type Options struct {
	// AllowPrivate (KUPE_WEBHOOK_ALLOW_PRIVATE) lets deliveries reach loopback, private and CGNAT
	// addresses, and plain http reach loopback; for development and tests. Link-local,
	// metadata, multicast and reserved addresses stay refused.
	AllowPrivate bool
	// Timeout bounds one delivery; DefaultTimeout when zero.
	Timeout time.Duration
	// Resolver looks names up, at check time and at connect time; net.DefaultResolver when nil.
	Resolver Resolver
	// RootCAs verify receivers' certificates; the system's when nil.
	RootCAs *x509.CertPool
	// MaxInFlight is the most deliveries in flight per endpoint; DefaultMaxInFlight when zero.
	MaxInFlight int
	// Now is the clock that stamps webhook-timestamp; time.Now when nil.
	Now func() time.Time
}

// Sender sends deliveries. It is safe for concurrent use.
type Sender struct {
	allowPrivate bool
	timeout      time.Duration
	resolver     Resolver
	now          func() time.Time
	limiter      *Limiter
	https        *http.Client
	http         *http.Client // plain http to loopback; nil unless AllowPrivate
}

// New makes a Sender.
func New(o Options) *Sender {
	s := &Sender{allowPrivate: o.AllowPrivate, timeout: o.Timeout, resolver: o.Resolver, now: o.Now,
		limiter: NewLimiter(o.MaxInFlight)}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.https = s.client(policy{allowPrivate: o.AllowPrivate}, o.RootCAs)
	if o.AllowPrivate {
		s.http = s.client(policy{allowPrivate: true, loopbackOnly: true}, o.RootCAs)
	}
	return s
}

func (s *Sender) client(p policy, roots *x509.CertPool) *http.Client {
	t := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, past the address checks
		DialContext:           s.dialContext(p),
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   s.timeout,
		ResponseHeaderTimeout: s.timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   DefaultMaxInFlight,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   s.timeout,
		// A redirect is answered as it is: following it would send the signed body and the
		// bearer token somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Delivery is one attempt to deliver one message.
type Delivery struct {
	// Key names the endpoint for the in-flight cap (the agent's id); the URL when empty.
	Key string
	// Endpoint is where and how: URL, custom headers, bearer token.
	Endpoint webhook.Outgoing
	// Secret signs the delivery.
	Secret webhook.Secret
	// MessageID is webhook-id: the same on every attempt of one message, so receivers can
	// drop duplicates.
	MessageID string
	// Body is the JSON payload, sent and signed as it is.
	Body []byte
}

// Result is what one attempt came to.
type Result struct {
	// StatusCode is the receiver's HTTP status; 0 when there was no answer.
	StatusCode int
	// Error says what went wrong, briefly, for the delivery log: never more than a few hundred
	// bytes of the receiver's answer, never the secret or the bearer token. Empty when delivered.
	Error string
	// Outcome is the attempt's outcome under domain/webhook's rule, and Retry whether to retry.
	Outcome webhook.Outcome
	Retry   bool
	// At is the attempt's time, the one in webhook-timestamp (for an attempt refused before
	// anything was sent, when it was refused).
	At time.Time
}

// Send makes one attempt. It waits for a slot of the endpoint's in-flight cap first (bounded by
// ctx); it never retries itself.
func (s *Sender) Send(ctx context.Context, d Delivery) Result {
	return s.finish(s.send(ctx, d, func(key string) (func(), error) { return s.limiter.Acquire(ctx, key) }), d)
}

// TrySend is Send without the wait: when the endpoint already has its fill of deliveries in
// flight it sends nothing and answers sent false, so that a job engine can run the delivery
// later instead of holding a worker.
func (s *Sender) TrySend(ctx context.Context, d Delivery) (res Result, sent bool) {
	busy := false
	res = s.send(ctx, d, func(key string) (func(), error) {
		release, ok := s.limiter.TryAcquire(key)
		if !ok {
			busy = true
			return nil, errBusy
		}
		return release, nil
	})
	if busy {
		return Result{}, false
	}
	return s.finish(res, d), true
}

var errBusy = errors.New("endpoint busy")

func (s *Sender) finish(res Result, d Delivery) Result {
	if res.At.IsZero() {
		res.At = s.now()
	}
	res.Retry = res.Outcome.Retry()
	res.Error = redact(res.Error, d)
	return res
}

// Close drops the idle connections kept for reuse.
func (s *Sender) Close() {
	s.https.CloseIdleConnections()
	if s.http != nil {
		s.http.CloseIdleConnections()
	}
}

// send makes the attempt once acquire has given it a slot of the endpoint's cap.
func (s *Sender) send(ctx context.Context, d Delivery, acquire func(key string) (func(), error)) Result {
	switch {
	case d.Endpoint.URL() == "":
		return Result{Outcome: webhook.Rejected, Error: "no outgoing URL configured"}
	case d.Secret.IsZero():
		return Result{Outcome: webhook.Rejected, Error: "no signing secret"}
	case d.MessageID == "" || strings.ContainsAny(d.MessageID, " ,\r\n"):
		return Result{Outcome: webhook.Rejected, Error: "invalid webhook-id"}
	}
	u, _, err := s.parseURL(d.Endpoint.URL())
	if err != nil {
		return Result{Outcome: webhook.Rejected, Error: err.Error()}
	}
	client := s.https
	if u.Scheme == "http" {
		client = s.http
	}

	key := d.Key
	if key == "" {
		key = d.Endpoint.URL()
	}
	release, err := acquire(key)
	if err != nil {
		return Result{Outcome: webhook.Retryable, Error: "not sent: endpoint busy (too many deliveries in flight)"}
	}
	defer release()

	// Stamped once a slot is had: the receiver judges the timestamp against its own clock.
	at := s.now()
	wh, err := standardwebhooks.NewWebhookRaw(d.Secret.Key())
	if err != nil {
		return Result{Outcome: webhook.Rejected, Error: "signing failed"}
	}
	sig, err := wh.Sign(d.MessageID, at, d.Body)
	if err != nil {
		return Result{Outcome: webhook.Rejected, Error: "signing failed"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(d.Body))
	if err != nil {
		return Result{Outcome: webhook.Rejected, Error: "invalid request"}
	}
	// Custom headers first, so that none of them can stand in for the sender's own.
	for k, v := range d.Endpoint.Headers() {
		req.Header.Set(k, v)
	}
	if req.Header.Get(headerUserAgent) == "" {
		req.Header.Set(headerUserAgent, UserAgent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.MessageID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	if tok := d.Endpoint.BearerToken(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}

	resp, err := client.Do(req)
	if err != nil {
		res := s.transportFailure(ctx, err)
		res.At = at
		return res
	}
	defer resp.Body.Close()
	var snippet bytes.Buffer
	_, readErr := io.Copy(&snippet, io.LimitReader(resp.Body, maxScan))
	if readErr == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	}
	res := Result{StatusCode: resp.StatusCode, Outcome: webhook.Classify(resp.StatusCode, nil), At: at}
	switch {
	case res.Outcome == webhook.Delivered:
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		res.Error = fmt.Sprintf("receiver answered %d (redirects are not followed)", resp.StatusCode)
	default:
		res.Error = fmt.Sprintf("receiver answered %d", resp.StatusCode)
		if text := clean(snippet.Bytes()); text != "" {
			// Redacted before it is cut, so that no secret shows even in part.
			res.Error += ": " + cut(redact(text, d), maxSnippet)
		}
	}
	return res
}

// transportFailure describes an attempt that got no answer, briefly and without the URL (whose
// path or query may hold the customer's own token).
func (s *Sender) transportFailure(ctx context.Context, err error) Result {
	var refused *addrError
	if errors.As(err, &refused) {
		// Not a network failure: the policy refused the address, and will again.
		return Result{Outcome: webhook.Rejected, Error: refused.Error()}
	}
	res := Result{Outcome: webhook.Classify(0, err)}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var netErr net.Error
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.Error = "not completed: canceled"
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		res.Error = fmt.Sprintf("timed out (limit %v)", s.timeout)
	case errors.As(err, &dnsErr):
		res.Error = "host not found"
		if !dnsErr.IsNotFound {
			res.Error = "DNS lookup failed"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		res.Error = "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		res.Error = "connection closed by the receiver"
	case errors.As(err, &hostErr):
		res.Error = "TLS: certificate is not valid for the host"
	case errors.As(err, &certErr):
		res.Error = "TLS: certificate not trusted: " + certErr.Err.Error()
	default:
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop *url.Error's method and URL
		}
		res.Error = "request failed: " + err.Error()
	}
	return res
}

// clean makes the start of a receiver's answer fit for a log line: valid UTF-8, no control
// characters, spaces collapsed.
func clean(b []byte) string {
	var out strings.Builder
	space := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r == utf8.RuneError && n <= 1 {
			r = '?'
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = out.Len() > 0
			continue
		}
		if space {
			out.WriteByte(' ')
			space = false
		}
		out.WriteRune(r)
	}
	return out.String()
}

// redact removes the delivery's secrets from a text (a receiver that echoes our headers back
// must not get them into the delivery log) and bounds its length.
func redact(text string, d Delivery) string {
	if text == "" {
		return ""
	}
	secrets := []string{d.Secret.Reveal(), strings.TrimPrefix(d.Secret.Reveal(), webhook.SecretPrefix),
		d.Endpoint.BearerToken()}
	for _, v := range d.Endpoint.Headers() {
		if len(v) >= 8 { // custom headers often carry the receiver's API key
			secrets = append(secrets, v)
		}
	}
	for _, secret := range secrets {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, redactedMarker)
		}
	}
	return cut(text, maxErrorText)
}

// cut bounds text to n bytes, on a rune boundary.
func cut(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + "…"
}
