package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// kupectl runs one command against the database of the test and decodes its JSON answer.
// A call kupectl places on a simulated line is not played by kupectl (the server adopts it),
// and kupectl hangs it up at once, through the same use case as the HTTP API.
func TestCallsHangup(t *testing.T) {
	t.Setenv("KUPE_DATABASE_URL", "file:"+filepath.Join(t.TempDir(), "kupe.db"))
	t.Setenv("KUPE_LOG_LEVEL", "error")
	must := func(m map[string]any, code int, stderr string) map[string]any {
		t.Helper()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return m
	}
	user := must(kupectl(t, "users", "create", "--email", "ops@example.com", "--credits", "5"))["user_id"].(string)
	line := must(kupectl(t, "lines", "add", "--user", user, "--number", "+14155550100", "--provider", "simulated"))
	agent := must(kupectl(t, "agents", "create", "--user", user, "--name", "Ops"))
	must(kupectl(t, "mappings", "set", "--line", line["phone_number_id"].(string), "--agent", agent["agent_id"].(string)))
	created := must(kupectl(t, "calls", "create", "--user", user, "--to", "+14155550123"))
	id := created["call_session_id"].(string)

	ended := must(kupectl(t, "calls", "hangup", "--id", id))
	if ended["status"] != "canceled" || ended["ended"] != true || ended["call_session_id"] != id {
		t.Fatalf("calls hangup printed %v", ended)
	}
	_, code, stderr := kupectl(t, "calls", "hangup", "--id", id)
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "already ended") {
		t.Fatalf("second hangup: exit %d, stderr %q", code, stderr)
	}
	if _, code, stderr := kupectl(t, "calls", "hangup"); code != 2 || !strings.Contains(stderr, "--id is required") {
		t.Fatalf("hangup without --id: exit %d, stderr %q", code, stderr)
	}
}
