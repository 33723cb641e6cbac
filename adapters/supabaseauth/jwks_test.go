package supabaseauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kupe-voice/kupe/adapters/supabaseauth"
)

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeyRotationRefetchesOnANewKid(t *testing.T) {
	old, next := newES256(t, "2026-01"), newRS256(t, "2026-02", 1)
	jwks := newJWKSServer(t, old)
	v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url(), RefetchEvery: time.Millisecond})
	sub := uuid.NewString()
	if _, err := v.Verify(ctx, old.sign(t, claims(sub))); err != nil {
		t.Fatalf("old key: %v", err)
	}
	jwks.set(next) // Supabase rotates: the old key leaves the set, a new kid signs
	time.Sleep(2 * time.Millisecond)
	if _, err := v.Verify(ctx, next.sign(t, claims(sub))); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if n := jwks.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2: the first, and one for the new kid", n)
	}
	// The old key is gone from the set: a token it signs is refused once the set is refetched.
	time.Sleep(2 * time.Millisecond)
	wantRefused(t, v, newES256(t, "2026-03").sign(t, claims(sub)))
	if _, err := v.Verify(ctx, old.sign(t, claims(sub))); err == nil {
		t.Fatal("a key that left the set still verifies after a refetch")
	}
}

func TestUnknownKidsRefetchAtMostOncePerInterval(t *testing.T) {
	k := newES256(t, "k1")
	jwks := newJWKSServer(t, k)
	v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url()}) // the default 30 s
	sub := uuid.NewString()
	if _, err := v.Verify(ctx, k.sign(t, claims(sub))); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 20 {
		wantRefused(t, v, newES256(t, "forged-"+uuid.NewString()[:i+1]).sign(t, claims(sub)))
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("20 unknown kids took %v: they waited on fetches", took)
	}
	if n := jwks.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1: unknown kids within the interval fetch nothing", n)
	}
}

func TestSlowJWKSDoesNotHoldRequests(t *testing.T) {
	k := newES256(t, "k1")
	jwks := newJWKSServer(t, k)
	release := make(chan struct{})
	jwks.mu.Lock()
	jwks.delay = release
	jwks.mu.Unlock()
	t.Cleanup(func() { close(release) }) // runs before the server's Close

	v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url(), FetchTimeout: 150 * time.Millisecond, RefetchEvery: time.Millisecond})
	start := time.Now()
	wantRefused(t, v, k.sign(t, claims(uuid.NewString())))
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a request waited %v on a stuck JWKS", took)
	}
	// The fetch gives up on its own deadline: the next one finds the server answering.
	jwks.mu.Lock()
	jwks.delay = nil
	jwks.mu.Unlock()
	waitFor(t, "the stuck fetch to end", func() bool {
		_, err := v.Verify(ctx, k.sign(t, claims(uuid.NewString())))
		return err == nil
	})
}

func TestJWKSOutageKeepsCachedKeys(t *testing.T) {
	k := newES256(t, "k1")
	jwks := newJWKSServer(t, k)
	v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url(), MaxKeyAge: time.Millisecond, RefetchEvery: time.Millisecond})
	sub := uuid.NewString()
	if _, err := v.Verify(ctx, k.sign(t, claims(sub))); err != nil {
		t.Fatal(err)
	}
	jwks.setStatus(http.StatusServiceUnavailable)
	time.Sleep(5 * time.Millisecond)
	for range 3 {
		if _, err := v.Verify(ctx, k.sign(t, claims(sub))); err != nil {
			t.Fatalf("cached key during an outage: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "a background refresh", func() bool { return jwks.fetches.Load() >= 2 })
}

func TestJWKSSkipsKeysItCannotUse(t *testing.T) {
	good := newES256(t, "good")
	weird := []map[string]string{
		{"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
		{"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))},
		{"kty": "RSA", "kid": "short", "n": b64([]byte{0xC3, 0x01}), "e": "AQAB"},
		{"kty": "oct", "kid": "sym", "k": b64([]byte(testSecret))},
		{"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc", "x": good.jwk["x"], "y": good.jwk["y"]},
		{"kty": "EC", "crv": "P-256", "x": good.jwk["x"], "y": good.jwk["y"]}, // no kid
	}
	jwks := newJWKSServer(t, good)
	jwks.mu.Lock()
	jwks.keys = append(jwks.keys, weird...)
	jwks.mu.Unlock()
	v := newVerifier(t, supabaseauth.Config{JWKSURL: jwks.url()})
	if _, err := v.Verify(ctx, good.sign(t, claims(uuid.NewString()))); err != nil {
		t.Fatalf("the usable key beside unusable ones: %v", err)
	}
}
