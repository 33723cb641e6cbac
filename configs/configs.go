// Package configs loads the service's configuration once: the defaults in config.yaml, each
// overridden by its KUPE_* environment variable, validated, and handed out as small typed structs.
package configs

import (
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kupe-voice/kupe/domain/money"
)

//go:embed config.yaml
var defaults []byte

// Config is the whole configuration.
type Config struct {
	Env      string         `yaml:"env"`
	LogLevel string         `yaml:"log_level"`
	HTTP     HTTPConfig     `yaml:"http"`
	Database DBConfig       `yaml:"database"`
	Public   string         `yaml:"public_base_url"`
	Media    string         `yaml:"media_stream_url"`
	Carriers CarriersConfig `yaml:"carriers"`
	Demo     DemoConfig     `yaml:"demo"`
	Auth     AuthConfig     `yaml:"auth"`
	Billing  BillingConfig  `yaml:"billing"`
	Limits   LimitsConfig   `yaml:"limits"`
	Jobs     JobsConfig     `yaml:"jobs"`
	Secrets  SecretsConfig  `yaml:"-"`

	// Reconcile settles sessions left in dialing (faults.go).
	Reconcile ReconcileConfig `yaml:"reconcile"`
	// Observability is the access log's sampling and pprof (observability.go).
	Observability ObservabilityConfig `yaml:"observability"`
	// Webhooks drives agent webhook deliveries (webhooks.go).
	Webhooks WebhooksConfig `yaml:"webhooks"`
}

// HTTPConfig is the API server's.
type HTTPConfig struct {
	Addr            string        `yaml:"addr"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// AllowedOrigins are the browser origins CORS answers and create_call accepts, each
	// scheme://host[:port] in lower case; empty allows no browser origin.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// DrainDelay is how long, once shutdown begins, /ready fails before the server stops taking
	// connections, so that load balancers stop sending traffic first (faults.go).
	DrainDelay time.Duration `yaml:"drain_delay"`
}

// DBConfig says which database to use.
type DBConfig struct {
	URL               string `yaml:"url"`
	DefaultSQLitePath string `yaml:"default_sqlite_path"`
	// Timeout bounds each statement and transaction (faults.go).
	Timeout time.Duration `yaml:"timeout"`
}

// CarriersConfig is shared by the carrier adapters.
type CarriersConfig struct {
	Timeout           time.Duration `yaml:"timeout"`
	TwilioAPIBaseURL  string        `yaml:"twilio_api_base_url"`
	ExotelAPIBaseURL  string        `yaml:"exotel_api_base_url"`
	ElisonAPIBaseURL  string        `yaml:"elison_api_base_url"`
	PublicBaseURL     string        `yaml:"-"`
	MediaStreamURLTpl string        `yaml:"-"`
	// The circuit breaker in front of each carrier account (faults.go).
	BreakerFailures int           `yaml:"breaker_failures"`
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`

	// Simulated is the simulated carrier's (simulated.go).
	Simulated SimulatedConfig `yaml:"simulated"`
}

// DemoConfig shapes the first-run demo account.
type DemoConfig struct {
	Credits string `yaml:"credits"`
}

// Load reads the defaults and the environment.
func Load() (Config, error) { return load(os.LookupEnv) }

