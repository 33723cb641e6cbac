// Command kupectl administers the service: users, API keys, lines, agents, workflows, mappings,
// credits, test calls, and agent webhooks. It runs the same use cases as the HTTP API against the database that
// KUPE_DATABASE_URL names, prints JSON on stdout, and on failure a readable error on stderr and a
// non-zero exit status.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/entstore"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/campaigns"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/cmd/internal/app"
	"github.com/kupe-voice/kupe/configs"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/money"
)

// env is what a command runs with.
type env struct {
	ctx      context.Context
	accounts *accounts.Accounts
	create   *createcall.Handler
	limits   *accounts.UserLimits
	// campaigns is batch calling; a server dials what kupectl starts.
	campaigns *campaigns.Service
	// The agent webhooks: configurations, the delivery log, and the store to find a
	// delivery's owner.
	endpoints     *webhooks.Endpoints
	deliveries    *webhooks.Deliveries
	deliveryStore webhooks.DeliveryStore
	hangups       *callevents.HangupHandler
	lines         *accounts.Lines
	agents        *accounts.Agents
	logs          *accounts.CallLogs
	out           io.Writer
	errOut        io.Writer
}

type command struct {
	usage string
	run   func(e *env, args []string) (any, error)
}

var commands = map[string]command{
	"users create":     {"--email E [--credits N]", usersCreate},
	"apikeys create":   {"--user U [--name N]", apikeysCreate},
	"apikeys revoke":   {"--id K", apikeysRevoke},
	"lines add":        {"--user U --number +E164 --provider twilio|exotel|elison|simulated [--credential k=v]... [--inactive] [--max-cps N]", linesAdd},
	"agents create":    {"--user U --name N [--system-prompt P] [--first-message M]", agentsCreate},
	"workflows create": {"--user U --name N", workflowsCreate},
	"mappings set":     {"--line L (--agent A | --workflow W)", mappingsSet},
	"credits set":      {"--user U --amount N", creditsSet},
	"calls create":     {"--user U --to +E164 [--agent A] [--workflow W] [--line L] [--var k=v]...", callsCreate},
	"limits set":       {limitsSetUsage, limitsSet},
	"calls hangup":     {"--id S", callsHangup},

	"campaigns create": {"--user U --name N --line L (--agent A | --workflow W) [--batch-size N] [--variables a,b] [--start-at RFC3339] [--window HH:MM-HH:MM [--days mon,tue]] [--max-attempts N --retry-on busy,no_answer,failed --backoff SECONDS]", campaignsCreate},
	"campaigns upload": {"--id B --file F.csv", campaignsUpload},
	"campaigns start":  {"--id B", campaignChange("campaigns start", (*campaigns.Service).Start)},
	"campaigns pause":  {"--id B", campaignChange("campaigns pause", (*campaigns.Service).Pause)},
	"campaigns resume": {"--id B", campaignChange("campaigns resume", (*campaigns.Service).Resume)},
	"campaigns cancel": {"--id B", campaignChange("campaigns cancel", (*campaigns.Service).Cancel)},
	"campaigns status": {"--id B", campaignsStatus},
	"campaigns list":   {"--user U", campaignsList},
	"campaigns watch":  {"--id B", campaignsWatch},

	"webhooks show":       {"--agent A [--reveal-secret]", webhooksShow},
	"webhooks set":        {webhooksSetUsage, webhooksSet},
	"webhooks deliveries": {"--agent A [--status pending|delivered|failed] [--limit N]", webhooksDeliveries},
	"webhooks replay":     {"--id D", webhooksReplay},

	// Reads (show.go).
	"users list":  {"", usersList},
	"users show":  {"--id U", usersShow},
	"lines list":  {"--user U", linesList},
	"agents list": {"--user U", agentsList},
	"calls list":  {"--user U [--status S] [--limit N]", callsList},
	"calls show":  {"--id S", callsShow},
	"limits show": {"--user U", limitsShow},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kupectl <group> <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  kupectl %s %s\n", n, commands[n].usage)
	}
	fmt.Fprintln(w, "\nEvery command takes -o json (the default) or -o table.")
	fmt.Fprintln(w, "The database is the one KUPE_DATABASE_URL names (empty: the embedded default, data/kupe.db).")
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		usage(stderr)
		return 2
	}
	name := args[0] + " " + args[1]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "kupectl: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	rest, format, err := splitOutput(args[2:])
	if err != nil {
		fmt.Fprintf(stderr, "kupectl %s: %s\nusage: kupectl %s %s [-o json|table]\n", name, err, name, cmd.usage)
		return 2
	}
	cfg, err := configs.Load()
	if err != nil {
		fmt.Fprintln(stderr, "kupectl:", oneLine(err.Error()))
		return 1
	}
	var result any
	var runErr error
	fxErr := fx.New(
		fx.NopLogger,
		app.Config(cfg),
		fx.Provide(func() *zap.Logger { return zap.NewNop() }),
		app.Store,
		app.JobInserts,
		app.Carriers,
		app.UseCases,
		app.Campaigns,
		app.Webhooks,
		fx.Invoke(func(acc *accounts.Accounts, cc *createcall.Handler, lim *accounts.UserLimits, hu *callevents.HangupHandler,
			cs *campaigns.Service, eps *webhooks.Endpoints, ds *webhooks.Deliveries, store *entstore.Webhooks,
			lines *accounts.Lines, agents *accounts.Agents, logs *accounts.CallLogs) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			result, runErr = cmd.run(&env{ctx: ctx, accounts: acc, create: cc, limits: lim, hangups: hu, campaigns: cs, endpoints: eps,
				deliveries: ds, deliveryStore: store, lines: lines, agents: agents, logs: logs, out: stdout, errOut: stderr}, rest)
		}),
	).Err()
	if fxErr != nil {
		// One line: the root cause, not fx's chain of what needed it.
		fmt.Fprintln(stderr, "kupectl:", app.ErrorLine(fxErr))
		return 1
	}
	var ue usageError
	if errors.As(runErr, &ue) {
		fmt.Fprintf(stderr, "kupectl %s: %s\nusage: kupectl %s %s\n", name, ue.msg, name, cmd.usage)
		return 2
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "kupectl %s: %s\n", name, oneLine(describe(runErr)))
		return 1
	}
	if format == outputTable {
		if err := writeTable(stdout, result); err != nil {
			fmt.Fprintln(stderr, "kupectl:", oneLine(err.Error()))
			return 1
		}
		return 0
	}
	if raw, ok := result.(json.RawMessage); ok {
		fmt.Fprintf(stdout, "%s\n", raw)
		return 0
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(result); err != nil {
		fmt.Fprintln(stderr, "kupectl:", err)
		return 1
	}
	return 0
}

