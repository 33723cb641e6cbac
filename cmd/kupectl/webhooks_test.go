package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func kupectl(t *testing.T, args ...string) (map[string]any, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	var m map[string]any
	if code == 0 {
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("kupectl %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	return m, code, errOut.String()
}

func TestWebhooksCommands(t *testing.T) {
	t.Setenv("KUPE_DATABASE_URL", "file:"+filepath.Join(t.TempDir(), "kupe.db"))
	t.Setenv("KUPE_WEBHOOK_ALLOW_PRIVATE", "true")
	u, code, stderr := kupectl(t, "users", "create", "--email", "ops@example.com")
	if code != 0 {
		t.Fatalf("users create: %d %s", code, stderr)
	}
	a, code, stderr := kupectl(t, "agents", "create", "--user", u["user_id"].(string), "--name", "Sales")
	if code != 0 {
		t.Fatalf("agents create: %d %s", code, stderr)
	}
	agent := a["agent_id"].(string)

	set, code, stderr := kupectl(t, "webhooks", "set", "--agent", agent, "--url", "http://127.0.0.1:9/hook",
		"--token", "tok-cli-1", "--header", "X-Tenant=acme", "--retry-count", "3", "--incoming=true", "--var", "name=friend")
	if code != 0 {
		t.Fatalf("webhooks set: %d %s", code, stderr)
	}
	if set["outgoing_enabled"] != true || set["outgoing_url"] != "http://127.0.0.1:9/hook" || set["bearer_token"] != "********" ||
		set["retry_count"] != 3.0 || set["incoming_enabled"] != true || set["user_id"] != u["user_id"] {
		t.Fatalf("webhooks set printed %v", set)
	}
	// A second set changes what it names and keeps the rest, the token included.
	if _, code, stderr = kupectl(t, "webhooks", "set", "--agent", agent, "--enabled=false"); code != 0 {
		t.Fatalf("webhooks set --enabled=false: %d %s", code, stderr)
	}
	shown, code, stderr := kupectl(t, "webhooks", "show", "--agent", agent, "--reveal-secret")
	if code != 0 {
		t.Fatalf("webhooks show: %d %s", code, stderr)
	}
	if shown["outgoing_enabled"] != false || shown["bearer_token"] != "********" || shown["retry_count"] != 3.0 ||
		!strings.HasPrefix(shown["secret"].(string), "whsec_") {
		t.Fatalf("webhooks show printed %v", shown)
	}
	if hidden, _, _ := kupectl(t, "webhooks", "show", "--agent", agent); hidden["secret"] != nil {
		t.Fatalf("the secret is shown without --reveal-secret")
	}
	if _, code, stderr = kupectl(t, "webhooks", "set", "--agent", agent, "--url", "https://169.254.169.254/x"); code != 1 ||
		!strings.Contains(stderr, "metadata") {
		t.Fatalf("a metadata URL: %d %s", code, stderr)
	}
	list, code, stderr := kupectl(t, "webhooks", "deliveries", "--agent", agent)
	if code != 0 || list["total"] != 0.0 {
		t.Fatalf("webhooks deliveries: %d %v %s", code, list, stderr)
	}
	if _, code, stderr = kupectl(t, "webhooks", "replay", "--id", uuid.NewString()); code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("replay of an unknown delivery: %d %s", code, stderr)
	}
	if _, code, _ = kupectl(t, "webhooks", "show", "--agent", uuid.NewString()); code != 1 {
		t.Fatalf("show of an unknown agent: exit %d", code)
	}
	if _, code, _ = kupectl(t, "webhooks", "show"); code != 2 {
		t.Fatalf("show without --agent: exit %d", code)
	}
}
