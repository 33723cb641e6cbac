package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/domain/call"
)

const appJWTSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

func sessionClaims(sub string) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "aud": "authenticated", "role": "authenticated", "email": "dash@example.com",
		"iss": "https://ref.supabase.co/auth/v1", "exp": time.Now().Add(time.Hour).Unix()}
}

// TestBearerAndAPIKeysAsServed runs kupe serve's wiring with Bearer on (the shared secret and a
// JWKS) and one allowed browser origin.
func TestBearerAndAPIKeysAsServed(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ec.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{
			{"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(pub[1:33]), "y": b64(pub[33:])}}})
	}))
	t.Cleanup(jwks.Close)
	r := startApp(t, map[string]string{
		"KUPE_SUPABASE_JWT_SECRET": appJWTSecret,
		"KUPE_SUPABASE_JWKS_URL":   jwks.URL + "/jwks.json",
		"KUPE_SUPABASE_ISSUER":     "https://ref.supabase.co/auth/v1",
		"KUPE_ALLOWED_ORIGINS":     "https://app.example.com",
	}, nil, nil)

	sub := uuid.NewString()
	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, sessionClaims(sub)).SignedString([]byte(appJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	es := jwt.NewWithClaims(jwt.SigningMethodES256, sessionClaims(sub))
	es.Header["kid"] = "k1"
	esTok, err := es.SignedString(ec)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"HS256": hs, "ES256": esTok} {
		a := r.do(http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+tok)
		if a.status != http.StatusOK || a.body["auth"] != "bearer" || a.body["user_id"] != sub || a.body["email"] != "dash@example.com" {
			t.Fatalf("%s on /me: %d %s", name, a.status, a.raw)
		}
	}
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "aud": "authenticated",
		"role": "authenticated", "iss": "https://ref.supabase.co/auth/v1", "exp": time.Now().Add(-time.Hour).Unix()}).SignedString([]byte(appJWTSecret))
	if a := r.do(http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+expired); a.status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d %s", a.status, a.raw)
	}

	// The dashboard issues a key for the session's user; the key works until it is revoked.
	a := r.do(http.MethodPost, "/api/v1/api-keys", "", `{"name":"crm"}`, "Authorization", "Bearer "+hs)
	if a.status != http.StatusOK {
		t.Fatalf("create key: %d %s", a.status, a.raw)
	}
	k := a.body["api_key"].(map[string]any)
	key, id := k["key"].(string), k["id"].(string)
	if a := r.do(http.MethodGet, "/api/v1/me", key, ""); a.status != http.StatusOK || a.body["user_id"] != sub || a.body["auth"] != "api_key" {
		t.Fatalf("the new key on /me: %d %s", a.status, a.raw)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		a := r.do(http.MethodGet, "/api/v1/api-keys/fetch", "", "", "Authorization", "Bearer "+hs)
		var list []map[string]any
		if err := json.Unmarshal([]byte(a.raw), &list); err != nil || len(list) != 1 {
			t.Fatalf("list: %d %s", a.status, a.raw)
		}
		if list[0]["last_used_at"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("last_used_at was never written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a := r.do(http.MethodDelete, "/api/v1/api-keys/"+id, "", "", "Authorization", "Bearer "+esTok); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.raw)
	}
	if a := r.do(http.MethodGet, "/api/v1/me", key, ""); a.status != http.StatusUnauthorized {
		t.Fatalf("revoked key on /me: %d %s", a.status, a.raw)
	}

	// A page on another site may not place calls; the dashboard's preflight is answered.
	c := r.customer(call.ProviderSimulated, "+14155550100", nil)
	if a := r.createCall(c.key, "+14155550123", ""); a.status != http.StatusOK {
		t.Fatalf("create_call without an Origin: %d %s", a.status, a.raw)
	}
	a = r.do(http.MethodPost, "/api/call/create_call?phoneNumber=%2B14155550123", c.key, "", "Origin", "https://evil.example")
	if a.status != http.StatusForbidden || a.body["detail"] != "Origin not allowed" {
		t.Fatalf("create_call from another origin: %d %s", a.status, a.raw)
	}
	a = r.do(http.MethodOptions, "/api/call/create_call", "", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
	if a.status != http.StatusNoContent {
		t.Fatalf("preflight from the dashboard: %d %s", a.status, a.raw)
	}
}

func TestBearerIsOffUnlessConfigured(t *testing.T) {
	r := startApp(t, nil, nil, nil)
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, sessionClaims(uuid.NewString())).SignedString([]byte(appJWTSecret))
	a := r.do(http.MethodGet, "/api/v1/me", "", "", "Authorization", "Bearer "+tok)
	if a.status != http.StatusUnauthorized || a.body["detail"] != "Invalid or missing API key" {
		t.Fatalf("Bearer with nothing configured: %d %s", a.status, a.raw)
	}
}
