// Package fakecarrier is a local stand-in for the carriers' REST APIs, answering outbound-call
// requests the way Twilio and Exotel do, instantly or after a delay, and counting what it
// accepted. The load harness (scripts/bench) dials through it, and tests can reuse it:
//
//	Twilio: POST /2010-04-01/Accounts/{sid}/Calls.json (form)      → 201, the Call resource, sid "CA" + 32 hex
//	        GET  /2010-04-01/Accounts/{sid}/Calls/{CA...}.json     → 200, that call (status "queued"), or 404
//	Exotel: POST /v1/Accounts/{sid}/Calls/connect[.json] (form)    → 200, {"Call":{"Sid":...}}
//	Elison: POST /api/login (JSON username, password)              → 200, a bearer token
//	        POST /api/leads (JSON lead, that bearer token)         → 200, {"queue_id":"Q-..."}
//
// A path prefix before "2010-04-01" or "v1" is allowed (an adapter configured with a proxy path).
// Options.Fault scripts a carrier failure instead of the call, in each carrier's own words, for
// the adapters' contract tests. Anything else is Twilio's 404 (code 20404).
package fakecarrier

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape a Carrier's answers. The zero value accepts every well-formed dial at once.
type Options struct {
	// Reject lists destinations refused the way each carrier refuses an invalid number
	// (Twilio: HTTP 400, code 21211; Exotel: HTTP 400 RestException).
	Reject []string
	// Delay is how long each accepted dial waits before it is answered.
	Delay time.Duration
	// Accounts, when not empty, maps each account sid to its auth token: a Twilio dial for another
	// account or with other basic-auth credentials is refused with 401 (code 20003). When empty,
	// any basic-auth credentials are accepted, but some must be sent.
	Accounts map[string]string
	// ExotelKeys, when not empty, maps each Exotel API key to its token: an Exotel dial with
	// other basic-auth credentials is refused with 401.
	ExotelKeys map[string]string
	// ElisonUsers, when not empty, maps each Elison username to its password: another login is
	// refused with 401.
	ElisonUsers map[string]string
	// ElisonExpiresIn is the expires_in of an Elison login's answer, 3600 when zero.
	ElisonExpiresIn int
	// ElisonHangLogin makes Elison logins hang (until the client leaves or Release).
	ElisonHangLogin bool
	// Fault is the failure every dial shows instead of being placed; the zero value is none.
	Fault Fault
	// Echo is appended to the carriers' error messages: a hostile or buggy carrier echoing input.
	Echo string
}

// Fault is a carrier failure a dial can be scripted to show.
type Fault int

const (
	// NoFault: the dial is placed.
	NoFault Fault = iota
	// InvalidDestination: the destination number is refused.
	InvalidDestination
	// CallerNotAllowed: the line's number is refused as caller id.
	CallerNotAllowed
	// BadCredentials: the credentials are refused.
	BadCredentials
	// RateLimited: every dial is refused as rate limited.
	RateLimited
	// RateLimitedOnce: the first dial is refused as rate limited, the next ones placed.
	RateLimitedOnce
	// Unavailable: an error page from a gateway; nothing is placed.
	Unavailable
	// Hang: the dial is never answered (until the client leaves or Release).
	Hang
)

// Dial is one accepted dial as the fake saw it.
type Dial struct {
	Carrier  string // "twilio", "exotel" or "elison"
	Path     string // the request's path
	Account  string // the account sid in the path
	User     string // the basic-auth user
	Password string // the basic-auth password
	Form     url.Values
	Lead     map[string]any // Elison: the lead as sent
	Auth     string         // Elison: the Authorization header
	Sid      string         // the call sid the fake answered with
}

// Carrier is the fake, an http.Handler. It is safe for concurrent use.
type Carrier struct {
	opts Options

	accepted atomic.Int64
	refused  atomic.Int64
	dials    atomic.Int64 // dial requests received, placed or not
	logins   atomic.Int64 // Elison logins received
	// refuseTokens makes the first n Elison leads answer 401, as if the token had been revoked.
	refuseTokens atomic.Int64

	release     chan struct{}
	releaseOnce sync.Once

	mu       sync.Mutex
	last     Dial
	received Dial
	calls    map[string]placed // Twilio calls placed, by sid, for the fetch endpoint
	tokens   map[string]bool   // Elison bearer tokens handed out
}

