package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/identity"
	"github.com/kupe-voice/kupe/domain/money"
)

// The commands that show what the service holds: they read through the same use cases as the
// HTTP API (an operator's reads name any user). Lists print a JSON array, shows an object; with
// -o table, a table (table.go).

// maxCallsListed bounds calls list --limit.
const maxCallsListed = 1000

type userView struct {
	UserID    string       `json:"user_id"`
	Email     string       `json:"email"`
	Credits   money.Amount `json:"credits"`
	CreatedAt string       `json:"created_at"`
}

func toUserView(u identity.User) userView {
	return userView{UserID: u.ID, Email: u.Email, Credits: u.Credits, CreatedAt: timeText(u.CreatedAt)}
}

// userDetail is users show: the user and how much it holds.
type userDetail struct {
	userView
	Lines  int `json:"lines"`
	Agents int `json:"agents"`
	Calls  int `json:"calls"`
}

type lineView struct {
	PhoneNumberID string   `json:"phone_number_id"`
	PhoneNumber   string   `json:"phone_number"`
	Provider      string   `json:"provider"`
	IsActive      bool     `json:"is_active"`
	FriendlyName  string   `json:"friendly_name"`
	CountryCode   string   `json:"country_code"`
	AgentID       *string  `json:"agent_id"`
	WorkflowID    *string  `json:"workflow_id"`
	MaxCPS        *float64 `json:"max_cps"`
	CreatedAt     string   `json:"created_at"`
}

type agentView struct {
	AgentID   string `json:"agent_id"`
	Name      string `json:"name"`
	IsActive  bool   `json:"is_active"`
	CreatedAt string `json:"created_at"`
}

// callView is a session in calls list: what a person scans for.
type callView struct {
	CallSessionID   string       `json:"call_session_id"`
	RequestID       string       `json:"request_id"`
	Status          string       `json:"status"`
	ToNumber        string       `json:"to_number"`
	FromNumber      string       `json:"from_number"`
	DurationSeconds float64      `json:"duration_seconds"`
	Cost            money.Amount `json:"cost"`
	CreatedAt       string       `json:"created_at"`
	Detail          *string      `json:"detail"`
}

