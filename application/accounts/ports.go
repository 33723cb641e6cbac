// Package accounts holds the use cases around a customer's account: users and their credits and
// limits, API keys and authentication, the catalog of lines, agents, workflows and mappings,
// the demo seed and the call logs. It declares one port per aggregate: UserStore, KeyStore and
// CatalogStore (and Store, all three, for the operator's Accounts); the call logs read through
// createcall.CallStore, the calls aggregate's port.
package accounts

import (
	"context"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// UserStore keeps users, their credits and their limits. Its contract suite is
// accountstest.RunUserStoreSuite.
type UserStore interface {
	// CreateUser stores a new user; fault.ErrAlreadyExists when the email is taken.
	CreateUser(ctx context.Context, u identity.User) error
	// User reads a user; fault.ErrNotFound when there is none.
	User(ctx context.Context, id string) (identity.User, error)
	CountUsers(ctx context.Context) (int, error)
	// Users returns one page of the users, oldest first (ties by id), and how many there are.
	Users(ctx context.Context, offset, limit int) ([]identity.User, int, error)
	// Limits reads the user's limits (the defaults until changed); fault.ErrNotFound when there
	// is no such user.
	Limits(ctx context.Context, userID string) (identity.Limits, error)
	SetCredits(ctx context.Context, userID string, amount money.Amount) error
	// UpdateLimits applies fn to the user's limits and stores the result, atomically; an error
	// from fn stores nothing. fault.ErrNotFound when there is no such user.
	UpdateLimits(ctx context.Context, userID string, fn func(*identity.Limits) error) (identity.Limits, error)
}

// KeyStore keeps API keys and when they were last used. The User* methods are scoped to the
// user: a key of another user is fault.ErrNotFound, and nothing changes. Its contract suite is
// accountstest.RunKeyStoreSuite.
type KeyStore interface {
	CreateAPIKey(ctx context.Context, k identity.APIKey) error
	// RevokeAPIKey marks the key revoked, whoever holds it; fault.ErrNotFound if there is no
	// such live key.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// APIKeyByHash returns the live (unrevoked) key with that hash, or fault.ErrNotFound.
	APIKeyByHash(ctx context.Context, hash identity.KeyHash) (identity.APIKey, error)
	// UserAPIKeys lists the user's live (unrevoked) keys, newest first.
	UserAPIKeys(ctx context.Context, userID string) ([]identity.APIKey, error)
	// RenameUserAPIKey sets the name of one of the user's live keys and returns the key;
	// fault.ErrNotFound if the user has no such live key.
	RenameUserAPIKey(ctx context.Context, userID, id, name string) (identity.APIKey, error)
	// RevokeUserAPIKey revokes one of the user's live keys; fault.ErrNotFound if the user has no
	// such live key.
	RevokeUserAPIKey(ctx context.Context, userID, id string, at time.Time) error
	// TouchAPIKey sets the live key's last use to at, only if it has none or one before
	// staleBefore, so that many servers together still write at most once per interval. It
	// reports whether it wrote; an unknown or revoked key is not an error.
	TouchAPIKey(ctx context.Context, id string, at, staleBefore time.Time) (bool, error)
}

// CatalogStore keeps what a user's calls are placed with: lines (phone numbers with their
// carrier credentials), agents, workflows and the mappings of lines to them. The User* methods
// and DeleteMapping are scoped to the owner: another user's record is fault.ErrNotFound,
// exactly as one that does not exist; the others (the operator's and the carriers') are not.
// Its contract suite is accountstest.RunCatalogStoreSuite.
type CatalogStore interface {
	CreateLine(ctx context.Context, l call.Line) error
	// Line reads a line with its carrier credentials, whoever it belongs to.
	Line(ctx context.Context, id string) (call.Line, error)
	// UserLines returns all of the user's lines, oldest first (ties by id), with their mappings.
	// Credentials are write-only here: the lines come without them.
	UserLines(ctx context.Context, userID string) ([]call.Line, error)
	// UserLine returns one of the user's lines, with its mapping and without its credentials.
	UserLine(ctx context.Context, userID, lineID string) (call.Line, error)
	// UpdateLine applies fn to the user's line (read as UserLine reads it) and stores its
	// FriendlyName and Active, and its Credentials when fn sets them (not nil; empty removes
	// them), atomically: a concurrent update lands before or after, never lost. Other fields fn
	// changes are not stored. An error from fn is returned and nothing is stored. The line
	// returned has no credentials.
	UpdateLine(ctx context.Context, userID, lineID string, fn func(*call.Line) error) (call.Line, error)
	// DeleteLine removes the user's line and its mapping. Sessions placed from the line keep
	// their history (they hold its id and number, not a reference).
	DeleteLine(ctx context.Context, userID, lineID string) error

	CreateAgent(ctx context.Context, a call.Agent) error
	// Agent reads an agent, whoever it belongs to.
	Agent(ctx context.Context, id string) (call.Agent, error)
	// UserAgents returns one page of the user's agents that match q, oldest first (ties by id),
	// and how many match in all.
	UserAgents(ctx context.Context, userID string, q AgentQuery) ([]call.Agent, int, error)
	// UserAgentStats returns each of the user's agents, oldest first (ties by id), with counts of
	// the user's sessions placed with it, in one query.
	UserAgentStats(ctx context.Context, userID string) ([]AgentCallStats, error)
	// UserAgent returns one of the user's agents.
	UserAgent(ctx context.Context, userID, agentID string) (call.Agent, error)
	// UpdateAgent applies fn to the user's agent and stores its Name, SystemPrompt, FirstMessage
	// and Active, atomically; other fields fn changes are not stored. An error from fn is
	// returned and nothing is stored.
	UpdateAgent(ctx context.Context, userID, agentID string, fn func(*call.Agent) error) (call.Agent, error)

	CreateWorkflow(ctx context.Context, w call.Workflow) error
	// Workflow reads a workflow, whoever it belongs to.
	Workflow(ctx context.Context, id string) (call.Workflow, error)
	// UserWorkflows returns all of the user's workflows, oldest first (ties by id).
	UserWorkflows(ctx context.Context, userID string) ([]call.Workflow, error)
	// UserWorkflow returns one of the user's workflows.
	UserWorkflow(ctx context.Context, userID, workflowID string) (call.Workflow, error)

	// SetMapping makes the line run the target, replacing any mapping it had. It is not scoped
	// to an owner: the use cases check that line and target are the same user's first.
	SetMapping(ctx context.Context, lineID string, t call.Target) error
	// DeleteMapping removes the mapping of the user's line: fault.ErrNotFound when the user has
	// no such line or it has no mapping.
	DeleteMapping(ctx context.Context, userID, lineID string) error
}

// AgentQuery narrows and pages a user's agents.
type AgentQuery struct {
	// NameContains, when not empty, keeps the agents whose name contains it, ignoring the case
	// of ASCII letters (and, where the store can, of every letter). It matches literally: % and _
	// are not wildcards.
	NameContains string
	Offset       int
	// Limit bounds the page; 0 or less returns no agents, only the count.
	Limit int
}

// AgentCallStats is one of a user's agents with what its calls came to.
type AgentCallStats struct {
	AgentID string
	Name    string
	Active  bool
	// ByStatus counts the agent's sessions by status; a status without sessions is absent.
	ByStatus map[call.Status]int
	// TalkTime is the sum of the sessions' durations, Cost the sum of their charges.
	TalkTime time.Duration
	Cost     money.Amount
}

// Store is every port of the accounts: what the operator's Accounts (and its demo seed) write.
type Store interface {
	UserStore
	KeyStore
	CatalogStore
}
