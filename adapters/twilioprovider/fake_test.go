package twilioprovider_test

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
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
)

// fakeTwilio answers POST /2010-04-01/Accounts/{sid}/Calls.json the way Twilio does, scripted
// by a createcalltest.Scenario, and records what it received.
type fakeTwilio struct {
	URL string

	sc      createcalltest.Scenario
	release chan struct{} // closed at cleanup: lets a hanging handler go

	mu     sync.Mutex
	dials  int
	placed int
	last   received
	// echo, when set, is put into error messages: a hostile or buggy carrier echoing input.
	echo string
}

// received is one dial as the fake saw it.
type received struct {
	Path     string
	User     string
	Password string
	Form     url.Values
}

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "f00dfacef00dfacef00dfacef00dface"
)

// startFake starts a fake for sc; Refused gives an address where nothing listens.
func startFake(t *testing.T, sc createcalltest.Scenario) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{sc: sc, release: make(chan struct{})}
	if sc == createcalltest.Refused {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.URL = "http://" + ln.Addr().String()
		ln.Close()
		return f
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs before srv.Close
	f.URL = srv.URL
	return f
}

func (f *fakeTwilio) Dials() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials
}

func (f *fakeTwilio) Placed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.placed
}

func (f *fakeTwilio) Last() received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(r.URL.Path, "/")
	// "", "2010-04-01", "Accounts", sid, "Calls.json"; a configured path prefix may come first.
	if r.Method != http.MethodPost || len(parts) < 5 || parts[len(parts)-1] != "Calls.json" || parts[len(parts)-3] != "Accounts" {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	}
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.dials++
	n := f.dials
	f.last = received{Path: r.URL.Path, User: user, Password: pass, Form: r.PostForm}
	echo := f.echo
	f.mu.Unlock()

	to := r.PostForm.Get("To")
	switch f.sc {
	case createcalltest.InvalidDestination:
		twilioError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to+echo)
		return
	case createcalltest.CallerNotAllowed:
		twilioError(w, http.StatusBadRequest, 21210, "The source phone number provided, "+r.PostForm.Get("From")+", is not yet verified for your account."+echo)
		return
	case createcalltest.BadCredentials:
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate"+echo)
		return
	case createcalltest.RateLimited:
		twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests"+echo)
		return
	case createcalltest.RateLimitedOnce:
		if n == 1 {
			twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return
		}
	case createcalltest.Unavailable:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>")
		return
	case createcalltest.Hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	f.mu.Lock()
	f.placed++
	f.mu.Unlock()
	b := make([]byte, 16)
	rand.Read(b)
	sid := "CA" + hex.EncodeToString(b)
	acct := parts[len(parts)-2]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"account_sid":%q,"api_version":"2010-04-01","date_created":%q,"direction":"outbound-api","from":%q,"to":%q,"sid":%q,"status":"queued","uri":"/2010-04-01/Accounts/%s/Calls/%s.json"}`,
		acct, time.Now().UTC().Format(time.RFC1123Z), r.PostForm.Get("From"), to, sid, acct, sid)
}

// twilioError writes Twilio's JSON error body.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)
}
