package webhooksender_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kupe-voice/kupe/adapters/webhooksender"
	"github.com/kupe-voice/kupe/domain/webhook"
)

const (
	testToken     = "tok_supersecret_1234567890"
	testHeaderKey = "crm-api-key-abcdef123456"
	publicIP      = "93.184.215.14"
)

// resolver answers from a table; a host with several answers gets them in turn (the last one
// from then on), as a rebinding DNS server would.
type resolver struct {
	mu      sync.Mutex
	answers map[string][]string
	calls   map[string]int
}

func newResolver(answers map[string][]string) *resolver {
	return &resolver{answers: answers, calls: map[string]int{}}
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	n := r.calls[host]
	r.calls[host]++
	if n >= len(seq) {
		n = len(seq) - 1
	}
	var out []netip.Addr
	for _, a := range strings.Split(seq[n], ",") {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// receiver records what it was sent.
type receiver struct {
	mu      sync.Mutex
	hits    int
	headers http.Header
	body    []byte
	status  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.hits++
	rc.headers, rc.body = r.Header.Clone(), body
	status := rc.status
	rc.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits
}

func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case logs a handshake error
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

func endpoint(t *testing.T, rawURL string) webhook.Outgoing {
	t.Helper()
	c, err := webhook.NewConfig(webhook.ConfigInput{Outgoing: webhook.OutgoingInput{
		Enabled: true, URL: rawURL, AuthType: "bearer", AuthToken: testToken,
		Headers: map[string]string{"X-Crm-Key": testHeaderKey, "X-Tenant": "t1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Outgoing()
}

func secret(t *testing.T) webhook.Secret {
	t.Helper()
	s, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func delivery(t *testing.T, rawURL string, s webhook.Secret) webhooksender.Delivery {
	return webhooksender.Delivery{Key: "agent-1", Endpoint: endpoint(t, rawURL), Secret: s, MessageID: "msg_2Pq7",
		Body: []byte(`{"event":"call.completed","call_id":"c1","call_status":"completed"}`)}
}

func verifyStandardWebhook(t *testing.T, s webhook.Secret, rc *receiver) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(s.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(rc.body, rc.headers); err != nil {
		t.Fatalf("Standard Webhooks verification: %v (headers %v)", err, rc.headers)
	}
	h := rc.headers
	if h.Get("webhook-id") != "msg_2Pq7" || h.Get("Authorization") != "Bearer "+testToken ||
		h.Get("X-Crm-Key") != testHeaderKey || h.Get("X-Tenant") != "t1" || h.Get("Content-Type") != "application/json" ||
		h.Get("User-Agent") != webhooksender.UserAgent || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Fatalf("headers = %v", h)
	}
	// Another secret does not verify it.
	other, _ := webhook.GenerateSecret()
	wh2, _ := standardwebhooks.NewWebhook(other.Reveal())
	if err := wh2.Verify(rc.body, rc.headers); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Fatalf("verified under another secret: %v", err)
	}
}

func TestSendSignedOverTLS(t *testing.T) {
	rc := &receiver{}
	srv, roots := tlsServer(t, rc)
	s := secret(t)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true, RootCAs: roots})
	t.Cleanup(snd.Close)
	res := snd.Send(context.Background(), delivery(t, srv.URL+"/hooks/kupe?x=1", s))
	if res.StatusCode != 200 || res.Outcome != webhook.Delivered || res.Retry || res.Error != "" || res.At.IsZero() {
		t.Fatalf("result = %+v", res)
	}
	verifyStandardWebhook(t, s, rc)
	if string(rc.body) != `{"event":"call.completed","call_id":"c1","call_status":"completed"}` {
		t.Fatalf("body = %s", rc.body)
	}
}

// A name that resolves (through the injected resolver) to the receiver, with a certificate for
// that name: the TLS server name is the URL's host, not the address dialled.
func TestSendSignedOverTLSByName(t *testing.T) {
	rc := &receiver{}
	srv, roots := tlsServer(t, rc)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	s := secret(t)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true, RootCAs: roots,
		Resolver: newResolver(map[string][]string{"example.com": {"127.0.0.1"}})})
	res := snd.Send(context.Background(), delivery(t, fmt.Sprintf("https://example.com:%d/x", port), s))
	if res.Outcome != webhook.Delivered {
		t.Fatalf("result = %+v", res)
	}
	verifyStandardWebhook(t, s, rc)
	// Without the receiver's CA the certificate is not trusted.
	res = webhooksender.New(webhooksender.Options{AllowPrivate: true}).Send(context.Background(), delivery(t, srv.URL, s))
	if res.Outcome != webhook.Retryable || !strings.Contains(res.Error, "TLS") {
		t.Fatalf("untrusted certificate: %+v", res)
	}
}

func TestSendPlainHTTPWithAllowPrivate(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	s := secret(t)
	res := webhooksender.New(webhooksender.Options{AllowPrivate: true}).Send(context.Background(), delivery(t, srv.URL, s))
	if res.Outcome != webhook.Delivered || res.StatusCode != 200 {
		t.Fatalf("result = %+v", res)
	}
	verifyStandardWebhook(t, s, rc)
	// Without AllowPrivate plain http is refused before anything is sent.
	res = webhooksender.New(webhooksender.Options{}).Send(context.Background(), delivery(t, srv.URL, s))
	if res.Outcome != webhook.Rejected || res.Retry || !strings.Contains(res.Error, "https") || rc.count() != 1 {
		t.Fatalf("http without AllowPrivate: %+v (hits %d)", res, rc.count())
	}
}

func TestSendStampsTheAttemptTime(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	s := secret(t)
	then := time.Now().Add(-time.Hour).Truncate(time.Second)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true, Now: func() time.Time { return then }})
	res := snd.Send(context.Background(), delivery(t, srv.URL, s))
	if res.Outcome != webhook.Delivered || !res.At.Equal(then) {
		t.Fatalf("result = %+v", res)
	}
	wh, _ := standardwebhooks.NewWebhook(s.Reveal())
	if got := rc.headers.Get("webhook-timestamp"); got != strconv.FormatInt(then.Unix(), 10) {
		t.Fatalf("webhook-timestamp = %s, want %d", got, then.Unix())
	}
	if err := wh.Verify(rc.body, rc.headers); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
		t.Fatalf("an hour-old timestamp: %v", err)
	}
	if err := wh.VerifyIgnoringTimestamp(rc.body, rc.headers); err != nil {
		t.Fatal(err)
	}
}

