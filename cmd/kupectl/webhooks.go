package main

import (
	"flag"
	"strconv"

	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// The webhooks commands act for the agent's (or the delivery's) owner, whom they look up: the
// operator names the agent only.

const webhooksSetUsage = "--agent A [--url U] [--enabled=true|false] [--token T | --no-token] [--header k=v]... " +
	"[--retry-count N] [--trigger=true|false] [--incoming=true|false] [--var name=default]..."

// webhookView is what show and set print: the configuration, the token hidden, the secret only
// when asked for.
type webhookView struct {
	AgentID            string            `json:"agent_id"`
	UserID             string            `json:"user_id"`
	TriggerOnPhoneCall bool              `json:"trigger_on_phone_call"`
	OutgoingEnabled    bool              `json:"outgoing_enabled"`
	OutgoingURL        string            `json:"outgoing_url"`
	Headers            map[string]string `json:"headers,omitempty"`
	BearerToken        string            `json:"bearer_token,omitempty"`
	RetryCount         int               `json:"retry_count"`
	DisabledReason     string            `json:"disabled_reason,omitempty"`
	IncomingEnabled    bool              `json:"incoming_enabled"`
	AttachedVariables  map[string]string `json:"attached_variables,omitempty"`
	Secret             string            `json:"secret,omitempty"`
}

func viewOf(e webhooks.Endpoint, reveal bool) webhookView {
	o := e.Config.Outgoing()
	v := webhookView{AgentID: e.AgentID, UserID: e.UserID, TriggerOnPhoneCall: e.Config.TriggerOnPhoneCall(),
		OutgoingEnabled: o.Enabled(), OutgoingURL: o.URL(), Headers: o.Headers(), RetryCount: o.RetryCount(),
		DisabledReason: e.DisabledReason, IncomingEnabled: e.Config.Incoming().Enabled()}
	if o.BearerToken() != "" {
		v.BearerToken = "********"
	}
	for _, a := range e.Config.Incoming().AttachedVariables() {
		if v.AttachedVariables == nil {
			v.AttachedVariables = map[string]string{}
		}
		v.AttachedVariables[a.Name] = a.DefaultValue
	}
	if reveal {
		v.Secret = e.Secret.Reveal()
	}
	return v
}

// owner is the user whose agent id is.
func owner(e *env, agentID string) (string, error) {
	a, err := e.accounts.Store.Agent(e.ctx, agentID)
	if err != nil {
		return "", err
	}
	return a.UserID, nil
}

func webhooksShow(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("webhooks show", flag.ContinueOnError)
	agent := fs.String("agent", "", "")
	reveal := fs.Bool("reveal-secret", false, "")
	if err := parse(fs, args, "agent"); err != nil {
		return nil, err
	}
	user, err := owner(e, *agent)
	if err != nil {
		return nil, err
	}
	ep, err := e.endpoints.Get(e.ctx, user, *agent)
	if err != nil {
		return nil, err
	}
	return viewOf(ep, *reveal), nil
}

// optBool is a boolean flag that knows whether it was given.
type optBool struct{ v, set bool }

func (b *optBool) String() string   { return strconv.FormatBool(b.v) }
func (b *optBool) IsBoolFlag() bool { return true }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	b.v, b.set = v, err == nil
	return err
}

