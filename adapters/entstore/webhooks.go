package entstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/jobqueue"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/agentwebhook"
	"github.com/kupe-voice/kupe/ent/webhookattempt"
	"github.com/kupe-voice/kupe/ent/webhookdelivery"
)

// Webhooks is the agent webhooks' store on the store's database: webhooks.EndpointStore and
// webhooks.DeliveryStore. Secrets and bearer tokens are sealed like line credentials, bound
// to their column and agent.
type Webhooks struct{ s *Store }

var (
	_ webhooks.EndpointStore = (*Webhooks)(nil)
	_ webhooks.DeliveryStore = (*Webhooks)(nil)
)

// Webhooks returns the webhooks' store. It schedules each pending delivery's job through the
// store's Jobs (UseJobs), in the delivery's transaction: without Jobs no delivery can be queued.
func (s *Store) Webhooks() *Webhooks { return &Webhooks{s: s} }

func secretContext(agentID uuid.UUID) []byte {
	return []byte("kupe/agent_webhooks.secret/v1/" + agentID.String())
}

func tokenContext(agentID uuid.UUID) []byte {
	return []byte("kupe/agent_webhooks.bearer_token/v1/" + agentID.String())
}

// Endpoint implements webhooks.EndpointStore.
func (w *Webhooks) Endpoint(ctx context.Context, agentID string) (webhooks.Endpoint, error) {
	aid, ok := parseID(agentID)
	if !ok {
		return webhooks.Endpoint{}, webhooks.ErrEndpointNotFound
	}
	row, err := w.s.client.AgentWebhook.Query().Where(agentwebhook.AgentID(aid)).Only(ctx)
	if ent.IsNotFound(err) {
		return webhooks.Endpoint{}, webhooks.ErrEndpointNotFound
	}
	if err != nil {
		return webhooks.Endpoint{}, storeErr("read webhook endpoint", err)
	}
	return w.endpointOf(row)
}

// UserEndpoints implements webhooks.EndpointStore.
func (w *Webhooks) UserEndpoints(ctx context.Context, userID string) (map[string]webhooks.Endpoint, error) {
	out := map[string]webhooks.Endpoint{}
	uid, ok := parseID(userID)
	if !ok {
		return out, nil
	}
	rows, err := w.s.client.AgentWebhook.Query().Where(agentwebhook.UserID(uid)).All(ctx)
	if err != nil {
		return nil, storeErr("list webhook endpoints", err)
	}
	for _, r := range rows {
		e, err := w.endpointOf(r)
		if err != nil {
			return nil, err
		}
		out[e.AgentID] = e
	}
	return out, nil
}

// lockEndpoint serialises the changes of one agent's endpoint on PostgreSQL (SQLite's
// transactions take the write lock at BEGIN).
const lockEndpoint = `SELECT 1 FROM agent_webhooks WHERE agent_id = $1 FOR UPDATE`