func TestSendClassifiesOutcomes(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()

	s := secret(t)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true})
	// Only the hanging receiver's case needs a short timeout; the others keep the default, so
	// that a loaded machine does not time them out.
	impatient := webhooksender.New(webhooksender.Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		url     string
		status  int
		outcome webhook.Outcome
		errText string
	}{
		{srv.URL + "/200", 200, webhook.Delivered, ""},
		{srv.URL + "/204", 204, webhook.Delivered, ""},
		{srv.URL + "/400", 400, webhook.Rejected, "receiver answered 400"},
		{srv.URL + "/404", 404, webhook.Rejected, "receiver answered 404"},
		{srv.URL + "/408", 408, webhook.Retryable, "receiver answered 408"},
		{srv.URL + "/429", 429, webhook.Retryable, "receiver answered 429"},
		{srv.URL + "/500", 500, webhook.Retryable, "receiver answered 500"},
		{srv.URL + "/503", 503, webhook.Retryable, "receiver answered 503"},
		{srv.URL + "/hang", 0, webhook.Retryable, "timed out"},
		{closed, 0, webhook.Retryable, "connection refused"},
	} {
		sender := snd
		if strings.HasSuffix(tc.url, "/hang") {
			sender = impatient
		}
		res := sender.Send(context.Background(), delivery(t, tc.url, s))
		if res.StatusCode != tc.status || res.Outcome != tc.outcome || res.Retry != (tc.outcome == webhook.Retryable) ||
			!strings.Contains(res.Error, tc.errText) || (tc.errText == "") != (res.Error == "") {
			t.Errorf("%s: %+v, want status %d %v %q", tc.url, res, tc.status, tc.outcome, tc.errText)
		}
		if strings.Contains(res.Error, "127.0.0.1") && tc.status == 0 && tc.errText != "connection refused" {
			t.Errorf("%s: error names the URL: %q", tc.url, res.Error)
		}
	}
	// Canceled by the caller (shutting down): retried later.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := snd.Send(ctx, delivery(t, srv.URL+"/200", s)); res.Outcome != webhook.Retryable {
		t.Errorf("canceled: %+v", res)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		http.Redirect(w, r, "/elsewhere", code)
	}))
	t.Cleanup(srv.Close)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true})
	for _, code := range []int{301, 302, 303, 307, 308} {
		res := snd.Send(context.Background(), delivery(t, srv.URL+"/hook?code="+strconv.Itoa(code), secret(t)))
		if res.StatusCode != code || res.Outcome != webhook.Rejected || res.Retry || !strings.Contains(res.Error, "redirects are not followed") {
			t.Errorf("%d: result = %+v", code, res)
		}
	}
	if followed.Load() != 0 {
		t.Fatal("a redirect was followed")
	}
}

