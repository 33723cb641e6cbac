package webhook_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/webhook"
)

func FuzzParseStartCall(f *testing.F) {
	for _, s := range []string{
		`{ "phoneNumber": "+1…", "variable_values": {} }`,
		`{"phoneNumber":"+14155550123","variable_values":{"name":"Alex","n":1.5,"ok":true,"x":null}}`,
		`{"to_number":"+14155550123","phone_number_id":"0f8fad5b-d9cb-469f-a165-70867728950e","variables":{"a":"b"}}`,
		`{"phone_number":919876543210,"context_params":{"c":"d"},"customer":"Jane","crm":{"id":[1,2,{"x":null}]}}`,
		`{"phoneNumber":"+14155550123","to_number":"+1 415 555 0123"}`,
		`{"phoneNumber":"+14155550123","a":1,"a":2}`,
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`, `{"a":"\ud800"}`, `{}`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	defaults := []webhook.AttachedVariable{{Name: "name", DefaultValue: "there"}, {Name: "plan", DefaultValue: "basic"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		sc, err := webhook.ParseStartCall(body, defaults)
		if err != nil {
			var ie *webhook.InvalidError
			if !errors.As(err, &ie) || ie.Detail == "" {
				t.Fatalf("error %v is not an InvalidError", err)
			}
			return
		}
		if !json.Valid(body) || len(body) > webhook.MaxStartCallBody {
			t.Fatalf("accepted a body that is not one bounded JSON value")
		}
		if sc.Destination == "" || len(sc.Destination) > 64 || sc.Destination != strings.TrimSpace(sc.Destination) {
			t.Fatalf("destination %q", sc.Destination)
		}
		if sc.PhoneNumberID != "" && (len(sc.PhoneNumberID) != 36 || sc.PhoneNumberID != strings.ToLower(sc.PhoneNumberID)) {
			t.Fatalf("phone_number_id %q", sc.PhoneNumberID)
		}
		if len(sc.VariableValues) > webhook.MaxVariables || len(sc.VariableValues) < len(defaults) {
			t.Fatalf("%d variables", len(sc.VariableValues))
		}
		for k, v := range sc.VariableValues {
			if k == "" || len(k) > webhook.MaxVariableNameLen {
				t.Fatalf("variable name %q", k)
			}
			switch v := v.(type) {
			case nil, bool:
			case string:
				if len(v) > webhook.MaxVariableValue {
					t.Fatalf("variable %q is %d bytes", k, len(v))
				}
			case json.Number:
				if !json.Valid([]byte(v)) {
					t.Fatalf("variable %q is the number %q", k, v)
				}
			default:
				t.Fatalf("variable %q has type %T", k, v)
			}
		}
		if _, err := json.Marshal(sc.VariableValues); err != nil {
			t.Fatalf("resolved variables do not encode: %v", err)
		}
		again, err := webhook.ParseStartCall(body, defaults)
		if err != nil || !reflect.DeepEqual(again, sc) {
			t.Fatalf("second parse differs: %+v, %v", again, err)
		}
	})
}

func FuzzParseSignatureHeader(f *testing.F) {
	secret, err := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=")
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"phoneNumber":"+14155550123"}`)
	for _, s := range []string{secret.SignStartCall(body), "sha256=", "SHA256=" + strings.Repeat("AB", 32),
		"sha256=" + strings.Repeat("g", 64), " sha256=" + strings.Repeat("0", 64) + "\t", "", "sha1=abc", "v1,abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		mac, err := webhook.ParseSignatureHeader(h)
		verr := secret.VerifyStartCall(body, h)
		if err != nil {
			if !errors.Is(err, webhook.ErrSignatureMissing) && !errors.Is(err, webhook.ErrSignatureMismatch) {
				t.Fatalf("unexpected error %v", err)
			}
			if !errors.Is(verr, err) {
				t.Fatalf("VerifyStartCall = %v, ParseSignatureHeader = %v", verr, err)
			}
			return
		}
		if len(mac) != 32 {
			t.Fatalf("%d-byte MAC", len(mac))
		}
		if want := "sha256=" + hex.EncodeToString(mac); !strings.EqualFold(strings.TrimSpace(h), want) {
			t.Fatalf("header %q parsed to %x", h, mac)
		}
		good := strings.EqualFold(strings.TrimSpace(h), secret.SignStartCall(body))
		if (verr == nil) != good {
			t.Fatalf("header %q: verify %v, matches the real signature %v", h, verr, good)
		}
	})
}

func FuzzNewConfig(f *testing.F) {
	f.Add(true, "https://crm.example.com/hook", "POST", "X-Crm-Key", "abc", "bearer", "tok", 5, true, "name", "there")
	f.Add(false, "", "", "", "", "", "", -1, false, "", "")
	f.Add(true, "http://127.0.0.1:8080/x?y=1", "post", "Authorization", "Basic x", "none", "", 9, true, "a.b-c", "")
	f.Add(true, "https://[::1]:443/", "GET", "webhook-id", "x\r\n", "Bearer", "a b", 0, false, "{{x}}", "v")
	f.Fuzz(func(t *testing.T, enabled bool, url, method, hName, hValue, authType, token string, retry int,
		incoming bool, varName, varDefault string) {
		in := webhook.ConfigInput{
			Outgoing: webhook.OutgoingInput{Enabled: enabled, URL: url, Method: method, AuthType: authType, AuthToken: token},
			Incoming: webhook.IncomingInput{Enabled: incoming},
		}
		if retry >= 0 {
			in.Outgoing.RetryCount = &retry
		}
		if hName != "" || hValue != "" {
			in.Outgoing.Headers = map[string]string{hName: hValue}
		}
		if varName != "" || varDefault != "" {
			in.Incoming.AttachedVariables = []webhook.AttachedVariable{{Name: varName, DefaultValue: varDefault}}
		}
		c, err := webhook.NewConfig(in)
		if err != nil {
			var ie *webhook.InvalidError
			if !errors.As(err, &ie) || ie.Detail == "" {
				t.Fatalf("error %v is not an InvalidError", err)
			}
			if token != "" && len(token) > 3 && strings.Contains(ie.Detail, token) {
				t.Fatalf("detail %q holds the token", ie.Detail)
			}
			return
		}
		o := c.Outgoing()
		if o.RetryCount() < 0 || o.RetryCount() > webhook.MaxRetryCount || o.Method() != "POST" {
			t.Fatalf("outgoing %+v", o)
		}
		if o.Enabled() && o.URL() == "" {
			t.Fatal("enabled without a URL")
		}
		if u := o.URL(); u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			t.Fatalf("URL %q", u)
		}
		for k, v := range o.Headers() {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "webhook-") || lk == "authorization" || lk == "content-type" || lk == "host" ||
				strings.ContainsAny(v, "\r\n\x00") || strings.ContainsAny(k, " :\r\n") {
				t.Fatalf("header %q: %q accepted", k, v)
			}
		}
		if tok := o.BearerToken(); strings.ContainsAny(tok, " \r\n\t") {
			t.Fatalf("token %q accepted", tok)
		}
		again, err := webhook.NewConfig(c.Input())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("NewConfig(c.Input()) = %+v, %v; want %+v", again, err, c)
		}
	})
}
