package httpapi

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/fault"
)

// FuzzReadAuth: outgoing.auth as a PUT sends it never panics, and it never stores a token the
// request did not send: a kept or cleared token comes back empty, the hidden one is never set,
// and a refusal is a 422.
func FuzzReadAuth(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `{"type": "bearer", "token": "tok-1"}`, `{"type": "bearer", "token": "********"}`,
		`{"type": "bearer"}`, `{"type": "none"}`, `{"type": "basic", "token": "x"}`, `{"token": "x"}`,
		`[1]`, `"bearer"`, `{"type": 1}`, `{"type": "BEARER", "token": ""}`, ` null `, `{"type": null, "token": null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		change, typ, tok, err := readAuth(json.RawMessage(raw))
		if err != nil {
			var inv *fault.InvalidInputError
			if !errors.As(err, &inv) {
				t.Fatalf("readAuth(%q): %v is not a 422", raw, err)
			}
			return
		}
		switch change {
		case webhooks.KeepToken, webhooks.ClearToken:
			if typ != "" || tok != "" {
				t.Fatalf("readAuth(%q) keeps or clears but returns type %q token %q", raw, typ, tok)
			}
		case webhooks.SetToken:
			if tok == HiddenToken && typ == "bearer" {
				t.Fatalf("readAuth(%q) would store the hidden token", raw)
			}
			var a struct{ Token *string }
			if json.Unmarshal([]byte(raw), &a) != nil || (a.Token == nil && tok != "") || (a.Token != nil && *a.Token != tok) {
				t.Fatalf("readAuth(%q) sets token %q, which the request did not send", raw, tok)
			}
		default:
			t.Fatalf("readAuth(%q): change %v", raw, change)
		}
	})
}
