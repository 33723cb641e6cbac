package supabaseauth_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/supabaseauth"
)

// BenchmarkVerify is the cost of checking one session token, keys cached.
func BenchmarkVerify(b *testing.B) {
	es, rs := newES256(b, "es-1"), newRS256(b, "rs-1", 0)
	jwks := newJWKSServer(b, es, rs)
	v := newVerifier(b, supabaseauth.Config{JWTSecret: testSecret, JWKSURL: jwks.url(), Issuer: testIssuer})
	sub := uuid.NewString()
	for _, bc := range []struct{ name, token string }{
		{"HS256", signHS256(b, claims(sub), []byte(testSecret))},
		{"ES256", es.sign(b, claims(sub))},
		{"RS256", rs.sign(b, claims(sub))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := v.Verify(ctx, bc.token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for range b.N {
				if _, err := v.Verify(ctx, bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
