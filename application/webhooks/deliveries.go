package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// DefaultBusyDelay is how long a delivery waits when its endpoint already has its fill of
// attempts in flight.
const DefaultBusyDelay = time.Second

// Deliveries queues the call-ended events of agents with an outgoing webhook, makes their
// attempts as the job engine runs them, and serves the delivery log and replays.
type Deliveries struct {
	Endpoints  EndpointStore
	Deliveries DeliveryStore
	Sessions   Sessions
	// Campaigns, when set, names the batch and row of a campaign's call in its event.
	Campaigns CampaignCalls
	Sender    Sender
	// Schedule is the retry schedule (KUPE_WEBHOOK_RETRY_BASE).
	Schedule webhook.RetrySchedule
	// BusyDelay is the wait of a delivery whose endpoint is busy; DefaultBusyDelay when zero.
	BusyDelay time.Duration
	Now       func() time.Time
	// Rand makes webhook ids; crypto/rand when nil.
	Rand io.Reader
}

// OnCallFinal queues the event that reports the end of session sessionID, if its agent's
// outgoing webhook is on: call.failed for a failed session, call.completed for any other final
// status. It is the call_final job's hook, and safe to run any number of times: the event is
// queued once per session, whatever the retries. A session that has not ended, or has no
// agent, queues nothing.
func (d *Deliveries) OnCallFinal(ctx context.Context, sessionID string) error {
	s, err := d.Sessions.Session(ctx, sessionID)
	if errors.Is(err, fault.ErrNotFound) || errors.Is(err, call.ErrSessionNotFound) {
		return nil // nothing to report on, ever
	}
	if err != nil {
		return fmt.Errorf("read session %s: %w", sessionID, err)
	}
	if !s.Status().Terminal() || s.AgentID == "" {
		return nil
	}
	var cc CampaignCall
	if d.Campaigns != nil {
		c, ok, err := d.Campaigns.CampaignCall(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("read the campaign row of session %s: %w", s.ID, err)
		}
		if ok {
			cc = c
		}
	}
	body, err := sessionPayload(s, cc)
	if err != nil {
		return err
	}
	ev := sessionEvent(s)
	return d.enqueue(ctx, s.AgentID, s.UserID, ev, s.ID, string(ev)+":"+s.ID, body)
}

// BatchCompleted reports that a campaign has ended.
type BatchCompleted struct {
	BatchID     string
	UserID      string
	AgentID     string
	CompletedAt time.Time
	// Totals counts the campaign's rows by their final status, if the caller has them.
	Totals map[string]int
}

// OnBatchCompleted queues batch.completed for the campaign's agent, once per batch, if the
// agent's outgoing webhook is on. The campaigns call it when a batch ends.
func (d *Deliveries) OnBatchCompleted(ctx context.Context, b BatchCompleted) error {
	if b.BatchID == "" || b.AgentID == "" {
		return nil
	}
	at := b.CompletedAt
	if at.IsZero() {
		at = d.now()
	}
	body, err := json.Marshal(batchCompleted{Event: EventBatchCompleted, BatchID: b.BatchID, AgentID: b.AgentID,
		CompletedAt: timeText(at), Totals: b.Totals})
	if err != nil {
		return err
	}
	return d.enqueue(ctx, b.AgentID, b.UserID, EventBatchCompleted, "", string(EventBatchCompleted)+":"+b.BatchID, body)
}