// callDetail is calls show: all a session holds. The provider is named: kupectl is the
// operator's, who needs to know which carrier to ask.
type callDetail struct {
	CallSessionID        string            `json:"call_session_id"`
	RequestID            string            `json:"request_id"`
	Status               string            `json:"status"`
	UserID               string            `json:"user_id"`
	AgentID              *string           `json:"agent_id"`
	WorkflowID           *string           `json:"workflow_id"`
	PhoneNumberID        *string           `json:"phone_number_id"`
	Provider             string            `json:"provider"`
	FromNumber           string            `json:"from_number"`
	ToNumber             string            `json:"to_number"`
	TelephonyLegID       *string           `json:"telephony_leg_id"`
	Detail               *string           `json:"detail"`
	DurationSeconds      float64           `json:"duration_seconds"`
	Cost                 money.Amount      `json:"cost"`
	VariableValues       map[string]string `json:"variable_values"`
	RenderedSystemPrompt *string           `json:"rendered_system_prompt"`
	RenderedFirstMessage *string           `json:"rendered_first_message"`
	CreatedAt            string            `json:"created_at"`
	AnsweredAt           *string           `json:"answered_at"`
	EndedAt              *string           `json:"ended_at"`
	UpdatedAt            string            `json:"updated_at"`
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *string { return optText(timeText(t)) }

// existingUser reads the user a command names, so that a mistyped id is "not found" rather than
// a list of nothing that reads as an empty account.
func (e *env) existingUser(id string) (identity.User, error) {
	return e.accounts.User(e.ctx, id)
}

func usersList(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("users list", flag.ContinueOnError)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	out := []userView{}
	for page := 1; ; page++ {
		p, err := e.accounts.ListUsers(e.ctx, page, accounts.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, u := range p.Items {
			out = append(out, toUserView(u))
		}
		if len(out) >= p.Total || len(p.Items) == 0 {
			return out, nil
		}
	}
}

func usersShow(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("users show", flag.ContinueOnError)
	id := fs.String("id", "", "")
	if err := parse(fs, args, "id"); err != nil {
		return nil, err
	}
	u, err := e.existingUser(*id)
	if err != nil {
		return nil, err
	}
	lines, err := e.lines.List(e.ctx, u.ID)
	if err != nil {
		return nil, err
	}
	agents, err := e.agents.List(e.ctx, accounts.ListAgents{UserID: u.ID, Page: 1, PageSize: 1})
	if err != nil {
		return nil, err
	}
	calls, err := e.logs.List(e.ctx, u.ID, 1, 1)
	if err != nil {
		return nil, err
	}
	return userDetail{userView: toUserView(u), Lines: len(lines), Agents: agents.Total, Calls: calls.Total}, nil
}

func linesList(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("lines list", flag.ContinueOnError)
	user := fs.String("user", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	u, err := e.existingUser(*user)
	if err != nil {
		return nil, err
	}
	lines, err := e.lines.List(e.ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]lineView, 0, len(lines))
	for _, l := range lines {
		v := lineView{PhoneNumberID: l.ID, PhoneNumber: l.Number, Provider: l.Provider.String(), IsActive: l.Active,
			FriendlyName: l.FriendlyName, CountryCode: l.CountryCode, AgentID: optText(l.Mapping.AgentID),
			WorkflowID: optText(l.Mapping.WorkflowID), CreatedAt: timeText(l.CreatedAt)}
		if l.MaxCPS > 0 {
			cps := l.MaxCPS
			v.MaxCPS = &cps
		}
		out = append(out, v)
	}
	return out, nil
}

func agentsList(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("agents list", flag.ContinueOnError)
	user := fs.String("user", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	u, err := e.existingUser(*user)
	if err != nil {
		return nil, err
	}
	out := []agentView{}
	for page := 1; ; page++ {
		p, err := e.agents.List(e.ctx, accounts.ListAgents{UserID: u.ID, Page: page, PageSize: accounts.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, a := range p.Items {
			out = append(out, agentView{AgentID: a.ID, Name: a.Name, IsActive: a.Active, CreatedAt: timeText(a.CreatedAt)})
		}
		if len(out) >= p.Total || len(p.Items) == 0 {
			return out, nil
		}
	}
}

func callsList(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("calls list", flag.ContinueOnError)
	user := fs.String("user", "", "")
	status := fs.String("status", "", "")
	limit := fs.Int("limit", 20, "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	if *limit < 1 || *limit > maxCallsListed {
		return nil, usageError{fmt.Sprintf("--limit: want 1 to %d", maxCallsListed)}
	}
	filter := ""
	if *status != "" {
		f, ok := createcall.ParseSessionFilter(*status)
		if !ok || !f.Status.Valid() {
			names := make([]string, 0, len(call.AllStatuses()))
			for _, st := range call.AllStatuses() {
				names = append(names, st.String())
			}
			return nil, usageError{fmt.Sprintf("--status %q: want one of %s", *status, strings.Join(names, ", "))}
		}
		filter = f.Status.String()
	}
	u, err := e.existingUser(*user)
	if err != nil {
		return nil, err
	}
	out := []callView{}
	for page := 1; len(out) < *limit; page++ {
		size := min(accounts.MaxPageSize, *limit)
		p, err := e.logs.Search(e.ctx, u.ID, filter, page, size)
		if err != nil {
			return nil, err
		}
		for _, s := range p.Items {
			if len(out) == *limit {
				break
			}
			out = append(out, callView{CallSessionID: s.ID, RequestID: s.RequestID, Status: s.Status().String(),
				ToNumber: s.To, FromNumber: s.From, DurationSeconds: s.Duration.Seconds(), Cost: s.Cost,
				CreatedAt: timeText(s.CreatedAt), Detail: optText(s.Detail)})
		}
		if len(p.Items) < size {
			break
		}
	}
	return out, nil
}

func callsShow(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("calls show", flag.ContinueOnError)
	id := fs.String("id", "", "")
	if err := parse(fs, args, "id"); err != nil {
		return nil, err
	}
	s, err := e.logs.Session(e.ctx, *id)
	if err != nil {
		return nil, err
	}
	vars := s.VariableValues
	if vars == nil {
		vars = map[string]string{}
	}
	return callDetail{
		CallSessionID: s.ID, RequestID: s.RequestID, Status: s.Status().String(), UserID: s.UserID,
		AgentID: optText(s.AgentID), WorkflowID: optText(s.WorkflowID), PhoneNumberID: optText(s.LineID),
		Provider: s.Provider.String(), FromNumber: s.From, ToNumber: s.To, TelephonyLegID: optText(s.LegID),
		Detail: optText(s.Detail), DurationSeconds: s.Duration.Seconds(), Cost: s.Cost, VariableValues: vars,
		RenderedSystemPrompt: optText(s.RenderedSystemPrompt), RenderedFirstMessage: optText(s.RenderedFirstMessage),
		CreatedAt: timeText(s.CreatedAt), AnsweredAt: optTime(s.AnsweredAt), EndedAt: optTime(s.EndedAt),
		UpdatedAt: timeText(s.UpdatedAt),
	}, nil
}

func limitsShow(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("limits show", flag.ContinueOnError)
	user := fs.String("user", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	l, err := e.limits.Get(e.ctx, *user)
	if err != nil {
		return nil, err
	}
	return limitsJSON(*user, l), nil
}