// PutEndpoint implements webhooks.EndpointStore in one transaction: lock, read, fn, write. Two
// first writes for one agent at once: the loser's insert meets the unique agent_id, and it
// runs again on the winner's row.
func (w *Webhooks) PutEndpoint(ctx context.Context, agentID, userID string, fn func(*webhooks.Endpoint, bool) error) (webhooks.Endpoint, error) {
	aid, ok1 := parseID(agentID)
	uid, ok2 := parseID(userID)
	if !ok1 || !ok2 {
		return webhooks.Endpoint{}, webhooks.ErrEndpointNotFound
	}
	for try := 0; ; try++ {
		var out webhooks.Endpoint
		err := w.s.withTx(ctx, "put webhook endpoint", func(tx dialect.Tx, client *ent.Client) error {
			if w.s.name == Postgres {
				var rows entsql.Rows
				if err := tx.Query(ctx, lockEndpoint, []any{aid.String()}, &rows); err != nil {
					return storeErr("lock webhook endpoint", err)
				}
				rows.Close()
			}
			row, err := client.AgentWebhook.Query().Where(agentwebhook.AgentID(aid)).Only(ctx)
			found := err == nil
			if err != nil && !ent.IsNotFound(err) {
				return storeErr("read webhook endpoint", err)
			}
			e := webhooks.Endpoint{AgentID: aid.String(), UserID: uid.String()}
			if found {
				if row.UserID != uid {
					return webhooks.ErrEndpointNotFound
				}
				if e, err = w.endpointOf(row); err != nil {
					return err
				}
			}
			if err := fn(&e, found); err != nil {
				return err
			}
			e.AgentID, e.UserID = aid.String(), uid.String()
			if found {
				err = w.saveEndpoint(ctx, client.AgentWebhook.UpdateOneID(row.ID), aid, e)
			} else {
				c := client.AgentWebhook.Create().SetAgentID(aid).SetUserID(uid).SetCreatedAt(e.CreatedAt.UTC())
				if err = w.writeEndpoint(c.Mutation(), aid, e); err == nil {
					err = storeErr("create webhook endpoint", c.Exec(ctx))
				}
			}
			out = e
			return err
		})
		if errors.Is(err, fault.ErrAlreadyExists) && try == 0 {
			continue
		}
		if err != nil {
			return webhooks.Endpoint{}, err
		}
		return out, nil
	}
}

func (w *Webhooks) saveEndpoint(ctx context.Context, u *ent.AgentWebhookUpdateOne, aid uuid.UUID, e webhooks.Endpoint) error {
	if err := w.writeEndpoint(u.Mutation(), aid, e); err != nil {
		return err
	}
	return storeErr("update webhook endpoint", u.Exec(ctx))
}

// writeEndpoint sets every column an endpoint's life may change.
func (w *Webhooks) writeEndpoint(m *ent.AgentWebhookMutation, aid uuid.UUID, e webhooks.Endpoint) error {
	if w.s.secrets == nil {
		return ErrNoSecretsKey
	}
	if e.Secret.IsZero() {
		return errors.New("store webhook endpoint: no secret")
	}
	in := e.Config.Input()
	o := in.Outgoing
	m.SetTriggerOnPhoneCall(in.TriggerOnPhoneCall)
	m.SetOutgoingEnabled(o.Enabled)
	m.SetOutgoingURL(o.URL)
	if len(o.Headers) > 0 {
		m.SetOutgoingHeaders(o.Headers)
	} else {
		m.ClearOutgoingHeaders()
	}
	m.SetRetryCount(*o.RetryCount)
	if o.AuthToken != "" {
		m.SetBearerToken(w.s.secrets.Seal([]byte(o.AuthToken), tokenContext(aid)))
	} else {
		m.ClearBearerToken()
	}
	m.SetIncomingEnabled(in.Incoming.Enabled)
	if vs := in.Incoming.AttachedVariables; len(vs) > 0 {
		out := make([]map[string]string, 0, len(vs))
		for _, v := range vs {
			out = append(out, map[string]string{"name": v.Name, "default_value": v.DefaultValue})
		}
		m.SetAttachedVariables(out)
	} else {
		m.ClearAttachedVariables()
	}
	m.SetSecret(w.s.secrets.Seal([]byte(e.Secret.Reveal()), secretContext(aid)))
	m.SetDisabledReason(e.DisabledReason)
	setOrClear(optionalTime(e.DisabledAt), m.SetDisabledAt, m.ClearDisabledAt)
	h := e.Health
	setOrClear(optionalTime(h.FailingSince), m.SetFailingSince, m.ClearFailingSince)
	setOrClear(optionalTime(h.LastFailure), m.SetLastFailureAt, m.ClearLastFailureAt)
	setOrClear(optionalTime(h.LastDelivered), m.SetLastDeliveredAt, m.ClearLastDeliveredAt)
	m.SetFailures(h.Failures)
	m.SetUpdatedAt(e.UpdatedAt.UTC())
	return nil
}

