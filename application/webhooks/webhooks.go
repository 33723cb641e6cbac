// Package webhooks holds the agent webhook use cases, both ways: an agent's endpoint
// configuration and signing secret (Endpoints), the call-ended events queued when a session
// ends and delivered, retried and recorded until they land or give up (Deliveries), and the
// check that lets a signed start-call request place a call as the agent's owner (StartCalls).
//
// It declares one port per aggregate, EndpointStore and DeliveryStore, with their contract
// suites in webhookstest, and the small ports it needs of the rest of the service (agents,
// sessions, the sender). It imports no adapter.
package webhooks

import (
	"context"
	"errors"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// Endpoint is one agent's webhook: its configuration, the secret that signs both directions,
// and how its deliveries have fared.
type Endpoint struct {
	AgentID string
	UserID  string
	Config  webhook.Config
	Secret  webhook.Secret
	Health  webhook.Health
	// DisabledReason says why deliveries stopped (every one failed for webhook.DisableAfter);
	// empty while they run. A PUT of the configuration clears it.
	DisabledReason string
	DisabledAt     time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Delivers reports whether a call's end is to be sent: Kupe's trigger_on_phone_call and
// outgoing.enabled are both on (every call here is a phone call).
func (e Endpoint) Delivers() bool {
	return e.Config.TriggerOnPhoneCall() && e.Config.Outgoing().Enabled() && e.Config.Outgoing().URL() != ""
}

// Event names what a delivery reports.
type Event string

// The events.
const (
	EventCallCompleted  Event = "call.completed"
	EventCallFailed     Event = "call.failed"
	EventBatchCompleted Event = "batch.completed"
)

// Status is where a delivery is. The zero value is not a status.
type Status string

// The statuses.
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// ParseStatus reads a status by its name.
func ParseStatus(s string) (Status, bool) {
	switch st := Status(s); st {
	case StatusPending, StatusDelivered, StatusFailed:
		return st, true
	}
	return "", false
}

// Delivery is one event for one agent's endpoint, sent with the same webhook-id and body on
// every attempt.
type Delivery struct {
	ID string
	// WebhookID is the Standard Webhooks message id (webhook-id), stable across retries and
	// replays so that receivers can drop duplicates.
	WebhookID string
	AgentID   string
	UserID    string
	Event     Event
	// SessionID is the call the event is about; empty for batch.completed.
	SessionID string
	// DedupeKey is unique among deliveries: one delivery per event and subject.
	DedupeKey string
	Payload   []byte
	Status    Status
	// NextAttemptAt is when the next attempt is due; zero once the delivery is settled.
	NextAttemptAt time.Time
	// Round counts the attempts since the delivery was queued or last replayed: where it is in
	// the retry schedule.
	Round int
	// Replays counts the replays.
	Replays int
	// Attempts are every attempt ever made, oldest first.
	Attempts  []Attempt
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Job names the delivery and its replay, so that a job of an earlier replay sends nothing.
func (d Delivery) Job() DeliveryJob { return DeliveryJob{DeliveryID: d.ID, Replay: d.Replays} }

// Attempt is one attempt of a delivery.
type Attempt struct {
	At time.Time
	// StatusCode is the receiver's answer; 0 when it never answered.
	StatusCode int
	// Error says what went wrong, briefly; empty when delivered.
	Error string
}

// DeliveryJob is the durable job that makes a delivery's next attempt: a store schedules it in
// the transaction that queues or replays the delivery, and the job engine runs
// Deliveries.Attempt with it. It holds ids only.
type DeliveryJob struct {
	DeliveryID string `json:"delivery_id"`
	Replay     int    `json:"replay"`
}

// JobKind names DeliveryJob for the job engine.
const JobKind = "webhook_delivery"

// Kind is the job's kind.
func (DeliveryJob) Kind() string { return JobKind }

// DeliveryFilter narrows a listing; zero fields match everything.
type DeliveryFilter struct {
	AgentID string
	Status  Status
}

// Progress is a delivery's state after an attempt.
type Progress struct {
	Status        Status
	NextAttemptAt time.Time // zero unless Status is pending
}

// Errors of the ports and the use cases.
var (
	// ErrEndpointNotFound: the agent has no webhook configuration stored.
	ErrEndpointNotFound = errors.New("webhook configuration not found")
	// ErrDeliveryNotFound: no delivery with that id is the caller's.
	ErrDeliveryNotFound = errors.New("webhook delivery not found")
	// ErrStale: the delivery moved on (another attempt or a replay) since it was read.
	ErrStale = errors.New("webhook delivery changed meanwhile")
	// ErrIncomingDisabled: a correctly signed start-call request for an agent whose incoming
	// webhook is off.
	ErrIncomingDisabled = errors.New("incoming webhook is disabled for this agent")
	// ErrNoOutgoingURL: test-outgoing for an agent without an outgoing URL.
	ErrNoOutgoingURL = errors.New("no outgoing webhook URL configured")
)

// EndpointStore keeps agents' webhook configurations, one per agent. Its contract suite is
// webhookstest.RunEndpointStoreSuite.
type EndpointStore interface {
	// Endpoint reads the agent's endpoint, whoever owns it: ErrEndpointNotFound when none is
	// stored.
	Endpoint(ctx context.Context, agentID string) (Endpoint, error)
	// UserEndpoints returns the user's endpoints, by agent id.
	UserEndpoints(ctx context.Context, userID string) (map[string]Endpoint, error)
	// PutEndpoint creates or changes the agent's endpoint in one transaction: fn gets the stored
	// endpoint (found true), or a new one with AgentID and UserID set (found false), and what it
	// leaves there is stored. Concurrent calls for one agent run one after the other. An error
	// from fn is returned and nothing is stored. A stored endpoint of another user is
	// ErrEndpointNotFound.
	PutEndpoint(ctx context.Context, agentID, userID string, fn func(e *Endpoint, found bool) error) (Endpoint, error)
}

// DeliveryStore keeps deliveries and their attempts, and schedules the DeliveryJob of each
// delivery that is pending in the transaction that makes it so. Its contract suite is
// webhookstest.RunDeliveryStoreSuite.
type DeliveryStore interface {
	// Enqueue stores d (Round and Replays 0, no attempts) and, when it is pending, schedules
	// d.Job() at d.NextAttemptAt, in one transaction. A delivery with d's DedupeKey already
	// stored is left as it is: created is false and the stored one is returned.
	Enqueue(ctx context.Context, d Delivery) (stored Delivery, created bool, err error)
	// Delivery reads one delivery with its attempts, whoever owns it; ErrDeliveryNotFound.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// UserDeliveries returns one page of the user's deliveries matching f, newest first (ties
	// by id), with their attempts, and how many match in all.
	UserDeliveries(ctx context.Context, userID string, f DeliveryFilter, offset, limit int) ([]Delivery, int, error)
	// RecordAttempt adds a to the delivery and sets its progress, Round one more, only while the
	// delivery is still pending at job's replay and at round: otherwise nothing is stored and
	// the answer is ErrStale.
	RecordAttempt(ctx context.Context, job DeliveryJob, round int, a Attempt, p Progress) error
	// Replay sets the user's delivery back to pending, due at at, Round 0 and Replays one more,
	// and schedules its new Job(), in one transaction. ErrDeliveryNotFound for another user's.
	Replay(ctx context.Context, userID, id string, at time.Time) (Delivery, error)
}

// Agents reads the user's agents (the accounts' catalog).
type Agents interface {
	// UserAgent returns one of the user's agents; another user's is not found.
	UserAgent(ctx context.Context, userID, agentID string) (call.Agent, error)
	// UserAgents returns a page of the user's agents and how many there are in all.
	UserAgents(ctx context.Context, userID string, q accounts.AgentQuery) ([]call.Agent, int, error)
}

// Sessions reads a call session by id (the calls' store).
type Sessions interface {
	Session(ctx context.Context, id string) (*call.Session, error)
}

// CampaignCall is the campaign row a session called: the batch and the row (Kupe's batch_data
// row) whose attempt it was.
type CampaignCall struct {
	BatchID string
	RowID   string
}

// CampaignCalls finds the campaign row of a session; ok is false when the session is no
// campaign's.
type CampaignCalls interface {
	CampaignCall(ctx context.Context, sessionID string) (c CampaignCall, ok bool, err error)
}

// Message is one signed attempt to send.
type Message struct {
	// Key names the endpoint for the in-flight cap (the agent's id).
	Key       string
	Endpoint  webhook.Outgoing
	Secret    webhook.Secret
	MessageID string
	Body      []byte
}

// SendResult is what one attempt came to.
type SendResult struct {
	StatusCode int
	Error      string
	Outcome    webhook.Outcome
	At         time.Time
}

// Sender sends webhooks (adapters/webhooksender).
type Sender interface {
	// CheckURL refuses an outgoing URL the deployment will not deliver to (not https, or a
	// host that resolves to a private or metadata address); the error's text says why and is
	// safe to show.
	CheckURL(ctx context.Context, url string) error
	// TrySend makes one attempt unless the endpoint already has its fill of attempts in flight:
	// then it sends nothing and sent is false.
	TrySend(ctx context.Context, m Message) (r SendResult, sent bool)
	// Send makes one attempt, waiting for a slot of the endpoint's in-flight cap.
	Send(ctx context.Context, m Message) SendResult
}
