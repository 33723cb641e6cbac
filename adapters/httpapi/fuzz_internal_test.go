package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzQueryParams: create_call's one-pass query reader never panics and, on any query that
// url.ParseQuery reads without error, agrees with it (the first value of each key wins).
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{
		"phoneNumber=%2B14155550123&agent_id=6f1c1f64-8d1c-4a55-9a3b-2f0d8a1e9c01",
		"phoneNumber=+14155550123", "phoneNumber=%zz", "phoneNumber", "=&&=", "%", "a=%&phoneNumber=1",
		"phoneNumber=1&phoneNumber=2", "phone%4Eumber=%2B1", "agent_id=;workflow_id=x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, found := make([]string, len(createCallKeys)), make([]bool, len(createCallKeys))
		q := queryParams{keys: createCallKeys, values: values, found: found}
		err := q.parse(raw)
		want, werr := url.ParseQuery(raw)
		if werr != nil {
			return
		}
		if err != nil {
			t.Fatalf("parse(%q) = %v, but url.ParseQuery reads it", raw, err)
		}
		for i, k := range createCallKeys {
			v, ok := want[k]
			if found[i] != ok || (ok && values[i] != v[0]) {
				t.Fatalf("parse(%q)[%s] = %q (found %v), url.ParseQuery says %q", raw, k, values[i], found[i], v)
			}
		}
	})
}

// FuzzReadVariables: create_call's body reader never panics; it either returns variables that
// are a JSON object's members, or an error the one error table turns into a 4xx.
func FuzzReadVariables(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"variable_values": {"name": "Alex", "balance": "$50"}}`, `{"variable_values": null}`,
		`{"variable_values": [1]}`, `{"variable_values": {"n": 0.10, "b": true, "z": null}}`, `{`, `[]`, `{} {}`,
		`{"variable_values": {"a": {"b": 1}}}`, "\xef\xbb\xbf{}", `{"variable_values": 1e999}`,
	} {
		f.Add([]byte(s), int64(1024))
	}
	f.Fuzz(func(t *testing.T, body []byte, max int64) {
		if max < 16 || max > 1<<20 {
			max = DefaultMaxBodyBytes
		}
		s := &server{cfg: Config{MaxBodyBytes: max}}
		r := httptest.NewRequest(http.MethodPost, "/api/call/create_call", bytes.NewReader(body))
		vars, err := s.readVariables(r)
		if err != nil {
			status, detail, internal := classify(err)
			if internal || status < 400 || status >= 500 || detail == "" {
				t.Fatalf("readVariables(%q) = %v: %d %q internal=%v, want a 4xx the table knows", body, err, status, detail, internal)
			}
			return
		}
		if int64(len(body)) > max {
			t.Fatalf("readVariables accepted %d bytes over a limit of %d", len(body), max)
		}
		if vars == nil {
			return
		}
		// What came back is a JSON object's members: it encodes again.
		if _, err := json.Marshal(vars); err != nil {
			t.Fatalf("variables %v from %q do not encode: %v", vars, body, err)
		}
	})
}
