package configs

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ObservabilityConfig drives the access log's sampling and the pprof listener (adapters/metrics).
type ObservabilityConfig struct {
	// PprofAddr is the loopback host:port pprof listens on; empty turns pprof off.
	PprofAddr string `yaml:"pprof_addr"`
	// AccessLogPerSecond is how many access-log lines a second are written in full; the rest are
	// counted. Server errors are always written. 0 writes only server errors; -1 writes all.
	AccessLogPerSecond int `yaml:"access_log_per_second"`
	// MetricsToken, when set, is the bearer token GET /metrics asks for; empty leaves /metrics
	// open, for a port that only the scraper reaches. It comes from the environment only.
	MetricsToken string `yaml:"-"`
}

// String keeps the metrics token out of any printed configuration.
func (o ObservabilityConfig) String() string {
	token := "unset"
	if o.MetricsToken != "" {
		token = "[redacted]"
	}
	return fmt.Sprintf("{PprofAddr:%s AccessLogPerSecond:%d MetricsToken:%s}", o.PprofAddr, o.AccessLogPerSecond, token)
}

// minMetricsTokenLen refuses a token short enough to guess.
const minMetricsTokenLen = 16

// maxAccessLogPerSecond bounds the setting to something a log pipeline could take.
const maxAccessLogPerSecond = 1_000_000

// loadObservability reads KUPE_PPROF_ADDR, KUPE_ACCESS_LOG_PER_SECOND and KUPE_METRICS_TOKEN
// into c and returns what is wrong.
func loadObservability(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	if v, ok := lookup("KUPE_PPROF_ADDR"); ok {
		c.Observability.PprofAddr = strings.TrimSpace(v)
	}
	if v, ok := lookup("KUPE_ACCESS_LOG_PER_SECOND"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < -1 || n > maxAccessLogPerSecond {
			errs = append(errs, fmt.Sprintf("KUPE_ACCESS_LOG_PER_SECOND: want a whole number from 0 to %d, or -1 for every line",
				maxAccessLogPerSecond))
		} else {
			c.Observability.AccessLogPerSecond = n
		}
	}
	if v, ok := lookup("KUPE_METRICS_TOKEN"); ok {
		v = strings.TrimSpace(v)
		switch {
		case v != "" && len(v) < minMetricsTokenLen:
			// The value is not repeated: it is a secret.
			errs = append(errs, fmt.Sprintf("KUPE_METRICS_TOKEN: too short; want at least %d characters, or empty for an open /metrics", minMetricsTokenLen))
		case strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }):
			errs = append(errs, "KUPE_METRICS_TOKEN: want printable ASCII without spaces")
		default:
			c.Observability.MetricsToken = v
		}
	}
	if a := c.Observability.PprofAddr; a != "" && !loopbackAddr(a) {
		// The profiles show memory and the command line: never for the network.
		errs = append(errs, "KUPE_PPROF_ADDR: want a loopback host:port such as 127.0.0.1:6060, or empty for off")
	}
	return errs
}

func loopbackAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
