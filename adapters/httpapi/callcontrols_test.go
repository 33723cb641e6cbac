package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
)

func TestCallOptionsOverHTTP(t *testing.T) {
	c := controlsRig(t)
	for _, tc := range []struct {
		p      call.Provider
		number string
		params []string
		option string
	}{
		{call.ProviderExotel, "+14155550181", []string{"machine_detection", "detect"}, "machine_detection"},
		{call.ProviderElison, "+14155550182", []string{"ring_timeout_seconds", "30"}, "ring_timeout_seconds"},
		{call.ProviderElison, "+14155550183", []string{"max_duration_seconds", "60"}, "max_duration_seconds"},
	} {
		a := c.lineUser(tc.p, tc.number)
		w := c.post(callURL(append([]string{"phoneNumber", destination}, tc.params...)...), a.key, "")
		wantDetail(t, w, http.StatusUnprocessableEntity, fmt.Sprintf(
			"%s is not supported by this line's carrier (%s): leave it out or call from another line", tc.option, tc.p))
		if n := c.sessionCount(a.userID); n != 0 {
			t.Fatalf("%s: %d sessions written for a refused option", tc.p, n)
		}
	}
	if c.exotel.dials != 0 {
		t.Fatalf("the Exotel stand-in was dialled %d times", c.exotel.dials)
	}
	// Exotel honours a ring timeout and a length.
	exo := c.lineUser(call.ProviderExotel, "+14155550184")
	w := c.post(callURL("phoneNumber", destination, "ring_timeout_seconds", "15", "max_duration_seconds", "120"), exo.key, "")
	if w.Code != http.StatusOK || c.exotel.dials != 1 {
		t.Fatalf("Exotel call with its options: %d %s, %d dials", w.Code, w.Body, c.exotel.dials)
	}
	for _, bad := range [][]string{{"ring_timeout_seconds", "4"}, {"max_duration_seconds", "14401"}, {"machine_detection", "on"}, {"ring_timeout_seconds", "x"}} {
		name := bad[0]
		w := c.post(callURL("phoneNumber", destination, bad[0], bad[1]), exo.key, "")
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), name) {
			t.Errorf("%s=%s: %d %s", bad[0], bad[1], w.Code, w.Body)
		}
	}
}

func TestHangupOverHTTP(t *testing.T) {
	c := controlsRig(t)
	a := c.user(10_000_000, true)
	other := c.user(10_000_000, true)
	created := decode(t, c.post(callURL("phoneNumber", destination), a.key, ""))
	id := created["call_session_id"].(string)
	c.clock.Advance(4500 * time.Millisecond) // answered at 2 s

	// Another user's session is answered exactly as one that does not exist.
	foreign := c.post(hangupTarget(id), other.key, "")
	unknown := c.post(hangupTarget(uuid.NewString()), a.key, "")
	wantDetail(t, foreign, http.StatusNotFound, "Session not found")
	if foreign.Body.String() != unknown.Body.String() || foreign.Code != unknown.Code {
		t.Fatalf("another user's session: %d %q; unknown: %d %q", foreign.Code, foreign.Body, unknown.Code, unknown.Body)
	}
	if s := c.session(id); s.Status() != call.StatusInProgress {
		t.Fatalf("another user's hang-up moved the call to %s", s.Status())
	}

	w := c.post(hangupTarget(id), a.key, "")
	if w.Code != http.StatusOK {
		t.Fatalf("hang-up: %d %s", w.Code, w.Body)
	}
	ended := decode(t, w)
	if ended["status"] != "completed" || fmt.Sprint(ended["duration_seconds"]) != "2" || fmt.Sprint(ended["cost"]) != "1" {
		t.Fatalf("hung-up session: %s", w.Body)
	}
	wantDetail(t, c.post(hangupTarget(id), a.key, ""), http.StatusConflict, "Call already ended")

	// Ringing: canceled, free.
	ring := decode(t, c.post(callURL("phoneNumber", destination), a.key, ""))["call_session_id"].(string)
	c.clock.Advance(time.Second)
	if w := c.post(hangupTarget(ring), a.key, ""); w.Code != http.StatusOK || decode(t, w)["status"] != "canceled" {
		t.Fatalf("hang-up while ringing: %d %s", w.Code, w.Body)
	}

	// Twilio: accepted, the end still to come.
	tw := c.lineUser(call.ProviderTwilio, "+14155550185")
	s := c.placed(tw, call.StatusRinging)
	w = c.post(hangupTarget(s.ID), tw.key, "")
	if w.Code != http.StatusAccepted || decode(t, w)["status"] != "ringing" {
		t.Fatalf("Twilio hang-up: %d %s", w.Code, w.Body)
	}
	if len(c.twilio.hangups) != 1 || c.twilio.hangups[0].Status != call.StatusRinging ||
		c.twilio.hangups[0].Credentials["auth_token"] != controlsTwilioToken {
		t.Fatalf("Twilio was asked %+v", c.twilio.hangups)
	}
	dialing := c.placed(tw, call.StatusDialing)
	wantDetail(t, c.post(hangupTarget(dialing.ID), tw.key, ""), http.StatusConflict, "The call is still being placed: try again in a moment")

	// A carrier without a remote hang-up says so.
	exo := c.lineUser(call.ProviderExotel, "+14155550186")
	w = c.post(hangupTarget(c.placed(exo, call.StatusInProgress).ID), exo.key, "")
	if w.Code != http.StatusConflict || !strings.Contains(decode(t, w)["detail"].(string), "cannot hang up a call remotely") {
		t.Fatalf("Exotel hang-up: %d %s", w.Code, w.Body)
	}
	wantDetail(t, c.post(hangupTarget("not-a-session"), a.key, ""), http.StatusUnprocessableEntity, "call_session_id must be a UUID")
}

func TestAMDCallbackSetsAnsweredBy(t *testing.T) {
	c := controlsRig(t)
	tw := c.lineUser(call.ProviderTwilio, "+14155550187")
	s := c.placed(tw, call.StatusInProgress)
	if w := serve(c.rig, amdRequest(s.ID, "0000000000000000000000000000000a", amdForm("human"))); w.Code != http.StatusForbidden {
		t.Fatalf("AMD signed with another token: %d %s", w.Code, w.Body)
	}
	if got := c.session(s.ID); got.AnsweredBy.Valid() {
		t.Fatalf("a forged result was recorded: %s", got.AnsweredBy)
	}
	if w := serve(c.rig, amdRequest(s.ID, controlsTwilioToken, amdForm("machine_start"))); w.Code != http.StatusOK {
		t.Fatalf("AMD: %d %s", w.Code, w.Body)
	}
	log := decode(t, c.get("/api/v1/call-analytics?request_id="+s.RequestID, tw.key))
	if log["answered_by"] != "machine" || log["status"] != "in_progress" {
		t.Fatalf("call log after the AMD result: answered_by %v status %v", log["answered_by"], log["status"])
	}
	// The simulated carrier's own detection shows the same way.
	a := c.user(10_000_000, true)
	created := decode(t, c.post(callURL("phoneNumber", destination, "machine_detection", "detect"), a.key, ""))
	c.clock.Advance(2 * time.Second)
	log = decode(t, c.get("/api/v1/call-analytics?request_id="+created["request_id"].(string), a.key))
	if log["answered_by"] != "human" {
		t.Fatalf("simulated call answered_by %v", log["answered_by"])
	}
}
