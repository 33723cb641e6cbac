// Package testkit holds the helpers the tests of several packages share: Twilio's webhook
// signature, the scan of captured logs for secrets and whole phone numbers, and local servers for
// the carrier fakes. Its subpackages wire bigger things: stores runs a contract suite on every
// store, apitest wires the HTTP API, contracts embeds the vendors' API documents. Only tests import
// it; nothing under cmd/ links it.
package testkit

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TwilioSignature is Twilio's webhook signature, written out from its documentation (not with
// twilio-go): HMAC-SHA1 under the auth token of the URL followed by each POST parameter's name
// and value, sorted by name, in base64.
func TwilioSignature(token, u string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	s := u
	for _, k := range names {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ObservedLogger is a logger that keeps every entry, from debug level up, for a later scan.
func ObservedLogger() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// LogLines renders each captured entry as an encoder would write it: logger name, message,
// fields as JSON, stack.
func LogLines(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range e.Context {
			f.AddTo(enc)
		}
		fields, _ := json.Marshal(enc.Fields)
		out = append(out, strings.TrimSpace(e.LoggerName+" "+e.Message+" "+string(fields)+" "+e.Stack))
	}
	return out
}

// Leak returns the first of secrets that text holds, whole or, for a phone number, without its
// +; "" when it holds none. Empty secrets are passed over.
func Leak(text string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(text, s) || (strings.HasPrefix(s, "+") && len(s) > 1 && strings.Contains(text, s[1:])) {
			return s
		}
	}
	return ""
}

// ScanLogs fails the test (without stopping it) for each captured log line that holds one of
// secrets: API keys, tokens, carrier credentials, whole phone numbers. It returns how many lines
// it scanned, so that a caller can tell a clean scan from an empty one.
func ScanLogs(t testing.TB, logs *observer.ObservedLogs, secrets ...string) int {
	t.Helper()
	lines := LogLines(logs)
	for _, l := range lines {
		if s := Leak(l, secrets...); s != "" {
			t.Errorf("a log line holds a secret (%.6s...): %s", s, l)
		}
	}
	return len(lines)
}

// Serve serves h on a local port until the test ends and returns its base URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// RefusedURL is the base URL of a local address nothing listens on: a connection is refused.
func RefusedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
