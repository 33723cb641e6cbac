// Package carrierguard puts a circuit breaker (github.com/sony/gobreaker) in front of a carrier,
// one per carrier account, so that a carrier that is down fails fast instead of holding every
// create_call for the carrier timeout.
package carrierguard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
)

// Defaults for the zero fields of Config.
const (
	DefaultFailures = 5
	DefaultCooldown = 30 * time.Second
)

// ReasonOpen is the detail of a dial refused while the breaker is open.
const ReasonOpen = "carrier unavailable"

// Config sets up a guard.
type Config struct {
	// Provider names the carrier in logs.
	Provider call.Provider
	// Failures is how many consecutive failures of the carrier (unreachable, a server error, a
	// timeout) open the breaker. Default DefaultFailures.
	Failures uint32
	// Cooldown is how long the breaker stays open before one probe dial is let through.
	// Default DefaultCooldown.
	Cooldown time.Duration
}

// Carrier is an createcall.Carrier (and an callevents.CallFetcher) that guards another. It is
// safe for concurrent use.
//
// Only failures that say the carrier itself is in trouble count: DialUnavailable and DialUnknown.
// A refusal (an invalid destination, bad credentials, a rate limit) proves the carrier is up and
// counts as a success. A dial the caller cancelled before it reached the carrier does not count.
// The guard never retries: a refused dial is answered at once with a DialUnavailable error, and
// every other dial is sent exactly once, as the guarded carrier sends it.
type Carrier struct {
	next     createcall.Carrier
	cfg      Config
	log      *zap.Logger
	breakers sync.Map // account key -> *gobreaker.TwoStepCircuitBreaker[struct{}]
}

var (
	_ createcall.Carrier       = (*Carrier)(nil)
	_ callevents.CallFetcher   = (*Carrier)(nil)
	_ createcall.OptionCarrier = (*Carrier)(nil)
	_ callevents.Hanger        = (*Carrier)(nil)
)

// New guards next. log hears of each state change, with the provider and a hash of the account,
// never a credential.
func New(next createcall.Carrier, cfg Config, log *zap.Logger) *Carrier {
	if cfg.Failures == 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = DefaultCooldown
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Carrier{next: next, cfg: cfg, log: log}
}

// Dial implements createcall.Carrier.
func (c *Carrier) Dial(ctx context.Context, req createcall.DialRequest) (string, error) {
	done, err := c.breaker(req.Credentials).Allow()
	if err != nil {
		return "", openError(err)
	}
	leg, err := c.next.Dial(ctx, req)
	done(err)
	return leg, err
}

// FetchCall implements callevents.CallFetcher when the guarded carrier does; otherwise it
// answers callevents.ErrFetchUnsupported. A lookup goes through the same breaker as the dials:
// a carrier that is down is not asked.
func (c *Carrier) FetchCall(ctx context.Context, req callevents.FetchRequest) (call.Status, error) {
	f, ok := c.next.(callevents.CallFetcher)
	if !ok {
		return 0, callevents.ErrFetchUnsupported
	}
	done, err := c.breaker(req.Credentials).Allow()
	if err != nil {
		return 0, openError(err)
	}
	st, err := f.FetchCall(ctx, req)
	done(err)
	return st, err
}

// Hangup implements callevents.Hanger when the guarded carrier does; otherwise it answers
// callevents.ErrHangupUnsupported. A hang-up goes through the same breaker as the dials.
func (c *Carrier) Hangup(ctx context.Context, req callevents.HangupRequest) error {
	h, ok := c.next.(callevents.Hanger)
	if !ok {
		return callevents.ErrHangupUnsupported
	}
	done, err := c.breaker(req.Credentials).Allow()
	if err != nil {
		return openError(err)
	}
	err = h.Hangup(ctx, req)
	done(err)
	return err
}

// UnhonouredOption implements createcall.OptionCarrier as the guarded carrier does: a carrier
// without the capability honours no option.
func (c *Carrier) UnhonouredOption(o call.Options) string {
	if oc, ok := c.next.(createcall.OptionCarrier); ok {
		return oc.UnhonouredOption(o)
	}
	if asked := o.Asked(); len(asked) > 0 {
		return asked[0]
	}
	return ""
}

// State reports the breaker's state for an account, for tests and diagnostics.
func (c *Carrier) State(creds call.Credentials) gobreaker.State {
	return c.breaker(creds).State()
}

func openError(err error) error {
	return &createcall.DialError{Kind: createcall.DialUnavailable, Reason: ReasonOpen, Err: err}
}

func (c *Carrier) breaker(creds call.Credentials) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	key := AccountKey(creds)
	if b, ok := c.breakers.Load(key); ok {
		return b.(*gobreaker.TwoStepCircuitBreaker[struct{}])
	}
	failures := c.cfg.Failures
	b := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        c.cfg.Provider.String() + ":" + key,
		MaxRequests: 1, // one probe at a time while half-open
		Timeout:     c.cfg.Cooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsSuccessful: func(err error) bool {
			return !carrierTrouble(err)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log := c.log.Info
			if to == gobreaker.StateOpen {
				log = c.log.Warn
			}
			log("carrier circuit breaker", zap.String("provider", c.cfg.Provider.String()),
				zap.String("account", key), zap.Stringer("from", from), zap.Stringer("to", to))
		},
	})
	actual, _ := c.breakers.LoadOrStore(key, b)
	return actual.(*gobreaker.TwoStepCircuitBreaker[struct{}])
}

// carrierTrouble reports whether err says the carrier is down or failing, rather than refusing
// one request.
func carrierTrouble(err error) bool {
	if err == nil || errors.Is(err, callevents.ErrLegNotFound) || errors.Is(err, callevents.ErrFetchUnsupported) {
		return false
	}
	var de *createcall.DialError
	if !errors.As(err, &de) {
		return true // unclassified: it may be anything, as AsDialError assumes
	}
	return de.Kind == createcall.DialUnavailable || de.Kind == createcall.DialUnknown
}

// AccountKey identifies a carrier account by its credentials without holding them: a short
// SHA-256 of the sorted key=value pairs. It is safe to log.
func AccountKey(creds call.Credentials) string {
	if len(creds) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(creds[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
