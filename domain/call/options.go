package call

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/domain/fault"
)

// The names of the call options, as create_call's query parameters spell them.
const (
	OptionRingTimeout      = "ring_timeout_seconds"
	OptionMaxDuration      = "max_duration_seconds"
	OptionMachineDetection = "machine_detection"
)

// Bounds of the call options.
const (
	MinRingTimeout = 5 * time.Second
	MaxRingTimeout = 120 * time.Second
	MinMaxDuration = 10 * time.Second
	MaxMaxDuration = 14400 * time.Second
)

// MachineDetection is whether the carrier listens for an answering machine when the call is
// answered. Unlike the lifecycle enums, its zero value is meaningful: off, which is what a call
// asks for when it says nothing.
type MachineDetection uint8

const (
	// MachineDetectionOff: no detection; the session's AnsweredBy stays unset.
	MachineDetectionOff MachineDetection = iota
	// MachineDetectionDetect: tell a person from a machine as soon as possible.
	MachineDetectionDetect
	// MachineDetectionEndOfGreeting: on a machine, wait for the end of its greeting (the beep),
	// so that a message can be left.
	MachineDetectionEndOfGreeting
)

var machineDetectionNames = [...]string{
	MachineDetectionOff:           "off",
	MachineDetectionDetect:        "detect",
	MachineDetectionEndOfGreeting: "detect_end_of_greeting",
}

// ParseMachineDetection reads off, detect or detect_end_of_greeting.
func ParseMachineDetection(s string) (MachineDetection, error) {
	for m, name := range machineDetectionNames {
		if name == s {
			return MachineDetection(m), nil
		}
	}
	return MachineDetectionOff, fmt.Errorf("unknown machine detection %q", s)
}

func (m MachineDetection) String() string {
	if int(m) < len(machineDetectionNames) {
		return machineDetectionNames[m]
	}
	return fmt.Sprintf("MachineDetection(%d)", uint8(m))
}

// Options are a caller's choices for one call. The zero value asks for the carrier's defaults.
type Options struct {
	// RingTimeout is how long the destination may ring unanswered; zero is the carrier's default.
	RingTimeout time.Duration
	// MaxDuration caps the call from its answer; zero is the carrier's default.
	MaxDuration time.Duration
	// MachineDetection asks the carrier to tell a person from a machine.
	MachineDetection MachineDetection
}

// Asked lists the names of the options o sets, in a fixed order.
func (o Options) Asked() []string {
	var out []string
	if o.RingTimeout > 0 {
		out = append(out, OptionRingTimeout)
	}
	if o.MaxDuration > 0 {
		out = append(out, OptionMaxDuration)
	}
	if o.MachineDetection != MachineDetectionOff {
		out = append(out, OptionMachineDetection)
	}
	return out
}

// ParseOptions reads the options as create_call's query parameters carry them; an empty string
// leaves its option unset. A value out of range is a *fault.InvalidInputError naming it.
func ParseOptions(ringTimeout, maxDuration, machineDetection string) (Options, error) {
	var o Options
	var err error
	if o.RingTimeout, err = parseSeconds(OptionRingTimeout, ringTimeout, MinRingTimeout, MaxRingTimeout); err != nil {
		return Options{}, err
	}
	if o.MaxDuration, err = parseSeconds(OptionMaxDuration, maxDuration, MinMaxDuration, MaxMaxDuration); err != nil {
		return Options{}, err
	}
	if s := strings.TrimSpace(machineDetection); s != "" {
		if o.MachineDetection, err = ParseMachineDetection(s); err != nil {
			return Options{}, fault.Invalidf("%s must be off, detect or detect_end_of_greeting", OptionMachineDetection)
		}
	}
	return o, nil
}

func parseSeconds(name, v string, lo, hi time.Duration) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || time.Duration(n)*time.Second < lo || time.Duration(n)*time.Second > hi {
		return 0, fault.Invalidf("%s must be a whole number of seconds from %d to %d", name, int(lo/time.Second), int(hi/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// AnsweredBy is who the carrier's machine detection says answered. The zero value is not
// known: no detection ran, or its result has not arrived.
type AnsweredBy uint8

const (
	answeredByNotKnown AnsweredBy = iota
	AnsweredByHuman
	AnsweredByMachine
	// AnsweredByUnknown: the detection ran and could not tell.
	AnsweredByUnknown
)

var answeredByNames = [...]string{
	AnsweredByHuman:   "human",
	AnsweredByMachine: "machine",
	AnsweredByUnknown: "unknown",
}

// ParseAnsweredBy reads human, machine or unknown.
func ParseAnsweredBy(s string) (AnsweredBy, error) {
	for a, name := range answeredByNames {
		if name != "" && name == s {
			return AnsweredBy(a), nil
		}
	}
	return answeredByNotKnown, fmt.Errorf("unknown answered_by %q", s)
}

func (a AnsweredBy) String() string {
	if int(a) < len(answeredByNames) && answeredByNames[a] != "" {
		return answeredByNames[a]
	}
	if a == answeredByNotKnown {
		return ""
	}
	return fmt.Sprintf("AnsweredBy(%d)", uint8(a))
}

// Valid reports whether a is a detection result.
func (a AnsweredBy) Valid() bool { return a >= AnsweredByHuman && a <= AnsweredByUnknown }
