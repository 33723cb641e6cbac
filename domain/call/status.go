package call

import "fmt"

// Status is where a call session is in its life. The zero value is not a status.
//
//	dialing → initiated → ringing → in_progress → completed | busy | no_answer | failed | canceled
//	dialing → failed
//
// A session only moves forward. Steps may be skipped, since carriers drop or reorder events, but
// a session still in dialing (the carrier has not confirmed the leg) can only be settled as failed.
type Status uint8

const (
	statusUnknown Status = iota
	StatusDialing
	StatusInitiated
	StatusRinging
	StatusInProgress
	StatusCompleted
	StatusBusy
	StatusNoAnswer
	StatusFailed
	StatusCanceled
)

var statusNames = [...]string{
	StatusDialing:    "dialing",
	StatusInitiated:  "initiated",
	StatusRinging:    "ringing",
	StatusInProgress: "in_progress",
	StatusCompleted:  "completed",
	StatusBusy:       "busy",
	StatusNoAnswer:   "no_answer",
	StatusFailed:     "failed",
	StatusCanceled:   "canceled",
}

// AllStatuses lists every valid status in lifecycle order.
func AllStatuses() []Status {
	return []Status{StatusDialing, StatusInitiated, StatusRinging, StatusInProgress,
		StatusCompleted, StatusBusy, StatusNoAnswer, StatusFailed, StatusCanceled}
}

// ParseStatus turns the stored or public name back into a Status.
func ParseStatus(s string) (Status, error) {
	for st, name := range statusNames {
		if name != "" && name == s {
			return Status(st), nil
		}
	}
	return statusUnknown, fmt.Errorf("unknown call status %q", s)
}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Valid reports whether s is one of the lifecycle values.
func (s Status) Valid() bool { return s >= StatusDialing && s <= StatusCanceled }

// Terminal reports whether the session has ended; a terminal session never changes again.
func (s Status) Terminal() bool { return s >= StatusCompleted && s <= StatusCanceled }

// Active reports whether the session still holds a line (it has not ended).
func (s Status) Active() bool { return s.Valid() && !s.Terminal() }

// rank orders statuses along the lifecycle; all terminal ones share the last rank.
func (s Status) rank() int {
	if s.Terminal() {
		return int(StatusCompleted)
	}
	return int(s)
}

// CanTransition reports whether a session may move from one status to another.
func CanTransition(from, to Status) bool {
	if !from.Valid() || !to.Valid() || from.Terminal() || to.rank() <= from.rank() {
		return false
	}
	if from == StatusDialing && to.Terminal() {
		return to == StatusFailed
	}
	return true
}

// TransitionError is a move the lifecycle does not allow, such as a late "ringing" after
// "completed". Callers that apply carrier events treat it as an event to ignore.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("call session cannot move from %s to %s", e.From, e.To)
}