func load(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(defaults, &c); err != nil {
		return Config{}, fmt.Errorf("configs: embedded defaults: %w", err)
	}
	var errs []string
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v, ok := lookup(name); ok {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Sprintf("%s: want a positive duration such as 10s", name))
				return
			}
			*dst = d
		}
	}
	str("KUPE_ENV", &c.Env)
	str("KUPE_LOG_LEVEL", &c.LogLevel)
	str("KUPE_HTTP_ADDR", &c.HTTP.Addr)
	if v, ok := lookup("KUPE_HTTP_MAX_BODY_BYTES"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, "KUPE_HTTP_MAX_BODY_BYTES: want a whole number of bytes, at least 1024")
		}
		c.HTTP.MaxBodyBytes = n
	}
	dur("KUPE_HTTP_SHUTDOWN_TIMEOUT", &c.HTTP.ShutdownTimeout)
	str("KUPE_DATABASE_URL", &c.Database.URL)
	str("KUPE_DATABASE_DEFAULT_SQLITE_PATH", &c.Database.DefaultSQLitePath)
	str("KUPE_PUBLIC_BASE_URL", &c.Public)
	str("KUPE_MEDIA_STREAM_URL", &c.Media)
	dur("KUPE_CARRIER_TIMEOUT", &c.Carriers.Timeout)
	str("KUPE_TWILIO_API_BASE_URL", &c.Carriers.TwilioAPIBaseURL)
	str("KUPE_EXOTEL_API_BASE_URL", &c.Carriers.ExotelAPIBaseURL)
	str("KUPE_ELISON_API_BASE_URL", &c.Carriers.ElisonAPIBaseURL)
	str("KUPE_DEMO_CREDITS", &c.Demo.Credits)
	errs = append(errs, loadAuth(lookup, &c)...)
	errs = append(errs, loadBilling(lookup, &c)...)
	errs = append(errs, loadLimits(lookup, &c)...)
	errs = append(errs, loadSecrets(lookup, &c)...)
	errs = append(errs, loadFaults(lookup, &c)...)
	errs = append(errs, loadObservability(lookup, &c)...)
	errs = append(errs, loadWebhooks(lookup, &c)...)
	errs = append(errs, loadJobs(lookup, &c)...)
	errs = append(errs, loadSimulated(lookup, &c)...)

	switch c.Env {
	case "development", "production":
	default:
		errs = append(errs, "KUPE_ENV: want development or production")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, "KUPE_LOG_LEVEL: want debug, info, warn or error")
	}
	if c.HTTP.Addr == "" {
		errs = append(errs, "KUPE_HTTP_ADDR: must not be empty")
	}
	if _, err := c.Database.DSN(); err != nil {
		errs = append(errs, "KUPE_DATABASE_URL: "+err.Error())
	}
	for name, u := range map[string]string{"KUPE_PUBLIC_BASE_URL": c.Public, "KUPE_TWILIO_API_BASE_URL": c.Carriers.TwilioAPIBaseURL,
		"KUPE_EXOTEL_API_BASE_URL": c.Carriers.ExotelAPIBaseURL, "KUPE_ELISON_API_BASE_URL": c.Carriers.ElisonAPIBaseURL} {
		if u == "" && name != "KUPE_PUBLIC_BASE_URL" && name != "KUPE_TWILIO_API_BASE_URL" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, name+": want an http(s) URL")
		}
	}
	if p, err := url.Parse(strings.NewReplacer("{request_id}", "r", "{call_session_id}", "s").Replace(c.Media)); err != nil ||
		(p.Scheme != "ws" && p.Scheme != "wss") || p.Host == "" {
		errs = append(errs, "KUPE_MEDIA_STREAM_URL: want a ws(s) URL template")
	}
	if _, err := money.ParseAmount(c.Demo.Credits); err != nil {
		errs = append(errs, "KUPE_DEMO_CREDITS: "+err.Error())
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	c.Public = strings.TrimRight(c.Public, "/")
	c.Carriers.PublicBaseURL = c.Public
	c.Carriers.MediaStreamURLTpl = c.Media
	return c, nil
}

// DSN is the database address in the form entstore.Open takes: "file:PATH" or a PostgreSQL URL.
func (d DBConfig) DSN() (string, error) {
	u := d.URL
	switch {
	case u == "":
		return "file:" + filepath.Clean(d.DefaultSQLitePath), nil
	case strings.HasPrefix(u, "file:"):
		if strings.TrimPrefix(u, "file:") == "" {
			return "", fmt.Errorf("file: needs a path")
		}
		return u, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return u, nil
	}
	return "", fmt.Errorf("want empty (embedded SQLite), file:PATH or postgres://...")
}

// Embedded reports whether the database is SQLite (the embedded default or a file: URL).
func (d DBConfig) Embedded() bool { return d.URL == "" || strings.HasPrefix(d.URL, "file:") }

// Redacted is the database URL without its password, for logs.
func (d DBConfig) Redacted() string {
	dsn, _ := d.DSN()
	if p, err := url.Parse(dsn); err == nil && p.User != nil {
		if _, has := p.User.Password(); has {
			p.User = url.UserPassword(p.User.Username(), "xxxxx")
		}
		return p.String()
	}
	return dsn
}

// MediaStreamURL fills the media-stream template for one call.
func (c CarriersConfig) MediaStreamURL(requestID, sessionID string) string {
	return strings.NewReplacer("{request_id}", url.PathEscape(requestID), "{call_session_id}", url.PathEscape(sessionID)).Replace(c.MediaStreamURLTpl)
}

// DemoCredits is the first-run demo user's balance.
func (d DemoConfig) DemoCredits() money.Amount {
	a, _ := money.ParseAmount(d.Credits)
	return a
}
