package supabaseauth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/supabaseauth"
	"github.com/kupe-voice/kupe/application/accounts"
	"github.com/kupe-voice/kupe/domain/fault"
)

var ctx = context.Background()

func newVerifier(t testing.TB, cfg supabaseauth.Config) *supabaseauth.Verifier {
	t.Helper()
	v, err := supabaseauth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantRefused(t *testing.T, v *supabaseauth.Verifier, token string) {
	t.Helper()
	c, err := v.Verify(ctx, token)
	if err == nil {
		t.Fatalf("token accepted as %+v", c)
	}
	if !errors.Is(err, accounts.ErrInvalidSession) || !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("Verify = %v, want ErrInvalidSession and ErrUnauthenticated", err)
	}
}

// with returns a copy of c with the changes; a nil value deletes the claim.
func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestVerifyAcceptsEachKind(t *testing.T) {
	es, rs := newES256(t, "es-1"), newRS256(t, "rs-1", 0)
	jwks := newJWKSServer(t, es, rs)
	v := newVerifier(t, supabaseauth.Config{JWTSecret: testSecret, JWKSURL: jwks.url(), Issuer: testIssuer})
	sub := uuid.NewString()
	for name, tok := range map[string]string{
		"HS256": signHS256(t, claims(sub), []byte(testSecret)),
		"ES256": es.sign(t, claims(sub)),
		"RS256": rs.sign(t, claims(sub)),
		// Supabase may send the audience as a list.
		"aud list":          signHS256(t, with(claims(sub), map[string]any{"aud": []string{"authenticated", "other"}}), []byte(testSecret)),
		"expired in leeway": signHS256(t, with(claims(sub), map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()}), []byte(testSecret)),
		"nbf in leeway":     signHS256(t, with(claims(sub), map[string]any{"nbf": time.Now().Add(10 * time.Second).Unix()}), []byte(testSecret)),
		"upper-case sub":    signHS256(t, with(claims(strings.ToUpper(sub)), nil), []byte(testSecret)),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != sub || c.Email != "jo@example.com" {
				t.Fatalf("claims = %+v, want sub %s", c, sub)
			}
		})
	}
	if n := jwks.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1 (cached)", n)
	}
}

func TestVerifyRefuses(t *testing.T) {
	es, rs := newES256(t, "es-1"), newRS256(t, "rs-1", 0)
	jwks := newJWKSServer(t, es, rs)
	v := newVerifier(t, supabaseauth.Config{JWTSecret: testSecret, JWKSURL: jwks.url(), Issuer: testIssuer})
	secret := []byte(testSecret)
	sub := uuid.NewString()
	good := claims(sub)
	hs := func(changes map[string]any) string { return signHS256(t, with(good, changes), secret) }
	now := time.Now()

	pubDER, err := x509.MarshalPKIXPublicKey(&rs.priv.(*rsa.PrivateKey).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwkJSON, _ := json.Marshal(rs.jwk)

	hsWithKid := func(key []byte, kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// A token signed by the EC key but naming RS256, and one naming the EC key's kid with RS256.
	rsUnderESKid := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, good)
		tok.Header["kid"] = es.kid
		s, _ := tok.SignedString(rs.priv)
		return s
	}()
	tampered := func() string {
		parts := strings.Split(es.sign(t, good), ".")
		payload, _ := json.Marshal(with(good, map[string]any{"sub": uuid.NewString()}))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}()
	other := newES256(t, "es-1") // same kid, another key: a forged signature
	unknownKid := newES256(t, "nobody")

	for name, tok := range map[string]string{
		"expired":                     hs(map[string]any{"exp": now.Add(-time.Hour).Unix()}),
		"expired past leeway":         hs(map[string]any{"exp": now.Add(-45 * time.Second).Unix()}),
		"no exp":                      hs(map[string]any{"exp": nil}),
		"not yet valid":               hs(map[string]any{"nbf": now.Add(time.Hour).Unix()}),
		"wrong audience":              hs(map[string]any{"aud": "anon"}),
		"no audience":                 hs(map[string]any{"aud": nil}),
		"wrong issuer":                hs(map[string]any{"iss": "https://evil.supabase.co/auth/v1"}),
		"no issuer":                   hs(map[string]any{"iss": nil}),
		"role service_role":           hs(map[string]any{"role": "service_role"}),
		"role anon":                   hs(map[string]any{"role": "anon"}),
		"no role":                     hs(map[string]any{"role": nil}),
		"sub not a UUID":              hs(map[string]any{"sub": "user-42"}),
		"sub UUID without dashes":     hs(map[string]any{"sub": strings.ReplaceAll(sub, "-", "")}),
		"no sub":                      hs(map[string]any{"sub": nil}),
		"alg none":                    none,
		"alg none, signature dropped": strings.TrimSuffix(none, ".") + ".",
		"HS256 keyed with the PEM":    hsWithKid(pubPEM, rs.kid),
		"HS256 keyed with the DER":    hsWithKid(pubDER, rs.kid),
		"HS256 keyed with the JWK":    hsWithKid(jwkJSON, rs.kid),
		"HS256 with another secret":   signHS256(t, good, []byte(strings.Repeat("x", 40))),
		"RS256 under an EC kid":       rsUnderESKid,
		"tampered payload":            tampered,
		"forged under a known kid":    other.sign(t, good),
		"unknown kid":                 unknownKid.sign(t, good),
		"no kid":                      func() string { s, _ := jwt.NewWithClaims(jwt.SigningMethodES256, good).SignedString(es.priv); return s }(),
		"HS384":                       func() string { s, _ := jwt.NewWithClaims(jwt.SigningMethodHS384, good).SignedString(secret); return s }(),
		"empty":                       "",
		"garbage":                     "not-a-jwt",
		"two segments":                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0",
		"too long":                    hs(map[string]any{"pad": strings.Repeat("a", 20<<10)}),
		"signature of another token":  strings.Join(append(strings.Split(hs(nil), ".")[:2], strings.Split(hs(map[string]any{"email": "x@example.com"}), ".")[2]), "."),
	} {
		t.Run(name, func(t *testing.T) { wantRefused(t, v, tok) })
	}
}

func TestVerifyPinsAlgorithmsToWhatIsConfigured(t *testing.T) {
	es := newES256(t, "es-1")
	jwks := newJWKSServer(t, es)
	sub := uuid.NewString()
	t.Run("no secret: HS256 refused", func(t *testing.T) {
		v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url()})
		wantRefused(t, v, signHS256(t, claims(sub), []byte(testSecret)))
		if _, err := v.Verify(ctx, es.sign(t, claims(sub))); err != nil {
			t.Fatalf("ES256 with the JWKS: %v", err)
		}
	})
	t.Run("no JWKS: ES256 refused", func(t *testing.T) {
		v := newVerifier(t, supabaseauth.Config{JWTSecret: testSecret})
		wantRefused(t, v, es.sign(t, claims(sub)))
		// Without an issuer configured, iss is not checked.
		if _, err := v.Verify(ctx, signHS256(t, with(claims(sub), map[string]any{"iss": "anything"}), []byte(testSecret))); err != nil {
			t.Fatalf("HS256 with the secret: %v", err)
		}
	})
	t.Run("nothing configured", func(t *testing.T) {
		if _, err := supabaseauth.New(supabaseauth.Config{}, nil); err == nil {
			t.Fatal("New without a secret or a JWKS URL succeeded")
		}
	})
}
