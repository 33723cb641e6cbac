package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/elisonprovider"
	"github.com/kupe-voice/kupe/adapters/exotelprovider"
	"github.com/kupe-voice/kupe/adapters/twilioprovider"
	"github.com/kupe-voice/kupe/application/callevents"
	"github.com/kupe-voice/kupe/domain/call"
)

// StatusCallbackPath is where the carriers post their status callbacks; :provider is the line's
// provider (twilio, exotel, elison). It takes no API key: each request proves itself instead.
const StatusCallbackPath = "/api/call/status-callback/:provider/:call_session_id"

// errCallbackUnverified is a status callback whose signature or token is missing or wrong.
var errCallbackUnverified = errors.New("status callback not verified")

// Callbacks serves the carriers' status callbacks.
type Callbacks struct {
	Events *callevents.CarrierEvents
	// PublicBaseURL is this service's public address, as the carriers were given it
	// (KUPE_PUBLIC_BASE_URL): Twilio signs the whole URL it posted to, so the request's URL is
	// rebuilt from it.
	PublicBaseURL string
	// Signer checks the token in the URLs of carriers that do not sign their requests.
	Signer *CallbackSigner
}

// CallbackSigner makes and checks the token carried by the status-callback URLs of carriers that
// do not sign their requests (Exotel, Elison): base64url of HMAC-SHA256 of the session id under
// a server secret. Only the service can make one, and one opens a single session.
type CallbackSigner struct{ secret []byte }

// NewCallbackSigner returns a signer for secret, which must be kept as well as any key (derive it
// from the secrets key).
func NewCallbackSigner(secret []byte) *CallbackSigner {
	return &CallbackSigner{secret: append([]byte(nil), secret...)}
}

// Token is the token of a session's callback URL.
func (s *CallbackSigner) Token(sessionID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Valid reports, in constant time, whether token is the session's.
func (s *CallbackSigner) Valid(sessionID, token string) bool {
	if s == nil || len(s.secret) == 0 || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(s.Token(sessionID)))
}

// tokenSigned reports whether a provider's callbacks prove themselves with a URL token rather
// than a signature of their own.
func tokenSigned(p call.Provider) bool { return p == call.ProviderExotel || p == call.ProviderElison }

// StatusCallbackURL is the address a carrier is given for a session's status callbacks: under
// publicBaseURL, with the session's token for the carriers that need one.
func StatusCallbackURL(publicBaseURL string, p call.Provider, sessionID string, signer *CallbackSigner) string {
	u := publicBaseURL + "/api/call/status-callback/" + p.String() + "/" + url.PathEscape(sessionID)
	if tokenSigned(p) && signer != nil {
		u += "?token=" + signer.Token(sessionID)
	}
	return u
}

// statusCallback serves POST /api/call/status-callback/{provider}/{call_session_id}: it checks
// the session exists (404), that the carrier sent the request (403), reads the carrier's body
// (422) and applies the event. Repeated and late events are answered 200 like any other.
func (s *server) statusCallback(c *gin.Context) {
	p, err := call.ParseProvider(c.Param("provider"))
	if err != nil || p == call.ProviderSimulated {
		fail(c, errRouteNotFound)
		return
	}
	s.carrierCallback(c, p, statusCallbackKind, func(contentType string, body []byte) (callevents.CarrierEvent, error) {
		switch p {
		case call.ProviderExotel:
			return exotelprovider.ParseStatusCallback(contentType, body)
		case call.ProviderElison:
			return elisonprovider.ParseStatusCallback(contentType, body)
		}
		return twilioprovider.ParseStatusCallback(contentType, body)
	})
}

// AMDCallbackPath is where Twilio posts the result of a call's asynchronous answering-machine
// detection. It takes no API key: Twilio signs the request, as it signs status callbacks.
const AMDCallbackPath = "/api/call/amd-callback/twilio/:call_session_id"

// AMDCallbackURL is the address Twilio is given for a session's machine-detection result.
func AMDCallbackURL(publicBaseURL, sessionID string) string {
	return publicBaseURL + "/api/call/amd-callback/twilio/" + url.PathEscape(sessionID)
}

// amdCallback serves POST /api/call/amd-callback/twilio/{call_session_id}: verified and answered
// as a status callback is, it records who answered (answered_by).
func (s *server) amdCallback(c *gin.Context) {
	s.carrierCallback(c, call.ProviderTwilio, amdCallbackKind, twilioprovider.ParseAMDCallback)
}

// callbackKind names a kind of carrier callback in its log line and its 422.
type callbackKind struct{ unverified, badBody string }

var (
	statusCallbackKind = callbackKind{"status callback not verified", "Status callback body is not in the carrier's format"}
	amdCallbackKind    = callbackKind{"machine-detection callback not verified",
		"Machine-detection callback body is not in the carrier's format: want a form with AnsweredBy"}
)

// carrierCallback reads a callback from provider p about the session in the path, checks that
// the session exists (404) and that the carrier sent the request (403), reads its body with
// parse (422) and applies the event.
func (s *server) carrierCallback(c *gin.Context, p call.Provider, kind callbackKind, parse func(contentType string, body []byte) (callevents.CarrierEvent, error)) {
	cb := s.deps.Callbacks
	sessionID := c.Param("call_session_id")
	b := getBuf()
	defer putBuf(b)
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		fail(c, errBodyTooLarge)
		return
	}
	var err error
	if b.b, err = readAtMost(c.Request.Body, b.b, s.cfg.MaxBodyBytes); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	creds, err := cb.Events.Credentials(ctx, p, sessionID)
	if err != nil {
		fail(c, err)
		return
	}
	contentType := c.Request.Header.Get("Content-Type")
	var verified bool
	if tokenSigned(p) {
		verified = cb.Signer.Valid(sessionID, c.Query("token"))
	} else {
		verified = twilioprovider.VerifyStatusCallback(creds, cb.PublicBaseURL+c.Request.URL.RequestURI(), contentType,
			b.b, c.Request.Header.Get(twilioprovider.SignatureHeader))
	}
	if !verified {
		// Logged: a wrong KUPE_PUBLIC_BASE_URL or line token shows up here, as does a forgery.
		s.log.Warn(kind.unverified, zap.String("request_id", c.Writer.Header().Get(headerRequestID)),
			zap.String("provider", p.String()), zap.String("call_session_id", sessionID))
		fail(c, errCallbackUnverified)
		return
	}
	ev, err := parse(contentType, b.b)
	if err != nil {
		fail(c, invalid(kind.badBody))
		return
	}
	ev.SessionID, ev.Provider = sessionID, p
	if err := cb.Events.Apply(ctx, ev); err != nil {
		fail(c, err)
		return
	}
	writeJSONBytes(c, http.StatusOK, []byte(`{"status":"received"}`))
}
