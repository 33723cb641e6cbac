package webhooks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/memstore"
	"github.com/kupe-voice/kupe/adapters/webhooksender"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// The rig runs the use cases on memstore and the real sender, against a local receiver, with a
// clock the test moves. Jobs the store schedules are collected and run by the test, in the
// order and at the times it chooses: the job engine's part.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// receiver answers each request with the next of its statuses (the last one repeats) and keeps
// what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
	hold     chan struct{} // when set, each request waits for it to close
	arrived  chan struct{}
}

type received struct {
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status = rc.statuses[0]
		if len(rc.statuses) > 1 {
			rc.statuses = rc.statuses[1:]
		}
	}
	hold, arrived := rc.hold, rc.arrived
	rc.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if hold != nil {
		<-hold
	}
	w.WriteHeader(status)
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

type scheduled struct {
	job webhooks.DeliveryJob
	at  time.Time
}

type rig struct {
	t         *testing.T
	clock     *clock
	store     *memstore.Store
	hooks     *memstore.Webhooks
	sender    *webhooksender.Sender
	endpoints *webhooks.Endpoints
	deliver   *webhooks.Deliveries
	start     *webhooks.StartCalls
	recv      *receiver
	url       string
	userID    string
	agentID   string
	mu        sync.Mutex
	jobs      []scheduled
}

const retryBase = 10 * time.Second

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, clock: &clock{now: time.Date(2027, 5, 6, 7, 8, 9, 0, time.UTC)}, recv: &receiver{}}
	srv := httptest.NewServer(r.recv)
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hooks/kupe"
	r.store = memstore.New()
	r.hooks = memstore.NewWebhooks(func(job webhooks.DeliveryJob, at time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.jobs = append(r.jobs, scheduled{job: job, at: at})
	})
	r.sender = webhooksender.New(webhooksender.Options{AllowPrivate: true, Now: r.clock.Now})
	t.Cleanup(r.sender.Close)
	port := webhooksender.Port{Sender: r.sender}
	schedule, err := webhook.NewRetrySchedule(retryBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.endpoints = &webhooks.Endpoints{Store: r.hooks, Agents: r.store, Sender: port, Now: r.clock.Now}
	r.deliver = &webhooks.Deliveries{Endpoints: r.hooks, Deliveries: r.hooks, Sessions: r.store, Sender: port,
		Schedule: schedule, Now: r.clock.Now}
	r.start = &webhooks.StartCalls{Endpoints: r.hooks}
	r.store.OnCallFinal(r.deliver.OnCallFinal)

	ctx := context.Background()
	r.userID, r.agentID = uuid.NewString(), uuid.NewString()
	if err := r.store.CreateUser(ctx, identity.User{ID: r.userID, Email: "owner@example.com", Credits: money.FromUnits(10),
		CreatedAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.CreateAgent(ctx, call.Agent{ID: r.agentID, UserID: r.userID, Name: "Sales", Active: true,
		CreatedAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return r
}

// configure turns the agent's outgoing webhook on, pointed at the receiver.
func (r *rig) configure(retryCount int) webhooks.Endpoint {
	r.t.Helper()
	e, err := r.endpoints.Put(context.Background(), webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID,
		Token: webhooks.SetToken,
		Input: webhook.ConfigInput{TriggerOnPhoneCall: true,
			Outgoing: webhook.OutgoingInput{Enabled: true, URL: r.url, AuthType: "bearer", AuthToken: "crm-token-1",
				RetryCount: &retryCount},
			Incoming: webhook.IncomingInput{Enabled: true}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

// endCall writes a session of the agent and moves it to status, as carrier events do; the
// store's call-final hook runs OnCallFinal.
func (r *rig) endCall(status call.Status) *call.Session {
	r.t.Helper()
	ctx := context.Background()
	now := r.clock.Now()
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: r.userID,
		AgentID: r.agentID, LineID: uuid.NewString(), Provider: call.ProviderSimulated, From: "+14155550100",
		To: "+14155550123", VariableValues: map[string]string{"customer_name": "Jane"}}, now)
	if err := r.store.CreateSession(ctx, s); err != nil {
		r.t.Fatal(err)
	}
	err := createcall.UpdateSession(ctx, r.store, s, func(s *call.Session) error {
		if status == call.StatusFailed {
			return s.MarkFailed("carrier refused the number", now.Add(time.Second))
		}
		if err := s.MarkDialed("leg-1", now); err != nil {
			return err
		}
		if _, err := s.Advance(call.StatusInProgress, now.Add(5*time.Second)); err != nil {
			return err
		}
		if _, err := s.Advance(status, now.Add(65*time.Second)); err != nil {
			return err
		}
		s.Duration = time.Minute
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// takeJobs returns the jobs scheduled since the last call.
func (r *rig) takeJobs() []scheduled {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.jobs
	r.jobs = nil
	return out
}

// run works a job as the engine does: due at its time, then again after each Next.After, until
// Done. It returns the waits it was told.
func (r *rig) run(job webhooks.DeliveryJob) []time.Duration {
	r.t.Helper()
	var waits []time.Duration
	for i := 0; i < 20; i++ {
		next, err := r.deliver.Attempt(context.Background(), job)
		if err != nil {
			r.t.Fatal(err)
		}
		if next.Done {
			return waits
		}
		waits = append(waits, next.After)
		r.clock.Advance(next.After)
	}
	r.t.Fatal("the job never finished")
	return nil
}

func (r *rig) delivery(id string) webhooks.Delivery {
	r.t.Helper()
	d, err := r.hooks.Delivery(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}
