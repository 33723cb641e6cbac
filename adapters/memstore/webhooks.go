package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/kupe-voice/kupe/application/webhooks"
)

// Webhooks keeps agents' webhook endpoints and their deliveries in memory: a real
// webhooks.EndpointStore and webhooks.DeliveryStore. Each job it schedules goes to Schedule,
// called with the store's lock held, as a database store schedules in its transaction.
type Webhooks struct {
	mu         sync.Mutex
	endpoints  map[string]webhooks.Endpoint // by agent id
	deliveries map[string]webhooks.Delivery // by id; attempts included
	keys       map[string]string            // dedupe key -> delivery id
	schedule   func(job webhooks.DeliveryJob, at time.Time)
}

// NewWebhooks returns an empty store; schedule receives the jobs it schedules (nil drops them).
func NewWebhooks(schedule func(job webhooks.DeliveryJob, at time.Time)) *Webhooks {
	if schedule == nil {
		schedule = func(webhooks.DeliveryJob, time.Time) {}
	}
	return &Webhooks{endpoints: map[string]webhooks.Endpoint{}, deliveries: map[string]webhooks.Delivery{},
		keys: map[string]string{}, schedule: schedule}
}

var (
	_ webhooks.EndpointStore = (*Webhooks)(nil)
	_ webhooks.DeliveryStore = (*Webhooks)(nil)
)

// Endpoint implements webhooks.EndpointStore.
func (w *Webhooks) Endpoint(_ context.Context, agentID string) (webhooks.Endpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.endpoints[agentID]
	if !ok {
		return webhooks.Endpoint{}, webhooks.ErrEndpointNotFound
	}
	return e, nil
}

// UserEndpoints implements webhooks.EndpointStore.
func (w *Webhooks) UserEndpoints(_ context.Context, userID string) (map[string]webhooks.Endpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]webhooks.Endpoint{}
	for id, e := range w.endpoints {
		if e.UserID == userID {
			out[id] = e
		}
	}
	return out, nil
}

// PutEndpoint implements webhooks.EndpointStore.
func (w *Webhooks) PutEndpoint(_ context.Context, agentID, userID string, fn func(*webhooks.Endpoint, bool) error) (webhooks.Endpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, found := w.endpoints[agentID]
	if found && e.UserID != userID {
		return webhooks.Endpoint{}, webhooks.ErrEndpointNotFound
	}
	if !found {
		e = webhooks.Endpoint{AgentID: agentID, UserID: userID}
	}
	if err := fn(&e, found); err != nil {
		return webhooks.Endpoint{}, err
	}
	e.AgentID, e.UserID = agentID, userID
	w.endpoints[agentID] = e
	return e, nil
}

// Enqueue implements webhooks.DeliveryStore.
func (w *Webhooks) Enqueue(_ context.Context, d webhooks.Delivery) (webhooks.Delivery, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id, ok := w.keys[d.DedupeKey]; ok {
		return copyDelivery(w.deliveries[id]), false, nil
	}
	d.Round, d.Replays, d.Attempts = 0, 0, nil
	d.Payload = append([]byte(nil), d.Payload...)
	w.deliveries[d.ID] = d
	w.keys[d.DedupeKey] = d.ID
	if d.Status == webhooks.StatusPending {
		w.schedule(d.Job(), d.NextAttemptAt)
	}
	return copyDelivery(d), true, nil
}

// Delivery implements webhooks.DeliveryStore.
func (w *Webhooks) Delivery(_ context.Context, id string) (webhooks.Delivery, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deliveries[id]
	if !ok {
		return webhooks.Delivery{}, webhooks.ErrDeliveryNotFound
	}
	return copyDelivery(d), nil
}

// UserDeliveries implements webhooks.DeliveryStore.
func (w *Webhooks) UserDeliveries(_ context.Context, userID string, f webhooks.DeliveryFilter, offset, limit int) ([]webhooks.Delivery, int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var match []webhooks.Delivery
	for _, d := range w.deliveries {
		if d.UserID == userID && (f.AgentID == "" || d.AgentID == f.AgentID) && (f.Status == "" || d.Status == f.Status) {
			match = append(match, d)
		}
	}
	sort.Slice(match, func(i, j int) bool {
		if !match[i].CreatedAt.Equal(match[j].CreatedAt) {
			return match[i].CreatedAt.After(match[j].CreatedAt)
		}
		return match[i].ID > match[j].ID
	})
	out := []webhooks.Delivery{}
	for i := max(offset, 0); i < len(match) && len(out) < limit; i++ {
		out = append(out, copyDelivery(match[i]))
	}
	return out, len(match), nil
}

// RecordAttempt implements webhooks.DeliveryStore.
func (w *Webhooks) RecordAttempt(_ context.Context, job webhooks.DeliveryJob, round int, a webhooks.Attempt, p webhooks.Progress) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deliveries[job.DeliveryID]
	if !ok || d.Status != webhooks.StatusPending || d.Replays != job.Replay || d.Round != round {
		return webhooks.ErrStale
	}
	d.Attempts = append(append([]webhooks.Attempt(nil), d.Attempts...), a)
	d.Round++
	d.Status, d.NextAttemptAt = p.Status, p.NextAttemptAt
	if p.Status != webhooks.StatusPending {
		d.NextAttemptAt = time.Time{}
	}
	if a.At.After(d.UpdatedAt) {
		d.UpdatedAt = a.At
	}
	w.deliveries[d.ID] = d
	return nil
}

// Replay implements webhooks.DeliveryStore.
func (w *Webhooks) Replay(_ context.Context, userID, id string, at time.Time) (webhooks.Delivery, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deliveries[id]
	if !ok || d.UserID != userID {
		return webhooks.Delivery{}, webhooks.ErrDeliveryNotFound
	}
	d.Status, d.NextAttemptAt, d.Round, d.Replays, d.UpdatedAt = webhooks.StatusPending, at, 0, d.Replays+1, at
	w.deliveries[id] = d
	w.schedule(d.Job(), at)
	return copyDelivery(d), nil
}

func copyDelivery(d webhooks.Delivery) webhooks.Delivery {
	d.Attempts = append([]webhooks.Attempt(nil), d.Attempts...)
	d.Payload = append([]byte(nil), d.Payload...)
	return d
}
