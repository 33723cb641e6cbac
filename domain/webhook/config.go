package webhook

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on an endpoint configuration. They bound what one agent can make every delivery carry.
const (
	// DefaultRetryCount is how many times a failed delivery is retried when the configuration
	// does not say; MaxRetryCount is the most it may say.
	DefaultRetryCount = 5
	MaxRetryCount     = 8

	MaxURLLen          = 2048
	MaxHeaders         = 20
	MaxHeaderNameLen   = 64
	MaxHeaderValueLen  = 1024
	MaxHeadersBytes    = 4096
	MaxBearerTokenLen  = 4096
	MaxAttachedVars    = 64
	MaxVariableNameLen = 64
	MaxVariableValue   = 4096
)

// MethodPOST is the only method deliveries use.
const MethodPOST = "POST"

// ConfigInput is an agent's webhook configuration as a client sent it (Kupe's putAgentWebhooks
// body: trigger_on_phone_call, outgoing{enabled, url, method, headers, auth{type, token},
// retry_count}, incoming{enabled, attached_variables[{name, default_value}]}). NewConfig checks it.
type ConfigInput struct {
	TriggerOnPhoneCall bool
	Outgoing           OutgoingInput
	Incoming           IncomingInput
}

// OutgoingInput is the call-ended webhook as sent. RetryCount nil means DefaultRetryCount.
type OutgoingInput struct {
	Enabled    bool
	URL        string
	Method     string
	Headers    map[string]string
	AuthType   string
	AuthToken  string
	RetryCount *int
}

// IncomingInput is the start-call webhook as sent.
type IncomingInput struct {
	Enabled           bool
	AttachedVariables []AttachedVariable
}

// AttachedVariable is a variable every start-call request gets, with the value it has when the
// request does not name it.
type AttachedVariable struct {
	Name         string
	DefaultValue string
}

// Config is a valid agent webhook configuration. Its zero value is "everything off".
type Config struct {
	triggerOnPhoneCall bool
	outgoing           Outgoing
	incoming           Incoming
}

// Outgoing is the validated call-ended webhook: where deliveries go and what they carry.
type Outgoing struct {
	enabled     bool
	url         string
	headers     map[string]string // canonical names (textproto form)
	bearerToken string
	retryCount  int
}

// Incoming is the validated start-call webhook.
type Incoming struct {
	enabled  bool
	attached []AttachedVariable
}

// NewConfig validates in. The URL is checked for form only (absolute http or https, no
// credentials or fragment); whether it may be reached at all (https, public addresses) is the
// sender's check, which knows the deployment's policy and resolves the host.
func NewConfig(in ConfigInput) (Config, error) {
	out, err := newOutgoing(in.Outgoing)
	if err != nil {
		return Config{}, err
	}
	inc, err := newIncoming(in.Incoming)
	if err != nil {
		return Config{}, err
	}
	return Config{triggerOnPhoneCall: in.TriggerOnPhoneCall, outgoing: out, incoming: inc}, nil
}

// Input is the configuration in the form NewConfig takes, with the bearer token in it: what a
// store keeps (sealed) and NewConfig(c.Input()) gives back c.
func (c Config) Input() ConfigInput {
	o := c.outgoing
	rc := o.retryCount
	in := ConfigInput{
		TriggerOnPhoneCall: c.triggerOnPhoneCall,
		Outgoing: OutgoingInput{Enabled: o.enabled, URL: o.url, Method: MethodPOST, Headers: o.Headers(),
			AuthToken: o.bearerToken, RetryCount: &rc},
		Incoming: IncomingInput{Enabled: c.incoming.enabled, AttachedVariables: c.incoming.AttachedVariables()},
	}
	if o.bearerToken != "" {
		in.Outgoing.AuthType = "bearer"
	}
	return in
}

// TriggerOnPhoneCall is Kupe's switch for sending the call-ended webhook on phone calls.
func (c Config) TriggerOnPhoneCall() bool { return c.triggerOnPhoneCall }

// Outgoing is the call-ended webhook.
func (c Config) Outgoing() Outgoing { return c.outgoing }

