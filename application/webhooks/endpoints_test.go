package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/webhooksender"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/fault"
	"github.com/kupe-voice/kupe/domain/webhook"
)

func TestGetStoresASecretOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	e1, err := r.endpoints.Get(ctx, r.userID, r.agentID)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Secret.IsZero() || !e1.Config.TriggerOnPhoneCall() || e1.Config.Outgoing().Enabled() || e1.Config.Incoming().Enabled() {
		t.Fatalf("first read: %+v", e1)
	}
	e2, err := r.endpoints.Get(ctx, r.userID, r.agentID)
	if err != nil || e2.Secret.Reveal() != e1.Secret.Reveal() {
		t.Fatalf("second read changed the secret (%v)", err)
	}
	rotated, err := r.endpoints.RotateSecret(ctx, r.userID, r.agentID)
	if err != nil || rotated.Reveal() == e1.Secret.Reveal() || !strings.HasPrefix(rotated.Reveal(), webhook.SecretPrefix) {
		t.Fatalf("rotate: %v", err)
	}
	if e3, _ := r.endpoints.Get(ctx, r.userID, r.agentID); e3.Secret.Reveal() != rotated.Reveal() {
		t.Fatal("the rotated secret was not stored")
	}
}

func TestAnotherUsersAgentIsNotFound(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	stranger := uuid.NewString()
	if _, err := r.endpoints.Get(ctx, stranger, r.agentID); !errors.Is(err, call.ErrAgentNotFound) {
		t.Fatalf("Get: %v", err)
	}
	if _, err := r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: stranger, AgentID: r.agentID}); !errors.Is(err, call.ErrAgentNotFound) {
		t.Fatalf("Put: %v", err)
	}
	if _, err := r.endpoints.RotateSecret(ctx, stranger, r.agentID); !errors.Is(err, call.ErrAgentNotFound) {
		t.Fatalf("RotateSecret: %v", err)
	}
	if _, err := r.endpoints.TestOutgoing(ctx, stranger, r.agentID); !errors.Is(err, call.ErrAgentNotFound) {
		t.Fatalf("TestOutgoing: %v", err)
	}
	var inv *fault.InvalidInputError
	if _, err := r.endpoints.Get(ctx, r.userID, "not-a-uuid"); !errors.As(err, &inv) {
		t.Fatalf("Get of a malformed id: %v", err)
	}
	if list, err := r.endpoints.List(ctx, stranger); err != nil || len(list) != 0 {
		t.Fatalf("List of a user without agents: %v, %v", list, err)
	}
}

func TestPutKeepsAHiddenToken(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.configure(5) // token crm-token-1
	rc := 4
	in := webhook.ConfigInput{TriggerOnPhoneCall: true,
		Outgoing: webhook.OutgoingInput{Enabled: true, URL: r.url, AuthType: "bearer", RetryCount: &rc}}
	e, err := r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID, Input: in, Token: webhooks.KeepToken})
	if err != nil {
		t.Fatal(err)
	}
	if e.Config.Outgoing().BearerToken() != "crm-token-1" || e.Config.Outgoing().RetryCount() != 4 {
		t.Fatalf("kept: token kept %v, retry_count %d", e.Config.Outgoing().BearerToken() == "crm-token-1", e.Config.Outgoing().RetryCount())
	}
	e, err = r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID, Input: in, Token: webhooks.ClearToken})
	if err != nil || e.Config.Outgoing().BearerToken() != "" {
		t.Fatalf("cleared: %v, token left %v", err, e.Config.Outgoing().BearerToken() != "")
	}
	in.Outgoing.AuthToken = "new-token"
	e, err = r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID, Input: in, Token: webhooks.SetToken})
	if err != nil || e.Config.Outgoing().BearerToken() != "new-token" {
		t.Fatalf("set: %v", err)
	}
}