// placed is what the fetch endpoint needs of a call; the resource is rebuilt from it.
type placed struct{ account, to, from, created string }

// New returns a fake carrier answering as opts say.
func New(opts Options) *Carrier {
	opts.Reject = slices.Clone(opts.Reject)
	return &Carrier{opts: opts, calls: map[string]placed{}, tokens: map[string]bool{}, release: make(chan struct{})}
}

// Dials is how many dial requests reached the fake, placed or refused.
func (c *Carrier) Dials() int64 { return c.dials.Load() }

// Logins is how many Elison logins reached the fake.
func (c *Carrier) Logins() int64 { return c.logins.Load() }

// RefuseTokens makes the first n Elison leads (counted from the fake's start) answer 401, as if
// the token had been revoked.
func (c *Carrier) RefuseTokens(n int64) { c.refuseTokens.Store(n) }

// Received returns the last dial request as the fake saw it, placed or not.
func (c *Carrier) Received() Dial {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received
}

// Release lets every hanging request go; later ones do not hang. Call it before closing the
// server that serves the fake.
func (c *Carrier) Release() { c.releaseOnce.Do(func() { close(c.release) }) }

// Accepted is how many dials the fake accepted (answered with a call sid).
func (c *Carrier) Accepted() int64 { return c.accepted.Load() }

// Refused is how many dials the fake refused (bad form, credentials or destination).
func (c *Carrier) Refused() int64 { return c.refused.Load() }

// Last returns the last accepted dial; ok is false when there was none.
func (c *Carrier) Last() (d Dial, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.last.Sid != ""
}