// endpointOf reads a row back into the domain, opening its sealed values. Its errors never
// quote a stored byte.
func (w *Webhooks) endpointOf(r *ent.AgentWebhook) (webhooks.Endpoint, error) {
	if w.s.secrets == nil {
		return webhooks.Endpoint{}, ErrNoSecretsKey
	}
	plain, err := w.s.secrets.Open(r.Secret, secretContext(r.AgentID))
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("open the webhook secret of agent %s: %w", r.AgentID, err)
	}
	secret, err := webhook.ParseSecret(string(plain))
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("the webhook secret of agent %s is not valid", r.AgentID)
	}
	rc := r.RetryCount
	in := webhook.ConfigInput{
		TriggerOnPhoneCall: r.TriggerOnPhoneCall,
		Outgoing: webhook.OutgoingInput{Enabled: r.OutgoingEnabled, URL: r.OutgoingURL, Headers: r.OutgoingHeaders,
			RetryCount: &rc},
		Incoming: webhook.IncomingInput{Enabled: r.IncomingEnabled},
	}
	if r.BearerToken != nil && len(*r.BearerToken) > 0 {
		tok, err := w.s.secrets.Open(*r.BearerToken, tokenContext(r.AgentID))
		if err != nil {
			return webhooks.Endpoint{}, fmt.Errorf("open the webhook token of agent %s: %w", r.AgentID, err)
		}
		in.Outgoing.AuthType, in.Outgoing.AuthToken = "bearer", string(tok)
	}
	for _, v := range r.AttachedVariables {
		in.Incoming.AttachedVariables = append(in.Incoming.AttachedVariables,
			webhook.AttachedVariable{Name: v["name"], DefaultValue: v["default_value"]})
	}
	cfg, err := webhook.NewConfig(in)
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("the stored webhook configuration of agent %s is not valid: %w", r.AgentID, err)
	}
	return webhooks.Endpoint{
		AgentID: r.AgentID.String(), UserID: r.UserID.String(), Config: cfg, Secret: secret,
		Health: webhook.Health{FailingSince: timeOf(r.FailingSince), LastFailure: timeOf(r.LastFailureAt),
			LastDelivered: timeOf(r.LastDeliveredAt), Failures: r.Failures},
		DisabledReason: r.DisabledReason, DisabledAt: timeOf(r.DisabledAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

func (w *Webhooks) schedule(ctx context.Context, tx dialect.Tx, job webhooks.DeliveryJob, at time.Time) error {
	if w.s.jobs == nil {
		return errors.New("entstore: webhook deliveries need the job queue (Store.UseJobs)")
	}
	if err := w.s.insertJob(ctx, tx, job, &jobqueue.InsertOpts{ScheduledAt: at.UTC()}); err != nil {
		return fmt.Errorf("schedule delivery %s: %w", job.DeliveryID, err)
	}
	return nil
}

// Enqueue implements webhooks.DeliveryStore: the row and, for a pending delivery, its job in
// one transaction. A concurrent Enqueue of the same key loses on the unique dedupe_key and
// reads the winner's.
func (w *Webhooks) Enqueue(ctx context.Context, d webhooks.Delivery) (webhooks.Delivery, bool, error) {
	id, err := requireID("delivery", d.ID)
	if err != nil {
		return webhooks.Delivery{}, false, err
	}
	aid, err := requireID("agent", d.AgentID)
	if err != nil {
		return webhooks.Delivery{}, false, err
	}
	uid, err := requireID("user", d.UserID)
	if err != nil {
		return webhooks.Delivery{}, false, err
	}
	sid, err := optionalID(d.SessionID)
	if err != nil {
		return webhooks.Delivery{}, false, err
	}
	var existing *ent.WebhookDelivery
	err = w.s.withTx(ctx, "queue webhook delivery", func(tx dialect.Tx, client *ent.Client) error {
		row, err := client.WebhookDelivery.Query().Where(webhookdelivery.DedupeKey(d.DedupeKey)).Only(ctx)
		if err == nil {
			existing = row
			return nil
		}
		if !ent.IsNotFound(err) {
			return storeErr("read webhook delivery", err)
		}
		c := client.WebhookDelivery.Create().SetID(id).SetWebhookID(d.WebhookID).SetAgentID(aid).SetUserID(uid).
			SetEvent(string(d.Event)).SetNillableSessionID(sid).SetDedupeKey(d.DedupeKey).SetPayload(d.Payload).
			SetStatus(string(d.Status)).SetNillableNextAttemptAt(optionalTime(d.NextAttemptAt)).
			SetCreatedAt(d.CreatedAt.UTC()).SetUpdatedAt(d.UpdatedAt.UTC())
		if err := c.Exec(ctx); err != nil {
			return storeErr("queue webhook delivery", err)
		}
		if d.Status == webhooks.StatusPending {
			return w.schedule(ctx, tx, d.Job(), d.NextAttemptAt)
		}
		return nil
	})
	if errors.Is(err, fault.ErrAlreadyExists) {
		row, rerr := w.s.client.WebhookDelivery.Query().Where(webhookdelivery.DedupeKey(d.DedupeKey)).Only(ctx)
		if rerr != nil {
			return webhooks.Delivery{}, false, storeErr("read webhook delivery", rerr)
		}
		existing, err = row, nil
	}
	if err != nil {
		return webhooks.Delivery{}, false, err
	}
	if existing != nil {
		out, err := w.Delivery(ctx, existing.ID.String())
		return out, false, err
	}
	d.Round, d.Replays, d.Attempts = 0, 0, nil
	return d, true, nil
}

// Delivery implements webhooks.DeliveryStore.
func (w *Webhooks) Delivery(ctx context.Context, id string) (webhooks.Delivery, error) {
	did, ok := parseID(id)
	if !ok {
		return webhooks.Delivery{}, webhooks.ErrDeliveryNotFound
	}
	row, err := w.s.client.WebhookDelivery.Query().Where(webhookdelivery.ID(did)).WithAttempts(byTime).Only(ctx)
	if ent.IsNotFound(err) {
		return webhooks.Delivery{}, webhooks.ErrDeliveryNotFound
	}
	if err != nil {
		return webhooks.Delivery{}, storeErr("read webhook delivery", err)
	}
	return deliveryOf(row), nil
}

func byTime(q *ent.WebhookAttemptQuery) {
	q.Order(ent.Asc(webhookattempt.FieldAt), ent.Asc(webhookattempt.FieldID))
}

// UserDeliveries implements webhooks.DeliveryStore: a count, the page, and the page's
// attempts.
func (w *Webhooks) UserDeliveries(ctx context.Context, userID string, f webhooks.DeliveryFilter, offset, limit int) ([]webhooks.Delivery, int, error) {
	out := []webhooks.Delivery{}
	uid, ok := parseID(userID)
	if !ok || limit <= 0 {
		return out, 0, nil
	}
	q := w.s.client.WebhookDelivery.Query().Where(webhookdelivery.UserID(uid))
	if f.AgentID != "" {
		aid, ok := parseID(f.AgentID)
		if !ok {
			return out, 0, nil
		}
		q.Where(webhookdelivery.AgentID(aid))
	}
	if f.Status != "" {
		q.Where(webhookdelivery.Status(string(f.Status)))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, storeErr("count webhook deliveries", err)
	}
	if offset = max(offset, 0); offset >= total {
		return out, total, nil
	}
	rows, err := q.WithAttempts(byTime).
		Order(ent.Desc(webhookdelivery.FieldCreatedAt), ent.Desc(webhookdelivery.FieldID)).
		Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, storeErr("list webhook deliveries", err)
	}
	for _, r := range rows {
		out = append(out, deliveryOf(r))
	}
	return out, total, nil
}

// RecordAttempt implements webhooks.DeliveryStore: one conditional UPDATE and one INSERT.
func (w *Webhooks) RecordAttempt(ctx context.Context, job webhooks.DeliveryJob, round int, a webhooks.Attempt, p webhooks.Progress) error {
	did, ok := parseID(job.DeliveryID)
	if !ok {
		return webhooks.ErrStale
	}
	next := p.NextAttemptAt
	if p.Status != webhooks.StatusPending {
		next = time.Time{}
	}
	return w.s.withTx(ctx, "record webhook attempt", func(_ dialect.Tx, client *ent.Client) error {
		n, err := client.WebhookDelivery.Update().
			Where(webhookdelivery.ID(did), webhookdelivery.Status(string(webhooks.StatusPending)),
				webhookdelivery.Round(round), webhookdelivery.Replays(job.Replay)).
			SetStatus(string(p.Status)).SetNillableNextAttemptAt(optionalTime(next)).
			AddRound(1).SetUpdatedAt(a.At.UTC()).
			Save(ctx)
		if err := affectedOne("record webhook attempt", n, err, webhooks.ErrStale); err != nil {
			return err
		}
		if next.IsZero() {
			if err := client.WebhookDelivery.UpdateOneID(did).ClearNextAttemptAt().Exec(ctx); err != nil {
				return storeErr("record webhook attempt", err)
			}
		}
		err = client.WebhookAttempt.Create().SetDeliveryID(did).SetAt(a.At.UTC()).SetStatusCode(a.StatusCode).
			SetError(a.Error).Exec(ctx)
		return storeErr("record webhook attempt", err)
	})
}

// Replay implements webhooks.DeliveryStore: the row back to pending and its new job, in one
// transaction.
func (w *Webhooks) Replay(ctx context.Context, userID, id string, at time.Time) (webhooks.Delivery, error) {
	did, ok1 := parseID(id)
	uid, ok2 := parseID(userID)
	if !ok1 || !ok2 {
		return webhooks.Delivery{}, webhooks.ErrDeliveryNotFound
	}
	var out webhooks.Delivery
	err := w.s.withTx(ctx, "replay webhook delivery", func(tx dialect.Tx, client *ent.Client) error {
		n, err := client.WebhookDelivery.Update().
			Where(webhookdelivery.ID(did), webhookdelivery.UserID(uid)).
			SetStatus(string(webhooks.StatusPending)).SetNextAttemptAt(at.UTC()).SetRound(0).AddReplays(1).
			SetUpdatedAt(at.UTC()).
			Save(ctx)
		if err := affectedOne("replay webhook delivery", n, err, webhooks.ErrDeliveryNotFound); err != nil {
			return err
		}
		row, err := client.WebhookDelivery.Query().Where(webhookdelivery.ID(did)).WithAttempts(byTime).Only(ctx)
		if err != nil {
			return storeErr("read webhook delivery", err)
		}
		out = deliveryOf(row)
		return w.schedule(ctx, tx, out.Job(), at)
	})
	if err != nil {
		return webhooks.Delivery{}, err
	}
	return out, nil
}

func deliveryOf(r *ent.WebhookDelivery) webhooks.Delivery {
	d := webhooks.Delivery{
		ID: r.ID.String(), WebhookID: r.WebhookID, AgentID: r.AgentID.String(), UserID: r.UserID.String(),
		Event: webhooks.Event(r.Event), SessionID: idString(r.SessionID), DedupeKey: r.DedupeKey, Payload: r.Payload,
		Status: webhooks.Status(r.Status), NextAttemptAt: timeOf(r.NextAttemptAt), Round: r.Round, Replays: r.Replays,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	for _, a := range r.Edges.Attempts {
		d.Attempts = append(d.Attempts, webhooks.Attempt{At: a.At.UTC(), StatusCode: a.StatusCode, Error: a.Error})
	}
	return d
}