// Incoming is the start-call webhook.
func (c Config) Incoming() Incoming { return c.incoming }

// Enabled reports whether call-ended deliveries are sent.
func (o Outgoing) Enabled() bool { return o.enabled }

// URL is where deliveries are POSTed; empty only when the webhook is disabled.
func (o Outgoing) URL() string { return o.url }

// Method is always POST.
func (o Outgoing) Method() string { return MethodPOST }

// Headers is a copy of the custom headers, by canonical name.
func (o Outgoing) Headers() map[string]string {
	if len(o.headers) == 0 {
		return nil
	}
	m := make(map[string]string, len(o.headers))
	for k, v := range o.headers {
		m[k] = v
	}
	return m
}

// BearerToken is sent as "Authorization: Bearer <token>"; empty means no Authorization header.
// It is a secret: never log it, and answer it hidden.
func (o Outgoing) BearerToken() string { return o.bearerToken }

// RetryCount is how many times a failed delivery is retried (attempts = RetryCount + 1).
func (o Outgoing) RetryCount() int { return o.retryCount }

// Enabled reports whether start-call requests are accepted.
func (i Incoming) Enabled() bool { return i.enabled }

// AttachedVariables is a copy of the variables with their defaults, in the order configured.
func (i Incoming) AttachedVariables() []AttachedVariable {
	if len(i.attached) == 0 {
		return nil
	}
	return append([]AttachedVariable(nil), i.attached...)
}

func newOutgoing(in OutgoingInput) (Outgoing, error) {
	o := Outgoing{enabled: in.Enabled, retryCount: DefaultRetryCount}
	u := strings.TrimSpace(in.URL)
	switch {
	case u == "" && in.Enabled:
		return Outgoing{}, invalidf("outgoing.url: required when outgoing.enabled is true")
	case u != "":
		if err := checkURLForm(u); err != nil {
			return Outgoing{}, err
		}
		o.url = u
	}
	if m := strings.TrimSpace(in.Method); m != "" && !strings.EqualFold(m, MethodPOST) {
		return Outgoing{}, invalidf("outgoing.method: only POST is supported")
	}
	if in.RetryCount != nil {
		if n := *in.RetryCount; n < 0 || n > MaxRetryCount {
			return Outgoing{}, invalidf("outgoing.retry_count: want a whole number from 0 to %d", MaxRetryCount)
		}
		o.retryCount = *in.RetryCount
	}
	switch t := strings.ToLower(strings.TrimSpace(in.AuthType)); t {
	case "", "none":
		if in.AuthToken != "" {
			return Outgoing{}, invalidf(`outgoing.auth.type: want "bearer" with a token`)
		}
	case "bearer":
		if err := checkToken(in.AuthToken); err != nil {
			return Outgoing{}, err
		}
		o.bearerToken = in.AuthToken
	default:
		return Outgoing{}, invalidf(`outgoing.auth.type: only "bearer" is supported`)
	}
	h, err := checkHeaders(in.Headers)
	if err != nil {
		return Outgoing{}, err
	}
	o.headers = h
	return o, nil
}

func checkURLForm(u string) error {
	if len(u) > MaxURLLen {
		return invalidf("outgoing.url: longer than %d characters", MaxURLLen)
	}
	p, err := url.Parse(u)
	if err != nil || p.Opaque != "" {
		return invalidf("outgoing.url: not a valid absolute URL")
	}
	switch {
	case p.Scheme != "https" && p.Scheme != "http":
		return invalidf("outgoing.url: want an https URL")
	case p.Hostname() == "":
		return invalidf("outgoing.url: has no host")
	case p.User != nil:
		return invalidf("outgoing.url: must not hold a user name or password; use outgoing.auth or headers")
	case p.Fragment != "" || strings.Contains(u, "#"):
		return invalidf("outgoing.url: must not have a #fragment")
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalidf("outgoing.url: port must be from 1 to 65535")
		}
	} else if strings.HasSuffix(p.Host, ":") {
		return invalidf("outgoing.url: empty port")
	}
	return nil
}