func (d *Deliveries) enqueue(ctx context.Context, agentID, userID string, ev Event, sessionID, key string, body []byte) error {
	e, err := d.Endpoints.Endpoint(ctx, agentID)
	if errors.Is(err, ErrEndpointNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read webhook configuration of agent %s: %w", agentID, err)
	}
	if !e.Delivers() || (userID != "" && e.UserID != userID) {
		return nil
	}
	id, err := newMessageID(randOf(d.Rand))
	if err != nil {
		return err
	}
	now := d.now()
	dl := Delivery{ID: uuid.NewString(), WebhookID: id, AgentID: agentID, UserID: e.UserID, Event: ev,
		SessionID: sessionID, DedupeKey: key, Payload: body, Status: StatusPending, NextAttemptAt: now,
		CreatedAt: now, UpdatedAt: now}
	if e.DisabledReason != "" {
		// Kept in the log, failed, so that the owner can replay it once the endpoint is back.
		dl.Status, dl.NextAttemptAt = StatusFailed, time.Time{}
	}
	if _, _, err := d.Deliveries.Enqueue(ctx, dl); err != nil {
		return fmt.Errorf("queue %s for agent %s: %w", ev, agentID, err)
	}
	return nil
}

// Next is what the job engine does after an attempt: nothing more (Done), or run the job again
// after After without counting it as a failure of the job.
type Next struct {
	Done  bool
	After time.Duration
}

// Attempt makes the attempt job stands for, records it, and says when the next one is due: the
// retry schedule's delay after a retryable failure while retry_count allows, or Done once the
// delivery is delivered or has failed. A job of an earlier replay, or for a delivery already
// settled, sends nothing. When the endpoint already has its fill in flight nothing is sent and
// the job waits BusyDelay. An error means the outcome could not be read or stored; running the
// job again is safe (the receiver may get the same webhook-id twice, which it must expect).
func (d *Deliveries) Attempt(ctx context.Context, job DeliveryJob) (Next, error) {
	dl, err := d.Deliveries.Delivery(ctx, job.DeliveryID)
	if errors.Is(err, ErrDeliveryNotFound) {
		return Next{Done: true}, nil
	}
	if err != nil {
		return Next{}, fmt.Errorf("read delivery %s: %w", job.DeliveryID, err)
	}
	if dl.Status != StatusPending || dl.Replays != job.Replay {
		return Next{Done: true}, nil
	}
	now := d.now()
	if wait := dl.NextAttemptAt.Sub(now); wait > 0 {
		return Next{After: wait}, nil
	}
	e, err := d.Endpoints.Endpoint(ctx, dl.AgentID)
	switch {
	case errors.Is(err, ErrEndpointNotFound):
		return d.settle(ctx, job, dl, Attempt{At: now, Error: "not sent: the agent has no webhook configuration"})
	case err != nil:
		return Next{}, fmt.Errorf("read webhook configuration of agent %s: %w", dl.AgentID, err)
	case e.DisabledReason != "":
		return d.settle(ctx, job, dl, Attempt{At: now, Error: "not sent: endpoint " + e.DisabledReason})
	case e.Config.Outgoing().URL() == "" || !e.Config.Outgoing().Enabled():
		return d.settle(ctx, job, dl, Attempt{At: now, Error: "not sent: the outgoing webhook is off"})
	}

	res, sent := d.Sender.TrySend(ctx, Message{Key: e.AgentID, Endpoint: e.Config.Outgoing(), Secret: e.Secret,
		MessageID: dl.WebhookID, Body: dl.Payload})
	if !sent {
		return Next{After: d.busyDelay()}, nil
	}
	if res.At.IsZero() {
		res.At = now
	}
	a := Attempt{At: res.At.UTC(), StatusCode: res.StatusCode, Error: res.Error}
	delay, retry := d.Schedule.Next(dl.Round+1, res.Outcome, e.Config.Outgoing().RetryCount())
	p := Progress{Status: StatusFailed}
	switch {
	case res.Outcome == webhook.Delivered:
		p.Status = StatusDelivered
	case retry:
		p = Progress{Status: StatusPending, NextAttemptAt: a.At.Add(delay)}
	}
	if err := d.Deliveries.RecordAttempt(ctx, job, dl.Round, a, p); errors.Is(err, ErrStale) {
		return Next{Done: true}, nil
	} else if err != nil {
		return Next{}, fmt.Errorf("record attempt of delivery %s: %w", dl.ID, err)
	}
	if err := d.recordHealth(ctx, e, a.At, res.Outcome); err != nil {
		// The attempt is recorded; the health only decides when to disable, and the next
		// attempt records it again.
		return Next{}, err
	}
	if p.Status == StatusPending {
		return Next{After: p.NextAttemptAt.Sub(d.now())}, nil
	}
	return Next{Done: true}, nil
}