func TestSendKeepsSecretsOutOfErrors(t *testing.T) {
	s := secret(t)
	// A receiver that echoes everything it got, with the token straddling the snippet's end.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprintf(w, "%s %s\n", strings.Repeat("x", 230), r.Header.Get("Authorization"))
		for k, v := range r.Header {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
		fmt.Fprintf(w, "secret=%s\n%s", s.Reveal(), strings.Repeat("y", 100000))
	}))
	t.Cleanup(srv.Close)
	res := webhooksender.New(webhooksender.Options{AllowPrivate: true}).Send(context.Background(), delivery(t, srv.URL, s))
	if res.StatusCode != 500 || !strings.HasPrefix(res.Error, "receiver answered 500: xxx") {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Error) > 320 {
		t.Fatalf("error is %d bytes", len(res.Error))
	}
	for _, leak := range []string{testToken[:8], testToken[len(testToken)-8:], testHeaderKey[:8],
		strings.TrimPrefix(s.Reveal(), "whsec_")[:8]} {
		if strings.Contains(res.Error, leak) {
			t.Fatalf("error %q holds %q", res.Error, leak)
		}
	}
	if !strings.Contains(res.Error, "Bearer [redac") {
		t.Fatalf("error %q: the echoed token was not redacted in place", res.Error)
	}

	// Transport failures do not show the URL, whose query may hold the receiver's own key.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	res = webhooksender.New(webhooksender.Options{AllowPrivate: true}).
		Send(context.Background(), delivery(t, "http://"+addr+"/hook?key=receivers-own-key", s))
	if strings.Contains(res.Error, "receivers-own-key") || strings.Contains(res.Error, "/hook") {
		t.Fatalf("error %q shows the URL", res.Error)
	}
}

func TestSendRefusesBadDeliveries(t *testing.T) {
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true})
	d := delivery(t, "https://crm.example/x", secret(t))
	for name, edit := range map[string]func(*webhooksender.Delivery){
		"no url":       func(d *webhooksender.Delivery) { d.Endpoint = webhook.Outgoing{} },
		"no secret":    func(d *webhooksender.Delivery) { d.Secret = webhook.Secret{} },
		"no id":        func(d *webhooksender.Delivery) { d.MessageID = "" },
		"id with ,":    func(d *webhooksender.Delivery) { d.MessageID = "a,b" },
		"numeric host": func(d *webhooksender.Delivery) { d.Endpoint = endpoint(t, "https://2130706433/") },
	} {
		dd := d
		edit(&dd)
		if res := snd.Send(context.Background(), dd); res.Outcome != webhook.Rejected || res.Retry || res.Error == "" {
			t.Errorf("%s: %+v", name, res)
		}
	}
}

