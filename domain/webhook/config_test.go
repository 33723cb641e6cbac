package webhook_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/webhook"
)

func intp(n int) *int { return &n }

func validInput() webhook.ConfigInput {
	return webhook.ConfigInput{
		TriggerOnPhoneCall: true,
		Outgoing: webhook.OutgoingInput{
			Enabled: true, URL: " https://crm.example.com/hooks/kupe?x=1 ", Method: "post",
			Headers:  map[string]string{"x-crm-key": " abc ", "X-Tenant": "t1"},
			AuthType: "Bearer", AuthToken: "tok_123", RetryCount: intp(3),
		},
		Incoming: webhook.IncomingInput{Enabled: true, AttachedVariables: []webhook.AttachedVariable{
			{Name: "customer_name", DefaultValue: "there"}, {Name: " plan ", DefaultValue: ""},
		}},
	}
}

func TestNewConfigAcceptsKupeShape(t *testing.T) {
	c, err := webhook.NewConfig(validInput())
	if err != nil {
		t.Fatal(err)
	}
	o := c.Outgoing()
	if !c.TriggerOnPhoneCall() || !o.Enabled() || o.URL() != "https://crm.example.com/hooks/kupe?x=1" ||
		o.Method() != "POST" || o.BearerToken() != "tok_123" || o.RetryCount() != 3 {
		t.Fatalf("outgoing = %+v", o)
	}
	if want := map[string]string{"X-Crm-Key": "abc", "X-Tenant": "t1"}; !reflect.DeepEqual(o.Headers(), want) {
		t.Fatalf("headers = %v, want %v", o.Headers(), want)
	}
	want := []webhook.AttachedVariable{{Name: "customer_name", DefaultValue: "there"}, {Name: "plan"}}
	if !c.Incoming().Enabled() || !reflect.DeepEqual(c.Incoming().AttachedVariables(), want) {
		t.Fatalf("incoming = %+v", c.Incoming())
	}
	// The getters hand out copies.
	o.Headers()["X-Tenant"] = "changed"
	c.Incoming().AttachedVariables()[0].Name = "changed"
	if c.Outgoing().Headers()["X-Tenant"] != "t1" || c.Incoming().AttachedVariables()[0].Name != "customer_name" {
		t.Fatal("a getter's result aliases the config")
	}
	again, err := webhook.NewConfig(c.Input())
	if err != nil || !reflect.DeepEqual(again, c) {
		t.Fatalf("NewConfig(c.Input()) = %+v, %v; want %+v", again, err, c)
	}
}

