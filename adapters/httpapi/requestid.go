package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// headerRequestID carries the request id both ways: a caller's own id (from a proxy or a load
// balancer) is kept when it is short and plain, else one is made.
const headerRequestID = "X-Request-Id"

const maxInboundRequestID = 64

var (
	// requestIDPrefix tells apart the ids of two processes; the counter those of one process. It
	// is cheaper than a random UUID per request and as good for finding a request in the logs.
	requestIDPrefix = func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:]) + "-"
	}()
	requestCounter atomic.Uint64
)

func requestIDFor(r *http.Request) string {
	if v := r.Header[headerRequestID]; len(v) > 0 && plainID(v[0]) {
		return v[0]
	}
	var b [32]byte
	out := append(b[:0], requestIDPrefix...)
	out = strconv.AppendUint(out, requestCounter.Add(1), 36)
	return string(out)
}

// plainID accepts ids that cannot forge a log line or smuggle anything into a header.
func plainID(s string) bool {
	if s == "" || len(s) > maxInboundRequestID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
