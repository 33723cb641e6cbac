package twilioprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/callevents/calleventstest"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/createcall/createcalltest"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// fakeCallLookup answers GET /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json as Twilio does,
// scripted by a createcalltest.Scenario: with the call's status for a sid it holds and Twilio's 404
// for one it does not (Accept), a 503 page (Unavailable), or nothing at all (Hang).
type fakeCallLookup struct {
	URL      string
	sc       createcalltest.Scenario
	mu       sync.Mutex
	requests []string // method and path of each request
	auth     []string
	calls    map[string]string
	release  chan struct{}
}

// twilioStatus is the status Twilio reports for a call in each session status.
var twilioStatus = map[call.Status]string{
	call.StatusInitiated: "queued", call.StatusRinging: "ringing", call.StatusInProgress: "in-progress",
	call.StatusCompleted: "completed", call.StatusBusy: "busy", call.StatusNoAnswer: "no-answer",
	call.StatusFailed: "failed", call.StatusCanceled: "canceled",
}

func startCallLookup(t *testing.T, sc createcalltest.Scenario) *fakeCallLookup {
	t.Helper()
	f := &fakeCallLookup{sc: sc, calls: map[string]string{}, release: make(chan struct{})}
	if sc == createcalltest.Refused {
		f.URL = testkit.RefusedURL(t)
		return f
	}
	f.URL = testkit.Serve(t, http.HandlerFunc(f.serve))
	t.Cleanup(func() { close(f.release) }) // runs before the server closes
	return f
}

// place holds a call in status st and returns its sid.
func (f *fakeCallLookup) place(st call.Status) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sid := fmt.Sprintf("CA%032x", len(f.calls)+1)
	f.calls[sid] = twilioStatus[st]
	return sid
}

func (f *fakeCallLookup) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.auth = append(f.auth, user+":"+pass)
	f.mu.Unlock()
	switch f.sc {
	case createcalltest.Unavailable:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body>503</body></html>")
		return
	case createcalltest.Hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	parts := strings.Split(r.URL.Path, "/")
	if r.Method != http.MethodGet || len(parts) != 6 || parts[3] != testSID || parts[4] != "Calls" || !strings.HasSuffix(parts[5], ".json") {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	sid := strings.TrimSuffix(parts[5], ".json")
	f.mu.Lock()
	status, ok := f.calls[sid]
	f.mu.Unlock()
	if !ok {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"account_sid":%q,"sid":%q,"status":%q,"direction":"outbound-api","from":%q,"to":%q}`,
		testSID, sid, status, testFrom, testTo)
}

func (f *fakeCallLookup) seen() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...), append([]string(nil), f.auth...)
}

func fetchRequest(leg string) callevents.FetchRequest {
	return callevents.FetchRequest{SessionID: "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01", LegID: leg,
		Credentials: call.Credentials{"account_sid": testSID, "auth_token": testToken}}
}

func TestCallFetcherSuite(t *testing.T) {
	calleventstest.RunCallFetcherSuite(t, calleventstest.FetchHarness{
		Timeout: testTimeout,
		Start: func(t *testing.T, sc createcalltest.Scenario) (calleventstest.FetchRig, bool) {
			f := startCallLookup(t, sc)
			return calleventstest.FetchRig{
				Fetcher: newCarrier(t, testConfig(f.URL)),
				Request: fetchRequest(""),
				Place:   f.place,
				Lookups: func() int { r, _ := f.seen(); return len(r) },
			}, true
		},
	})
}

// What the suite does not cover: the request Twilio receives, and what an error may hold.
func TestFetchCall(t *testing.T) {
	f := startCallLookup(t, createcalltest.Accept)
	c := newCarrier(t, testConfig(f.URL))
	ctx := context.Background()
	sid := f.place(call.StatusCompleted)
	if st, err := c.FetchCall(ctx, fetchRequest(sid)); err != nil || st != call.StatusCompleted {
		t.Fatalf("FetchCall = %s, %v", st, err)
	}
	reqs, auth := f.seen()
	if len(reqs) != 1 || reqs[0] != "GET /2010-04-01/Accounts/"+testSID+"/Calls/"+sid+".json" || auth[0] != testSID+":"+testToken {
		t.Fatalf("requests %q with auth %q", reqs, auth)
	}

	t.Run("errors hold no auth token", func(t *testing.T) {
		hang := startCallLookup(t, createcalltest.Hang)
		_, err := newCarrier(t, testConfig(hang.URL)).FetchCall(ctx, fetchRequest(sid))
		if err == nil || strings.Contains(err.Error(), testToken) {
			t.Fatalf("FetchCall = %v", err)
		}
	})
	t.Run("missing credentials are not sent", func(t *testing.T) {
		req := fetchRequest(sid)
		req.Credentials = call.Credentials{"account_sid": testSID}
		var de *createcall.DialError
		if _, err := c.FetchCall(ctx, req); !errors.As(err, &de) || de.Kind != createcall.DialBadCredentials {
			t.Fatalf("FetchCall = %v", err)
		}
		if reqs, _ := f.seen(); len(reqs) != 1 {
			t.Fatalf("%d requests, want none more", len(reqs)-1)
		}
	})
}

// TestFetchCallAgainstPrism looks a call up through the adapter against Prism serving Twilio's
// own OpenAPI document, which refuses a request off Twilio's contract.
func TestFetchCallAgainstPrism(t *testing.T) {
	prism := startPrism(t, prismBin(t), prismDocument(t))
	cfg := testConfig(prism.url)
	cfg.Timeout = 15 * time.Second // Prism compiles the schema on its first request
	c := newCarrier(t, cfg)
	req := fetchRequest("CA0123456789abcdef0123456789abcdef")
	req.Credentials = call.Credentials{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "0123456789abcdef0123456789abcdef"}
	st, err := c.FetchCall(context.Background(), req)
	if err != nil {
		t.Fatalf("FetchCall through Prism: %v\nPrism's log:\n%s", err, prism.log.tail(4000))
	}
	if !st.Valid() || st == call.StatusDialing {
		t.Fatalf("FetchCall through Prism = %s, want a status a carrier reports", st)
	}
}