func TestCheckURL(t *testing.T) {
	res := newResolver(map[string][]string{
		"crm.example":      {publicIP},
		"v6.example":       {"2606:4700::1111"},
		"loop.example":     {"127.0.0.1"},
		"localhost":        {"127.0.0.1,::1"},
		"private.example":  {"10.1.2.3"},
		"mixed.example":    {publicIP + ",10.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"mapped.example":   {"::ffff:10.0.0.1"},
	})
	strict := webhooksender.New(webhooksender.Options{Resolver: res})
	loose := webhooksender.New(webhooksender.Options{Resolver: res, AllowPrivate: true})
	for _, tc := range []struct {
		url                 string
		strictWhy, looseWhy string // "" accepted
	}{
		{"https://crm.example/hooks", "", ""},
		{"https://crm.example:8443/hooks?x=1", "", ""},
		{"https://v6.example/", "", ""},
		{"https://8.8.8.8/", "", ""},
		{"https://[2606:4700::1111]/", "", ""},
		{"http://crm.example/", "must use https", "not a loopback address"},
		{"ftp://crm.example/", "must use https", "must use https"},
		{"https://127.0.0.1/", "127.0.0.1 is a loopback address", ""},
		{"https://127.8.9.10:8443/", "loopback", ""},
		{"https://[::1]/", "::1 is a loopback address", ""},
		{"https://[::ffff:127.0.0.1]/", "loopback", ""},
		{"https://10.0.0.1/", "10.0.0.1 is a private address", ""},
		{"https://172.16.5.4/", "private", ""},
		{"https://192.168.1.1/", "private", ""},
		{"https://100.64.0.1/", "CGNAT", ""},
		{"https://[fc00::1]/", "private", ""},
		{"https://[fd12:3456::1]/", "private", ""},
		{"https://169.254.169.254/latest/meta-data/", "cloud metadata", "cloud metadata"},
		{"https://[fd00:ec2::254]/", "cloud metadata", "cloud metadata"},
		{"https://100.100.100.200/", "cloud metadata", "cloud metadata"},
		{"https://169.254.1.1/", "link-local", "link-local"},
		{"https://[fe80::1]/", "link-local", "link-local"},
		{"https://0.0.0.0/", "unspecified", "unspecified"},
		{"https://[::]/", "unspecified", "unspecified"},
		{"https://0.1.2.3/", "reserved", "reserved"},
		{"https://224.0.0.1/", "multicast", "multicast"},
		{"https://[ff02::1]/", "multicast", "multicast"},
		{"https://255.255.255.255/", "reserved", "reserved"},
		{"https://192.0.2.1/", "reserved", "reserved"},
		{"https://[64:ff9b::a00:1]/", "private address (inside", ""},
		{"https://[64:ff9b::a9fe:a9fe]/", "cloud metadata", "cloud metadata"},
		{"https://[2002:7f00:1::1]/", "loopback", ""},
		{"https://2130706433/", "standard form", "standard form"},
		{"https://0x7f.1/", "standard form", "standard form"},
		{"https://0177.0.0.1/", "standard form", "standard form"},
		{"https://127.1/", "standard form", "standard form"},
		{"https://loop.example/", `"loop.example" resolves to 127.0.0.1, a loopback address`, ""},
		{"https://localhost:8443/", "loopback", ""},
		{"http://localhost:8080/", "must use https", ""},
		{"http://127.0.0.1:8080/", "must use https", ""},
		{"https://private.example/", "10.1.2.3, a private address", ""},
		{"https://mixed.example/", "10.0.0.1, a private address", ""},
		{"https://mapped.example/", "10.0.0.1, a private address", ""},
		{"http://private.example/", "must use https", "not a loopback address"},
		{"https://metadata.example/", "cloud metadata", "cloud metadata"},
		{"https://nowhere.example/", "does not resolve", "does not resolve"},
		{"https://user:pw@crm.example/", "user name", "user name"},
		{"/relative", "absolute", "absolute"},
		{"https:///nohost", "no host", "no host"},
	} {
		for _, c := range []struct {
			name string
			snd  *webhooksender.Sender
			why  string
		}{{"strict", strict, tc.strictWhy}, {"AllowPrivate", loose, tc.looseWhy}} {
			err := c.snd.CheckURL(context.Background(), tc.url)
			switch {
			case c.why == "" && err != nil:
				t.Errorf("%s %s: refused: %v", c.name, tc.url, err)
			case c.why != "" && (!errors.Is(err, webhooksender.ErrURLRefused) || !strings.Contains(err.Error(), c.why) ||
				!strings.HasPrefix(err.Error(), "outgoing.url: ")):
				t.Errorf("%s %s: %v, want a refusal saying %q", c.name, tc.url, err, c.why)
			}
		}
	}
}

// Every address CheckURL refuses is refused again when connecting, including a name that
// resolved to a public address when it was checked and to loopback now (DNS rebinding).
func TestSendRefusesAtConnectTime(t *testing.T) {
	rc := &receiver{}
	srv, roots := tlsServer(t, rc)
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	res := newResolver(map[string][]string{
		"loop.example":    {"127.0.0.1"},
		"rebind.example":  {publicIP, "127.0.0.1"},
		"rebind6.example": {publicIP, "::1"},
	})
	snd := webhooksender.New(webhooksender.Options{Resolver: res, RootCAs: roots, Timeout: 2 * time.Second})
	if err := snd.CheckURL(context.Background(), "https://rebind.example:"+port+"/"); err != nil {
		t.Fatalf("rebind.example at check time: %v", err)
	}
	if err := snd.CheckURL(context.Background(), "https://rebind6.example:"+port+"/"); err != nil {
		t.Fatalf("rebind6.example at check time: %v", err)
	}
	s := secret(t)
	for _, tc := range []struct{ url, why string }{
		{srv.URL, "127.0.0.1, a loopback address"},
		{"https://[::1]:" + port + "/", "::1, a loopback address"},
		{"https://[::ffff:127.0.0.1]:" + port + "/", "127.0.0.1, a loopback address"},
		{"https://10.0.0.1:" + port + "/", "10.0.0.1, a private address"},
		{"https://169.254.169.254/latest/meta-data/", "169.254.169.254, a cloud metadata address"},
		{"https://loop.example:" + port + "/", "127.0.0.1, a loopback address"},
		{"https://rebind.example:" + port + "/", "127.0.0.1, a loopback address"},
		{"https://rebind6.example:" + port + "/", "::1, a loopback address"},
	} {
		r := snd.Send(context.Background(), delivery(t, tc.url, s))
		if r.Outcome != webhook.Rejected || r.Retry || r.StatusCode != 0 ||
			!strings.Contains(r.Error, "refused to connect to "+tc.why) {
			t.Errorf("%s: %+v, want a refusal naming %q", tc.url, r, tc.why)
		}
	}
	if rc.count() != 0 {
		t.Fatalf("the receiver got %d deliveries", rc.count())
	}

	// With AllowPrivate, metadata stays refused at connect time, and plain http reaches loopback only.
	loose := webhooksender.New(webhooksender.Options{AllowPrivate: true,
		Resolver: newResolver(map[string][]string{"meta.example": {"169.254.169.254"}, "lan.example": {"10.0.0.1"}})})
	for _, tc := range []struct{ url, why string }{
		{"http://169.254.169.254/", "cloud metadata"},
		{"https://meta.example/", "cloud metadata"},
		{"http://lan.example/", "plain http is allowed to loopback only"},
	} {
		if r := loose.Send(context.Background(), delivery(t, tc.url, s)); r.Outcome != webhook.Rejected ||
			!strings.Contains(r.Error, tc.why) {
			t.Errorf("AllowPrivate %s: %+v, want %q", tc.url, r, tc.why)
		}
	}
}

// The dialer's Control itself refuses, whatever the caller resolved.
func TestDialControl(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	d := net.Dialer{Control: webhooksender.DialControl(false)}
	if c, err := d.Dial("tcp", l.Addr().String()); err == nil || !strings.Contains(err.Error(), "loopback") {
		if c != nil {
			c.Close()
		}
		t.Fatalf("strict control dialled loopback: %v", err)
	}
	d.Control = webhooksender.DialControl(true)
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("AllowPrivate control refused loopback: %v", err)
	}
	c.Close()
}

