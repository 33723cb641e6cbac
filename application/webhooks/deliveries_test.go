package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
)

func TestCallEndQueuesOneSignedDelivery(t *testing.T) {
	r := newRig(t)
	e := r.configure(5)
	s := r.endCall(call.StatusCompleted)
	// The outbox may announce a session more than once.
	for i := 0; i < 2; i++ {
		if err := r.deliver.OnCallFinal(context.Background(), s.ID); err != nil {
			t.Fatal(err)
		}
	}
	jobs := r.takeJobs()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs scheduled for one session, want 1", len(jobs))
	}
	if waits := r.run(jobs[0].job); len(waits) != 0 {
		t.Fatalf("a delivered attempt asked to run again: %v", waits)
	}
	got := r.recv.received()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(got))
	}
	wh, err := standardwebhooks.NewWebhook(e.Secret.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	// The library checks the timestamp against the real clock; the rig's is fixed.
	if err := wh.VerifyIgnoringTimestamp(got[0].body, got[0].header); err != nil {
		t.Fatalf("the Standard Webhooks library refuses the delivery: %v", err)
	}
	if a := got[0].header.Get("Authorization"); a != "Bearer crm-token-1" {
		t.Fatalf("Authorization %q", a)
	}
	var p map[string]any
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "call.completed", "call_id": s.ID, "call_session_id": s.ID, "request_id": s.RequestID,
		"agent_id": r.agentID, "mobile_number": "+14155550123", "to_number": "+14155550123", "from_number": "+14155550100",
		"call_direction": "outbound", "call_status": "completed", "call_duration": 60.0,
		"call_datetime": s.CreatedAt.Format(time.RFC3339)}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("payload %s = %v, want %v", k, p[k], v)
		}
	}
	if vv, _ := p["variable_values"].(map[string]any); vv["customer_name"] != "Jane" {
		t.Errorf("payload variable_values = %v", p["variable_values"])
	}
	d := r.delivery(jobs[0].job.DeliveryID)
	if d.Status != webhooks.StatusDelivered || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 ||
		got[0].header.Get("webhook-id") != d.WebhookID {
		t.Fatalf("delivery after the attempt: %+v", d)
	}
}

func TestFailedDialSendsCallFailed(t *testing.T) {
	r := newRig(t)
	r.configure(5)
	s := r.endCall(call.StatusFailed)
	jobs := r.takeJobs()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
	r.run(jobs[0].job)
	got := r.recv.received()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	var p map[string]any
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p["event"] != "call.failed" || p["call_id"] != s.ID || p["error_reason"] != "carrier refused the number" {
		t.Fatalf("payload %v", p)
	}
}

func TestRetryableFailuresFollowTheSchedule(t *testing.T) {
	r := newRig(t)
	r.configure(5)
	r.recv.statuses = []int{503, 503, 200}
	r.endCall(call.StatusCompleted)
	jobs := r.takeJobs()
	waits := r.run(jobs[0].job)
	// Without jitter: the base, then six times it.
	if len(waits) != 2 || waits[0] != retryBase || waits[1] != 6*retryBase {
		t.Fatalf("waits %v, want [%v %v]", waits, retryBase, 6*retryBase)
	}
	got := r.recv.received()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for i, g := range got {
		if g.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Fatalf("attempt %d has webhook-id %q, the first %q", i+1, g.header.Get("webhook-id"), got[0].header.Get("webhook-id"))
		}
	}
	d := r.delivery(jobs[0].job.DeliveryID)
	if d.Status != webhooks.StatusDelivered || len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 503 ||
		d.Attempts[1].StatusCode != 503 || d.Attempts[2].StatusCode != 200 || !d.NextAttemptAt.IsZero() {
		t.Fatalf("delivery %+v", d)
	}
	if !strings.Contains(d.Attempts[0].Error, "503") || d.Attempts[2].Error != "" {
		t.Fatalf("attempt errors %q, %q", d.Attempts[0].Error, d.Attempts[2].Error)
	}
}

