package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// errOriginNotAllowed: a browser request from an origin that Config.AllowedOrigins does not list.
var errOriginNotAllowed = errors.New("origin not allowed")

// What a browser on an allowed origin may send, and read back.
var (
	corsAllowMethods  = []string{"GET, POST, PATCH, DELETE, OPTIONS"}
	corsAllowHeaders  = []string{"x-api-key, Authorization, Content-Type, Idempotency-Key"}
	corsExposeHeaders = []string{headerRequestID}
	corsMaxAge        = []string{"600"}
	varyOrigin        = []string{"Origin"}
)

// origins is the set of allowed origins, normalised by normalizeOrigin.
type origins map[string]struct{}

func newOrigins(list []string) origins {
	o := origins{}
	for _, s := range list {
		if s = normalizeOrigin(s); s != "" {
			o[s] = struct{}{}
		}
	}
	return o
}

// normalizeOrigin lowercases an origin and drops a trailing slash: browsers send
// "https://app.example.com", an operator may write "https://App.example.com/".
func normalizeOrigin(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "/"))
}

func (o origins) allows(origin string) bool {
	_, ok := o[normalizeOrigin(origin)]
	return ok
}

// cors answers browsers. A request without an Origin header (a server, curl) passes untouched.
// For an allowed origin it sets the CORS response headers and answers a preflight (OPTIONS
// with Access-Control-Request-Method) itself, 204; a preflight from any other origin is a 403.
// Other requests from an origin not allowed get no CORS headers, so the browser keeps the
// answer from the page; create_call refuses them outright (see requireAllowedOrigin).
func (s *server) cors(c *gin.Context) {
	v, ok := c.Request.Header["Origin"]
	if !ok || len(v) == 0 {
		return
	}
	h := c.Writer.Header()
	h["Vary"] = varyOrigin
	preflight := c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != ""
	if len(v) != 1 || !s.origins.allows(v[0]) {
		if preflight {
			fail(c, errOriginNotAllowed)
		}
		return
	}
	h["Access-Control-Allow-Origin"] = []string{v[0]}
	h["Access-Control-Expose-Headers"] = corsExposeHeaders
	if preflight {
		h["Access-Control-Allow-Methods"] = corsAllowMethods
		h["Access-Control-Allow-Headers"] = corsAllowHeaders
		h["Access-Control-Max-Age"] = corsMaxAge
		c.AbortWithStatus(http.StatusNoContent)
	}
}

// requireAllowedOrigin refuses a request whose Origin header names an origin not allowed: a
// page on another site must not place calls with a key it holds.
func (s *server) requireAllowedOrigin(c *gin.Context) {
	v, ok := c.Request.Header["Origin"]
	if !ok {
		return
	}
	if len(v) != 1 || !s.origins.allows(v[0]) {
		fail(c, errOriginNotAllowed)
	}
}
