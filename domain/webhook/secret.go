package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SecretPrefix starts every signing secret, as the Standard Webhooks libraries expect.
const SecretPrefix = "whsec_"

// Secret key sizes: the Standard Webhooks specification asks for 24 to 64 random bytes; we make
// 32 (the size of an HMAC-SHA256 block's worth of entropy that RFC 2104 recommends) and accept
// 24 to 32, the range secrets from other Standard Webhooks senders come in.
const (
	SecretBytes    = 32
	MinSecretBytes = 24
	MaxSecretBytes = 32
)

// ErrMalformedSecret is a string that is not whsec_ followed by the standard base64 of 24 to 32 bytes.
var ErrMalformedSecret = errors.New("malformed webhook secret: want whsec_ and the base64 of 24 to 32 bytes")

// Signature errors of the start-call webhook; both are a 401.
var (
	ErrSignatureMissing  = errors.New("missing X-Webhook-Signature: want sha256=<hex HMAC-SHA256 of the body>")
	ErrSignatureMismatch = errors.New("invalid webhook signature")
)

// Secret is an agent's signing secret. One secret signs both directions: the Standard Webhooks
// signature of outgoing deliveries is keyed with its decoded bytes (Key), and the start-call
// signature with the whole string as shown (as `openssl dgst -sha256 -hmac "$SECRET"` does).
// It prints redacted; Reveal gives the value, for the one answer that shows it.
type Secret struct{ s string }

// GenerateSecret makes a new secret from crypto/rand.
func GenerateSecret() (Secret, error) { return NewSecret(rand.Reader) }

// NewSecret makes a secret from SecretBytes bytes read from r (crypto/rand.Reader outside tests).
func NewSecret(r io.Reader) (Secret, error) {
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return Secret{}, fmt.Errorf("generate webhook secret: %w", err)
	}
	return Secret{s: SecretPrefix + base64.StdEncoding.EncodeToString(b)}, nil
}

// ParseSecret accepts a secret in its revealed form (as stored or as a client pasted it).
func ParseSecret(s string) (Secret, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok || len(enc) > base64.StdEncoding.EncodedLen(MaxSecretBytes) {
		return Secret{}, ErrMalformedSecret
	}
	key, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return Secret{}, ErrMalformedSecret
	}
	return Secret{s: s}, nil
}

// IsZero reports whether s is the zero Secret (none generated yet).
func (s Secret) IsZero() bool { return s.s == "" }

// Reveal is the secret in full, whsec_...: only for the answer that shows it and for the store.
func (s Secret) Reveal() string { return s.s }

// Key is the decoded key bytes, the HMAC key of Standard Webhooks signatures (what
// standardwebhooks.NewWebhook(s.Reveal()) decodes, and NewWebhookRaw takes). Nil for the zero Secret.
func (s Secret) Key() []byte {
	if s.s == "" {
		return nil
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.s, SecretPrefix))
	return key
}

// String is redacted so that a secret formatted into a log or an error shows nothing of it.
func (s Secret) String() string {
	if s.s == "" {
		return "(no secret)"
	}
	return SecretPrefix + "[redacted]"
}

// GoString is redacted too (%#v).
func (s Secret) GoString() string { return "webhook.Secret(" + s.String() + ")" }

// SignatureHeader is the name of the start-call request's signature header.
const SignatureHeader = "X-Webhook-Signature"

// SignStartCall is the X-Webhook-Signature value of a start-call body: sha256=<hex HMAC-SHA256
// of the raw body>, keyed with the secret string exactly as shown (whsec_ included).
func (s Secret) SignStartCall(body []byte) string {
	return "sha256=" + hex.EncodeToString(s.startCallMAC(body))
}

func (s Secret) startCallMAC(body []byte) []byte {
	m := hmac.New(sha256.New, []byte(s.s))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyStartCall checks a start-call request's X-Webhook-Signature against its raw body, in
// constant time. It answers ErrSignatureMissing or ErrSignatureMismatch; a zero Secret matches
// nothing.
func (s Secret) VerifyStartCall(body []byte, header string) error {
	mac, err := ParseSignatureHeader(header)
	if err != nil {
		return err
	}
	if s.s == "" {
		return ErrSignatureMismatch
	}
	if !hmac.Equal(mac, s.startCallMAC(body)) {
		return ErrSignatureMismatch
	}
	return nil
}

// ParseSignatureHeader reads "sha256=<64 hex digits>" (the algorithm name in any case, the hex
// in either case, spaces around it ignored) into the 32 bytes of the MAC.
func ParseSignatureHeader(h string) ([]byte, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, ErrSignatureMissing
	}
	const prefix = "sha256="
	if len(h) != len(prefix)+2*sha256.Size || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, ErrSignatureMismatch
	}
	mac, err := hex.DecodeString(h[len(prefix):])
	if err != nil {
		return nil, ErrSignatureMismatch
	}
	return mac, nil
}