func TestOtherClientErrorsAreNotRetried(t *testing.T) {
	r := newRig(t)
	r.configure(5)
	r.recv.statuses = []int{400}
	r.endCall(call.StatusCompleted)
	jobs := r.takeJobs()
	if waits := r.run(jobs[0].job); len(waits) != 0 {
		t.Fatalf("a 400 was retried after %v", waits)
	}
	if n := len(r.recv.received()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if d := r.delivery(jobs[0].job.DeliveryID); d.Status != webhooks.StatusFailed || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 400 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestRetryCountBoundsTheAttempts(t *testing.T) {
	r := newRig(t)
	r.configure(2)
	r.recv.statuses = []int{500}
	r.endCall(call.StatusNoAnswer)
	jobs := r.takeJobs()
	if waits := r.run(jobs[0].job); len(waits) != 2 {
		t.Fatalf("waits %v, want two retries", waits)
	}
	if n := len(r.recv.received()); n != 3 {
		t.Fatalf("%d requests, want 3 (retry_count 2)", n)
	}
	if d := r.delivery(jobs[0].job.DeliveryID); d.Status != webhooks.StatusFailed || len(d.Attempts) != 3 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestNoDeliveryWithoutAnOutgoingWebhook(t *testing.T) {
	r := newRig(t)
	r.endCall(call.StatusCompleted) // never configured
	rc := 5
	_, err := r.endpoints.Put(context.Background(), webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID,
		Input: webhook.ConfigInput{TriggerOnPhoneCall: true, Outgoing: webhook.OutgoingInput{Enabled: false, URL: r.url, RetryCount: &rc}}})
	if err != nil {
		t.Fatal(err)
	}
	r.endCall(call.StatusCompleted) // configured, off
	if jobs := r.takeJobs(); len(jobs) != 0 {
		t.Fatalf("%d jobs for an agent without an outgoing webhook", len(jobs))
	}
	if ds, n, err := r.hooks.UserDeliveries(context.Background(), r.userID, webhooks.DeliveryFilter{}, 0, 10); err != nil || n != 0 {
		t.Fatalf("deliveries %v, %d, %v", ds, n, err)
	}
}

func TestEndpointDisabledAfterADayOfFailures(t *testing.T) {
	r := newRig(t)
	r.configure(0)
	r.recv.statuses = []int{500}
	// A failed delivery every six hours, for a day and a bit.
	for i := 0; i <= 4; i++ {
		r.endCall(call.StatusCompleted)
		for _, j := range r.takeJobs() {
			r.run(j.job)
		}
		r.clock.Advance(6*time.Hour + time.Minute)
	}
	e, err := r.endpoints.Get(context.Background(), r.userID, r.agentID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.DisabledReason, "every delivery failed") {
		t.Fatalf("after a day of failures the endpoint is not disabled: %q (health %+v)", e.DisabledReason, e.Health)
	}
	// Events of a disabled endpoint are kept, failed, for replay; nothing is sent.
	before := len(r.recv.received())
	s := r.endCall(call.StatusCompleted)
	if jobs := r.takeJobs(); len(jobs) != 0 {
		t.Fatalf("a disabled endpoint got %d jobs", len(jobs))
	}
	ds, _, err := r.hooks.UserDeliveries(context.Background(), r.userID, webhooks.DeliveryFilter{Status: webhooks.StatusFailed}, 0, 1)
	if err != nil || len(ds) != 1 || ds[0].SessionID != s.ID {
		t.Fatalf("the disabled endpoint's event: %+v, %v", ds, err)
	}
	// A PUT turns it back on; the owner replays the event.
	r.recv.statuses = []int{204}
	if e := r.configure(0); e.DisabledReason != "" {
		t.Fatalf("a PUT kept the reason %q", e.DisabledReason)
	}
	if _, err := r.deliver.Replay(context.Background(), r.userID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, j := range r.takeJobs() {
		r.run(j.job)
	}
	if n := len(r.recv.received()); n != before+1 {
		t.Fatalf("after the replay the receiver got %d more requests, want 1", n-before)
	}
	if d := r.delivery(ds[0].ID); d.Status != webhooks.StatusDelivered {
		t.Fatalf("replayed delivery %+v", d)
	}
}

func TestReplayKeepsTheWebhookID(t *testing.T) {
	r := newRig(t)
	r.configure(0)
	r.recv.statuses = []int{410, 200}
	r.endCall(call.StatusBusy)
	jobs := r.takeJobs()
	r.run(jobs[0].job)
	id := jobs[0].job.DeliveryID
	if _, err := r.deliver.Replay(context.Background(), "someone-else", id); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
		t.Fatalf("replay by another user: %v", err)
	}
	if _, err := r.deliver.Replay(context.Background(), r.userID, "not-a-uuid"); err == nil {
		t.Fatal("replay of a malformed id passed")
	}
	d, err := r.deliver.Replay(context.Background(), r.userID, id)
	if err != nil {
		t.Fatal(err)
	}
	replayed := r.takeJobs()
	if len(replayed) != 1 || replayed[0].job.Replay != 1 {
		t.Fatalf("replay scheduled %+v", replayed)
	}
	// The first job, run late, sends nothing.
	r.run(jobs[0].job)
	r.run(replayed[0].job)
	got := r.recv.received()
	if len(got) != 2 || got[1].header.Get("webhook-id") != got[0].header.Get("webhook-id") ||
		got[1].header.Get("webhook-id") != d.WebhookID || string(got[1].body) != string(got[0].body) {
		t.Fatalf("replay sent %d requests; ids %q %q", len(got), got[0].header.Get("webhook-id"), got[len(got)-1].header.Get("webhook-id"))
	}
	if d := r.delivery(id); d.Status != webhooks.StatusDelivered || len(d.Attempts) != 2 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestBusyEndpointWaitsWithoutSending(t *testing.T) {
	r := newRig(t)
	r.configure(0)
	r.recv.hold, r.recv.arrived = make(chan struct{}), make(chan struct{}, 20)
	var jobs []scheduled
	for i := 0; i < 11; i++ {
		r.endCall(call.StatusCompleted)
		jobs = append(jobs, r.takeJobs()...)
	}
	var wg sync.WaitGroup
	for _, j := range jobs[:10] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.deliver.Attempt(context.Background(), j.job); err != nil {
				t.Error(err)
			}
		}()
	}
	for i := 0; i < 10; i++ {
		<-r.recv.arrived
	}
	next, err := r.deliver.Attempt(context.Background(), jobs[10].job)
	if err != nil || next.Done || next.After != webhooks.DefaultBusyDelay {
		t.Fatalf("the eleventh attempt: %+v, %v; want a wait of %v", next, err, webhooks.DefaultBusyDelay)
	}
	if d := r.delivery(jobs[10].job.DeliveryID); len(d.Attempts) != 0 || d.Status != webhooks.StatusPending {
		t.Fatalf("a busy wait was recorded as an attempt: %+v", d)
	}
	close(r.recv.hold)
	wg.Wait()
	r.run(jobs[10].job)
	if n := len(r.recv.received()); n != 11 {
		t.Fatalf("%d requests, want 11", n)
	}
}

func TestListDeliveriesChecksItsFilter(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	var inv *fault.InvalidInputError
	for _, q := range []webhooks.ListDeliveries{
		{UserID: r.userID, AgentID: "x", Limit: 10},
		{UserID: r.userID, Status: "sent", Limit: 10},
		{UserID: r.userID, Limit: 0},
		{UserID: r.userID, Limit: webhooks.MaxPageSize + 1},
	} {
		if _, _, err := r.deliver.List(ctx, q); !errors.As(err, &inv) {
			t.Errorf("List(%+v): %v, want a 422", q, err)
		}
	}
	r.configure(0)
	r.endCall(call.StatusCompleted)
	ds, n, err := r.deliver.List(ctx, webhooks.ListDeliveries{UserID: r.userID, AgentID: r.agentID, Status: "pending", Limit: 10})
	if err != nil || n != 1 || len(ds) != 1 || ds[0].Event != webhooks.EventCallCompleted {
		t.Fatalf("List: %+v, %d, %v", ds, n, err)
	}
	if _, n, err := r.deliver.List(ctx, webhooks.ListDeliveries{UserID: "other", Limit: 10}); err != nil || n != 0 {
		t.Fatalf("another user's list: %d, %v", n, err)
	}
	_ = http.StatusOK
}

// campaignRows is the campaign rows of sessions, by session id.
type campaignRows map[string]webhooks.CampaignCall

func (c campaignRows) CampaignCall(_ context.Context, sessionID string) (webhooks.CampaignCall, bool, error) {
	cc, ok := c[sessionID]
	return cc, ok, nil
}

func TestCampaignCallNamesItsBatchRowAndAnsweredBy(t *testing.T) {
	r := newRig(t)
	r.configure(5)
	rows := campaignRows{}
	r.deliver.Campaigns = rows
	ctx := context.Background()
	now := r.clock.Now()
	s := call.NewSession(call.Session{ID: uuid.NewString(), RequestID: uuid.NewString(), UserID: r.userID,
		AgentID: r.agentID, LineID: uuid.NewString(), Provider: call.ProviderSimulated, From: "+14155550100",
		To: "+14155550123"}, now)
	rows[s.ID] = webhooks.CampaignCall{BatchID: "batch-7", RowID: "row-3"}
	if err := r.store.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := createcall.UpdateSession(ctx, r.store, s, func(s *call.Session) error {
		if err := s.MarkDialed("leg-1", now); err != nil {
			return err
		}
		if _, err := s.Advance(call.StatusInProgress, now.Add(5*time.Second)); err != nil {
			return err
		}
		s.AnsweredBy = call.AnsweredByHuman
		_, err := s.Advance(call.StatusCompleted, now.Add(65*time.Second))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	plain := r.endCall(call.StatusCompleted) // no campaign's call, no detection
	jobs := r.takeJobs()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
	for _, j := range jobs {
		r.run(j.job)
	}
	bodies := map[string]map[string]any{}
	for _, got := range r.recv.received() {
		var p map[string]any
		if err := json.Unmarshal(got.body, &p); err != nil {
			t.Fatal(err)
		}
		bodies[p["call_session_id"].(string)] = p
	}
	if p := bodies[s.ID]; p["batch_id"] != "batch-7" || p["row_id"] != "row-3" || p["answered_by"] != "human" {
		t.Fatalf("the campaign call's payload: %v", p)
	}
	p := bodies[plain.ID]
	if _, ok := p["batch_id"]; ok || p == nil {
		t.Fatalf("a call of no campaign names a batch: %v", p)
	}
	if _, ok := p["answered_by"]; ok {
		t.Fatalf("a call without detection names answered_by: %v", p)
	}
}
