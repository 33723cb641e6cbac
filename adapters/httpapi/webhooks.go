package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/application/createcall"
	"github.com/kupe-voice/kupe/application/webhooks"
	"github.com/kupe-voice/kupe/domain/call"
	"github.com/kupe-voice/kupe/domain/webhook"
)

// Webhooks serves agent webhooks (Kupe's "Webhooks" tag, and our delivery log): the owner's
// configuration routes, the delivery log and replays, and the signed start-call route, which
// places calls through Deps.CreateCall.
type Webhooks struct {
	Endpoints  *webhooks.Endpoints
	Deliveries *webhooks.Deliveries
	StartCalls *webhooks.StartCalls
	// PublicBaseURL is where clients reach this service; each agent's start-call URL is under it.
	PublicBaseURL string
}

// HiddenToken stands for a stored bearer token in answers. A PUT that sends it back (or no
// token) keeps the stored one.
const HiddenToken = "********"

// StartCallPath is the start-call route, for an agent id.
func StartCallPath(agentID string) string { return "/api/v1/webhooks/agents/" + agentID + "/incoming" }

func (s *server) webhookRoutes(authed *gin.RouterGroup, e *gin.Engine) {
	authed.GET("/api/v1/webhooks/me", s.listAgentWebhooks)
	authed.GET("/api/v1/webhooks/agents/:agent_id", s.getAgentWebhooks)
	authed.PUT("/api/v1/webhooks/agents/:agent_id", s.putAgentWebhooks)
	authed.POST("/api/v1/webhooks/agents/:agent_id/rotate-secret", s.rotateAgentWebhookSecret)
	authed.POST("/api/v1/webhooks/agents/:agent_id/test-outgoing", s.testAgentOutgoingWebhook)
	authed.GET("/api/v1/webhooks/deliveries", s.listWebhookDeliveries)
	authed.POST("/api/v1/webhooks/deliveries/:delivery_id/replay", s.replayWebhookDelivery)
	// Signed with the agent's secret, not authenticated as a user.
	e.POST("/api/v1/webhooks/agents/:agent_id/incoming", s.startCallWebhook)
}

type webhookAuthJSON struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

type attachedVariableJSON struct {
	Name         string `json:"name"`
	DefaultValue string `json:"default_value"`
}

type outgoingJSON struct {
	Enabled        bool              `json:"enabled"`
	URL            string            `json:"url"`
	Method         string            `json:"method"`
	Headers        map[string]string `json:"headers"`
	Auth           *webhookAuthJSON  `json:"auth"`
	RetryCount     int               `json:"retry_count"`
	DisabledReason *string           `json:"disabled_reason"`
	DisabledAt     *string           `json:"disabled_at"`
}

type incomingJSON struct {
	Enabled           bool                   `json:"enabled"`
	AttachedVariables []attachedVariableJSON `json:"attached_variables"`
	URL               string                 `json:"url"`
}

// agentWebhooksJSON is an agent's webhook configuration as GET and PUT answer it: Kupe's
// putAgentWebhooks body, with the token hidden, the start-call URL, why deliveries stopped if
// they did, and the secret only when asked for.
type agentWebhooksJSON struct {
	AgentID            string       `json:"agent_id"`
	TriggerOnPhoneCall bool         `json:"trigger_on_phone_call"`
	Outgoing           outgoingJSON `json:"outgoing"`
	Incoming           incomingJSON `json:"incoming"`
	Secret             *string      `json:"secret,omitempty"`
	CreatedAt          *string      `json:"created_at"`
	UpdatedAt          *string      `json:"updated_at"`
}

func (w *Webhooks) startCallURL(agentID string) string {
	return strings.TrimRight(w.PublicBaseURL, "/") + StartCallPath(agentID)
}

func (w *Webhooks) toJSON(e webhooks.Endpoint, reveal bool) agentWebhooksJSON {
	o, in := e.Config.Outgoing(), e.Config.Incoming()
	out := agentWebhooksJSON{
		AgentID: e.AgentID, TriggerOnPhoneCall: e.Config.TriggerOnPhoneCall(),
		Outgoing: outgoingJSON{Enabled: o.Enabled(), URL: o.URL(), Method: o.Method(), Headers: o.Headers(),
			RetryCount: o.RetryCount(), DisabledAt: timeJSON(e.DisabledAt)},
		Incoming:  incomingJSON{Enabled: in.Enabled(), AttachedVariables: []attachedVariableJSON{}, URL: w.startCallURL(e.AgentID)},
		CreatedAt: timeJSON(e.CreatedAt), UpdatedAt: timeJSON(e.UpdatedAt),
	}
	if out.Outgoing.Headers == nil {
		out.Outgoing.Headers = map[string]string{}
	}
	if o.BearerToken() != "" {
		out.Outgoing.Auth = &webhookAuthJSON{Type: "bearer", Token: HiddenToken}
	}
	if e.DisabledReason != "" {
		r := e.DisabledReason
		out.Outgoing.DisabledReason = &r
	}
	for _, v := range in.AttachedVariables() {
		out.Incoming.AttachedVariables = append(out.Incoming.AttachedVariables, attachedVariableJSON(v))
	}
	if reveal && !e.Secret.IsZero() {
		secret := e.Secret.Reveal()
		out.Secret = &secret
	}
	return out
}

