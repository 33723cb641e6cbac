package accounts

import (
	"context"
	"fmt"

	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/money"
)

// DemoAccount is what SeedDemo made. APIKey is shown once.
type DemoAccount struct {
	UserID  string
	APIKey  string
	LineID  string
	AgentID string
}

// Demo line and destination numbers: valid numbers, so the demo walks the real validation.
const (
	DemoLineNumber = "+14155550100"
	DemoEmail      = "demo@kupe.local"
)

// SeedDemo creates, on a database with no users at all, a demo user with credits, one API key,
// one simulated line and one agent mapped to it. On a database that has users it does nothing
// and returns ok false.
func (a *Accounts) SeedDemo(ctx context.Context, credits money.Amount) (acct DemoAccount, ok bool, err error) {
	n, err := a.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return DemoAccount{}, false, err
	}
	u, err := a.CreateUser(ctx, DemoEmail, credits)
	if err != nil {
		return DemoAccount{}, false, fmt.Errorf("demo user: %w", err)
	}
	key, err := a.CreateAPIKey(ctx, u.ID, "demo")
	if err != nil {
		return DemoAccount{}, false, fmt.Errorf("demo key: %w", err)
	}
	line, err := a.AddLine(ctx, AddLine{UserID: u.ID, Number: DemoLineNumber, Provider: call.ProviderSimulated.String()})
	if err != nil {
		return DemoAccount{}, false, fmt.Errorf("demo line: %w", err)
	}
	agent, err := a.CreateAgent(ctx, CreateAgent{UserID: u.ID, Name: "Demo agent",
		SystemPrompt: "You are a friendly assistant calling {{name}}.", FirstMessage: "Hello {{name}}, this is a demo call."})
	if err != nil {
		return DemoAccount{}, false, fmt.Errorf("demo agent: %w", err)
	}
	if err := a.SetMapping(ctx, line.ID, call.Target{AgentID: agent.ID}); err != nil {
		return DemoAccount{}, false, fmt.Errorf("demo mapping: %w", err)
	}
	return DemoAccount{UserID: u.ID, APIKey: key.Plain, LineID: line.ID, AgentID: agent.ID}, true, nil
}