func TestPutRefusesPrivateURLs(t *testing.T) {
	r := newRig(t)
	strict := webhooksender.New(webhooksender.Options{})
	r.endpoints.Sender = webhooksender.Port{Sender: strict}
	ctx := context.Background()
	for url, why := range map[string]string{
		"https://127.0.0.1/hook":                "loopback",
		"https://169.254.169.254/latest":        "metadata",
		"http://crm.example.com/hook":           "https",
		"https://10.1.2.3:8443/hook":            "private",
		"https://localhost./hook?token=private": "",
	} {
		_, err := r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID,
			Input: webhook.ConfigInput{Outgoing: webhook.OutgoingInput{Enabled: true, URL: url}}})
		var inv *fault.InvalidInputError
		if !errors.As(err, &inv) || !strings.HasPrefix(inv.Detail, "outgoing.url:") || !strings.Contains(inv.Detail, why) {
			t.Errorf("PUT %s: %v, want a 422 that says %q", url, err, why)
		}
	}
	if _, err := r.hooks.Endpoint(ctx, r.agentID); !errors.Is(err, webhooks.ErrEndpointNotFound) {
		t.Fatalf("a refused PUT stored something: %v", err)
	}
}

func TestTestOutgoingReportsTheReceiver(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.endpoints.TestOutgoing(ctx, r.userID, r.agentID); !errors.Is(err, webhooks.ErrNoOutgoingURL) {
		t.Fatalf("without a URL: %v", err)
	}
	r.configure(5)
	res, err := r.endpoints.TestOutgoing(ctx, r.userID, r.agentID)
	if err != nil || res.Outcome != webhook.Delivered || res.StatusCode != 200 {
		t.Fatalf("delivered: %+v, %v", res, err)
	}
	r.recv.statuses = []int{503}
	res, err = r.endpoints.TestOutgoing(ctx, r.userID, r.agentID)
	if err != nil || res.Outcome == webhook.Delivered || res.StatusCode != 503 {
		t.Fatalf("refused: %+v, %v", res, err)
	}
	if got := r.recv.received(); len(got) != 2 || !strings.Contains(string(got[0].body), `"test":true`) {
		t.Fatalf("the receiver got %d requests", len(got))
	}
}

func TestStartCallAuthorize(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	body := []byte(`{"phoneNumber":"+14155550123","customer_name":"Top","variable_values":{"customer_name":"Jane"}}`)
	// No configuration: the same answer as a wrong signature.
	if _, err := r.start.Authorize(ctx, r.agentID, body, "sha256="+strings.Repeat("0", 64)); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Fatalf("agent without a configuration: %v", err)
	}
	e := r.configure(5)
	sig := e.Secret.SignStartCall(body)
	sc, err := r.start.Authorize(ctx, r.agentID, body, sig)
	if err != nil {
		t.Fatal(err)
	}
	if sc.UserID != r.userID || sc.AgentID != r.agentID || sc.Destination != "+14155550123" ||
		sc.VariableValues["customer_name"] != "Jane" || !strings.HasPrefix(sc.IdempotencyKey, webhooks.IdempotencyKeyPrefix) {
		t.Fatalf("authorized %+v", sc)
	}
	again, _ := r.start.Authorize(ctx, r.agentID, body, sig)
	if again.IdempotencyKey != sc.IdempotencyKey {
		t.Fatal("the same signed body got another idempotency key")
	}
	for name, c := range map[string]struct {
		agent, sig string
		body       []byte
		want       error
	}{
		"missing":        {r.agentID, "", body, webhook.ErrSignatureMissing},
		"wrong":          {r.agentID, "sha256=" + strings.Repeat("ab", 32), body, webhook.ErrSignatureMismatch},
		"other body":     {r.agentID, sig, []byte(`{"phoneNumber":"+14155550124"}`), webhook.ErrSignatureMismatch},
		"unknown agent":  {uuid.NewString(), sig, body, webhook.ErrSignatureMismatch},
		"malformed path": {"x", sig, body, webhook.ErrSignatureMismatch},
	} {
		if _, err := r.start.Authorize(ctx, c.agent, c.body, c.sig); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Rotated: the old signature signs nothing.
	if _, err := r.endpoints.RotateSecret(ctx, r.userID, r.agentID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.start.Authorize(ctx, r.agentID, body, sig); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Fatalf("the old secret's signature after a rotation: %v", err)
	}
	// Incoming off: a good signature learns that, and nothing else.
	rc := 5
	e, err = r.endpoints.Put(ctx, webhooks.PutEndpoint{UserID: r.userID, AgentID: r.agentID,
		Input: webhook.ConfigInput{Outgoing: webhook.OutgoingInput{RetryCount: &rc}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.start.Authorize(ctx, r.agentID, body, e.Secret.SignStartCall(body)); !errors.Is(err, webhooks.ErrIncomingDisabled) {
		t.Fatalf("incoming off: %v", err)
	}
}
