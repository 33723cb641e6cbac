package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/internal/testkit"
)

// The call controls' tests share this rig: the simulated carrier playing calls on a manual
// clock through the rig's carrier events, beside a Twilio stand-in that accepts hang-ups (its end
// comes later, as Twilio's status callback) and Exotel and Elison stand-ins that only dial.

// acceptingHanger accepts every dial and hang-up and reports nothing, as Twilio does until its
// status callback arrives.
type acceptingHanger struct{ hangups []callevents.HangupRequest }

func (a *acceptingHanger) Dial(context.Context, createcall.DialRequest) (string, error) {
	return "CA0123456789abcdef0123456789abcdef", nil
}

func (a *acceptingHanger) Hangup(_ context.Context, req callevents.HangupRequest) error {
	a.hangups = append(a.hangups, req)
	return nil
}

// UnhonouredOption: like Twilio, every option.
func (a *acceptingHanger) UnhonouredOption(call.Options) string { return "" }

// dialer only dials: no option, no hang-up.
type dialer struct{ dials int }

func (d *dialer) Dial(context.Context, createcall.DialRequest) (string, error) {
	d.dials++
	return "LEG-DIAL-1", nil
}

// exotelLike dials as dialer does and honours the options the Exotel adapter does.
type exotelLike struct{ dialer }

func (exotelLike) UnhonouredOption(o call.Options) string {
	return exotelprovider.New(exotelprovider.Config{}).UnhonouredOption(o)
}

type controls struct {
	*rig
	clock  *simprovider.ManualClock
	sim    *simprovider.Carrier
	twilio *acceptingHanger
	exotel *exotelLike
}

const controlsTwilioToken = "c0ffeec0ffeec0ffeec0ffeec0ffee00"

// controlsRig is specRig with the call controls' carriers; opts go after.
func controlsRig(t *testing.T, opts ...rigOption) *controls {
	t.Helper()
	c := &controls{clock: simprovider.NewManualClock(time.Now().UTC()), twilio: &acceptingHanger{}, exotel: &exotelLike{}}
	wire := func(d *httpapi.Deps, _ *httpapi.Config) {
		c.sim = simprovider.New(simprovider.Config{Reject: []string{rejectedDest}, Busy: []string{"+14155550198"},
			Clock: c.clock, Events: d.Callbacks.Events})
		c.sim.Start()
		set := createcall.CarrierSet{call.ProviderSimulated: c.sim, call.ProviderTwilio: c.twilio,
			call.ProviderExotel: c.exotel, call.ProviderElison: &dialer{}}
		d.CreateCall.Carriers = set
		mem := d.Accounts.Store.(*memstore.Store)
		d.Hangups = &callevents.HangupHandler{Sessions: mem, Lines: mem, Carriers: set}
	}
	c.rig = specRig(t, append([]rigOption{wire}, opts...)...)
	c.rig.secrets = append(c.rig.secrets, controlsTwilioToken)
	return c
}

// lineUser is a user whose only line is of provider p, mapped to an agent.
func (c *controls) lineUser(p call.Provider, number string) account {
	c.t.Helper()
	a := c.user(money.FromUnits(5), false)
	creds := map[string]string{"token": "line-secret-token"}
	if p == call.ProviderTwilio {
		creds = map[string]string{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": controlsTwilioToken}
	}
	l, err := c.accounts.AddLine(context.Background(), accounts.AddLine{UserID: a.userID, Number: number, Provider: p.String(),
		Credentials: creds})
	if err != nil {
		c.t.Fatal(err)
	}
	a.line, a.agent = l, c.agent(a.userID)
	if err := c.accounts.SetMapping(context.Background(), l.ID, call.Target{AgentID: a.agent.ID}); err != nil {
		c.t.Fatal(err)
	}
	return a
}

// placed stores a session of a on its line, dialled and moved on to st, as a carrier would have.
func (c *controls) placed(a account, st call.Status) *call.Session {
	c.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: a.userID, LineID: a.line.ID,
		AgentID: a.agent.ID, Provider: a.line.Provider, From: a.line.Number, To: destination}, now)
	if err := c.store.CreateSession(ctx, s); err != nil {
		c.t.Fatal(err)
	}
	if st != call.StatusDialing {
		_ = s.MarkDialed("CA0123456789abcdef0123456789abcdef", now)
		if _, err := s.Advance(st, now); err != nil && st != call.StatusInitiated {
			c.t.Fatal(err)
		}
		if err := c.store.SaveSession(ctx, s); err != nil {
			c.t.Fatal(err)
		}
	}
	return s
}

func hangupTarget(id string) string { return "/api/v1/calls/" + id + "/hangup" }

// amdRequest is Twilio's machine-detection callback for session id, signed with token unless
// token is empty.
func amdRequest(id, token string, form url.Values) *http.Request {
	path := "/api/call/amd-callback/twilio/" + id
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formType)
	if token != "" {
		req.Header.Set("X-Twilio-Signature", testkit.TwilioSignature(token, "https://kupe.example"+path, form))
	}
	return req
}

func amdForm(answeredBy string) url.Values {
	return url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"},
		"AnsweredBy": {answeredBy}, "MachineDetectionDuration": {"2400"}}
}
