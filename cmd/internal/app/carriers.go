package app

import (
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/carrierguard"
	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/secretbox"
	"github.com/kupe-voice/kupe/adapters/simprovider"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
)

// Carriers provides one carrier per provider, each behind its circuit breakers, and the signer
// of the status-callback URLs they are given.
var Carriers = fx.Module("carriers",
	fx.Provide(NewCarriers, NewCallbackSigner),
)

// NewCarriers builds the carrier adapters from the configuration.
func NewCarriers(c configs.CarriersConfig, signer *httpapi.CallbackSigner, log *zap.Logger) (createcall.Carriers, *simprovider.Carrier, error) {
	stream := func(req createcall.DialRequest) string { return c.MediaStreamURL(req.RequestID, req.SessionID) }
	callback := func(p call.Provider) func(string) string {
		return func(sessionID string) string {
			return httpapi.StatusCallbackURL(c.PublicBaseURL, p, sessionID, signer)
		}
	}
	sim := simprovider.New(simprovider.Config{Reject: c.SimulatedReject})
	tw, err := twilioprovider.New(twilioprovider.Config{APIBaseURL: c.TwilioAPIBaseURL, Timeout: c.Timeout,
		StatusCallbackURL: callback(call.ProviderTwilio), StreamURL: stream})
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
	}, c, log), sim, nil
}

// guardCarriers puts a circuit breaker, one per carrier account, in front of every carrier.
func guardCarriers(set createcall.CarrierSet, c configs.CarriersConfig, log *zap.Logger) createcall.CarrierSet {
	out := make(createcall.CarrierSet, len(set))
	for p, carrier := range set {
		out[p] = carrierguard.New(carrier, carrierguard.Config{Provider: p, Failures: uint32(c.BreakerFailures),
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