func TestNewConfigDefaults(t *testing.T) {
	c, err := webhook.NewConfig(webhook.ConfigInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Outgoing()
	if o.Enabled() || o.URL() != "" || o.RetryCount() != webhook.DefaultRetryCount || o.BearerToken() != "" ||
		o.Headers() != nil || o.Method() != "POST" || c.Incoming().Enabled() || c.Incoming().AttachedVariables() != nil {
		t.Fatalf("empty config = %+v", c)
	}
	// retry_count 0 is "no retries", not "the default".
	c, err = webhook.NewConfig(webhook.ConfigInput{Outgoing: webhook.OutgoingInput{RetryCount: intp(0)}})
	if err != nil || c.Outgoing().RetryCount() != 0 {
		t.Fatalf("retry_count 0: %d, %v", c.Outgoing().RetryCount(), err)
	}
	c, err = webhook.NewConfig(webhook.ConfigInput{Outgoing: webhook.OutgoingInput{RetryCount: intp(8), AuthType: "none"}})
	if err != nil || c.Outgoing().RetryCount() != 8 {
		t.Fatalf("retry_count 8: %d, %v", c.Outgoing().RetryCount(), err)
	}
	// A disabled webhook may keep its URL (and need not have one).
	c, err = webhook.NewConfig(webhook.ConfigInput{Outgoing: webhook.OutgoingInput{URL: "https://a.example"}})
	if err != nil || c.Outgoing().URL() != "https://a.example" {
		t.Fatalf("disabled with URL: %+v, %v", c.Outgoing(), err)
	}
}

func TestNewConfigRefuses(t *testing.T) {
	long := strings.Repeat("a", 5000)
	many := map[string]string{}
	for i := 0; i < webhook.MaxHeaders+1; i++ {
		many["X-H"+strings.Repeat("x", i)] = "v"
	}
	big := map[string]string{}
	for i := 0; i < 5; i++ {
		big["X-Big"+strings.Repeat("x", i)] = strings.Repeat("v", 1000)
	}
	manyVars := make([]webhook.AttachedVariable, webhook.MaxAttachedVars+1)
	for i := range manyVars {
		manyVars[i].Name = "v" + strings.Repeat("x", i%60) + string(rune('a'+i/60))
	}
	cases := []struct {
		name   string
		edit   func(*webhook.ConfigInput)
		detail string
	}{
		{"enabled without url", func(in *webhook.ConfigInput) { in.Outgoing.URL = "" }, "outgoing.url: required"},
		{"relative url", func(in *webhook.ConfigInput) { in.Outgoing.URL = "/hooks" }, "outgoing.url"},
		{"ftp url", func(in *webhook.ConfigInput) { in.Outgoing.URL = "ftp://a.example/x" }, "https"},
		{"opaque url", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https:a.example" }, "outgoing.url"},
		{"no host", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https:///x" }, "no host"},
		{"userinfo", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://u:p@a.example/" }, "user name"},
		{"fragment", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example/#x" }, "fragment"},
		{"port range", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example:70000/" }, "port"},
		{"port zero", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example:0/" }, "port"},
		{"empty port", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example:/" }, "port"},
		{"control char", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example/\x7f" }, "outgoing.url"},
		{"long url", func(in *webhook.ConfigInput) { in.Outgoing.URL = "https://a.example/" + long }, "longer"},
		{"method GET", func(in *webhook.ConfigInput) { in.Outgoing.Method = "GET" }, "only POST"},
		{"retry -1", func(in *webhook.ConfigInput) { in.Outgoing.RetryCount = intp(-1) }, "retry_count"},
		{"retry 9", func(in *webhook.ConfigInput) { in.Outgoing.RetryCount = intp(9) }, "retry_count"},
		{"auth basic", func(in *webhook.ConfigInput) { in.Outgoing.AuthType = "basic" }, `only "bearer"`},
		{"bearer no token", func(in *webhook.ConfigInput) { in.Outgoing.AuthToken = "" }, "token: required"},
		{"token without type", func(in *webhook.ConfigInput) { in.Outgoing.AuthType = "" }, "auth.type"},
		{"token with space", func(in *webhook.ConfigInput) { in.Outgoing.AuthToken = "a b" }, "no spaces"},
		{"token newline", func(in *webhook.ConfigInput) { in.Outgoing.AuthToken = "a\r\nX-Evil: 1" }, "no spaces"},
		{"token long", func(in *webhook.ConfigInput) { in.Outgoing.AuthToken = long }, "longer"},
		{"too many headers", func(in *webhook.ConfigInput) { in.Outgoing.Headers = many }, "at most 20"},
		{"headers too big", func(in *webhook.ConfigInput) { in.Outgoing.Headers = big }, "bytes in all"},
		{"header name space", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"X A": "1"} }, "not a valid header name"},
		{"header name empty", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"": "1"} }, "names must be"},
		{"header value CRLF", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"X-A": "1\r\nX-B: 2"} }, "control"},
		{"header value NUL", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"X-A": "1\x00"} }, "control"},
		{"header value long", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"X-A": long} }, "longer"},
		{"header twice", func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{"X-A": "1", "x-a": "2"} }, "twice"},
		{"too many vars", func(in *webhook.ConfigInput) { in.Incoming.AttachedVariables = manyVars }, "at most 64"},
		{"var no name", func(in *webhook.ConfigInput) {
			in.Incoming.AttachedVariables = []webhook.AttachedVariable{{Name: " "}}
		}, "names must be"},
		{"var bad name", func(in *webhook.ConfigInput) {
			in.Incoming.AttachedVariables = []webhook.AttachedVariable{{Name: "{{x}}"}}
		}, "names must be"},
		{"var twice", func(in *webhook.ConfigInput) {
			in.Incoming.AttachedVariables = []webhook.AttachedVariable{{Name: "a"}, {Name: "a "}}
		}, "twice"},
		{"var long default", func(in *webhook.ConfigInput) {
			in.Incoming.AttachedVariables = []webhook.AttachedVariable{{Name: "a", DefaultValue: long}}
		}, "default_value"},
	}
	for _, h := range []string{"Host", "content-type", "Content-Length", "Transfer-Encoding", "Connection",
		"Keep-Alive", "Upgrade", "TE", "Trailer", "Proxy-Authorization", "Authorization", "webhook-id",
		"Webhook-Signature", "webhook-timestamp", "Webhook-Anything", "X-Webhook-Signature"} {
		cases = append(cases, struct {
			name   string
			edit   func(*webhook.ConfigInput)
			detail string
		}{"reserved " + h, func(in *webhook.ConfigInput) { in.Outgoing.Headers = map[string]string{h: "x"} }, "set by the sender"})
	}
	for _, tc := range cases {
		in := validInput()
		tc.edit(&in)
		_, err := webhook.NewConfig(in)
		var ie *webhook.InvalidError
		if !errors.As(err, &ie) || !errors.Is(err, webhook.ErrInvalid) || !strings.Contains(ie.Detail, tc.detail) {
			t.Errorf("%s: error %v, want an InvalidError saying %q", tc.name, err, tc.detail)
			continue
		}
		if strings.Contains(ie.Detail, "tok_123") {
			t.Errorf("%s: detail %q holds the token", tc.name, ie.Detail)
		}
	}
}
