package app

import (
	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/campaigncalls"
	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/configs"
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
func NewCampaigns(c configs.Config, s *entstore.Store, cc *createcall.Handler) *campaigns.Service {
	return &campaigns.Service{Store: s, Suppressions: s, Accounts: &campaigncalls.Accounts{Plans: s},
		Placer: &campaigncalls.Placer{CreateCall: cc}, Sessions: s, CallStaleAfter: c.Limits.ActiveCallStaleAfter}
}