// ServeHTTP answers one request.
func (c *Carrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if i := slices.IndexFunc(parts, func(p string) bool { return p == "2010-04-01" || p == "v1" }); i > 0 {
		parts = parts[i:]
	}
	switch {
	case r.URL.Path == "/api/login" || r.URL.Path == "/api/leads":
		c.elison(w, r)
	// 2010-04-01 / Accounts / {sid} / Calls.json
	case len(parts) == 4 && parts[0] == "2010-04-01" && parts[1] == "Accounts" && parts[3] == "Calls.json" && r.Method == http.MethodPost:
		c.twilioCreate(w, r, parts[2])
	// 2010-04-01 / Accounts / {sid} / Calls / {CA...}.json
	case len(parts) == 5 && parts[0] == "2010-04-01" && parts[1] == "Accounts" && parts[3] == "Calls" &&
		strings.HasSuffix(parts[4], ".json") && r.Method == http.MethodGet:
		c.twilioFetch(w, r, parts[2], strings.TrimSuffix(parts[4], ".json"))
	// v1 / Accounts / {sid} / Calls / connect[.json]
	case len(parts) == 5 && parts[0] == "v1" && parts[1] == "Accounts" && parts[3] == "Calls" &&
		(parts[4] == "connect" || parts[4] == "connect.json") && r.Method == http.MethodPost:
		c.exotelConnect(w, r, parts[2])
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
}

// twilioCall is Twilio's Call resource as its API answers a create or a fetch. The fields Twilio
// leaves null on a call just queued are pointers.
type twilioCall struct {
	AccountSid      string            `json:"account_sid"`
	Annotation      *string           `json:"annotation"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	CallerName      *string           `json:"caller_name"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	Direction       string            `json:"direction"`
	Duration        *string           `json:"duration"`
	EndTime         *string           `json:"end_time"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	GroupSid        *string           `json:"group_sid"`
	ParentCallSid   *string           `json:"parent_call_sid"`
	PhoneNumberSid  *string           `json:"phone_number_sid"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Sid             string            `json:"sid"`
	StartTime       *string           `json:"start_time"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	TrunkSid        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	QueueTime       string            `json:"queue_time"`
}

func (c *Carrier) twilioCreate(w http.ResponseWriter, r *http.Request, account string) {
	n := c.dials.Add(1)
	_ = r.ParseForm()
	user, pass, _ := r.BasicAuth()
	c.receive(Dial{Carrier: "twilio", Path: r.URL.Path, Account: account, User: user, Password: pass, Form: r.PostForm})
	echo := c.opts.Echo
	switch c.fault(n) {
	case InvalidDestination:
		c.refuse(w, twilioError, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+r.PostForm.Get("To")+echo)
		return
	case CallerNotAllowed:
		c.refuse(w, twilioError, http.StatusBadRequest, 21210, "The source phone number provided, "+r.PostForm.Get("From")+
			", is not yet verified for your account."+echo)
		return
	case BadCredentials:
		c.refuse(w, twilioError, http.StatusUnauthorized, 20003, "Authenticate"+echo)
		return
	case RateLimited:
		c.refuse(w, twilioError, http.StatusTooManyRequests, 20429, "Too Many Requests"+echo)
		return
	case Unavailable:
		c.gatewayError(w, http.StatusServiceUnavailable, "503 Service Temporarily Unavailable")
		return
	case Hang:
		c.hang(r)
		return
	}
	if !c.twilioAuthorized(r, account) {
		c.refused.Add(1)
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if err := r.ParseForm(); err != nil {
		c.refused.Add(1)
		twilioError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	}
	to, from := r.PostForm.Get("To"), r.PostForm.Get("From")
	switch {
	case to == "":
		c.refused.Add(1)
		twilioError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case from == "":
		c.refused.Add(1)
		twilioError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case slices.Contains(c.opts.Reject, to):
		c.refused.Add(1)
		twilioError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
		return
	}
	c.wait(r)
	p := placed{account: account, to: to, from: from, created: time.Now().UTC().Format(time.RFC1123Z)}
	sid := "CA" + randomHex()
	c.record(Dial{Carrier: "twilio", Path: r.URL.Path, Account: account, User: user, Password: pass, Form: r.PostForm, Sid: sid}, &p)
	writeJSON(w, http.StatusCreated, p.resource(sid))
}

// resource is the Call resource of a call just queued.
func (p placed) resource(sid string) twilioCall {
	uri := "/2010-04-01/Accounts/" + p.account + "/Calls/" + sid
	sub := make(map[string]string, len(subresources))
	for _, s := range subresources {
		sub[toSnake(s)] = uri + "/" + s + ".json"
	}
	return twilioCall{AccountSid: p.account, APIVersion: "2010-04-01", DateCreated: p.created, DateUpdated: p.created,
		Direction: "outbound-api", From: p.from, FromFormatted: formatNANP(p.from), PriceUnit: "USD", Sid: sid,
		Status: "queued", SubresourceURIs: sub, To: p.to, ToFormatted: formatNANP(p.to), URI: uri + ".json", QueueTime: "0"}
}

var subresources = []string{"Notifications", "Recordings", "Payments", "Events", "Siprec", "Streams",
	"Transcriptions", "UserDefinedMessageSubscriptions", "UserDefinedMessages"}

func (c *Carrier) twilioFetch(w http.ResponseWriter, r *http.Request, account, sid string) {
	if !c.twilioAuthorized(r, account) {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	c.mu.Lock()
	p, ok := c.calls[sid]
	c.mu.Unlock()
	if !ok || p.account != account {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	writeJSON(w, http.StatusOK, p.resource(sid))
}

func (c *Carrier) exotelConnect(w http.ResponseWriter, r *http.Request, account string) {
	n := c.dials.Add(1)
	parseErr := r.ParseForm()
	user, pass, authOK := r.BasicAuth()
	c.receive(Dial{Carrier: "exotel", Path: r.URL.Path, Account: account, User: user, Password: pass, Form: r.PostForm})
	// Exotel rings From (the customer) first, then connects it to CallerId.
	to, callerID := r.PostForm.Get("From"), r.PostForm.Get("CallerId")
	const unauthenticated = "Authentication is required to view this resource."
	switch c.fault(n) {
	case InvalidDestination:
		c.refuse(w, exotelError, http.StatusBadRequest, 34001, "Invalid number "+to+c.opts.Echo)
		return
	case CallerNotAllowed:
		c.refuse(w, exotelError, http.StatusBadRequest, 34010, "CallerId "+callerID+" is not a valid ExoPhone for this account"+c.opts.Echo)
		return
	case BadCredentials:
		c.refuse(w, exotelError, http.StatusUnauthorized, 0, unauthenticated+c.opts.Echo)
		return
	case RateLimited:
		c.refuse(w, exotelError, http.StatusTooManyRequests, 0, "Too many requests"+c.opts.Echo)
		return
	case Unavailable:
		c.gatewayError(w, http.StatusBadGateway, "502 Bad Gateway")
		return
	case Hang:
		c.hang(r)
		return
	}
	if token, known := c.opts.ExotelKeys[user]; !authOK || (len(c.opts.ExotelKeys) > 0 && (!known || subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1)) {
		c.refuse(w, exotelError, http.StatusUnauthorized, 0, unauthenticated)
		return
	}
	if parseErr != nil || to == "" || callerID == "" {
		c.refuse(w, exotelError, http.StatusBadRequest, 34001, "From and CallerId are required")
		return
	}
	if slices.Contains(c.opts.Reject, to) {
		c.refuse(w, exotelError, http.StatusBadRequest, 34001, "Invalid number "+to)
		return
	}
	c.wait(r)
	sid := randomHex()
	c.record(Dial{Carrier: "exotel", Path: r.URL.Path, Account: account, User: user, Password: pass, Form: r.PostForm, Sid: sid}, nil)
	writeJSON(w, http.StatusOK, map[string]any{"Call": map[string]any{"Sid": sid, "ParentCallSid": nil, "AccountSid": account,
		"To": callerID, "From": to, "PhoneNumberSid": callerID, "Status": "in-progress", "Direction": "outbound-api"}})
}

// elison answers the assumed Elison protocol (adapters/elisonprovider/doc.go): a login for a
// bearer token, then leads under it.
func (c *Carrier) elison(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		writeJSON(w, status, map[string]any{"status": "error", "code": code, "message": msg})
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusBadRequest, "BAD_REQUEST", "POST JSON only")
		return
	}
	if r.URL.Path == "/api/login" {
		c.logins.Add(1)
		if c.opts.ElisonHangLogin {
			_, _ = io.Copy(io.Discard, r.Body) // a drained body lets the server see the client leave
			c.hang(r)
			return
		}
		var in map[string]string
		err := json.NewDecoder(r.Body).Decode(&in)
		pass, known := c.opts.ElisonUsers[in["username"]]
		if err != nil || in["username"] == "" || (len(c.opts.ElisonUsers) > 0 && (!known || in["password"] != pass)) ||
			c.opts.Fault == BadCredentials {
			fail(http.StatusUnauthorized, "INVALID_CREDENTIALS", "Invalid username or password"+c.opts.Echo)
			return
		}
		token := "tok-" + randomHex()[:16]
		c.mu.Lock()
		c.tokens[token] = true
		c.mu.Unlock()
		exp := c.opts.ElisonExpiresIn
		if exp == 0 {
			exp = 3600
		}
		writeJSON(w, http.StatusOK, map[string]any{"token": token, "expires_in": exp, "token_type": "Bearer"})
		return
	}
	n := c.dials.Add(1)
	var lead map[string]any
	_ = json.NewDecoder(r.Body).Decode(&lead)
	auth := r.Header.Get("Authorization")
	c.receive(Dial{Carrier: "elison", Path: r.URL.Path, Lead: lead, Auth: auth})
	c.mu.Lock()
	valid := c.tokens[strings.TrimPrefix(auth, "Bearer ")]
	c.mu.Unlock()
	if !valid || n <= c.refuseTokens.Load() {
		c.refused.Add(1)
		fail(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid or expired token")
		return
	}
	switch c.fault(n) {
	case InvalidDestination:
		c.refused.Add(1)
		fail(http.StatusUnprocessableEntity, "INVALID_PHONE", fmt.Sprintf("Phone %v is not a valid mobile number", lead["phone"])+c.opts.Echo)
		return
	case CallerNotAllowed:
		c.refused.Add(1)
		fail(http.StatusForbidden, "CALLER_ID_NOT_ALLOWED", "The DID assigned to this campaign is blocked"+c.opts.Echo)
		return
	case RateLimited:
		c.refused.Add(1)
		fail(http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests"+c.opts.Echo)
		return
	case Unavailable:
		c.gatewayError(w, http.StatusServiceUnavailable, "503 Service Temporarily Unavailable")
		return
	case Hang:
		c.hang(r)
		return
	}
	if lead["phone"] == "" || lead["country_code"] == "" || lead["phone"] == nil {
		c.refused.Add(1)
		fail(http.StatusBadRequest, "MISSING_FIELD", "phone and country_code are required")
		return
	}
	if phone, _ := lead["phone"].(string); slices.ContainsFunc(c.opts.Reject, func(n string) bool { return strings.HasSuffix(n, phone) }) {
		c.refused.Add(1)
		fail(http.StatusUnprocessableEntity, "INVALID_PHONE", "Phone "+phone+" is not a valid mobile number")
		return
	}
	c.wait(r)
	sid := "Q-" + randomHex()[:12]
	c.record(Dial{Carrier: "elison", Path: r.URL.Path, Lead: lead, Auth: auth, Sid: sid}, nil)
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "queue_id": sid, "message": "Lead queued"})
}

// fault is the failure dial number n (from 1) shows.
func (c *Carrier) fault(n int64) Fault {
	if c.opts.Fault == RateLimitedOnce {
		if n == 1 {
			return RateLimited
		}
		return NoFault
	}
	return c.opts.Fault
}

// refuse counts a refused dial and writes the carrier's error body.
func (c *Carrier) refuse(w http.ResponseWriter, write func(http.ResponseWriter, int, int, string), status, code int, msg string) {
	c.refused.Add(1)
	write(w, status, code, msg)
}

// gatewayError is the HTML page a proxy in front of the carrier answers with.
func (c *Carrier) gatewayError(w http.ResponseWriter, status int, title string) {
	c.refused.Add(1)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><head><title>%s</title></head><body><center><h1>%s</h1></center></body></html>", title, title)
}

// hang holds the request until the client leaves or Release.
func (c *Carrier) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-c.release:
	}
}

func (c *Carrier) receive(d Dial) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received = d
}

// twilioAuthorized checks the basic-auth credentials as Options.Accounts says.
func (c *Carrier) twilioAuthorized(r *http.Request, account string) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return false
	}
	if len(c.opts.Accounts) == 0 {
		return true
	}
	token, known := c.opts.Accounts[account]
	return known && user == account && subtle.ConstantTimeCompare([]byte(pass), []byte(token)) == 1
}

func (c *Carrier) wait(r *http.Request) {
	if c.opts.Delay <= 0 {
		return
	}
	t := time.NewTimer(c.opts.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-c.release:
	}
}

func (c *Carrier) record(d Dial, p *placed) {
	c.accepted.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = d
	if p != nil {
		c.calls[d.Sid] = *p
	}
}

func twilioError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

// exotelError writes Exotel's RestException; code 0 is Exotel's empty code.
func exotelError(w http.ResponseWriter, status, code int, msg string) {
	var c any = ""
	if code != 0 {
		c = code
	}
	writeJSON(w, status, map[string]any{"RestException": map[string]any{"Status": status, "Message": msg, "Code": c}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// toSnake turns "UserDefinedMessages" into "user_defined_messages".
func toSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatNANP writes +14155550123 as Twilio does, "(415) 555-0123"; other numbers stay as they are.
func formatNANP(n string) string {
	if len(n) != 12 || !strings.HasPrefix(n, "+1") {
		return n
	}
	return "(" + n[2:5] + ") " + n[5:8] + "-" + n[8:]
}

// Server is a Carrier listening on a loopback address.
type Server struct {
	// URL is the base URL to point a carrier adapter at, e.g. http://127.0.0.1:41234.
	URL string
	srv *http.Server
	ln  net.Listener
}

// Listen serves c on addr, which must be a loopback address ("127.0.0.1:0" picks a free port),
// until Close.
func Listen(addr string, c *Carrier) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("fakecarrier: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("fakecarrier: %s is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakecarrier: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server at once.
func (s *Server) Close() error {
	if err := s.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
