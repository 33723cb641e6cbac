package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// These tests run the built kupectl, as an operator does, on a SQLite database of their own.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// kupectlBinary builds this package once per test run.
func kupectlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kupectl-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kupectl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type cli struct {
	t   *testing.T
	bin string
	env []string
}

// newCLI runs kupectl with only the environment given (and PATH): nothing of the test's own
// KUPE_* variables leaks in. Without a database URL it gets a fresh SQLite file.
func newCLI(t *testing.T, env ...string) *cli {
	dir := t.TempDir()
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if !hasKey(env, "KUPE_DATABASE_URL") {
		base = append(base, "KUPE_DATABASE_URL=file:"+filepath.Join(dir, "kupe.db"))
	}
	return &cli{t: t, bin: kupectlBinary(t), env: append(base, env...)}
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// run returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and decodes its JSON.
func (c *cli) ok(v any, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("kupectl %s: exit %d, stderr %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("kupectl %s printed %q: %v", strings.Join(args, " "), out, err)
		}
	}
	return out
}

// fails runs a command that must fail with code, printing exactly one line on stderr that
// holds want, and nothing on stdout.
func (c *cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	out, errOut, got := c.run(args...)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if got != code || out != "" || !strings.Contains(lines[0], want) {
		c.t.Fatalf("kupectl %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), got, out, errOut, code, want)
	}
	// A usage error adds the command's usage line; anything else is the one line.
	if (code == 1 && len(lines) != 1) || (code == 2 && (len(lines) != 2 || !strings.HasPrefix(lines[1], "usage: "))) {
		c.t.Fatalf("kupectl %s: stderr is %d lines: %q", strings.Join(args, " "), len(lines), errOut)
	}
}

// The read commands show what the create commands made, as JSON by default and as tables with
// -o table, through the same use cases as the HTTP API.
func TestCLIReads(t *testing.T) {
	c := newCLI(t)
	var user struct {
		UserID string `json:"user_id"`
	}
	c.ok(&user, "users", "create", "--email", "ada@example.com", "--credits", "5")
	if user.UserID == "" {
		t.Fatal("no user id")
	}
	u := user.UserID
	var other struct {
		UserID string `json:"user_id"`
	}
	c.ok(&other, "users", "create", "--email", "bob@example.com")
	var line struct {
		ID string `json:"phone_number_id"`
	}
	c.ok(&line, "lines", "add", "--user", u, "--number", "+14155550100", "--provider", "simulated", "--credential", "token=s3cret-value")
	var agent struct {
		ID string `json:"agent_id"`
	}
	c.ok(&agent, "agents", "create", "--user", u, "--name", "Sales East", "--system-prompt", "Hi {{name}}")
	c.ok(nil, "mappings", "set", "--line", line.ID, "--agent", agent.ID)
	var placed, refused struct {
		SessionID string `json:"call_session_id"`
		Status    string `json:"status"`
	}
	c.ok(&placed, "calls", "create", "--user", u, "--to", "+14155550123", "--var", "name=Ada")
	c.ok(&refused, "calls", "create", "--user", u, "--to", "+14155550199")
	if placed.Status != "success" || refused.Status != "failed" {
		t.Fatalf("calls: %+v, %+v", placed, refused)
	}

	var users []map[string]any
	c.ok(&users, "users", "list")
	if len(users) != 2 || users[0]["user_id"] != u || users[0]["email"] != "ada@example.com" || users[1]["user_id"] != other.UserID {
		t.Fatalf("users list = %v", users)
	}
	var shown map[string]any
	c.ok(&shown, "users", "show", "--id", u)
	if shown["user_id"] != u || shown["credits"] != 5.0 || shown["lines"] != 1.0 || shown["agents"] != 1.0 || shown["calls"] != 2.0 {
		t.Fatalf("users show = %v", shown)
	}
	var lines []map[string]any
	out := c.ok(&lines, "lines", "list", "--user", u)
	if len(lines) != 1 || lines[0]["phone_number_id"] != line.ID || lines[0]["agent_id"] != agent.ID || lines[0]["provider"] != "simulated" {
		t.Fatalf("lines list = %v", lines)
	}
	if strings.Contains(out, "s3cret-value") {
		t.Fatal("lines list shows a credential")
	}
	var agents []map[string]any
	c.ok(&agents, "agents", "list", "--user", u)
	if len(agents) != 1 || agents[0]["agent_id"] != agent.ID || agents[0]["name"] != "Sales East" {
		t.Fatalf("agents list = %v", agents)
	}
	var calls []map[string]any
	c.ok(&calls, "calls", "list", "--user", u)
	if len(calls) != 2 || calls[0]["call_session_id"] != refused.SessionID || calls[1]["call_session_id"] != placed.SessionID {
		t.Fatalf("calls list = %v, want the two calls, newest first", calls)
	}
	c.ok(&calls, "calls", "list", "--user", u, "--status", "failed")
	if len(calls) != 1 || calls[0]["call_session_id"] != refused.SessionID || calls[0]["status"] != "failed" {
		t.Fatalf("calls list --status failed = %v", calls)
	}
	c.ok(&calls, "calls", "list", "--user", u, "--limit", "1")
	if len(calls) != 1 || calls[0]["call_session_id"] != refused.SessionID {
		t.Fatalf("calls list --limit 1 = %v", calls)
	}
	var detail map[string]any
	c.ok(&detail, "calls", "show", "--id", placed.SessionID)
	if detail["call_session_id"] != placed.SessionID || detail["user_id"] != u || detail["rendered_system_prompt"] != "Hi Ada" ||
		detail["provider"] != "simulated" || detail["variable_values"].(map[string]any)["name"] != "Ada" {
		t.Fatalf("calls show = %v", detail)
	}
	var limits map[string]any
	c.ok(&limits, "limits", "set", "--user", u, "--max-concurrent-calls", "3")
	c.ok(&limits, "limits", "show", "--user", u)
	if limits["user_id"] != u || limits["max_concurrent_calls"] != 3.0 || limits["daily_spend_cap"] != nil {
		t.Fatalf("limits show = %v", limits)
	}

	// Tables, for people: a header and one row per record, or FIELD and VALUE rows.
	table := c.ok(nil, "calls", "list", "--user", u, "-o", "table")
	rows := strings.Split(strings.TrimSpace(table), "\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "CALL_SESSION_ID") || !strings.Contains(rows[0], "STATUS") ||
		!strings.HasPrefix(rows[1], refused.SessionID) || !strings.Contains(rows[1], "failed") || !strings.Contains(rows[2], "initiated") {
		t.Fatalf("calls list -o table =\n%s", table)
	}
	table = c.ok(nil, "users", "show", "--id", u, "-o=table")
	if !strings.HasPrefix(table, "FIELD") || !strings.Contains(table, "\nemail") || !strings.Contains(table, "ada@example.com") {
		t.Fatalf("users show -o table =\n%s", table)
	}
	table = c.ok(nil, "agents", "list", "--user", other.UserID, "--output", "table")
	if strings.TrimSpace(table) != "AGENT_ID  NAME  IS_ACTIVE  CREATED_AT" {
		t.Fatalf("an empty agents list -o table = %q", table)
	}
	for _, args := range [][]string{{"users", "list"}, {"lines", "list", "--user", u}, {"limits", "show", "--user", u},
		{"calls", "show", "--id", placed.SessionID}, {"users", "create", "--email", "cy@example.com"}} {
		table := c.ok(nil, append(args, "-o", "table")...)
		if strings.HasPrefix(strings.TrimSpace(table), "{") || strings.HasPrefix(strings.TrimSpace(table), "[") || !strings.Contains(table, "  ") {
			t.Fatalf("kupectl %s -o table =\n%s", strings.Join(args, " "), table)
		}
	}
}

// Every failure is one readable line on stderr and a non-zero exit.
func TestCLIErrors(t *testing.T) {
	c := newCLI(t)
	var user struct {
		UserID string `json:"user_id"`
	}
	c.ok(&user, "users", "create", "--email", "ada@example.com")
	missing := "6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01"
	c.fails(1, "kupectl users show: not found: check the ids", "users", "show", "--id", missing)
	c.fails(1, "kupectl users show: user must be a UUID", "users", "show", "--id", "42")
	c.fails(1, "kupectl lines list: not found: check the ids", "lines", "list", "--user", missing)
	c.fails(1, "kupectl calls show: call session not found: check the id", "calls", "show", "--id", missing)
	c.fails(1, "kupectl limits show: not found: check the ids", "limits", "show", "--user", missing)
	c.fails(2, "kupectl calls list: --status \"ringin\": want one of dialing,", "calls", "list", "--user", user.UserID, "--status", "ringin")
	c.fails(2, "kupectl calls list: --limit: want 1 to 1000", "calls", "list", "--user", user.UserID, "--limit", "0")
	c.fails(2, "kupectl calls list: --user is required", "calls", "list")
	c.fails(2, "kupectl users list: -o \"yaml\": want json or table", "users", "list", "-o", "yaml")
}

// With PostgreSQL and no KUPE_SECRETS_KEY, kupectl says so in one line, not in fx's chain of
// everything that needed the key.
func TestCLIMissingSecretsKeyIsOneLine(t *testing.T) {
	c := newCLI(t, "KUPE_DATABASE_URL=postgres://kupe@127.0.0.1:1/kupe?sslmode=disable")
	out, errOut, code := c.run("users", "list")
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "kupectl: KUPE_SECRETS_KEY is required with PostgreSQL") ||
		strings.Contains(errOut, "could not build") || strings.Contains(errOut, ".go:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
