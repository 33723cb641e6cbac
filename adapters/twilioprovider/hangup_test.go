package twilioprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// fakeCallUpdate answers POST /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json as Twilio does:
// Status=canceled ends a queued or ringing call and leaves an answered one as it is;
// Status=completed ends any call in progress; an ended call answers 21220, an unknown one 404.
type fakeCallUpdate struct {
	URL   string
	mu    sync.Mutex
	calls map[string]string // sid -> Twilio status
	sent  []string          // "sid Status" of each update
	fail  int               // answer the next updates with a 503 page
}

func startCallUpdate(t *testing.T, calls map[string]string) *fakeCallUpdate {
	t.Helper()
	f := &fakeCallUpdate{calls: calls}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeCallUpdate) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(r.URL.Path, "/")
	if r.Method != http.MethodPost || len(parts) != 6 || parts[3] != testSID || parts[4] != "Calls" || !strings.HasSuffix(parts[5], ".json") {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if user, pass, _ := r.BasicAuth(); user != testSID || pass != testToken {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	_ = r.ParseForm()
	sid := strings.TrimSuffix(parts[5], ".json")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sid+" "+r.PostForm.Get("Status"))
	if f.fail > 0 {
		f.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	st, ok := f.calls[sid]
	switch {
	case !ok:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	case st == "completed" || st == "canceled" || st == "busy" || st == "no-answer" || st == "failed":
		twilioError(w, http.StatusBadRequest, 21220, "Call is not in-progress. Cannot redirect.")
		return
	}
	switch r.PostForm.Get("Status") {
	case "canceled":
		if st == "queued" || st == "ringing" {
			st = "canceled"
		}
	case "completed":
		st = "completed"
	}
	f.calls[sid] = st
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"sid":%q,"account_sid":%q,"status":%q}`, sid, testSID, st)
}

func (f *fakeCallUpdate) updates() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

func hangupRequest(leg string, st call.Status) callevents.HangupRequest {
	return callevents.HangupRequest{SessionID: "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01", LegID: leg, Status: st,
		Credentials: call.Credentials{"account_sid": testSID, "auth_token": testToken}}
}

const (
	legQueued   = "CA00000000000000000000000000000001"
	legRinging  = "CA00000000000000000000000000000002"
	legTalking  = "CA00000000000000000000000000000003"
	legAnswered = "CA00000000000000000000000000000004" // ringing for us, answered at Twilio
	legEnded    = "CA00000000000000000000000000000005"
)

func TestHangupPerState(t *testing.T) {
	f := startCallUpdate(t, map[string]string{legQueued: "queued", legRinging: "ringing", legTalking: "in-progress",
		legAnswered: "in-progress", legEnded: "completed"})
	c := newCarrier(t, testConfig(f.URL))
	ctx := context.Background()
	for _, tc := range []struct {
		leg  string
		st   call.Status
		sent []string
		want string
		err  error
	}{
		{legQueued, call.StatusInitiated, []string{legQueued + " canceled"}, "canceled", nil},
		{legRinging, call.StatusRinging, []string{legRinging + " canceled"}, "canceled", nil},
		{legTalking, call.StatusInProgress, []string{legTalking + " completed"}, "completed", nil},
		{legAnswered, call.StatusRinging, []string{legAnswered + " canceled", legAnswered + " completed"}, "completed", nil},
		{legEnded, call.StatusInProgress, []string{legEnded + " completed"}, "completed", callevents.ErrLegNotFound},
		{"CA0000000000000000000000000000000f", call.StatusInProgress, []string{"CA0000000000000000000000000000000f completed"}, "", callevents.ErrLegNotFound},
	} {
		before := len(f.updates())
		err := c.Hangup(ctx, hangupRequest(tc.leg, tc.st))
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("Hangup(%s, %s) = %v, want %v", tc.leg, tc.st, err, tc.err)
		}
		if got := f.updates()[before:]; strings.Join(got, ",") != strings.Join(tc.sent, ",") {
			t.Errorf("Hangup(%s, %s) sent %v, want %v", tc.leg, tc.st, got, tc.sent)
		}
		if tc.want != "" && f.calls[tc.leg] != tc.want {
			t.Errorf("call %s is %s at the carrier, want %s", tc.leg, f.calls[tc.leg], tc.want)
		}
	}
}

func TestHangupFailures(t *testing.T) {
	f := startCallUpdate(t, map[string]string{legTalking: "in-progress"})
	c := newCarrier(t, testConfig(f.URL))
	ctx := context.Background()
	f.fail = 1
	var de *createcall.DialError
	if err := c.Hangup(ctx, hangupRequest(legTalking, call.StatusInProgress)); !errors.As(err, &de) || de.Kind != createcall.DialUnavailable {
		t.Fatalf("Hangup on a 503 = %v, want unavailable", err)
	}
	bad := hangupRequest(legTalking, call.StatusInProgress)
	bad.Credentials = call.Credentials{"account_sid": testSID}
	if err := c.Hangup(ctx, bad); !errors.As(err, &de) || de.Kind != createcall.DialBadCredentials {
		t.Fatalf("Hangup without a token = %v", err)
	}
	wrong := hangupRequest(legTalking, call.StatusInProgress)
	wrong.Credentials = call.Credentials{"account_sid": testSID, "auth_token": "0000"}
	if err := c.Hangup(ctx, wrong); !errors.As(err, &de) || de.Kind != createcall.DialBadCredentials || strings.Contains(err.Error(), "0000") {
		t.Fatalf("Hangup with a wrong token = %v", err)
	}
	if err := c.Hangup(ctx, hangupRequest("../Calls", call.StatusInProgress)); !errors.Is(err, callevents.ErrLegNotFound) {
		t.Fatalf("Hangup of a leg that cannot be a sid = %v", err)
	}
	if n := len(f.updates()); n != 1 {
		t.Fatalf("%d updates reached the carrier, want 1 (the 503; the wrong token is refused at the door)", n)
	}
}
