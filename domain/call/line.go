package call

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Provider is the carrier behind a line. Its zero value is not a provider.
type Provider uint8

// Providers in the order the fallback line choice prefers them.
const (
	providerUnknown Provider = iota
	ProviderTwilio
	ProviderExotel
	ProviderElison
	ProviderSimulated
)

var providerNames = [...]string{
	ProviderTwilio:    "twilio",
	ProviderExotel:    "exotel",
	ProviderElison:    "elison",
	ProviderSimulated: "simulated",
}

// Providers lists every provider in preference order.
func Providers() []Provider {
	return []Provider{ProviderTwilio, ProviderExotel, ProviderElison, ProviderSimulated}
}

// ParseProvider reads a provider's stored name.
func ParseProvider(s string) (Provider, error) {
	for p, name := range providerNames {
		if name != "" && name == s {
			return Provider(p), nil
		}
	}
	return providerUnknown, fmt.Errorf("unknown provider %q: want twilio, exotel, elison or simulated", s)
}

func (p Provider) String() string {
	if int(p) < len(providerNames) && providerNames[p] != "" {
		return providerNames[p]
	}
	return fmt.Sprintf("Provider(%d)", uint8(p))
}

// Valid reports whether p is a known provider.
func (p Provider) Valid() bool { return p >= ProviderTwilio && p <= ProviderSimulated }

// Line is one of a user's phone numbers, the caller id of outbound calls.
type Line struct {
	ID        string
	UserID    string
	Number    string // E.164
	Provider  Provider
	Active    bool
	CreatedAt time.Time
	// FriendlyName is the customer's label for the line, CountryCode the ISO 3166 region of its
	// number ("US", "IN") and Region a finer area the customer names ("CA"); each may be empty.
	FriendlyName string
	CountryCode  string
	Region       string
	// MaxCPS paces the line's dials to at most this many calls per second; 0 leaves them
	// unpaced (Twilio queues calls above an account's rate itself; Exotel refuses them).
	MaxCPS float64
	// Mapping is the agent or workflow the line runs, when one is set.
	Mapping Target
	// Credentials are what the line's carrier needs to dial (account ids, tokens). They never
	// print: see Credentials.String.
	Credentials Credentials
}

// Credentials are a line's carrier secrets by name (account_sid, auth_token, api_key, ...).
// Formatting them with fmt or encoding/json shows nothing of their values, so a stray log line
// or response cannot leak them.
type Credentials map[string]string

func (Credentials) String() string               { return "[redacted]" }
func (Credentials) GoString() string             { return "[redacted]" }
func (Credentials) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Target is what a call runs: exactly one of an agent or a workflow, or neither when unset.
type Target struct {
	AgentID    string
	WorkflowID string
}

// IsZero reports whether neither an agent nor a workflow is named.
func (t Target) IsZero() bool { return t.AgentID == "" && t.WorkflowID == "" }

// Errors of the line choice.
var (
	ErrLineNotFound     = errors.New("phone line not found")
	ErrLineInactive     = errors.New("phone line is not active")
	ErrNoActiveLine     = errors.New("no active outbound line")
	ErrNoTarget         = errors.New("no agent or workflow: pass agent_id or workflow_id, or map one to the line")
	ErrTargetBoth       = errors.New("pass agent_id or workflow_id, not both")
	ErrAgentNotFound    = errors.New("agent not found")
	ErrAgentInactive    = errors.New("agent is not active")
	ErrWorkflowNotFound = errors.New("workflow not found")
	ErrWorkflowInactive = errors.New("workflow is not active")
)

// LineRequest is what the caller asked for; every field may be empty.
type LineRequest struct {
	LineID string
	Target Target
}

// ChooseLine picks the line an outbound call is placed from, among all of one user's lines:
//
//  1. the line named by LineID, which must be among them (else ErrLineNotFound) and active
//     (else ErrLineInactive);
//  2. else the first active line mapped to the requested agent or workflow;
//  3. else the first active line of all.
//
// "First" is a stable order: provider (twilio, exotel, elison, simulated), then the oldest line,
// then the smallest id, so the same lines always give the same answer. With no active line at
// all it returns ErrNoActiveLine.
func ChooseLine(lines []Line, req LineRequest) (Line, error) {
	if req.LineID != "" {
		for _, l := range lines {
			if l.ID == req.LineID {
				if !l.Active {
					return Line{}, ErrLineInactive
				}
				return l, nil
			}
		}
		return Line{}, ErrLineNotFound
	}
	var best, bestMapped *Line
	for i := range lines {
		l := &lines[i]
		if !l.Active {
			continue
		}
		if best == nil || lineBefore(l, best) {
			best = l
		}
		if !req.Target.IsZero() && l.Mapping == req.Target && (bestMapped == nil || lineBefore(l, bestMapped)) {
			bestMapped = l
		}
	}
	switch {
	case bestMapped != nil:
		return *bestMapped, nil
	case best != nil:
		return *best, nil
	}
	return Line{}, ErrNoActiveLine
}

// SortLines orders lines as ChooseLine ranks them.
func SortLines(lines []Line) {
	sort.SliceStable(lines, func(i, j int) bool { return lineBefore(&lines[i], &lines[j]) })
}

func lineBefore(a, b *Line) bool {
	if a.Provider != b.Provider {
		return a.Provider < b.Provider
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// ResolveTarget decides what the call runs: the requested agent or workflow, else the chosen
// line's mapping. Naming both is ErrTargetBoth; neither, on an unmapped line, ErrNoTarget.
func ResolveTarget(requested Target, line Line) (Target, error) {
	switch {
	case requested.AgentID != "" && requested.WorkflowID != "":
		return Target{}, ErrTargetBoth
	case !requested.IsZero():
		return requested, nil
	case !line.Mapping.IsZero():
		return line.Mapping, nil
	}
	return Target{}, ErrNoTarget
}

// Agent is a voice agent a call can run.
type Agent struct {
	ID           string
	UserID       string
	Name         string
	SystemPrompt string
	FirstMessage string
	Active       bool
	CreatedAt    time.Time
}

// Workflow is a multi-step flow a call can run instead of a single agent.
type Workflow struct {
	ID        string
	UserID    string
	Name      string
	Active    bool
	CreatedAt time.Time
}
