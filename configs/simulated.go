package configs

import (
	"fmt"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
)

// SimulatedConfig drives the simulated carrier of the embedded default: how its calls play out,
// and which destinations are refused, busy, unanswered or answered by a machine.
type SimulatedConfig struct {
	// Reject lists destinations refused at dial as unreachable (KUPE_SIMULATED_REJECT).
	Reject []string `yaml:"reject"`
	// Busy lists destinations that end busy (KUPE_SIMULATED_BUSY).
	Busy []string `yaml:"busy"`
	// NoAnswer lists destinations that ring and end no_answer after RingTimeout
	// (KUPE_SIMULATED_NO_ANSWER).
	NoAnswer []string `yaml:"no_answer"`
	// Machine lists destinations answered by a machine (KUPE_SIMULATED_MACHINE).
	Machine []string `yaml:"machine"`
	// RingAfter is how long after the dial a call rings, and then rings before it is answered
	// (KUPE_SIMULATED_RING_AFTER).
	RingAfter time.Duration `yaml:"ring_after"`
	// Talk is how long an answered call lasts (KUPE_SIMULATED_TALK).
	Talk time.Duration `yaml:"talk"`
	// RingTimeout is how long a NoAnswer destination rings (KUPE_SIMULATED_RING_TIMEOUT).
	RingTimeout time.Duration `yaml:"ring_timeout"`
}

// loadSimulated reads the KUPE_SIMULATED_* variables into c and returns what is wrong.
func loadSimulated(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	sc := &c.Carriers.Simulated
	numbers := func(name string, dst *[]string) {
		if v, ok := lookup(name); ok {
			*dst = nil
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					*dst = append(*dst, n)
				}
			}
		}
		for _, n := range *dst {
			if p, err := call.ParsePhoneNumber(n); err != nil || p.String() != n {
				errs = append(errs, fmt.Sprintf("%s: %q is not an E.164 number such as +14155550123", name, n))
			}
		}
	}
	numbers("KUPE_SIMULATED_REJECT", &sc.Reject)
	numbers("KUPE_SIMULATED_BUSY", &sc.Busy)
	numbers("KUPE_SIMULATED_NO_ANSWER", &sc.NoAnswer)
	numbers("KUPE_SIMULATED_MACHINE", &sc.Machine)
	dur := func(name string, dst *time.Duration) {
		if v, ok := lookup(name); ok {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: want a duration such as 5s", name))
				return
			}
			*dst = d
		}
		if *dst <= 0 || *dst > time.Hour {
			errs = append(errs, fmt.Sprintf("%s: want a positive duration of at most 1h", name))
		}
	}
	dur("KUPE_SIMULATED_RING_AFTER", &sc.RingAfter)
	dur("KUPE_SIMULATED_TALK", &sc.Talk)
	dur("KUPE_SIMULATED_RING_TIMEOUT", &sc.RingTimeout)
	return errs
}
