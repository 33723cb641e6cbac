// Package carrierhttp is the HTTP plumbing the carrier adapters share: one tuned client, a send
// that retries only what the carrier provably did not act on, and the rules that turn a transport
// failure or an HTTP status into an createcall.DialError.
package carrierhttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// MaxBody caps how much of a carrier's answer is read: a dial answer is a few hundred bytes, and
// an error page must not be able to exhaust memory.
const MaxBody = 64 << 10

// DefaultTimeout bounds one request to a carrier when the adapter's config leaves it unset.
const DefaultTimeout = 10 * time.Second

// Retry policy: only a refused connection and HTTP 429 are retried, since only there the carrier
// provably did not act. A carrier asking for a longer pause than maxRetryAfter is not retried: the
// caller gets the rate-limit refusal at once instead of holding the request open.
var (
	backoff       = []time.Duration{100 * time.Millisecond, 250 * time.Millisecond}
	maxRetryAfter = 2 * time.Second
)

// NewClient returns the client an adapter keeps for its lifetime. Timeout bounds a whole request,
// from dial to the last byte of the answer; redirects are not followed, since a redirected POST
// would be replayed as a GET or dropped without anyone noticing.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialTimeout := min(timeout, 5*time.Second)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    32,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    dialTimeout,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: MaxBody,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Response is a carrier's answer with its body read, at most MaxBody bytes of it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Send sends the request newReq builds (once per attempt, since a body is consumed) and reads the
// answer. It retries a refused connection and HTTP 429, at most twice, and nothing else: a timeout
// or a dropped connection may come after the carrier acted. A failure without an HTTP answer is a
// *createcall.DialError: DialUnavailable when the request never left (it could not connect),
// DialUnknown when it may have reached the carrier. Any HTTP answer, a final 429 included, is
// returned for the adapter to read, except a 2xx whose body could not be read, which is
// DialUnknown.
func Send(ctx context.Context, c *http.Client, newReq func(context.Context) (*http.Request, error)) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, &createcall.DialError{Kind: createcall.DialUnavailable,
			Reason: "The call was cancelled before it was placed", Err: err}
	}
	var (
		resp Response
		err  error
	)
	for attempt := 0; ; attempt++ {
		resp, err = send(ctx, c, newReq)
		wait, retry := retryable(resp, err)
		if !retry || attempt >= len(backoff) {
			return resp, err
		}
		wait = max(wait, jitter(backoff[attempt]))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, err
		case <-t.C:
		}
	}
}

func send(ctx context.Context, c *http.Client, newReq func(context.Context) (*http.Request, error)) (Response, error) {
	req, err := newReq(ctx)
	if err != nil {
		return Response{}, &createcall.DialError{Kind: createcall.DialUnavailable,
			Reason: createcall.DialUnavailable.DefaultReason(), Err: fmt.Errorf("build request: %w", err)}
	}
	res, err := c.Do(req)
	if err != nil {
		return Response{}, TransportError(err)
	}
	defer res.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(res.Body, MaxBody))
	// Drain a little more so a slightly oversized answer still frees its connection for reuse.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, MaxBody))
	resp := Response{Status: res.StatusCode, Header: res.Header, Body: body}
	if readErr != nil && resp.OK() {
		// The carrier accepted the request; what it said about the call is lost.
		return Response{}, Unknown(fmt.Errorf("read HTTP %d answer: %w", res.StatusCode, readErr))
	}
	return resp, nil
}

// retryable says whether an attempt may be repeated and how long the carrier asked us to wait.
func retryable(resp Response, err error) (time.Duration, bool) {
	if err != nil {
		return 0, errors.Is(err, syscall.ECONNREFUSED)
	}
	if resp.Status != http.StatusTooManyRequests {
		return 0, false
	}
	if s := strings.TrimSpace(resp.Header.Get("Retry-After")); s != "" {
		secs, perr := strconv.Atoi(s)
		if perr != nil || secs < 0 {
			return 0, true
		}
		wait := time.Duration(secs) * time.Second
		return wait, wait <= maxRetryAfter
	}
	return 0, true
}

func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/5+1)
}

// TransportError classifies a failure that produced no HTTP answer. A request that never left
// (no connection, no name, a certificate refused) is DialUnavailable; anything later, a timeout
// above all, may have reached the carrier and is DialUnknown.
func TransportError(err error) *createcall.DialError {
	if neverSent(err) {
		return &createcall.DialError{Kind: createcall.DialUnavailable,
			Reason: createcall.DialUnavailable.DefaultReason(), Err: err}
	}
	return Unknown(err)
}

// Unknown is an outcome the carrier may have acted on.
func Unknown(err error) *createcall.DialError {
	return &createcall.DialError{Kind: createcall.DialUnknown, Reason: createcall.DialUnknown.DefaultReason(), Err: err}
}

func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var cert *tls.CertificateVerificationError
	return errors.As(err, &cert)
}

// Refusal is a carrier's HTTP answer that placed no call (or may have: DialUnknown), classified
// by its status; bodyKind is what the adapter read in the body, zero when nothing matched, and
// decides only where the status alone does not. cause is kept for logs; pass it through Redact.
func Refusal(status int, bodyKind createcall.DialErrorKind, cause error) *createcall.DialError {
	kind := createcall.DialUnknown
	reason := ""
	switch {
	case status == http.StatusUnauthorized:
		kind = createcall.DialBadCredentials
	case status == http.StatusTooManyRequests:
		kind = createcall.DialRateLimited
	case status >= 500:
		kind = createcall.DialUnavailable
	case bodyKind != 0:
		kind = bodyKind
	case status == http.StatusForbidden:
		kind = createcall.DialBadCredentials
	case status == http.StatusPaymentRequired:
		kind = createcall.DialRejected
		reason = "The carrier account cannot place calls right now: check its balance and plan"
	case status >= 400:
		kind = createcall.DialRejected
	}
	if reason == "" {
		reason = kind.DefaultReason()
	}
	return &createcall.DialError{Kind: kind, Reason: reason, Err: cause}
}

// maxDetail bounds how much of a carrier's own message reaches a log line.
const maxDetail = 160

// Redact makes a carrier's message fit for a log line: secrets (values of at least four
// characters) are removed, phone-number-like digit runs are masked, control characters dropped
// and the text is cut short. It is never fit for a customer: reasons are the adapter's own words.
func Redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	var b strings.Builder
	run := -1 // start of the current run of digits (with a leading +), or -1
	flush := func(end int) {
		if digits := msg[run:end]; len(strings.TrimPrefix(digits, "+")) >= 7 {
			b.WriteString(call.MaskNumber(digits))
		} else {
			b.WriteString(digits)
		}
		run = -1
	}
	for i, r := range msg {
		if (r >= '0' && r <= '9') || (r == '+' && run < 0) {
			if run < 0 {
				run = i
			}
			continue
		}
		if run >= 0 {
			flush(i)
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	if run >= 0 {
		flush(len(msg))
	}
	out := b.String()
	if len(out) > maxDetail {
		cut := maxDetail
		for cut > 0 && !isRuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
