package campaigncalls

import (
	"context"
	"errors"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/campaigns"
)

// Register adds the dialler's jobs to ws: campaign_tick runs svc.Tick and campaign_dial
// svc.Dial, whose *campaigns.WaitError (the user's own limits) snoozes the job instead of
// failing it. campaign_completed runs svc.Completed. svc.OnCallFinal is the dialler's call-final handler; the outbox's worker calls it.
func Register(ws *jobqueue.Workers, svc *campaigns.Service) error {
	if err := jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[campaigns.TickJob]) error {
		return svc.Tick(ctx, j.Args)
	}); err != nil {
		return err
	}
	if err := jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[campaigns.CompletedJob]) error {
		return svc.Completed(ctx, j.Args)
	}); err != nil {
		return err
	}
	return jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[campaigns.DialJob]) error {
		err := svc.Dial(ctx, j.Args)
		var wait *campaigns.WaitError
		if errors.As(err, &wait) {
			return jobqueue.Snooze(wait.After)
		}
		return err
	})
}
