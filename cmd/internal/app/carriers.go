package app

import (
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/carrierguard"
	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/metrics"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
)

// Carriers provides one carrier per provider, each behind its circuit breakers, and the signer
// of the status-callback URLs they are given.
var Carriers = fx.Module("carriers",
	fx.Provide(NewCarriers, NewCallbackSigner),
)

// CarrierDeps are what the carriers need beside their configuration: the carrier-event use case
// the simulated carrier reports to, the clock it plays calls by (the real one unless a test
// supplies a simprovider.Clock), and the metrics (absent in kupectl).
type CarrierDeps struct {
	fx.In

	Events  *callevents.CarrierEvents
	Clock   simprovider.Clock `optional:"true"`
	Metrics *metrics.Metrics  `optional:"true"`
}

// NewCarriers builds the carrier adapters from the configuration.
func NewCarriers(c configs.CarriersConfig, d CarrierDeps, signer *httpapi.CallbackSigner, log *zap.Logger) (createcall.Carriers, *simprovider.Carrier, error) {
	stream := func(req createcall.DialRequest) string { return c.MediaStreamURL(req.RequestID, req.SessionID) }
	callback := func(p call.Provider) func(string) string {
		return func(sessionID string) string {
			return httpapi.StatusCallbackURL(c.PublicBaseURL, p, sessionID, signer)
		}
	}
	simLog := log.Named("simulated")
	sc := c.Simulated
	sim := simprovider.New(simprovider.Config{Reject: sc.Reject, Busy: sc.Busy, NoAnswer: sc.NoAnswer, Machine: sc.Machine,
		RingAfter: sc.RingAfter, Talk: sc.Talk, RingTimeout: sc.RingTimeout, Clock: d.Clock, Events: d.Events,
		OnError: func(sessionID string, err error) {
			simLog.Warn("simulated call report not recorded", zap.String("call_session_id", sessionID), zap.Error(err))
		}})
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: c.TwilioAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderTwilio), StreamURL: stream,
		AMDCallbackURL: func(sessionID string) string { return httpapi.AMDCallbackURL(c.PublicBaseURL, sessionID) }})
	if err != nil {
		return nil, nil, fmt.Errorf("twilio: %w", err)
	}
	exo := exotelprovider.New(exotelprovider.Config{APIBaseURL: c.ExotelAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderExotel), StreamURL: stream})
	eli := elisonprovider.New(elisonprovider.Config{APIBaseURL: c.ElisonAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderElison), StreamURL: stream})
	return guardCarriers(createcall.CarrierSet{
		call.ProviderTwilio:    tw,
		call.ProviderExotel:    exo,
		call.ProviderElison:    eli,
		call.ProviderSimulated: sim,
	}, c, d.Metrics, log), sim, nil
}

// guardCarriers puts a circuit breaker, one per carrier account, in front of every carrier, and
// times each request that reaches the carrier (when there are metrics).
func guardCarriers(set createcall.CarrierSet, c configs.CarriersConfig, m *metrics.Metrics, log *zap.Logger) createcall.CarrierSet {
	out := make(createcall.CarrierSet, len(set))
	for p, carrier := range set {
		out[p] = carrierguard.New(observeCarrier(carrier, p, m), carrierguard.Config{Provider: p, Failures: uint32(c.BreakerFailures),
			Cooldown: c.BreakerCooldown}, log.Named("carrier"))
	}
	return out
}

// callbackTokenLabel names the secret, derived from the secrets key, that the tokens of status
// callback URLs are made with. Changing it voids the URLs of calls in flight.
const callbackTokenLabel = "kupe/status-callback-token/v1"

// NewCallbackSigner makes the tokens of the status-callback URLs of carriers that do not sign
// their requests, under a secret derived from the secrets key.
func NewCallbackSigner(key secretbox.Key) *httpapi.CallbackSigner {
	return httpapi.NewCallbackSigner(key.Derive(callbackTokenLabel))
}