func checkToken(tok string) error {
	if tok == "" {
		return invalidf("outgoing.auth.token: required with type bearer")
	}
	if len(tok) > MaxBearerTokenLen {
		return invalidf("outgoing.auth.token: longer than %d characters", MaxBearerTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c >= 0x7f {
			return invalidf("outgoing.auth.token: only visible ASCII characters, no spaces")
		}
	}
	return nil
}

// reservedHeaders are the headers a custom header may not set: the transport's own (framing,
// hop-by-hop), the body's type, and the ones that authenticate a delivery, which the sender
// sets (webhook-* are Standard Webhooks', Authorization comes from outgoing.auth only so that
// it is kept and answered hidden like the token).
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "content-encoding": true,
	"transfer-encoding": true, "connection": true, "keep-alive": true, "proxy-connection": true,
	"proxy-authenticate": true, "proxy-authorization": true, "te": true, "trailer": true,
	"upgrade": true, "expect": true, "authorization": true, "x-webhook-signature": true,
}

func checkHeaders(in map[string]string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxHeaders {
		return nil, invalidf("outgoing.headers: at most %d headers", MaxHeaders)
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic errors
	out := make(map[string]string, len(in))
	total := 0
	for _, name := range names {
		value := strings.Trim(in[name], " \t")
		if name == "" || len(name) > MaxHeaderNameLen {
			return nil, invalidf("outgoing.headers: names must be 1 to %d characters", MaxHeaderNameLen)
		}
		if !isToken(name) {
			return nil, invalidf("outgoing.headers: %q is not a valid header name", name)
		}
		lower := strings.ToLower(name)
		if reservedHeaders[lower] || strings.HasPrefix(lower, "webhook-") {
			return nil, invalidf("outgoing.headers: %s is set by the sender and cannot be configured", name)
		}
		if len(value) > MaxHeaderValueLen {
			return nil, invalidf("outgoing.headers: the value of %s is longer than %d bytes", name, MaxHeaderValueLen)
		}
		if !utf8.ValidString(value) || strings.ContainsFunc(value, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }) {
			return nil, invalidf("outgoing.headers: the value of %s holds control characters", name)
		}
		canon := canonicalHeader(lower)
		if _, dup := out[canon]; dup {
			return nil, invalidf("outgoing.headers: %s is given twice", canon)
		}
		total += len(canon) + len(value)
		if total > MaxHeadersBytes {
			return nil, invalidf("outgoing.headers: more than %d bytes in all", MaxHeadersBytes)
		}
		out[canon] = value
	}
	return out, nil
}

// isToken reports whether s is an RFC 9110 token (a header field name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// canonicalHeader is textproto's canonical form of a lower-case token (x-crm-key -> X-Crm-Key).
func canonicalHeader(lower string) string {
	b := []byte(lower)
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

func newIncoming(in IncomingInput) (Incoming, error) {
	if len(in.AttachedVariables) > MaxAttachedVars {
		return Incoming{}, invalidf("incoming.attached_variables: at most %d variables", MaxAttachedVars)
	}
	seen := make(map[string]bool, len(in.AttachedVariables))
	var vars []AttachedVariable
	for _, v := range in.AttachedVariables {
		name := strings.TrimSpace(v.Name)
		if !validVariableName(name) {
			return Incoming{}, invalidf("incoming.attached_variables: names must be 1 to %d letters, digits, _ . or -",
				MaxVariableNameLen)
		}
		if seen[name] {
			return Incoming{}, invalidf("incoming.attached_variables: %s is given twice", name)
		}
		seen[name] = true
		if len(v.DefaultValue) > MaxVariableValue || !utf8.ValidString(v.DefaultValue) {
			return Incoming{}, invalidf("incoming.attached_variables: the default_value of %s must be UTF-8 text of at most %d bytes",
				name, MaxVariableValue)
		}
		vars = append(vars, AttachedVariable{Name: name, DefaultValue: v.DefaultValue})
	}
	return Incoming{enabled: in.Enabled, attached: vars}, nil
}

// validVariableName accepts the names a {{placeholder}} is written with.
func validVariableName(s string) bool {
	if s == "" || len(s) > MaxVariableNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
