package exotelprovider

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
)

const (
	testKey     = "key_7f3a9c"
	testToken   = "tok_5b1e8d2c4a"
	testAccount = "kupe42"
	testLine    = "+918047112233"
	testDest    = "+919876543210"
	testTimeout = 300 * time.Millisecond
)

func testRequest() createcall.DialRequest {
	return createcall.DialRequest{
		SessionID: "ses_01J8ZK", RequestID: "req_01J8ZK", LineID: "line_1",
		From: testLine, To: testDest,
		Credentials: call.Credentials{CredAPIKey: testKey, CredAPIToken: testToken, CredAccountSID: testAccount},
	}
}

func testConfig(base string) Config {
	return Config{
		APIBaseURL:        base,
		Timeout:           testTimeout,
		StatusCallbackURL: func(id string) string { return "https://kupe.test/hooks/exotel/" + id },
		StreamURL:         func(r createcall.DialRequest) string { return "wss://kupe.test/stream/" + r.SessionID },
	}
}

// received is one connect request as the fake saw it.
type received struct {
	path       string
	user, pass string
	form       url.Values
}

// fakeExotel answers connect requests the way Exotel's v1 API does, scripted by a scenario.
type fakeExotel struct {
	sc     createcalltest.Scenario
	dials  atomic.Int64
	placed atomic.Int64
	mu     sync.Mutex
	last   received
}

func (f *fakeExotel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Calls/connect.json") {
		http.NotFound(w, r)
		return
	}
	n := f.dials.Add(1)
	_ = r.ParseForm()
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.last = received{path: r.URL.Path, user: user, pass: pass, form: r.PostForm}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	exception := func(status int, code, msg string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"RestException":{"Status":%d,"Message":%q,"Code":%s}}`, status, msg, code)
	}
	switch f.sc {
	case createcalltest.InvalidDestination:
		exception(400, "34001", "Invalid number "+r.PostForm.Get("From"))
		return
	case createcalltest.CallerNotAllowed:
		exception(400, `"34010"`, "CallerId "+r.PostForm.Get("CallerId")+" is not a valid ExoPhone for this account")
		return
	case createcalltest.BadCredentials:
		exception(401, `""`, "Authentication is required to view this resource.")
		return
	case createcalltest.RateLimited:
		exception(429, `""`, "Too many requests")
		return
	case createcalltest.RateLimitedOnce:
		if n == 1 {
			exception(429, `""`, "Too many requests")
			return
		}
	case createcalltest.Unavailable:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>")
		return
	case createcalltest.Hang:
		select {
		case <-r.Context().Done():
		case <-time.After(20 * testTimeout):
		}
		return
	}
	if user != testKey || pass != testToken {
		exception(401, `""`, "Authentication is required to view this resource.")
		return
	}
	if r.PostForm.Get("From") == "" || r.PostForm.Get("CallerId") == "" {
		exception(400, `"34001"`, "From is required")
		return
	}
	f.placed.Add(1)
	fmt.Fprintf(w, `{"Call":{"Sid":%q,"ParentCallSid":null,"AccountSid":%q,"To":%q,"From":%q,"PhoneNumberSid":%q,"Status":"in-progress","Direction":"outbound-api"}}`,
		newSid(), testAccount, r.PostForm.Get("CallerId"), r.PostForm.Get("From"), r.PostForm.Get("CallerId"))
}

func (f *fakeExotel) lastRequest() received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func newSid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startFake serves f on a local port for the life of the test.
func startFake(t *testing.T, f http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusedURL is an address nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// canned answers every request with one status and body, counting them.
type canned struct {
	status int
	body   string
	header http.Header
	n      atomic.Int64
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	fmt.Fprint(w, c.body)
}
