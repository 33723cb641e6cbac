package carrierhttp

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/kupe-voice/kupe/application/createcall"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Invalid number +919876543210", "Invalid number +91******3210"},
		{"Invalid number 09876543210.", "Invalid number 098****3210."},
		{"code 34001 at 12:30", "code 34001 at 12:30"},
		{"token tok_5b1e8d2c4a refused", "token [redacted] refused"},
		{"line\nbreak\x00", "line break "},
	} {
		if got := Redact(tc.in, "tok_5b1e8d2c4a", "abc"); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := Redact(strings.Repeat("é", 200))
	if !utf8.ValidString(long) || len(long) > maxDetail+len("…") {
		t.Errorf("long message cut to %d bytes, valid UTF-8 %v", len(long), utf8.ValidString(long))
	}
}

func TestText(t *testing.T) {
	var v struct{ A, B, C, D, E Text }
	if err := json.Unmarshal([]byte(`{"A":" 34001 ","B":34001,"C":null,"D":{"x":1},"E":true}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "34001" || v.B != "34001" || v.C != "" || v.D != "" || v.E != "true" || v.B.Int() != 34001 || v.E.Int() != 0 {
		t.Fatalf("%+v", v)
	}
}

func TestTransportError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if de := TransportError(refused); de.Kind != createcall.DialUnavailable {
		t.Errorf("refused: %s", de.Kind)
	}
	if _, retry := retryable(Response{}, refused); !retry {
		t.Error("a refused connection should be retried")
	}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	if de := TransportError(reset); de.Kind != createcall.DialUnknown {
		t.Errorf("reset after sending: %s", de.Kind)
	}
	if _, retry := retryable(Response{}, reset); retry {
		t.Error("a reset after sending must not be retried")
	}
	if _, retry := retryable(Response{}, errors.New("timeout")); retry {
		t.Error("an unclassified failure must not be retried")
	}
	for status, want := range map[int]bool{429: true, 500: false, 503: false, 401: false} {
		if _, retry := retryable(Response{Status: status, Header: http.Header{}}, nil); retry != want {
			t.Errorf("HTTP %d retried %v, want %v", status, retry, want)
		}
	}
}
