package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/application/createcall"
)

// appendJSONString must agree with encoding/json (without its HTML escapes) on every input.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r\b\f", "\x00\x01\x1f\x7f",
		"héllo wörld ☎", "bad \xff utf8 \xc3", "line\u2028sep\u2029", "<html>&amp;", "+14155550123"} {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("hello \"world\"\n\xff")
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	got := appendJSONString(nil, s)
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(sb.String(), "\n"); string(got) != want {
		t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
	}
}

func TestQueryParams(t *testing.T) {
	var (
		values [3]string
		found  [3]bool
	)
	q := queryParams{keys: []string{"a", "b", "c"}, values: values[:], found: found[:]}
	if err := q.parse("a=1&a=2&&b=&x=9&%63=%2B1+2"); err != nil {
		t.Fatal(err)
	}
	if values != [3]string{"1", "", "+1 2"} || found != [3]bool{true, true, true} {
		t.Fatalf("values %q found %v", values, found)
	}
	q = queryParams{keys: []string{"a"}, values: values[:1], found: make([]bool, 1)}
	if err := q.parse("a=%zz"); err == nil {
		t.Fatal("bad escape accepted")
	}
}

func TestAppendCreateCallResponseWithoutSession(t *testing.T) {
	got := string(AppendCreateCallResponse(nil, createcall.Result{Detail: "x \"y\""}))
	if want := `{"status":"failed","detail":"x \"y\""}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