func TestSendCapsInFlightPerEndpoint(t *testing.T) {
	var cur, peak atomic.Int32
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		cur.Add(-1)
	}))
	t.Cleanup(srv.Close)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true})
	s := secret(t)
	const sends = 15
	var wg sync.WaitGroup
	results := make(chan webhooksender.Result, sends+1)
	for i := 0; i < sends; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- snd.Send(context.Background(), delivery(t, srv.URL, s))
		}()
	}
	for i := 0; i < webhooksender.DefaultMaxInFlight; i++ {
		<-arrived
	}
	// Ten are at the receiver; the other five wait for a slot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		held, waiting := snd.InFlight("agent-1")
		if held == 10 && waiting == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in flight %d, waiting %d; want 10 and 5", held, waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Another endpoint is not held up by this one.
	other := delivery(t, srv.URL, s)
	other.Key = "agent-2"
	go func() { results <- snd.Send(context.Background(), other) }()
	<-arrived
	// A caller that will not wait gives up, to be retried.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	if r := snd.Send(ctx, delivery(t, srv.URL, s)); r.Outcome != webhook.Retryable || !strings.Contains(r.Error, "busy") {
		t.Errorf("send past the cap: %+v", r)
	}
	cancel()
	close(release)
	wg.Wait()
	<-results // agent-2's
	for i := 0; i < sends; i++ {
		if r := <-results; r.Outcome != webhook.Delivered {
			t.Errorf("send %d: %+v", i, r)
		}
	}
	if p := peak.Load(); p != webhooksender.DefaultMaxInFlight+1 { // ten of agent-1, one of agent-2
		t.Fatalf("peak concurrency at the receiver %d, want 11", p)
	}
	if held, waiting := snd.InFlight("agent-1"); held != 0 || waiting != 0 {
		t.Fatalf("after all sends: %d held, %d waiting", held, waiting)
	}
}

