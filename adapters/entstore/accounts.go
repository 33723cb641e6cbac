package entstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
	"github.com/kupe-voice/kupe/ent"
	"github.com/kupe-voice/kupe/ent/apikey"
	"github.com/kupe-voice/kupe/ent/phonemapping"
	"github.com/kupe-voice/kupe/ent/phonenumber"
	"github.com/kupe-voice/kupe/ent/user"
)

// CreateUser implements accounts.UserStore.
func (s *Store) CreateUser(ctx context.Context, u identity.User) error {
	id, err := requireID("user", u.ID)
	if err != nil {
		return err
	}
	c := s.client.User.Create().SetID(id).SetCredits(int64(u.Credits)).SetCreatedAt(u.CreatedAt.UTC())
	if u.Email != "" {
		c.SetEmail(u.Email)
	}
	return storeErr("create user", c.Exec(ctx))
}

// User implements accounts.UserStore.
func (s *Store) User(ctx context.Context, id string) (identity.User, error) {
	uid, ok := parseID(id)
	if !ok {
		return identity.User{}, fault.ErrNotFound
	}
	u, err := s.client.User.Get(ctx, uid)
	if err != nil {
		return identity.User{}, storeErr("read user", err)
	}
	return identity.User{ID: u.ID.String(), Email: u.Email, Credits: money.Amount(u.Credits), CreatedAt: u.CreatedAt.UTC()}, nil
}

// CountUsers implements accounts.UserStore.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	n, err := s.client.User.Query().Count(ctx)
	return n, storeErr("count users", err)
}

// Users implements accounts.UserStore.
func (s *Store) Users(ctx context.Context, offset, limit int) ([]identity.User, int, error) {
	total, err := s.client.User.Query().Count(ctx)
	if err != nil {
		return nil, 0, storeErr("count users", err)
	}
	offset = max(offset, 0)
	if offset >= total || limit <= 0 {
		return []identity.User{}, total, nil
	}
	rows, err := s.client.User.Query().
		Order(ent.Asc(user.FieldCreatedAt), ent.Asc(user.FieldID)).
		Offset(offset).Limit(limit).
		All(ctx)
	if err != nil {
		return nil, 0, storeErr("list users", err)
	}
	out := make([]identity.User, 0, len(rows))
	for _, u := range rows {
		out = append(out, identity.User{ID: u.ID.String(), Email: u.Email, Credits: money.Amount(u.Credits), CreatedAt: u.CreatedAt.UTC()})
	}
	return out, total, nil
}

// SetCredits implements accounts.UserStore.
func (s *Store) SetCredits(ctx context.Context, userID string, amount money.Amount) error {
	id, ok := parseID(userID)
	if !ok {
		return fault.ErrNotFound
	}
	n, err := s.client.User.Update().Where(user.ID(id)).SetCredits(int64(amount)).Save(ctx)
	return affectedOne("set credits", n, err, fault.ErrNotFound)
}

// affectedOne checks an update meant for exactly one row: none is the given error.
func affectedOne(op string, n int, err error, none error) error {
	if err != nil {
		return storeErr(op, err)
	}
	if n == 0 {
		return none
	}
	return nil
}

// CreateAPIKey implements accounts.KeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k identity.APIKey) error {
	id, err := requireID("api key", k.ID)
	if err != nil {
		return err
	}
	uid, ok := parseID(k.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	err = s.client.APIKey.Create().
		SetID(id).SetUserID(uid).SetName(k.Name).SetPrefix(k.Prefix).SetHash(k.Hash[:]).
		SetCreatedAt(k.CreatedAt.UTC()).
		SetNillableLastUsedAt(optionalTime(k.LastUsedAt)).
		SetNillableRevokedAt(optionalTime(k.RevokedAt)).
		Exec(ctx)
	return storeErr("create api key", err)
}

// RevokeAPIKey implements accounts.KeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	kid, ok := parseID(id)
	if !ok {
		return fault.ErrNotFound
	}
	n, err := s.client.APIKey.Update().
		Where(apikey.ID(kid), apikey.RevokedAtIsNil()).
		SetRevokedAt(at.UTC()).
		Save(ctx)
	return affectedOne("revoke api key", n, err, fault.ErrNotFound)
}

