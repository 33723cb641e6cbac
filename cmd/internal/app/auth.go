package app

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/kupe-voice/kupe/adapters/httpapi"
	"github.com/kupe-voice/kupe/adapters/supabaseauth"
	"github.com/kupe-voice/kupe/application"
	"github.com/kupe-voice/kupe/configs"
)

// NewAuthenticator authenticates API keys and records their use in the background; the app
// waits for those writes before the store closes (this hook stops before the store's).
func NewAuthenticator(lc fx.Lifecycle, keys application.APIKeyStore, usage application.KeyUsageStore, log *zap.Logger) *application.Authenticator {
	a := &application.Authenticator{Keys: keys, Usage: usage, OnUsageError: func(keyID string, err error) {
		log.Warn("could not record an API key's use", zap.String("api_key_id", keyID), zap.Error(err))
	}}
	lc.Append(fx.StopHook(a.Wait))
	return a
}

// NewCredentials are the ways to authenticate beside x-api-key: a Supabase session token
// (Bearer) when a JWT secret or a JWKS URL is configured, else none.
func NewCredentials(c configs.AuthConfig, users *application.SessionUsers, log *zap.Logger) ([]httpapi.Credential, error) {
	if !c.BearerEnabled() {
		log.Info("Bearer session tokens are off: set KUPE_SUPABASE_JWKS_URL or KUPE_SUPABASE_JWT_SECRET to accept them")
		return nil, nil
	}
	v, err := supabaseauth.New(supabaseauth.Config{
		JWTSecret: c.SupabaseJWTSecret, JWKSURL: c.SupabaseJWKSURL, Issuer: c.SupabaseIssuer,
	}, log.Named("supabaseauth"))
	if err != nil {
		return nil, err
	}
	log.Info("Bearer session tokens are on", zap.Bool("jwks", c.SupabaseJWKSURL != ""),
		zap.Bool("shared_secret", c.SupabaseJWTSecret != ""), zap.Bool("issuer_checked", c.SupabaseIssuer != ""))
	return []httpapi.Credential{v.Credential(users)}, nil
}