func TestTrySendDoesNotWaitForASlot(t *testing.T) {
	var hits atomic.Int32
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	snd := webhooksender.New(webhooksender.Options{AllowPrivate: true})
	s := secret(t)
	var wg sync.WaitGroup
	for i := 0; i < webhooksender.DefaultMaxInFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, sent := snd.TrySend(context.Background(), delivery(t, srv.URL, s)); !sent || r.Outcome != webhook.Delivered {
				t.Errorf("a send within the cap: sent %v, %+v", sent, r)
			}
		}()
	}
	for i := 0; i < webhooksender.DefaultMaxInFlight; i++ {
		<-arrived
	}
	// The eleventh is not sent, and nothing waits.
	if r, sent := snd.TrySend(context.Background(), delivery(t, srv.URL, s)); sent {
		t.Fatalf("a send past the cap went out: %+v", r)
	}
	if held, waiting := snd.InFlight("agent-1"); held != webhooksender.DefaultMaxInFlight || waiting != 0 {
		t.Fatalf("in flight %d, waiting %d; want %d and 0", held, waiting, webhooksender.DefaultMaxInFlight)
	}
	close(release)
	wg.Wait()
	if r, sent := snd.TrySend(context.Background(), delivery(t, srv.URL, s)); !sent || r.Outcome != webhook.Delivered {
		t.Fatalf("a send once the slots are free: sent %v, %+v", sent, r)
	}
	if n := hits.Load(); n != webhooksender.DefaultMaxInFlight+1 {
		t.Fatalf("the receiver got %d requests, want %d", n, webhooksender.DefaultMaxInFlight+1)
	}
}