// webhooksSet changes the flags given and keeps the rest of the stored configuration.
func webhooksSet(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("webhooks set", flag.ContinueOnError)
	agent := fs.String("agent", "", "")
	url := fs.String("url", "", "")
	token := fs.String("token", "", "")
	noToken := fs.Bool("no-token", false, "")
	retry := fs.Int("retry-count", -1, "")
	var enabled, trigger, incoming optBool
	fs.Var(&enabled, "enabled", "")
	fs.Var(&trigger, "trigger", "")
	fs.Var(&incoming, "incoming", "")
	headers, vars := pairs{}, pairs{}
	fs.Var(headers, "header", "")
	fs.Var(vars, "var", "")
	if err := parse(fs, args, "agent"); err != nil {
		return nil, err
	}
	if *token != "" && *noToken {
		return nil, usageError{"give --token or --no-token, not both"}
	}
	user, err := owner(e, *agent)
	if err != nil {
		return nil, err
	}
	ep, err := e.endpoints.Get(e.ctx, user, *agent)
	if err != nil {
		return nil, err
	}
	in := ep.Config.Input()
	if *url != "" {
		in.Outgoing.URL = *url
		if !enabled.set {
			in.Outgoing.Enabled = true
		}
	}
	if enabled.set {
		in.Outgoing.Enabled = enabled.v
	}
	if trigger.set {
		in.TriggerOnPhoneCall = trigger.v
	}
	if incoming.set {
		in.Incoming.Enabled = incoming.v
	}
	if *retry >= 0 {
		in.Outgoing.RetryCount = retry
	}
	if len(headers) > 0 {
		in.Outgoing.Headers = headers
	}
	if len(vars) > 0 {
		in.Incoming.AttachedVariables = nil
		for k, v := range vars {
			in.Incoming.AttachedVariables = append(in.Incoming.AttachedVariables, webhook.AttachedVariable{Name: k, DefaultValue: v})
		}
	}
	cmd := webhooks.PutEndpoint{UserID: user, AgentID: *agent, Input: in, Token: webhooks.KeepToken}
	switch {
	case *token != "":
		cmd.Token, cmd.Input.Outgoing.AuthType, cmd.Input.Outgoing.AuthToken = webhooks.SetToken, "bearer", *token
	case *noToken:
		cmd.Token = webhooks.ClearToken
	}
	ep, err = e.endpoints.Put(e.ctx, cmd)
	if err != nil {
		return nil, err
	}
	return viewOf(ep, false), nil
}

// deliveryView is a delivery as the HTTP API lists it.
type deliveryView struct {
	ID            string        `json:"id"`
	WebhookID     string        `json:"webhook_id"`
	AgentID       string        `json:"agent_id"`
	Event         string        `json:"event"`
	CallSessionID string        `json:"call_session_id,omitempty"`
	Status        string        `json:"status"`
	Attempts      []attemptView `json:"attempts"`
	NextAttemptAt string        `json:"next_attempt_at,omitempty"`
}

type attemptView struct {
	At         string `json:"at"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

func deliveryViewOf(d webhooks.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, WebhookID: d.WebhookID, AgentID: d.AgentID, Event: string(d.Event), CallSessionID: d.SessionID,
		Status: string(d.Status), Attempts: []attemptView{}}
	if !d.NextAttemptAt.IsZero() {
		v.NextAttemptAt = d.NextAttemptAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	for _, a := range d.Attempts {
		v.Attempts = append(v.Attempts, attemptView{At: a.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			StatusCode: a.StatusCode, Error: a.Error})
	}
	return v
}

func webhooksDeliveries(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("webhooks deliveries", flag.ContinueOnError)
	agent := fs.String("agent", "", "")
	status := fs.String("status", "", "")
	limit := fs.Int("limit", 50, "")
	if err := parse(fs, args, "agent"); err != nil {
		return nil, err
	}
	user, err := owner(e, *agent)
	if err != nil {
		return nil, err
	}
	list, total, err := e.deliveries.List(e.ctx, webhooks.ListDeliveries{UserID: user, AgentID: *agent, Status: *status, Limit: *limit})
	if err != nil {
		return nil, err
	}
	out := struct {
		Deliveries []deliveryView `json:"deliveries"`
		Total      int            `json:"total"`
	}{Deliveries: []deliveryView{}, Total: total}
	for _, d := range list {
		out.Deliveries = append(out.Deliveries, deliveryViewOf(d))
	}
	return out, nil
}

// webhooksReplay queues the delivery to be sent again; a running server sends it.
func webhooksReplay(e *env, args []string) (any, error) {
	fs := flag.NewFlagSet("webhooks replay", flag.ContinueOnError)
	id := fs.String("id", "", "")
	if err := parse(fs, args, "id"); err != nil {
		return nil, err
	}
	d, err := e.deliveryStore.Delivery(e.ctx, *id)
	if err != nil {
		return nil, err
	}
	d, err = e.deliveries.Replay(e.ctx, d.UserID, *id)
	if err != nil {
		return nil, err
	}
	return deliveryViewOf(d), nil
}
