package httpapi

import (
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"
)

// metricsAuth asks for Config.MetricsToken as a bearer token (as Prometheus' scrape config sends
// it, authorization: credentials), compared in constant time; without a token /metrics is open.
func (s *server) metricsAuth(c *gin.Context) {
	want := s.cfg.MetricsToken
	if want == "" {
		return
	}
	scheme, got, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
		fail(c, errMetricsToken)
	}
}
