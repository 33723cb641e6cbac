package twilioprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "Client.Timeout exceeded while awaiting headers" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	post := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", Err: err}
	}
	rest := func(status, code int) error {
		return &client.TwilioRestError{Status: status, Code: code, Message: "m"}
	}
	refused := post(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	for _, tc := range []struct {
		name  string
		err   error
		kind  createcall.DialErrorKind
		retry bool
	}{
		{"21211 invalid To", rest(400, 21211), createcall.DialInvalidDestination, false},
		{"21214 To unreachable", rest(400, 21214), createcall.DialInvalidDestination, false},
		{"21215 geo permission", rest(400, 21215), createcall.DialInvalidDestination, false},
		{"21217 To not valid", rest(400, 21217), createcall.DialInvalidDestination, false},
		{"21210 From not verified", rest(400, 21210), createcall.DialCallerNotAllowed, false},
		{"21212 invalid From", rest(400, 21212), createcall.DialCallerNotAllowed, false},
		{"20003 authenticate", rest(401, 20003), createcall.DialBadCredentials, false},
		{"21222 sdk's own username check", rest(400, 21222), createcall.DialBadCredentials, false},
		{"20429 too many requests", rest(429, 20429), createcall.DialRateLimited, true},
		{"HTTP 429 with another code", rest(429, 0), createcall.DialRateLimited, true},
		{"HTTP 401 without code", rest(401, 0), createcall.DialBadCredentials, false},
		{"HTTP 500 with a code", rest(500, 20500), createcall.DialUnavailable, false},
		{"HTTP 503 json", rest(503, 0), createcall.DialUnavailable, false},
		{"other 4xx", rest(400, 13223), createcall.DialRejected, false},
		{"other 4xx without code", rest(422, 0), createcall.DialRejected, false},
		{"error body without status or code", rest(0, 0), createcall.DialRejected, false},
		{"non-JSON 503 page", fmt.Errorf("error decoding the response for an HTTP error code: 503: %w", &json.SyntaxError{}), createcall.DialUnavailable, false},
		{"non-JSON 429", fmt.Errorf("error decoding the response for an HTTP error code: 429: EOF"), createcall.DialRateLimited, true},
		{"non-JSON 401", fmt.Errorf("error decoding the response for an HTTP error code: 401: EOF"), createcall.DialBadCredentials, false},
		{"non-JSON 404", fmt.Errorf("error decoding the response for an HTTP error code: 404: EOF"), createcall.DialRejected, false},
		{"connection refused", refused, createcall.DialUnavailable, true},
		{"no such host", post(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.twilio.com", IsNotFound: true}}), createcall.DialUnavailable, false},
		{"client timeout", post(timeoutError{}), createcall.DialUnknown, false},
		{"connection reset after sending", post(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), createcall.DialUnknown, false},
		{"EOF before the answer", post(io.EOF), createcall.DialUnknown, false},
		{"201 answer that is not JSON", &json.SyntaxError{}, createcall.DialUnknown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de, retry := classify(tc.err)
			if de.Kind != tc.kind || retry != tc.retry {
				t.Fatalf("classify = %s, retry %v; want %s, retry %v", de.Kind, retry, tc.kind, tc.retry)
			}
			if de.Reason == "" {
				t.Fatal("no reason")
			}
		})
	}
}

// The copy of the cause kept for logs still answers errors.Is for sentinels.
func TestRedactedKeepsSentinels(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	r := redact(err, "tok3n", "+14155550123")
	if !errors.Is(r, syscall.ECONNREFUSED) {
		t.Fatal("errors.Is(redacted, ECONNREFUSED) = false")
	}
	var ue *url.Error
	if errors.As(r, &ue) {
		t.Fatal("errors.As reaches the raw error")
	}
}

func TestRESTClientIsCachedPerCredentials(t *testing.T) {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"CA%032d","status":"queued"}`, n)
	}))
	defer srv.Close()
	c, err := New(Config{
		APIBaseURL:        srv.URL,
		StatusCallbackURL: func(string) string { return "https://kupe.example/status" },
		StreamURL:         func(createcall.DialRequest) string { return "wss://kupe.example/stream" },
	})
	if err != nil {
		t.Fatal(err)
	}
	req := createcall.DialRequest{From: "+14155550100", To: "+14155550123", Credentials: call.Credentials{
		"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "token1"}}
	fetch := func(creds call.Credentials) {
		t.Helper()
		if _, err := c.FetchCall(context.Background(), callevents.FetchRequest{LegID: "CA1", Credentials: creds}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		fetch(req.Credentials)
	}
	fetch(call.Credentials{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "token2"})
	clients := 0
	c.clients.Range(func(any, any) bool { clients++; return true })
	if clients != 2 {
		t.Fatalf("%d cached clients after dials with two tokens, want 2", clients)
	}
}