// listAgentWebhooks serves GET /api/v1/webhooks/me: each of the caller's agents with its
// start-call URL and what is switched on. It writes nothing and shows no secret.
func (s *server) listAgentWebhooks(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	list, err := s.deps.Webhooks.Endpoints.List(c.Request.Context(), userID)
	if err != nil {
		fail(c, err)
		return
	}
	type agentJSON struct {
		AgentID         string  `json:"agent_id"`
		AgentName       string  `json:"agent_name"`
		Configured      bool    `json:"configured"`
		IncomingURL     string  `json:"incoming_url"`
		IncomingEnabled bool    `json:"incoming_enabled"`
		OutgoingEnabled bool    `json:"outgoing_enabled"`
		OutgoingURL     string  `json:"outgoing_url"`
		DisabledReason  *string `json:"disabled_reason"`
	}
	out := struct {
		Agents []agentJSON `json:"agents"`
	}{Agents: make([]agentJSON, 0, len(list))}
	for _, a := range list {
		e := a.Endpoint
		j := agentJSON{AgentID: a.Agent.ID, AgentName: a.Agent.Name, Configured: a.Configured,
			IncomingURL: s.deps.Webhooks.startCallURL(a.Agent.ID), IncomingEnabled: e.Config.Incoming().Enabled(),
			OutgoingEnabled: e.Config.Outgoing().Enabled(), OutgoingURL: e.Config.Outgoing().URL()}
		if e.DisabledReason != "" {
			r := e.DisabledReason
			j.DisabledReason = &r
		}
		out.Agents = append(out.Agents, j)
	}
	writeJSON(c, http.StatusOK, out)
}

