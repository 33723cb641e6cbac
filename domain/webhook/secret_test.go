package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/domain/webhook"
)

func TestGenerateSecret(t *testing.T) {
	a, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webhook.GenerateSecret()
	if a.Reveal() == b.Reveal() {
		t.Fatal("two generated secrets are equal")
	}
	if !strings.HasPrefix(a.Reveal(), "whsec_") || len(a.Key()) != webhook.SecretBytes {
		t.Fatalf("secret %q has key of %d bytes", a.Reveal(), len(a.Key()))
	}
	if back, err := webhook.ParseSecret(a.Reveal()); err != nil || back != a {
		t.Fatalf("ParseSecret(generated) = %v, %v", back, err)
	}
}

func TestNewSecretFromSource(t *testing.T) {
	src := bytes.Repeat([]byte{0xAB}, 40)
	s, err := webhook.NewSecret(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "whsec_" + base64.StdEncoding.EncodeToString(src[:32]); s.Reveal() != want {
		t.Fatalf("secret = %q, want %q", s.Reveal(), want)
	}
	if !bytes.Equal(s.Key(), src[:32]) {
		t.Fatalf("key = %x", s.Key())
	}
	if _, err := webhook.NewSecret(bytes.NewReader(src[:10])); err == nil {
		t.Fatal("a short random source made a secret")
	}
}

func TestParseSecret(t *testing.T) {
	for _, n := range []int{24, 28, 32} {
		key := bytes.Repeat([]byte{byte(n)}, n)
		s := "whsec_" + base64.StdEncoding.EncodeToString(key)
		got, err := webhook.ParseSecret(s)
		if err != nil || got.Reveal() != s || !bytes.Equal(got.Key(), key) {
			t.Errorf("%d bytes: %v, %v", n, got.Key(), err)
		}
	}
	k32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	for _, bad := range []string{
		"", "whsec_", k32, // no prefix
		"WHSEC_" + k32,
		"whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 23)),
		"whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 33)),
		"whsec_" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), // padding missing
		"whsec_" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)),
		"whsec_" + k32 + " ", "whsec_ " + k32, "whsec_" + k32[:len(k32)-2] + "B=", // non-canonical trailing bits
	} {
		if _, err := webhook.ParseSecret(bad); !errors.Is(err, webhook.ErrMalformedSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrMalformedSecret", bad, err)
		}
	}
}

func TestSecretPrintsRedacted(t *testing.T) {
	s, _ := webhook.GenerateSecret()
	enc := strings.TrimPrefix(s.Reveal(), "whsec_")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %s %#v", s, s, s, s),
		fmt.Sprintf("%+v", struct{ S webhook.Secret }{s}), fmt.Sprintf("%#v", struct{ S webhook.Secret }{s})} {
		if strings.Contains(out, enc) || strings.Contains(out, enc[:8]) {
			t.Fatalf("formatted secret shows it: %s", out)
		}
	}
	if (webhook.Secret{}).String() == s.String() || !(webhook.Secret{}).IsZero() || s.IsZero() {
		t.Fatal("zero secret not told apart")
	}
}

// The start-call signature is keyed with the secret string as shown, whsec_ and all, as
// `printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET"` computes it.
func TestStartCallSignature(t *testing.T) {
	s, err := webhook.ParseSecret("whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"phoneNumber":"+14155550123"}`)
	m := hmac.New(sha256.New, []byte(s.Reveal()))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := s.SignStartCall(body); got != want {
		t.Fatalf("SignStartCall = %s, want %s", got, want)
	}
	for _, ok := range []string{want, " " + want + " ", "SHA256=" + strings.ToUpper(strings.TrimPrefix(want, "sha256="))} {
		if err := s.VerifyStartCall(body, ok); err != nil {
			t.Errorf("VerifyStartCall(%q) = %v", ok, err)
		}
	}
	// Keyed with the decoded bytes instead (the Standard Webhooks key) it does not verify.
	m = hmac.New(sha256.New, s.Key())
	m.Write(body)
	decodedKeyed := "sha256=" + hex.EncodeToString(m.Sum(nil))

	other, _ := webhook.GenerateSecret()
	for _, tc := range []struct {
		name, header string
		body         []byte
		secret       webhook.Secret
		want         error
	}{
		{"missing", "", body, s, webhook.ErrSignatureMissing},
		{"blank", "  ", body, s, webhook.ErrSignatureMissing},
		{"other body", want, []byte(`{"phoneNumber":"+14155550124"}`), s, webhook.ErrSignatureMismatch},
		{"other secret", want, body, other, webhook.ErrSignatureMismatch},
		{"zero secret", webhook.Secret{}.SignStartCall(body), body, webhook.Secret{}, webhook.ErrSignatureMismatch},
		{"decoded key", decodedKeyed, body, s, webhook.ErrSignatureMismatch},
		{"no prefix", strings.TrimPrefix(want, "sha256="), body, s, webhook.ErrSignatureMismatch},
		{"sha1 prefix", "sha1=" + strings.TrimPrefix(want, "sha256="), body, s, webhook.ErrSignatureMismatch},
		{"truncated", want[:len(want)-2], body, s, webhook.ErrSignatureMismatch},
		{"not hex", want[:len(want)-2] + "zz", body, s, webhook.ErrSignatureMismatch},
		{"two", want + "," + want, body, s, webhook.ErrSignatureMismatch},
	} {
		if err := tc.secret.VerifyStartCall(tc.body, tc.header); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
