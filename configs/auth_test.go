package configs

import (
	"fmt"
	"strings"
	"testing"
)

func TestAuthDefaultsLeaveBearerOffAndNoOrigin(t *testing.T) {
	c, err := load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.BearerEnabled() || len(c.HTTP.AllowedOrigins) != 0 || c.Auth.SupabaseIssuer != "" {
		t.Fatalf("defaults: auth %v, origins %v", c.Auth, c.HTTP.AllowedOrigins)
	}
}

func TestAuthFromEnvironment(t *testing.T) {
	const secret = "super-secret-jwt-token-with-at-least-32-characters-long"
	c, err := load(env(map[string]string{
		"KUPE_SUPABASE_JWKS_URL":   "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
		"KUPE_SUPABASE_JWT_SECRET": " " + secret + " ",
		"KUPE_SUPABASE_ISSUER":     "https://abc.supabase.co/auth/v1",
		"KUPE_ALLOWED_ORIGINS":     "https://App.Example.com/, http://localhost:3000,,",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if !a.BearerEnabled() || a.SupabaseJWTSecret != secret || a.SupabaseIssuer != "https://abc.supabase.co/auth/v1" ||
		a.SupabaseJWKSURL != "https://abc.supabase.co/auth/v1/.well-known/jwks.json" {
		t.Fatalf("auth = %+v", a)
	}
	if got := c.HTTP.AllowedOrigins; len(got) != 2 || got[0] != "https://app.example.com" || got[1] != "http://localhost:3000" {
		t.Fatalf("origins = %q", got)
	}
	// The secret never shows when the configuration is printed.
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%v", a), a.String()} {
		if strings.Contains(out, secret) {
			t.Fatalf("printed configuration holds the secret: %s", out)
		}
	}
	if c, err := load(env(map[string]string{"KUPE_SUPABASE_JWKS_URL": "http://127.0.0.1:9999/jwks.json"})); err != nil || !c.Auth.BearerEnabled() {
		t.Fatalf("a loopback http JWKS URL: %v", err)
	}
}

func TestAuthRefusesBadValues(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"http JWKS off loopback": {"KUPE_SUPABASE_JWKS_URL": "http://abc.supabase.co/jwks.json"},
		"JWKS not a URL":         {"KUPE_SUPABASE_JWKS_URL": "abc.supabase.co"},
		"short secret":           {"KUPE_SUPABASE_JWT_SECRET": "hunter2-short"},
		"issuer not a URL":       {"KUPE_SUPABASE_ISSUER": "supabase"},
		"wildcard origin":        {"KUPE_ALLOWED_ORIGINS": "*"},
		"wildcard subdomain":     {"KUPE_ALLOWED_ORIGINS": "https://*.example.com"},
		"origin with a path":     {"KUPE_ALLOWED_ORIGINS": "https://app.example.com/dashboard"},
		"origin without scheme":  {"KUPE_ALLOWED_ORIGINS": "app.example.com"},
		"origin ftp":             {"KUPE_ALLOWED_ORIGINS": "ftp://app.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := load(env(m))
			if err == nil {
				t.Fatalf("load(%v) succeeded", m)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}
