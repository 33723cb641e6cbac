package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// callControlExchanges: create_call's options, the hang-up and Twilio's machine-detection
// callback.
func callControlExchanges(x *exchanger) {
	t := x.t
	c := controlsRig(t)
	a := c.user(money.FromUnits(5), true)
	other := c.user(money.FromUnits(5), true)
	post := func(key string, params ...string) *http.Request {
		return specRequest(http.MethodPost, callURL(params...), key, "")
	}
	created := decode(t, x.do(c.rig, "call with every option", http.StatusOK, post(a.key, "phoneNumber", destination,
		"ring_timeout_seconds", "20", "max_duration_seconds", "600", "machine_detection", "detect")))
	x.do(c.rig, "call with a ring timeout out of range", http.StatusUnprocessableEntity,
		post(a.key, "phoneNumber", destination, "ring_timeout_seconds", "121"))
	exo := c.lineUser(call.ProviderExotel, "+14155550171")
	x.do(c.rig, "call with an option the line's carrier cannot honour", http.StatusUnprocessableEntity,
		post(exo.key, "phoneNumber", destination, "machine_detection", "detect_end_of_greeting"))

	// The simulated call: answered after 2 s, hung up at 3 s.
	id := created["call_session_id"].(string)
	c.clock.Advance(3 * time.Second)
	get := func(key string) *http.Request {
		return specRequest(http.MethodGet, "/api/v1/call-analytics?request_id="+created["request_id"].(string), key, "")
	}
	x.do(c.rig, "a session answered by a person", http.StatusOK, get(a.key))
	x.do(c.rig, "another user's call hung up", http.StatusNotFound, specRequest(http.MethodPost, hangupTarget(id), other.key, ""))
	x.do(c.rig, "call hung up", http.StatusOK, specRequest(http.MethodPost, hangupTarget(id), a.key, ""))
	x.do(c.rig, "call hung up again", http.StatusConflict, specRequest(http.MethodPost, hangupTarget(id), a.key, ""))
	tw := c.lineUser(call.ProviderTwilio, "+14155550172")
	x.do(c.rig, "Twilio call hung up: the end is still to come", http.StatusAccepted,
		specRequest(http.MethodPost, hangupTarget(c.placed(tw, call.StatusInProgress).ID), tw.key, ""))
	x.do(c.rig, "call on a carrier that cannot hang up", http.StatusConflict,
		specRequest(http.MethodPost, hangupTarget(c.placed(exo, call.StatusRinging).ID), exo.key, ""))

	// Twilio's machine-detection callback.
	s := c.placed(tw, call.StatusInProgress)
	x.do(c.rig, "AMD: a machine", http.StatusOK, amdRequest(s.ID, controlsTwilioToken, amdForm("machine_end_beep")))
	x.do(c.rig, "AMD: repeated", http.StatusOK, amdRequest(s.ID, controlsTwilioToken, amdForm("human")))
	x.do(c.rig, "AMD unsigned", http.StatusForbidden, amdRequest(s.ID, "", amdForm("human")))
	x.do(c.rig, "AMD of an unknown session", http.StatusNotFound, amdRequest(uuid.NewString(), controlsTwilioToken, amdForm("human")))
	x.do(c.rig, "AMD without a result", http.StatusUnprocessableEntity,
		amdRequest(s.ID, controlsTwilioToken, amdForm("")))
	big := amdForm("human")
	big.Set("Padding", strings.Repeat("x", httpapi.DefaultMaxBodyBytes))
	x.do(c.rig, "AMD too large", http.StatusRequestEntityTooLarge, amdRequest(s.ID, controlsTwilioToken, big))
	unreadable := httptest.NewRequest(http.MethodPost, "/api/call/amd-callback/twilio/"+s.ID, brokenBody{})
	unreadable.ContentLength = -1
	x.do(c.rig, "AMD with an unreadable body", http.StatusBadRequest, unreadable)
	for status, err := range map[int]error{
		http.StatusInternalServerError: errors.New("pool exhausted"),
		http.StatusServiceUnavailable:  fmt.Errorf("read line: %w", fault.ErrUnavailable),
	} {
		failing := controlsRig(t, func(d *httpapi.Deps, _ *httpapi.Config) {
			cb := *d.Callbacks
			ev := *cb.Events
			ev.Lines = linesFailing{err: err}
			cb.Events = &ev
			d.Callbacks = &cb
		})
		s := failing.placed(failing.lineUser(call.ProviderTwilio, "+14155550173"), call.StatusInProgress)
		x.do(failing.rig, fmt.Sprintf("AMD with the store failing (%d)", status), status,
			amdRequest(s.ID, controlsTwilioToken, amdForm("human")))
	}
}
