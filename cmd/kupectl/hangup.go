package main

import (
	"flag"

	"github.com/kupe-voice/kupe/application/callevents"
)

// callsHangup ends a call in progress, whoever's it is, as POST /api/v1/calls/{id}/hangup does
// for its owner: "ended" is false when the carrier accepted the hang-up and reports the end
// later (Twilio).
func callsHangup(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("calls hangup", flag.ContinueOnError)
	id := fs.String("id", "", "")
	if err := parse(fs, args, "id"); err != nil {
		return nil, err
	}
	res, err := e.hangups.Handle(e.ctx, callevents.Hangup{Operator: true, SessionID: *id})
	if err != nil {
		return nil, err
	}
	s := res.Session
	return map[string]any{"call_session_id": s.ID, "request_id": s.RequestID, "status": s.Status().String(),
		"ended": res.Ended, "duration_seconds": s.Duration.Seconds(), "cost": s.Cost}, nil
}
