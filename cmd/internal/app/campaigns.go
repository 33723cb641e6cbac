package app

import (
	"context"
	"errors"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/campaigncalls"
	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/campaign"
)

// Campaigns provides batch calling and the do-not-call list. Its dialler's jobs go to the
// queue's workers (group job_workers), and its settling of rows to the call-final outbox
// (group call_final): a process with Jobs dials campaigns, kupectl only records their jobs.
var Campaigns = fx.Module("campaigns",
	fx.Provide(
		NewCampaigns,
		func(s *entstore.Store) *campaigns.DoNotCall { return &campaigns.DoNotCall{Store: s} },
		fx.Annotate(func(svc *campaigns.Service) callfinal.Handler { return svc }, fx.ResultTags(`group:"call_final"`)),
		fx.Annotate(func(svc *campaigns.Service) WorkerRegistration {
			return func(ws *jobqueue.Workers) error { return campaigncalls.Register(ws, svc) }
		}, fx.ResultTags(`group:"job_workers"`)),
	),
)

// NewCampaigns builds the campaign use cases on the store and on create_call itself, so that
// every dial meets create_call's guards.
// A row calling for longer than create_call's own bound on an active call is taken for lost.
// A completed batch of an agent queues the agent's batch.completed webhook.
func NewCampaigns(c configs.Config, s *entstore.Store, cc *createcall.Handler, d *webhooks.Deliveries) *campaigns.Service {
	return &campaigns.Service{Store: s, Suppressions: s, Accounts: &campaigncalls.Accounts{Plans: s},
		Placer: &campaigncalls.Placer{CreateCall: cc}, Sessions: s, CallStaleAfter: c.Limits.ActiveCallStaleAfter,
		Completions: batchWebhooks{d}}
}

// batchWebhooks queues batch.completed when a batch completes (the campaign_completed job,
// inserted with the batch's completion and retried until the delivery is queued, once per
// batch).
type batchWebhooks struct{ d *webhooks.Deliveries }

func (w batchWebhooks) OnBatchCompleted(ctx context.Context, b *campaign.Batch, c campaigns.Counts) error {
	totals := make(map[string]int, len(c.ByStatus))
	for st, n := range c.ByStatus {
		totals[st.String()] = n
	}
	return w.d.OnBatchCompleted(ctx, webhooks.BatchCompleted{BatchID: b.ID, UserID: b.UserID,
		AgentID: b.Target.AgentID(), CompletedAt: b.CompletedAt, Totals: totals})
}

// campaignCalls finds the campaign row of a session, for the webhooks' call events.
type campaignCalls struct{ s campaigns.Store }

func (c campaignCalls) CampaignCall(ctx context.Context, sessionID string) (webhooks.CampaignCall, bool, error) {
	a, err := c.s.AttemptOfSession(ctx, sessionID)
	if errors.Is(err, campaigns.ErrNotFound) {
		return webhooks.CampaignCall{}, false, nil
	}
	if err != nil {
		return webhooks.CampaignCall{}, false, err
	}
	return webhooks.CampaignCall{BatchID: a.BatchID, RowID: a.EntryID}, true, nil
}
