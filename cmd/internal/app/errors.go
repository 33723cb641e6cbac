package app

import (
	"strings"

	"go.uber.org/dig"
	"go.uber.org/fx/fxevent"
)

// ErrorLine is err as the one line a command prints: the root cause of an fx error (what a
// constructor or an invoked function returned, without fx's chain of the functions that needed
// it), its lines joined. Commands print it once, on stderr, and exit non-zero.
func ErrorLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(dig.RootCause(err).Error()), " ")
}

// quietFailures is fx's event logger minus the events that carry an error which fx also returns
// (a failed provide, invoke, start or stop): the command prints that error itself, once, as
// ErrorLine, instead of fx logging its whole dependency chain on the way.
type quietFailures struct{ fxevent.Logger }

func (q quietFailures) LogEvent(e fxevent.Event) {
	switch e := e.(type) {
	case *fxevent.Provided:
		if e.Err != nil {
			return
		}
	case *fxevent.Supplied:
		if e.Err != nil {
			return
		}
	case *fxevent.Decorated:
		if e.Err != nil {
			return
		}
	case *fxevent.Replaced:
		if e.Err != nil {
			return
		}
	case *fxevent.Run:
		if e.Err != nil {
			return
		}
	case *fxevent.Invoked:
		if e.Err != nil {
			return
		}
	case *fxevent.OnStartExecuted:
		if e.Err != nil {
			return
		}
	case *fxevent.Started:
		if e.Err != nil {
			return
		}
	case *fxevent.RollingBack:
		return
	case *fxevent.Stopped:
		if e.Err != nil {
			return
		}
	}
	q.Logger.LogEvent(e)
}
