// Package simprovider is the simulated carrier behind the embedded default: it "places" every
// call at once without any network, so the service can be run and tried end to end without a
// telephony account, and refuses a configured set of destinations the way a carrier refuses an
// unreachable number.
package simprovider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"

	"github.com/kupe-voice/kupe/application/createcall"
)

// LegPrefix starts every leg id the simulated carrier hands out.
const LegPrefix = "SIM"

// Config sets up the simulated carrier.
type Config struct {
	// Reject lists E.164 destinations refused as invalid or unreachable. The wiring's default
	// is ["+14155550199"], so a client can see a refused dial on purpose.
	Reject []string
}

// Carrier is the simulated createcall.Carrier. It is safe for concurrent use.
type Carrier struct {
	reject map[string]struct{}
	dials  atomic.Int64
	placed atomic.Int64
}

// New returns a simulated carrier.
func New(cfg Config) *Carrier {
	c := &Carrier{reject: make(map[string]struct{}, len(cfg.Reject))}
	for _, n := range cfg.Reject {
		c.reject[n] = struct{}{}
	}
	return c
}

var _ createcall.Carrier = (*Carrier)(nil)

// Dial places the call at once and returns a fresh leg id, or refuses a rejected destination.
func (c *Carrier) Dial(_ context.Context, req createcall.DialRequest) (string, error) {
	c.dials.Add(1)
	if _, refused := c.reject[req.To]; refused || req.To == "" {
		return "", &createcall.DialError{
			Kind:   createcall.DialInvalidDestination,
			Reason: "The destination number is invalid or cannot be reached",
		}
	}
	c.placed.Add(1)
	return newLegID(), nil
}

// Dials reports how many dials the carrier received, refused or not.
func (c *Carrier) Dials() int { return int(c.dials.Load()) }

// Placed reports how many calls the carrier placed.
func (c *Carrier) Placed() int { return int(c.placed.Load()) }

func newLegID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return LegPrefix + hex.EncodeToString(b[:])
}
