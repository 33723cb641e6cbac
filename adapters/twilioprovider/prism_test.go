package twilioprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/internal/testkit/contracts"
)

// prismBin is the Prism binary ($KUPE_PRISM_BIN, or the one scripts/install-prism.sh installs);
// the test is skipped with KUPE_TEST_SKIP_PRISM=1 and fails when Prism is missing.
func prismBin(t *testing.T) string {
	t.Helper()
	if os.Getenv("KUPE_TEST_SKIP_PRISM") == "1" {
		t.Skip("KUPE_TEST_SKIP_PRISM=1")
	}
	bin := os.Getenv("KUPE_PRISM_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), ".tools", "prism", "node_modules", ".bin", "prism")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prism is not installed at %s: run scripts/install-prism.sh (or set KUPE_PRISM_BIN; KUPE_TEST_SKIP_PRISM=1 skips this test)", bin)
	}
	return bin
}

// TestTwilioAgainstPrism dials through the adapter against Prism serving Twilio's own OpenAPI
// document, which refuses any request that breaks Twilio's contract (path, auth, required and
// typed form fields).
func TestTwilioAgainstPrism(t *testing.T) {
	prism := startPrism(t, prismBin(t), prismDocument(t))

	const sid = "AC0123456789abcdef0123456789abcdef"
	creds := call.Credentials{"account_sid": sid, "auth_token": "0123456789abcdef0123456789abcdef"}

	t.Run("prism refuses a request that breaks the contract", func(t *testing.T) {
		// Without To: proves the mock validates rather than answering anything.
		req, _ := http.NewRequest(http.MethodPost, prism.url+"/2010-04-01/Accounts/"+sid+"/Calls.json",
			strings.NewReader(url.Values{"From": {testFrom}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sid, creds["auth_token"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("Prism answered a create without To with HTTP %d, want 422", res.StatusCode)
		}
	})

	t.Run("the adapter's create call passes", func(t *testing.T) {
		cfg := testConfig(prism.url)
		cfg.Timeout = 15 * time.Second // Prism compiles the schema on its first request
		req := testRequest()
		req.Credentials = creds
		leg, err := newCarrier(t, cfg).Dial(context.Background(), req)
		if err != nil {
			var de *createcall.DialError
			errors.As(err, &de)
			t.Fatalf("Dial through Prism: %v\nPrism's log:\n%s", err, prism.log.tail(4000))
		}
		if !regexp.MustCompile(`^CA[0-9a-fA-F]{32}$`).MatchString(leg) {
			t.Fatalf("leg id %q, want a call sid CA...", leg)
		}
	})

	t.Run("a create with every call option passes", func(t *testing.T) {
		cfg := testConfig(prism.url)
		cfg.Timeout = 15 * time.Second
		req := testRequest()
		req.Credentials = creds
		req.Options = call.Options{RingTimeout: 120 * time.Second, MaxDuration: 14400 * time.Second,
			MachineDetection: call.MachineDetectionEndOfGreeting}
		if _, err := newCarrier(t, cfg).Dial(context.Background(), req); err != nil {
			t.Fatalf("Dial with options through Prism: %v\nPrism's log:\n%s", err, prism.log.tail(4000))
		}
	})

	t.Run("the adapter's hang-up passes", func(t *testing.T) {
		cfg := testConfig(prism.url)
		cfg.Timeout = 15 * time.Second
		c := newCarrier(t, cfg)
		for _, st := range []call.Status{call.StatusInProgress, call.StatusRinging} {
			req := callevents.HangupRequest{SessionID: testRequest().SessionID, LegID: "CA0123456789abcdef0123456789abcdef",
				Status: st, Credentials: creds}
			if err := c.Hangup(context.Background(), req); err != nil {
				t.Fatalf("Hangup (%s) through Prism: %v\nPrism's log:\n%s", st, err, prism.log.tail(4000))
			}
		}
	})
}

// prismDocument returns Twilio's document as Prism needs it to read form bodies right. Twilio
// sends a list in a form body as repeated keys (StatusCallbackEvent=initiated&
// StatusCallbackEvent=ringing...), which is OpenAPI 3.0's default for form bodies (style form,
// explode true). Prism applies that default only to a property with an explicit encoding and
// otherwise reads the last value as a plain string ("must be array"; stoplightio/prism#2473).
// So array properties of form bodies get that very default written out; nothing else changes.
func prismDocument(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(contracts.TwilioAPIv2010, &doc); err != nil {
		t.Fatalf("twilio_api_v2010.json: %v", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range paths {
		ops, _ := p.(map[string]any)
		for _, op := range ops {
			body, _ := dig(op, "requestBody", "content", "application/x-www-form-urlencoded").(map[string]any)
			props, _ := dig(body, "schema", "properties").(map[string]any)
			for name, prop := range props {
				if dig(prop, "type") != "array" || dig(body, "encoding", name) != nil {
					continue
				}
				enc, _ := body["encoding"].(map[string]any)
				if enc == nil {
					enc = map[string]any{}
					body["encoding"] = enc
				}
				enc[name] = map[string]any{"style": "form", "explode": true}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "twilio_api_v2010.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

type prismServer struct {
	url string
	log *tailBuffer
}

// startPrism runs `prism mock` on a free loopback port, waits until it answers, and stops it (and
// any process it started) at cleanup.
func startPrism(t *testing.T, bin, doc string) *prismServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	log := &tailBuffer{}
	cmd := exec.Command(bin, "mock", "-h", "127.0.0.1", "-p", fmt.Sprint(port), doc)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Prism: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := hc.Get(base + "/")
		if err == nil {
			res.Body.Close()
			return &prismServer{url: base, log: log}
		}
		select {
		case <-exited:
			t.Fatalf("Prism exited before answering:\n%s", log.tail(4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not answer on %s within 60s:\n%s", base, log.tail(4000))
		}
	}
}

// tailBuffer keeps what Prism prints, bounded, for failure messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		keep := b.buf.Bytes()[b.buf.Len()-(1<<19):]
		b.buf = *bytes.NewBuffer(append([]byte(nil), keep...))
	}
	return b.buf.Write(p)
}

func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
