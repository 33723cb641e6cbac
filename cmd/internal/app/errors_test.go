package app

import (
	"errors"
	"fmt"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

type needsKey struct{}

// ErrorLine is what the failing constructor said, with its own context, and not fx's chain of
// the functions that needed its result.
func TestErrorLineIsTheRootCause(t *testing.T) {
	cause := errors.New("KUPE_SECRETS_KEY is required\nwith PostgreSQL")
	err := fx.New(
		fx.NopLogger,
		fx.Provide(func() ([]byte, error) { return nil, fmt.Errorf("secrets key: %w", cause) }),
		fx.Provide(func([]byte) needsKey { return needsKey{} }),
		fx.Invoke(func(needsKey) {}),
	).Err()
	if err == nil {
		t.Fatal("fx.New succeeded")
	}
	if got := ErrorLine(err); got != "secrets key: KUPE_SECRETS_KEY is required with PostgreSQL" {
		t.Fatalf("ErrorLine = %q (fx says %q)", got, err)
	}
	if got := ErrorLine(errors.New("plain")); got != "plain" {
		t.Fatalf("ErrorLine(plain) = %q", got)
	}
}

type eventsSeen []fxevent.Event

func (e *eventsSeen) LogEvent(ev fxevent.Event) { *e = append(*e, ev) }

// fx's reports of a failure are dropped (the command prints the error once); its other events
// pass.
func TestQuietFailuresDropsOnlyFailures(t *testing.T) {
	var seen eventsSeen
	q := quietFailures{&seen}
	boom := errors.New("boom")
	for _, ev := range []fxevent.Event{
		&fxevent.Provided{Err: boom}, &fxevent.Invoked{Err: boom}, &fxevent.Run{Err: boom}, &fxevent.Started{Err: boom},
		&fxevent.OnStartExecuted{Err: boom}, &fxevent.RollingBack{StartErr: boom}, &fxevent.Stopped{Err: boom},
		&fxevent.Supplied{Err: boom}, &fxevent.Decorated{Err: boom}, &fxevent.Replaced{Err: boom},
	} {
		q.LogEvent(ev)
	}
	if len(seen) != 0 {
		t.Fatalf("failures passed: %#v", seen)
	}
	kept := []fxevent.Event{&fxevent.Provided{}, &fxevent.Invoked{}, &fxevent.Started{}, &fxevent.Stopping{}, &fxevent.OnStartExecuted{}}
	for _, ev := range kept {
		q.LogEvent(ev)
	}
	if len(seen) != len(kept) {
		t.Fatalf("%d of %d ordinary events passed", len(seen), len(kept))
	}
}