// settle fails a delivery that cannot be sent.
func (d *Deliveries) settle(ctx context.Context, job DeliveryJob, dl Delivery, a Attempt) (Next, error) {
	err := d.Deliveries.RecordAttempt(ctx, job, dl.Round, a, Progress{Status: StatusFailed})
	if err != nil && !errors.Is(err, ErrStale) {
		return Next{}, fmt.Errorf("record attempt of delivery %s: %w", dl.ID, err)
	}
	return Next{Done: true}, nil
}

// recordHealth adds the attempt to the endpoint's record and disables it once every delivery
// has failed for webhook.DisableAfter.
func (d *Deliveries) recordHealth(ctx context.Context, e Endpoint, at time.Time, o webhook.Outcome) error {
	_, err := d.Endpoints.PutEndpoint(ctx, e.AgentID, e.UserID, func(e *Endpoint, found bool) error {
		if !found {
			return ErrEndpointNotFound
		}
		e.Health = e.Health.Record(at, o)
		if reason, disable := e.Health.Disable(); disable && e.DisabledReason == "" {
			e.DisabledReason, e.DisabledAt = reason, at
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrEndpointNotFound) {
		return fmt.Errorf("record webhook health of agent %s: %w", e.AgentID, err)
	}
	return nil
}

// MaxPageSize bounds one page of the delivery log.
const MaxPageSize = 100

// ListDeliveries is a query of the delivery log. AgentID and Status are raw client strings.
type ListDeliveries struct {
	UserID  string
	AgentID string
	Status  string
	Offset  int
	Limit   int
}

// List returns one page of the user's deliveries, newest first, and how many match.
func (d *Deliveries) List(ctx context.Context, q ListDeliveries) ([]Delivery, int, error) {
	if q.UserID == "" {
		return nil, 0, fault.ErrUnauthenticated
	}
	var f DeliveryFilter
	if q.AgentID != "" {
		id, err := parseAgentID(q.AgentID)
		if err != nil {
			return nil, 0, err
		}
		f.AgentID = id
	}
	if q.Status != "" {
		st, ok := ParseStatus(q.Status)
		if !ok {
			return nil, 0, &fault.InvalidInputError{Detail: "status must be pending, delivered or failed"}
		}
		f.Status = st
	}
	if q.Limit <= 0 || q.Limit > MaxPageSize || q.Offset < 0 {
		return nil, 0, &fault.InvalidInputError{Detail: fmt.Sprintf("page_size must be 1 to %d", MaxPageSize)}
	}
	return d.Deliveries.UserDeliveries(ctx, q.UserID, f, q.Offset, q.Limit)
}

// Replay sends one of the user's deliveries again, now, with the same webhook-id and body, and
// the retry schedule from its start. A delivery still pending is sent now rather than when it
// was due.
func (d *Deliveries) Replay(ctx context.Context, userID, id string) (Delivery, error) {
	if userID == "" {
		return Delivery{}, fault.ErrUnauthenticated
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return Delivery{}, &fault.InvalidInputError{Detail: "delivery id must be a UUID"}
	}
	dl, err := d.Deliveries.Replay(ctx, userID, id, d.now())
	if err != nil {
		return Delivery{}, err
	}
	return dl, nil
}

func (d *Deliveries) busyDelay() time.Duration {
	if d.BusyDelay > 0 {
		return d.BusyDelay
	}
	return DefaultBusyDelay
}

func (d *Deliveries) now() time.Time { return nowOf(d.Now) }