// APIKeyByHash implements accounts.KeyStore.
func (s *Store) APIKeyByHash(ctx context.Context, hash identity.KeyHash) (identity.APIKey, error) {
	k, err := s.client.APIKey.Query().Where(apikey.Hash(hash[:]), apikey.RevokedAtIsNil()).Only(ctx)
	if err != nil {
		return identity.APIKey{}, storeErr("read api key", err)
	}
	out := identity.APIKey{
		ID: k.ID.String(), UserID: k.UserID.String(), Name: k.Name, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt.UTC(), LastUsedAt: timeOf(k.LastUsedAt), RevokedAt: timeOf(k.RevokedAt),
	}
	copy(out.Hash[:], k.Hash)
	return out, nil
}

// CreateLine implements accounts.CatalogStore. The line's mapping is not stored here: see
// SetMapping.
func (s *Store) CreateLine(ctx context.Context, l call.Line) error {
	id, err := requireID("line", l.ID)
	if err != nil {
		return err
	}
	uid, ok := parseID(l.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	creds, err := s.sealCredentials(l.Credentials)
	if err != nil {
		return err
	}
	c := s.client.PhoneNumber.Create().
		SetID(id).SetUserID(uid).SetNumber(l.Number).SetProvider(phonenumber.Provider(l.Provider.String())).
		SetIsActive(l.Active).SetCreatedAt(l.CreatedAt.UTC()).SetCredentials(creds)
	// Unset labels stay NULL.
	setIfAny(l.FriendlyName, c.SetFriendlyName)
	setIfAny(l.CountryCode, c.SetCountryCode)
	setIfAny(l.Region, c.SetRegion)
	if l.MaxCPS > 0 {
		c.SetMaxCps(l.MaxCPS) // unpaced lines stay NULL
	}
	return storeErr("create line", c.Exec(ctx))
}

// Line implements accounts.CatalogStore.
func (s *Store) Line(ctx context.Context, id string) (call.Line, error) {
	lid, ok := parseID(id)
	if !ok {
		return call.Line{}, fault.ErrNotFound
	}
	p, err := s.client.PhoneNumber.Query().Where(phonenumber.ID(lid)).WithMapping().Only(ctx)
	if err != nil {
		return call.Line{}, storeErr("read line", err)
	}
	var t call.Target
	if m := p.Edges.Mapping; m != nil {
		t = call.Target{AgentID: idString(m.AgentID), WorkflowID: idString(m.WorkflowID)}
	}
	l, err := s.line(p.ID.String(), p.UserID.String(), p.Number, string(p.Provider), p.IsActive, p.CreatedAt, p.Credentials, t)
	if err != nil {
		return call.Line{}, err
	}
	l.FriendlyName, l.CountryCode, l.Region = p.FriendlyName, p.CountryCode, p.Region
	if p.MaxCps != nil {
		l.MaxCPS = *p.MaxCps
	}
	return l, nil
}

// line builds a call.Line from its columns, for Line and DialPlan alike.
func (s *Store) line(id, userID, number, provider string, active bool, created time.Time, creds []byte, t call.Target) (call.Line, error) {
	p, err := call.ParseProvider(provider)
	if err != nil {
		return call.Line{}, fmt.Errorf("line %s: %w", id, err)
	}
	c, err := s.openCredentials(creds)
	if err != nil {
		return call.Line{}, fmt.Errorf("line %s: %w", id, err)
	}
	return call.Line{
		ID: id, UserID: userID, Number: number, Provider: p, Active: active, CreatedAt: created.UTC(),
		Mapping: t, Credentials: c,
	}, nil
}

// sealCredentials and openCredentials are the one place a line's credentials turn into stored
// bytes and back: JSON, sealed with AES-256-GCM under the store's secrets key (credentials.go).
// A line without credentials stores nothing, and needs no key.
func (s *Store) sealCredentials(c call.Credentials) ([]byte, error) {
	if len(c) == 0 {
		return nil, nil
	}
	// A plain map: call.Credentials marshals to "[redacted]" on purpose.
	b, err := json.Marshal(map[string]string(c))
	if err != nil {
		return nil, fmt.Errorf("encode line credentials: %w", err)
	}
	return s.seal(b)
}

// Every create_call opens its line's credentials: the opened ones are kept by their sealed
// bytes (which change with every write of the credentials), so that a line's are decrypted
// and decoded once, and each caller gets a copy of its own.
func (s *Store) openCredentials(b []byte) (call.Credentials, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if c, ok := s.opened.get(b); ok {
		return c, nil
	}
	sealed := string(b)
	b, err := s.open(b)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		// The decoder's message may quote the decrypted bytes: keep it out of the error.
		return nil, fmt.Errorf("decode line credentials: stored value is not valid")
	}
	s.opened.put(sealed, m)
	return call.Credentials(maps.Clone(m)), nil
}

