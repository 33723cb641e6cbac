package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// serviceName is what /health reports as "service".
const serviceName = "kupe"

var errDatabaseDown = errors.New("health check: database ping failed")

type healthResponse struct {
	Status    string  `json:"status"`
	Timestamp float64 `json:"timestamp"`
	Service   string  `json:"service"`
	Database  string  `json:"database"`
	Redis     string  `json:"redis,omitempty"`
	Version   string  `json:"version"`
}

// health serves GET /health: 200 while the database answers a ping within healthTimeout, else
// 503. With shared rate limits it also says whether Redis answers, which does not change the
// status.
func (s *server) health(c *gin.Context) {
	res := healthResponse{Status: "healthy", Service: serviceName, Database: "connected", Version: s.cfg.Version}
	status := http.StatusOK
	if s.deps.Pinger != nil {
		if err := pingWithin(c.Request.Context(), s.deps.Pinger); err != nil { // ready.go
			note(c, errors.Join(errDatabaseDown, err))
			res.Status, res.Database, status = "unhealthy", "disconnected", http.StatusServiceUnavailable
		}
	}
	if s.deps.Redis != nil {
		// Redis down is not unhealthy: the limits fall back to each process's own.
		res.Redis = s.deps.Redis.Status()
	}
	res.Timestamp = float64(time.Now().UnixMicro()) / 1e6
	writeJSON(c, status, res)
}