// getAgentWebhooks serves GET /api/v1/webhooks/agents/{agent_id}[?reveal_secret=true].
func (s *server) getAgentWebhooks(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var (
		values [1]string
		found  [1]bool
	)
	q := queryParams{keys: []string{"reveal_secret"}, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		fail(c, err)
		return
	}
	reveal := false
	if found[0] {
		b, err := strconv.ParseBool(values[0])
		if err != nil {
			fail(c, invalid("reveal_secret must be true or false"))
			return
		}
		reveal = b
	}
	e, err := s.deps.Webhooks.Endpoints.Get(c.Request.Context(), userID, c.Param("agent_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Writer.Header()["Cache-Control"] = []string{"no-store"}
	writeJSON(c, http.StatusOK, s.deps.Webhooks.toJSON(e, reveal))
}

// putAgentWebhooksBody is Kupe's putAgentWebhooks body. A section left out is as if sent empty
// (off); outgoing.auth left out, or sent with no token or the hidden one, keeps the stored
// token; auth null or of type "none" removes it.
type putAgentWebhooksBody struct {
	TriggerOnPhoneCall *bool `json:"trigger_on_phone_call"`
	Outgoing           *struct {
		Enabled    bool              `json:"enabled"`
		URL        string            `json:"url"`
		Method     string            `json:"method"`
		Headers    map[string]string `json:"headers"`
		Auth       json.RawMessage   `json:"auth"`
		RetryCount *int              `json:"retry_count"`
	} `json:"outgoing"`
	Incoming *struct {
		Enabled           bool                   `json:"enabled"`
		AttachedVariables []attachedVariableJSON `json:"attached_variables"`
	} `json:"incoming"`
}

// putAgentWebhooks serves PUT /api/v1/webhooks/agents/{agent_id}: 200 with the stored
// configuration, 422 with what to fix (an outgoing URL that is not https or that resolves to a
// private or metadata address among it).
func (s *server) putAgentWebhooks(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var body putAgentWebhooksBody
	if err := s.readJSONObject(c.Request, &body); err != nil {
		fail(c, err)
		return
	}
	cmd := webhooks.PutEndpoint{UserID: userID, AgentID: c.Param("agent_id"), Token: webhooks.KeepToken}
	cmd.Input.TriggerOnPhoneCall = body.TriggerOnPhoneCall == nil || *body.TriggerOnPhoneCall
	if o := body.Outgoing; o != nil {
		cmd.Input.Outgoing = webhook.OutgoingInput{Enabled: o.Enabled, URL: o.URL, Method: o.Method, Headers: o.Headers,
			RetryCount: o.RetryCount}
		change, authType, token, err := readAuth(o.Auth)
		if err != nil {
			fail(c, err)
			return
		}
		cmd.Token, cmd.Input.Outgoing.AuthType, cmd.Input.Outgoing.AuthToken = change, authType, token
	}
	if in := body.Incoming; in != nil {
		cmd.Input.Incoming.Enabled = in.Enabled
		for _, v := range in.AttachedVariables {
			cmd.Input.Incoming.AttachedVariables = append(cmd.Input.Incoming.AttachedVariables, webhook.AttachedVariable(v))
		}
	}
	e, err := s.deps.Webhooks.Endpoints.Put(c.Request.Context(), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, s.deps.Webhooks.toJSON(e, false))
}

// readAuth reads outgoing.auth: what to do with the stored token, and the type and token sent.
func readAuth(raw json.RawMessage) (webhooks.TokenChange, string, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return webhooks.KeepToken, "", "", nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return webhooks.ClearToken, "", "", nil
	}
	var a struct {
		Type  *string `json:"type"`
		Token *string `json:"token"`
	}
	if raw[0] != '{' || json.Unmarshal(raw, &a) != nil {
		return 0, "", "", invalid(`outgoing.auth must be an object: {"type": "bearer", "token": "..."}`)
	}
	typ, tok := "", ""
	if a.Type != nil {
		typ = *a.Type
	}
	if a.Token != nil {
		tok = *a.Token
	}
	switch t := strings.ToLower(strings.TrimSpace(typ)); {
	case (t == "" || t == "none") && tok == "":
		return webhooks.ClearToken, "", "", nil
	case t == "bearer" && (tok == "" || tok == HiddenToken):
		return webhooks.KeepToken, "", "", nil
	}
	return webhooks.SetToken, typ, tok, nil
}

// rotateAgentWebhookSecret serves POST .../rotate-secret: {"secret": "whsec_..."}, the new one.
func (s *server) rotateAgentWebhookSecret(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	secret, err := s.deps.Webhooks.Endpoints.RotateSecret(c.Request.Context(), userID, c.Param("agent_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Writer.Header()["Cache-Control"] = []string{"no-store"}
	writeJSON(c, http.StatusOK, map[string]string{"secret": secret.Reveal()})
}

// testAgentOutgoingWebhook serves POST .../test-outgoing: a sample call.completed sent at once;
// 200 with the receiver's status when it took it, otherwise 502 with a detail that says what it
// answered ("receiver answered 503") or why it never did.
func (s *server) testAgentOutgoingWebhook(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	res, err := s.deps.Webhooks.Endpoints.TestOutgoing(c.Request.Context(), userID, c.Param("agent_id"))
	if err != nil {
		fail(c, err)
		return
	}
	if res.Outcome == webhook.Delivered {
		writeJSON(c, http.StatusOK, struct {
			Status     string `json:"status"`
			StatusCode int    `json:"status_code"`
		}{"delivered", res.StatusCode})
		return
	}
	// An error like any other: {"detail"}, which names the receiver's answer.
	writeDetail(c, http.StatusBadGateway, "Outgoing webhook failed: "+res.Error)
}

var deliveryKeys = []string{"agent_id", "status", "page", "page_size"}

const defaultDeliveriesPageSize = 50

type attemptJSON struct {
	At         *string `json:"at"`
	StatusCode *int    `json:"status_code"`
	Error      *string `json:"error"`
}

type deliveryJSON struct {
	ID            string        `json:"id"`
	WebhookID     string        `json:"webhook_id"`
	AgentID       string        `json:"agent_id"`
	Event         string        `json:"event"`
	CallSessionID *string       `json:"call_session_id"`
	Status        string        `json:"status"`
	Attempts      []attemptJSON `json:"attempts"`
	NextAttemptAt *string       `json:"next_attempt_at"`
	CreatedAt     *string       `json:"created_at"`
}

func toDeliveryJSON(d webhooks.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, WebhookID: d.WebhookID, AgentID: d.AgentID, Event: string(d.Event),
		Status: string(d.Status), Attempts: make([]attemptJSON, 0, len(d.Attempts)), NextAttemptAt: timeJSON(d.NextAttemptAt),
		CreatedAt: timeJSON(d.CreatedAt)}
	if d.SessionID != "" {
		sid := d.SessionID
		out.CallSessionID = &sid
	}
	for _, a := range d.Attempts {
		j := attemptJSON{At: timeJSON(a.At)}
		if a.StatusCode != 0 {
			code := a.StatusCode
			j.StatusCode = &code
		}
		if a.Error != "" {
			e := a.Error
			j.Error = &e
		}
		out.Attempts = append(out.Attempts, j)
	}
	return out
}

// listWebhookDeliveries serves GET /api/v1/webhooks/deliveries?agent_id=&status=&page=&page_size=
// (ours): the caller's deliveries, newest first, with every attempt.
func (s *server) listWebhookDeliveries(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	var (
		values [4]string
		found  [4]bool
	)
	q := queryParams{keys: deliveryKeys, values: values[:], found: found[:]}
	if err := q.parse(c.Request.URL.RawQuery); err != nil {
		fail(c, err)
		return
	}
	page, size := 1, defaultDeliveriesPageSize
	var err error
	if found[2] {
		if page, err = pageParam("page", values[2]); err != nil {
			fail(c, err)
			return
		}
		if page < 1 {
			fail(c, invalid("page must be 1 or more"))
			return
		}
	}
	if found[3] {
		if size, err = pageParam("page_size", values[3]); err != nil {
			fail(c, err)
			return
		}
	}
	list, total, err := s.deps.Webhooks.Deliveries.List(c.Request.Context(), webhooks.ListDeliveries{
		UserID: userID, AgentID: values[0], Status: values[1], Offset: (page - 1) * max(size, 0), Limit: size})
	if err != nil {
		fail(c, err)
		return
	}
	out := struct {
		Deliveries []deliveryJSON `json:"deliveries"`
		Total      int            `json:"total"`
		Page       int            `json:"page"`
		PageSize   int            `json:"page_size"`
	}{Deliveries: make([]deliveryJSON, 0, len(list)), Total: total, Page: page, PageSize: size}
	for _, d := range list {
		out.Deliveries = append(out.Deliveries, toDeliveryJSON(d))
	}
	writeJSON(c, http.StatusOK, out)
}

// replayWebhookDelivery serves POST /api/v1/webhooks/deliveries/{id}/replay (ours): 202 with the
// delivery, queued to be sent now with the same webhook-id.
func (s *server) replayWebhookDelivery(c *gin.Context) {
	userID, ok := caller(c)
	if !ok {
		return
	}
	d, err := s.deps.Webhooks.Deliveries.Replay(c.Request.Context(), userID, c.Param("delivery_id"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, toDeliveryJSON(d))
}

// startCallWebhook serves POST /api/v1/webhooks/agents/{agent_id}/incoming (Kupe's
// incomingWebhookStartOutbound): a CRM's request, signed with the agent's secret in
// X-Webhook-Signature, places a call as the agent's owner through create_call. The answer is
// create_call's, with the resolved variable_values. The same signed body sent again within
// create_call's idempotency window is answered with the first call (Idempotent-Replayed: true)
// and dials nothing: the signature has no timestamp, so this is what keeps a copied request from
// placing more calls.
func (s *server) startCallWebhook(c *gin.Context) {
	limit := min(s.cfg.MaxBodyBytes, int64(webhook.MaxStartCallBody))
	if c.Request.ContentLength > limit {
		fail(c, errBodyTooLarge)
		return
	}
	var body []byte
	if c.Request.Body != nil {
		var err error
		if body, err = readAtMost(c.Request.Body, nil, limit); err != nil {
			fail(c, err)
			return
		}
	}
	sig := ""
	if v := c.Request.Header[webhook.SignatureHeader]; len(v) == 1 {
		sig = v[0]
	} else if len(v) > 1 {
		sig = "sha256=" // more than one signature: refused as a wrong one
	}
	ctx := c.Request.Context()
	sc, err := s.deps.Webhooks.StartCalls.Authorize(ctx, c.Param("agent_id"), body, sig)
	if err != nil {
		fail(c, err)
		return
	}
	res, err := s.deps.CreateCall.Handle(ctx, createcall.Command{UserID: sc.UserID, To: sc.Destination, AgentID: sc.AgentID,
		LineID: sc.LineID, VariableValues: sc.VariableValues, IdempotencyKey: sc.IdempotencyKey})
	if err != nil {
		fail(c, err)
		return
	}
	if res.Unrecorded != nil {
		note(c, res.Unrecorded, zap.String("call_session_id", res.SessionID), zap.String("call_request_id", res.RequestID),
			zap.String("to", call.MaskNumber(res.To)))
	}
	if res.Replayed {
		c.Writer.Header()[headerIdempotentReplayed] = []string{"true"}
	}
	vars := sc.VariableValues
	if vars == nil {
		vars = map[string]any{}
	}
	encoded, err := json.Marshal(vars)
	if err != nil {
		fail(c, err)
		return
	}
	b := getBuf()
	b.b = AppendCreateCallResponse(b.b, res)
	b.b = append(b.b[:len(b.b)-1], `,"variable_values":`...)
	b.b = append(b.b, encoded...)
	b.b = append(b.b, '}')
	writeJSONBytes(c, http.StatusOK, b.b)
	putBuf(b)
}