// maxOpenedCredentials bounds the credentials kept opened; past it the cache starts afresh.
const maxOpenedCredentials = 4096

// openedCredentials are line credentials already opened, by their sealed bytes.
type openedCredentials struct {
	mu sync.RWMutex
	m  map[string]map[string]string
}

func (o *openedCredentials) get(sealed []byte) (call.Credentials, bool) {
	o.mu.RLock()
	c, ok := o.m[string(sealed)]
	o.mu.RUnlock()
	return call.Credentials(maps.Clone(c)), ok
}

func (o *openedCredentials) put(sealed string, c map[string]string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil || len(o.m) >= maxOpenedCredentials {
		o.m = make(map[string]map[string]string)
	}
	o.m[sealed] = c
}

// CreateAgent implements accounts.CatalogStore.
func (s *Store) CreateAgent(ctx context.Context, a call.Agent) error {
	id, err := requireID("agent", a.ID)
	if err != nil {
		return err
	}
	uid, ok := parseID(a.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	err = s.client.Agent.Create().
		SetID(id).SetUserID(uid).SetName(a.Name).SetSystemPrompt(a.SystemPrompt).
		SetFirstMessage(a.FirstMessage).SetIsActive(a.Active).SetCreatedAt(a.CreatedAt.UTC()).
		Exec(ctx)
	return storeErr("create agent", err)
}

// Agent implements accounts.CatalogStore.
func (s *Store) Agent(ctx context.Context, id string) (call.Agent, error) {
	aid, ok := parseID(id)
	if !ok {
		return call.Agent{}, fault.ErrNotFound
	}
	a, err := s.client.Agent.Get(ctx, aid)
	if err != nil {
		return call.Agent{}, storeErr("read agent", err)
	}
	return agentOf(a), nil
}

func agentOf(a *ent.Agent) call.Agent {
	return call.Agent{
		ID: a.ID.String(), UserID: a.UserID.String(), Name: a.Name, SystemPrompt: a.SystemPrompt,
		FirstMessage: a.FirstMessage, Active: a.IsActive, CreatedAt: a.CreatedAt.UTC(),
	}
}

// CreateWorkflow implements accounts.CatalogStore.
func (s *Store) CreateWorkflow(ctx context.Context, w call.Workflow) error {
	id, err := requireID("workflow", w.ID)
	if err != nil {
		return err
	}
	uid, ok := parseID(w.UserID)
	if !ok {
		return fault.ErrNotFound
	}
	err = s.client.Workflow.Create().
		SetID(id).SetUserID(uid).SetName(w.Name).SetIsActive(w.Active).SetCreatedAt(w.CreatedAt.UTC()).
		Exec(ctx)
	return storeErr("create workflow", err)
}

// Workflow implements accounts.CatalogStore.
func (s *Store) Workflow(ctx context.Context, id string) (call.Workflow, error) {
	wid, ok := parseID(id)
	if !ok {
		return call.Workflow{}, fault.ErrNotFound
	}
	w, err := s.client.Workflow.Get(ctx, wid)
	if err != nil {
		return call.Workflow{}, storeErr("read workflow", err)
	}
	return call.Workflow{ID: w.ID.String(), UserID: w.UserID.String(), Name: w.Name, Active: w.IsActive, CreatedAt: w.CreatedAt.UTC()}, nil
}

// SetMapping implements accounts.CatalogStore, in one statement: an insert that replaces the
// line's mapping when it has one. A line, agent or workflow that does not exist is ErrNotFound.
func (s *Store) SetMapping(ctx context.Context, lineID string, t call.Target) error {
	if (t.AgentID == "") == (t.WorkflowID == "") {
		return &fault.InvalidInputError{Detail: "a mapping names exactly one of an agent and a workflow"}
	}
	lid, ok := parseID(lineID)
	if !ok {
		return fault.ErrNotFound
	}
	agent, err1 := optionalID(t.AgentID)
	workflow, err2 := optionalID(t.WorkflowID)
	if err1 != nil || err2 != nil {
		return fault.ErrNotFound
	}
	err := s.client.PhoneMapping.Create().
		SetPhoneNumberID(lid).SetNillableAgentID(agent).SetNillableWorkflowID(workflow).
		OnConflictColumns(phonemapping.FieldPhoneNumberID).
		Update(func(u *ent.PhoneMappingUpsert) {
			if agent != nil {
				u.SetAgentID(*agent).ClearWorkflowID()
			} else {
				u.SetWorkflowID(*workflow).ClearAgentID()
			}
		}).
		Exec(ctx)
	return storeErr("set mapping", err)
}
