package app

import (
	"context"
	"math/rand/v2"

	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/adapters/webhooksender"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callfinal"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// Webhooks runs agent webhooks: the configuration and start-call routes, the call-ended
// deliveries queued by the call-final outbox (a handler in the group "call_final") and sent by
// the job engine (a worker in the group "job_workers"), with the retry schedule from
// KUPE_WEBHOOK_RETRY_BASE and the address policy of KUPE_WEBHOOK_ALLOW_PRIVATE.
var Webhooks = fx.Module("webhooks",
	fx.Provide(
		NewWebhookSender,
		func(s *entstore.Store) *entstore.Webhooks { return s.Webhooks() },
		NewWebhookEndpoints,
		NewWebhookDeliveries,
		func(s *entstore.Webhooks) *webhooks.StartCalls { return &webhooks.StartCalls{Endpoints: s} },
		NewHTTPWebhooks,
		fx.Annotate(func(d *webhooks.Deliveries) callfinal.Handler { return d }, fx.ResultTags(`group:"call_final"`)),
		fx.Annotate(webhookWorker, fx.ResultTags(`group:"job_workers"`)),
	),
)

// NewWebhookSender is the sender of every delivery, closed with the app.
func NewWebhookSender(lc fx.Lifecycle, c configs.Config) webhooksender.Port {
	s := webhooksender.New(webhooksender.Options{AllowPrivate: c.Webhooks.AllowPrivate})
	lc.Append(fx.StopHook(s.Close))
	return webhooksender.Port{Sender: s}
}

// NewWebhookEndpoints serves the agents' webhook configurations.
func NewWebhookEndpoints(s *entstore.Webhooks, agents accounts.CatalogStore, snd webhooksender.Port) *webhooks.Endpoints {
	return &webhooks.Endpoints{Store: s, Agents: agents, Sender: snd}
}

// NewWebhookDeliveries queues, sends and replays deliveries on the configured schedule, with
// jitter.
// A campaign's call names its batch and row.
func NewWebhookDeliveries(c configs.Config, s *entstore.Webhooks, store *entstore.Store, sessions createcall.CallStore, snd webhooksender.Port) (*webhooks.Deliveries, error) {
	schedule, err := webhook.NewRetrySchedule(c.Webhooks.RetryBase, rand.Float64)
	if err != nil {
		return nil, err
	}
	return &webhooks.Deliveries{Endpoints: s, Deliveries: s, Sessions: sessions,
		Campaigns: campaignCalls{store}, Sender: snd, Schedule: schedule}, nil
}

// NewHTTPWebhooks is what the HTTP adapter serves of them.
func NewHTTPWebhooks(c configs.Config, e *webhooks.Endpoints, d *webhooks.Deliveries, sc *webhooks.StartCalls) *httpapi.Webhooks {
	return &httpapi.Webhooks{Endpoints: e, Deliveries: d, StartCalls: sc, PublicBaseURL: c.Carriers.PublicBaseURL}
}

// webhookWorker works delivery jobs: one attempt per run, and the next attempt by snoozing the
// job for the schedule's delay. The delivery row, not River's attempt counter, holds where a
// delivery is in its schedule (River's NextRetry sees the job, not the outcome of the run that
// failed): a snooze does not count against the job's attempts, and River's own retries are left
// for runs that could not read or record a delivery (the database was down).
func webhookWorker(d *webhooks.Deliveries) WorkerRegistration {
	return func(ws *jobqueue.Workers) error {
		return jobqueue.Register(ws, func(ctx context.Context, j jobqueue.Job[webhooks.DeliveryJob]) error {
			next, err := d.Attempt(ctx, j.Args)
			switch {
			case err != nil:
				return err
			case next.Done:
				return nil
			}
			return jobqueue.Snooze(max(next.After, 0))
		})
	}
}
