package configs

import (
	"net"
	"net/url"
	"strings"
)

// AuthConfig says which Supabase Auth session tokens (Authorization: Bearer) are accepted:
// HS256 ones signed with the legacy shared secret, ES256 and RS256 ones signed with a key of the
// project's JWKS. Bearer is off when neither is set.
type AuthConfig struct {
	SupabaseJWKSURL string `yaml:"supabase_jwks_url"`
	// SupabaseJWTSecret comes from the environment only: a secret has no default.
	SupabaseJWTSecret string `yaml:"-"`
	// SupabaseIssuer, when set, must be each token's iss (https://<ref>.supabase.co/auth/v1).
	SupabaseIssuer string `yaml:"supabase_issuer"`
}

// minJWTSecretLen refuses a shared secret short enough to guess; Supabase's are longer.
const minJWTSecretLen = 32

// BearerEnabled reports whether session tokens are accepted at all.
func (a AuthConfig) BearerEnabled() bool { return a.SupabaseJWTSecret != "" || a.SupabaseJWKSURL != "" }

// String keeps the secret out of any printed configuration.
func (a AuthConfig) String() string {
	secret := "unset"
	if a.SupabaseJWTSecret != "" {
		secret = "[redacted]"
	}
	return "{SupabaseJWKSURL:" + a.SupabaseJWKSURL + " SupabaseJWTSecret:" + secret + " SupabaseIssuer:" + a.SupabaseIssuer + "}"
}

// loadAuth reads the Supabase and browser-origin variables into c and returns what is wrong
// with them.
func loadAuth(lookup func(string) (string, bool), c *Config) []string {
	var errs []string
	if v, ok := lookup("KUPE_SUPABASE_JWKS_URL"); ok {
		c.Auth.SupabaseJWKSURL = strings.TrimSpace(v)
	}
	if v, ok := lookup("KUPE_SUPABASE_JWT_SECRET"); ok {
		c.Auth.SupabaseJWTSecret = strings.TrimSpace(v)
	}
	if v, ok := lookup("KUPE_SUPABASE_ISSUER"); ok {
		c.Auth.SupabaseIssuer = strings.TrimSpace(v)
	}
	if u := c.Auth.SupabaseJWKSURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || !(p.Scheme == "https" || p.Scheme == "http" && loopback(p.Hostname())) {
			errs = append(errs, "KUPE_SUPABASE_JWKS_URL: want an https URL (http only on localhost)")
		}
	}
	if s := c.Auth.SupabaseJWTSecret; s != "" && len(s) < minJWTSecretLen {
		// The value is not repeated: it is a secret.
		errs = append(errs, "KUPE_SUPABASE_JWT_SECRET: too short; want the project's JWT secret (at least 32 characters)")
	}
	if u := c.Auth.SupabaseIssuer; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, "KUPE_SUPABASE_ISSUER: want the issuer URL, such as https://<ref>.supabase.co/auth/v1")
		}
	}

	if v, ok := lookup("KUPE_ALLOWED_ORIGINS"); ok {
		c.HTTP.AllowedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.HTTP.AllowedOrigins = append(c.HTTP.AllowedOrigins, o)
			}
		}
	}
	for i, o := range c.HTTP.AllowedOrigins {
		norm, ok := origin(o)
		if !ok {
			errs = append(errs, "KUPE_ALLOWED_ORIGINS: "+quoteShort(o)+" is not an origin; want scheme://host[:port] such as https://app.example.com, comma-separated")
			continue
		}
		c.HTTP.AllowedOrigins[i] = norm
	}
	return errs
}

// origin checks a browser origin, scheme://host[:port], and returns it as browsers send it.
func origin(s string) (string, bool) {
	p, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil ||
		p.Path != "" || p.RawQuery != "" || p.Fragment != "" || strings.Contains(p.Host, "*") {
		return "", false
	}
	return strings.ToLower(p.Scheme + "://" + p.Host), true
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + s + "\""
}
