package supabaseauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// maxJWKSBytes bounds the key set document: Supabase's holds a handful of keys.
const maxJWKSBytes = 1 << 20

// minRSABits refuses RSA keys too short to trust.
const minRSABits = 2048

var errUnknownKey = errors.New("no key with this kid in the key set")

// publicKey is one verification key of the set: an *ecdsa.PublicKey on P-256 (ES256) or an
// *rsa.PublicKey (RS256). alg is the algorithm the key type allows; a token naming any other
// is refused, whatever the JWK's own "alg" says.
type publicKey struct {
	alg string
	key any
}

// keySet is the JWKS, cached. A kid it does not know makes it fetch the set again, at most once
// per refetchEvery; a set older than maxAge is refreshed in the background while the cached keys
// keep serving. One fetch runs at a time, on its own deadline, and a request waits for it at
// most fetchTimeout (and never past its own context).
type keySet struct {
	url          string
	client       *http.Client
	fetchTimeout time.Duration
	refetchEvery time.Duration
	maxAge       time.Duration
	log          *zap.Logger

	keys atomic.Pointer[keysAt]

	mu          sync.Mutex
	lastAttempt time.Time
	fetching    chan struct{} // closed when the fetch in flight ends; nil when none is
}

type keysAt struct {
	byKID  map[string]publicKey
	loaded time.Time
}

// get returns the key named kid.
func (s *keySet) get(ctx context.Context, kid string) (publicKey, error) {
	if cur := s.keys.Load(); cur != nil {
		if k, ok := cur.byKID[kid]; ok {
			if time.Since(cur.loaded) > s.maxAge {
				s.fetch()
			}
			return k, nil
		}
	}
	done := s.fetch()
	if done == nil {
		return publicKey{}, errUnknownKey
	}
	wait := time.NewTimer(s.fetchTimeout)
	defer wait.Stop()
	select {
	case <-done:
	case <-wait.C:
		return publicKey{}, errUnknownKey
	case <-ctx.Done():
		return publicKey{}, ctx.Err()
	}
	if cur := s.keys.Load(); cur != nil {
		if k, ok := cur.byKID[kid]; ok {
			return k, nil
		}
	}
	return publicKey{}, errUnknownKey
}

// fetch starts a fetch of the set unless one is in flight, and returns a channel closed when
// the fetch ends. Fetches start at most once per refetchEvery, so neither unknown kids nor a
// JWKS endpoint that is down make it hammer the endpoint; nil means none may start now and none
// is in flight.
func (s *keySet) fetch() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetching != nil {
		return s.fetching
	}
	now := time.Now()
	if !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.refetchEvery {
		return nil
	}
	s.lastAttempt = now
	done := make(chan struct{})
	s.fetching = done
	go func() {
		err := s.load()
		if err != nil {
			// The URL names a public document; no secret is in it or in the error.
			s.log.Warn("could not fetch the Supabase JWKS", zap.String("url", s.url), zap.Error(err))
		}
		s.mu.Lock()
		s.fetching = nil
		s.mu.Unlock()
		close(done)
	}()
	return done
}

// load fetches and parses the set, and replaces the cached keys with it.
func (s *keySet) load() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("JWKS answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBytes {
		return errors.New("JWKS document too large")
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return err
	}
	if skipped > 0 {
		s.log.Warn("skipped JWKS keys this service cannot use", zap.Int("skipped", skipped), zap.Int("kept", len(keys)))
	}
	s.keys.Store(&keysAt{byKID: keys, loaded: time.Now()})
	return nil
}

// jwk is the part of a JSON Web Key (RFC 7517, 7518) that verification needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS reads a key set. Keys this service cannot verify with (another curve or key type,
// an encryption key, no kid, a short RSA modulus) are skipped and counted; a document that is
// not a key set is an error.
func parseJWKS(b []byte) (map[string]publicKey, int, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, 0, errors.New("JWKS is not a JSON key set")
	}
	if doc.Keys == nil {
		return nil, 0, errors.New(`JWKS has no "keys"`)
	}
	out := make(map[string]publicKey, len(doc.Keys))
	skipped := 0
	for _, raw := range doc.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil {
			skipped++
			continue
		}
		pk, err := k.publicKey()
		if err != nil || k.Kid == "" {
			skipped++
			continue
		}
		out[k.Kid] = pk
	}
	return out, skipped, nil
}

func (k jwk) publicKey() (publicKey, error) {
	if k.Use != "" && k.Use != "sig" {
		return publicKey{}, errors.New("not a signing key")
	}
	switch k.Kty {
	case "EC":
		if k.Crv != "P-256" || (k.Alg != "" && k.Alg != "ES256") {
			return publicKey{}, errors.New("EC key other than P-256/ES256")
		}
		x, err1 := fixedB64(k.X, 32)
		y, err2 := fixedB64(k.Y, 32)
		if err1 != nil || err2 != nil {
			return publicKey{}, errors.New("EC key coordinates malformed")
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{alg: "ES256", key: pub}, nil
	case "RSA":
		if k.Alg != "" && k.Alg != "RS256" {
			return publicKey{}, errors.New("RSA key for another algorithm")
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return publicKey{}, errors.New("RSA key malformed")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
			return publicKey{}, errors.New("RSA key too weak")
		}
		return publicKey{alg: "RS256", key: pub}, nil
	}
	return publicKey{}, errors.New("unsupported key type")
}

func fixedB64(s string, n int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, errors.New("bad length")
	}
	return b, nil
}