// describe turns an error into the line an operator reads.
func describe(err error) string {
	var inv *fault.InvalidInputError
	switch {
	case errors.Is(err, call.ErrSessionNotFound):
		return "call session not found: check the id"
	case errors.Is(err, fault.ErrNotFound), errors.Is(err, campaigns.ErrNotFound):
		return "not found: check the ids"
	case errors.Is(err, fault.ErrAlreadyExists):
		return "already exists"
	case errors.As(err, &inv):
		return inv.Detail
	}
	return app.ErrorLine(err)
}

// oneLine keeps a message on one line, whatever it quotes.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// pairs is a repeatable k=v flag.
type pairs map[string]string

func (p pairs) String() string { return "" }
func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	p[k] = v
	return nil
}

func parse(fs *flag.FlagSet, args []string, required ...string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	for _, r := range required {
		if f := fs.Lookup(r); f == nil || f.Value.String() == "" {
			return usageError{"--" + r + " is required"}
		}
	}
	return nil
}

func usersCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	email := fs.String("email", "", "")
	credits := fs.String("credits", "0", "")
	if err := parse(fs, args, "email"); err != nil {
		return nil, err
	}
	amount, err := money.ParseAmount(*credits)
	if err != nil {
		return nil, usageError{"--credits: " + err.Error()}
	}
	u, err := e.accounts.CreateUser(e.ctx, *email, amount)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user_id": u.ID, "email": u.Email, "credits": u.Credits}, nil
}

func apikeysCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("apikeys create", flag.ContinueOnError)
	user := fs.String("user", "", "")
	name := fs.String("name", "", "")
	if err := parse(fs, args, "user"); err != nil {
		return nil, err
	}
	k, err := e.accounts.CreateAPIKey(e.ctx, *user, *name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": k.ID, "api_key": k.Plain, "name": k.Name, "prefix": k.Prefix, "user_id": k.UserID}, nil
}

func apikeysRevoke(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("apikeys revoke", flag.ContinueOnError)
	id := fs.String("id", "", "")
	if err := parse(fs, args, "id"); err != nil {
		return nil, err
	}
	if err := e.accounts.RevokeAPIKey(e.ctx, *id); err != nil {
		return nil, err
	}
	return map[string]any{"id": *id, "revoked": true}, nil
}

