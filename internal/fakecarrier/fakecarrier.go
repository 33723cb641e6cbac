// Package fakecarrier is a local stand-in for the carriers' REST APIs, answering outbound-call
// requests the way Twilio and Exotel do, instantly or after a delay, and counting what it
// accepted. The load harness (scripts/bench) dials through it, and tests can reuse it:
//
//	Twilio: POST /2010-04-01/Accounts/{sid}/Calls.json (form)      → 201, the Call resource, sid "CA" + 32 hex
//	        GET  /2010-04-01/Accounts/{sid}/Calls/{CA...}.json     → 200, that call (status "queued"), or 404
//	Exotel: POST /v1/Accounts/{sid}/Calls/connect[.json] (form)    → 200, {"Call":{"Sid":...}}
//
// Anything else is Twilio's 404 (code 20404).
package fakecarrier

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
}

// Dial is one accepted dial as the fake saw it.
type Dial struct {
	Carrier string // "twilio" or "exotel"
	Account string // the account sid in the path
	User    string // the basic-auth user
	Form    url.Values
	Sid     string // the call sid the fake answered with
}

// Carrier is the fake, an http.Handler. It is safe for concurrent use.
type Carrier struct {
	opts Options

	accepted atomic.Int64
	refused  atomic.Int64

	mu    sync.Mutex
	last  Dial
	calls map[string]placed // Twilio calls placed, by sid, for the fetch endpoint
}

// placed is what the fetch endpoint needs of a call; the resource is rebuilt from it.
type placed struct{ account, to, from, created string }

// New returns a fake carrier answering as opts say.
func New(opts Options) *Carrier {
	opts.Reject = slices.Clone(opts.Reject)
	return &Carrier{opts: opts, calls: map[string]placed{}}
}

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
	switch {
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
	user, _, _ := r.BasicAuth()
	c.record(Dial{Carrier: "twilio", Account: account, User: user, Form: r.PostForm, Sid: sid}, &p)
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
	if _, _, ok := r.BasicAuth(); !ok {
		c.refused.Add(1)
		exotelError(w, http.StatusUnauthorized, "Authentication is required to view this resource.")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("From") == "" {
		c.refused.Add(1)
		exotelError(w, http.StatusBadRequest, "From is required")
		return
	}
	// Exotel rings From (the customer) first, then connects it to CallerId.
	to := r.PostForm.Get("From")
	if slices.Contains(c.opts.Reject, to) {
		c.refused.Add(1)
		exotelError(w, http.StatusBadRequest, "Invalid number "+to)
		return
	}
	c.wait(r)
	sid := randomHex()
	user, _, _ := r.BasicAuth()
	c.record(Dial{Carrier: "exotel", Account: account, User: user, Form: r.PostForm, Sid: sid}, nil)
	writeJSON(w, http.StatusOK, map[string]any{"Call": map[string]any{"Sid": sid, "AccountSid": account,
		"To": r.PostForm.Get("To"), "From": to, "Status": "in-progress", "Direction": "outbound-api"}})
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

func exotelError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"RestException": map[string]any{"Status": status, "Message": msg, "Code": 34001}})
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