func linesAdd(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("lines add", flag.ContinueOnError)
	user := fs.String("user", "", "")
	number := fs.String("number", "", "")
	provider := fs.String("provider", "", "")
	inactive := fs.Bool("inactive", false, "")
	maxCPS := fs.Float64("max-cps", 0, "")
	creds := pairs{}
	fs.Var(creds, "credential", "")
	if err := parse(fs, args, "user", "number", "provider"); err != nil {
		return nil, err
	}
	l, err := e.accounts.AddLine(e.ctx, accounts.AddLine{UserID: *user, Number: *number, Provider: *provider,
		Credentials: creds, Inactive: *inactive, MaxCPS: *maxCPS})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"phone_number_id": l.ID, "phone_number": l.Number, "is_active": l.Active}
	if l.MaxCPS > 0 {
		out["max_cps"] = l.MaxCPS
	}
	return out, nil
}

func agentsCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("agents create", flag.ContinueOnError)
	user := fs.String("user", "", "")
	name := fs.String("name", "", "")
	prompt := fs.String("system-prompt", "", "")
	first := fs.String("first-message", "", "")
	if err := parse(fs, args, "user", "name"); err != nil {
		return nil, err
	}
	a, err := e.accounts.CreateAgent(e.ctx, accounts.CreateAgent{UserID: *user, Name: *name, SystemPrompt: *prompt, FirstMessage: *first})
	if err != nil {
		return nil, err
	}
	return map[string]any{"agent_id": a.ID, "name": a.Name}, nil
}

func workflowsCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("workflows create", flag.ContinueOnError)
	user := fs.String("user", "", "")
	name := fs.String("name", "", "")
	if err := parse(fs, args, "user", "name"); err != nil {
		return nil, err
	}
	w, err := e.accounts.CreateWorkflow(e.ctx, *user, *name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"workflow_id": w.ID, "name": w.Name}, nil
}

func mappingsSet(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("mappings set", flag.ContinueOnError)
	line := fs.String("line", "", "")
	agent := fs.String("agent", "", "")
	workflow := fs.String("workflow", "", "")
	if err := parse(fs, args, "line"); err != nil {
		return nil, err
	}
	if (*agent == "") == (*workflow == "") {
		return nil, usageError{"give exactly one of --agent and --workflow"}
	}
	if err := e.accounts.SetMapping(e.ctx, *line, call.Target{AgentID: *agent, WorkflowID: *workflow}); err != nil {
		return nil, err
	}
	out := map[string]any{"phone_number_id": *line}
	if *agent != "" {
		out["agent_id"] = *agent
	} else {
		out["workflow_id"] = *workflow
	}
	return out, nil
}

func creditsSet(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("credits set", flag.ContinueOnError)
	user := fs.String("user", "", "")
	amount := fs.String("amount", "", "")
	if err := parse(fs, args, "user", "amount"); err != nil {
		return nil, err
	}
	a, err := money.ParseAmount(*amount)
	if err != nil {
		return nil, usageError{"--amount: " + err.Error()}
	}
	if err := e.accounts.SetCredits(e.ctx, *user, a); err != nil {
		return nil, err
	}
	return map[string]any{"user_id": *user, "credits": a}, nil
}

func callsCreate(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("calls create", flag.ContinueOnError)
	user := fs.String("user", "", "")
	to := fs.String("to", "", "")
	agent := fs.String("agent", "", "")
	workflow := fs.String("workflow", "", "")
	line := fs.String("line", "", "")
	vars := pairs{}
	fs.Var(vars, "var", "")
	if err := parse(fs, args, "user", "to"); err != nil {
		return nil, err
	}
	values := make(map[string]any, len(vars))
	for k, v := range vars {
		values[k] = v
	}
	res, err := e.create.Handle(e.ctx, createcall.Command{UserID: *user, To: *to, AgentID: *agent,
		WorkflowID: *workflow, LineID: *line, VariableValues: values})
	if err != nil {
		return nil, err
	}
	if res.Unrecorded != nil {
		// The call was placed (or refused) all the same: its answer is still printed.
		fmt.Fprintf(e.errOut, "kupectl calls create: warning: session %s: %s\n", res.SessionID, describe(res.Unrecorded))
	}
	// The same JSON the HTTP API answers with, even when the outcome could not be recorded.
	return renderCall(res)
}
