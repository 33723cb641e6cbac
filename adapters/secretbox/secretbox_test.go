package secretbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupe-voice/kupe/adapters/secretbox"
)

func TestSealOpen(t *testing.T) {
	box, err := secretbox.New(secretbox.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"auth_token":"f00dface"}`)
	ctx := []byte("line credentials")
	a, b := box.Seal(msg, ctx), box.Seal(msg, ctx)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if bytes.Contains(a, []byte("f00dface")) {
		t.Fatal("sealed value holds the plaintext")
	}
	got, err := box.Open(a, ctx)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(a, []byte("other purpose")); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("Open with another context = %v, want ErrWrongKey", err)
	}
	other, _ := secretbox.New(secretbox.NewKey())
	if _, err := other.Open(a, ctx); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("Open under another key = %v, want ErrWrongKey", err)
	}
	flipped := bytes.Clone(a)
	flipped[len(flipped)-1] ^= 1
	if _, err := box.Open(flipped, ctx); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("Open of an altered value = %v, want ErrWrongKey", err)
	}
	for _, bad := range [][]byte{nil, {1}, append([]byte{2}, a[1:]...), []byte(`{"auth_token":"x"}`)} {
		if _, err := box.Open(bad, ctx); !errors.Is(err, secretbox.ErrMalformed) {
			t.Errorf("Open(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := secretbox.New(make([]byte, 16)); err == nil {
		t.Fatal("New accepted a 16-byte key")
	}
}

func TestParseKey(t *testing.T) {
	k := secretbox.NewKey()
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k),
		hex.EncodeToString(k), " " + k.Encode() + "\n",
	} {
		got, err := secretbox.ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	secret := "hunter2hunter2"
	for _, s := range []string{"", secret, base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		_, err := secretbox.ParseKey(s)
		if err == nil {
			t.Errorf("ParseKey(%q) succeeded", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("ParseKey's error repeats its input: %v", err)
		}
	}
	if got := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); strings.Contains(got, fmt.Sprint([]byte(k))) || strings.Count(got, "[redacted]") != 4 {
		t.Fatalf("a key prints as %s", got)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "secrets.key")
	k, created, err := secretbox.LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k) != secretbox.KeySize {
		t.Fatalf("first LoadOrCreateKeyFile = %d bytes, created %v, %v", len(k), created, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", perm)
	}
	again, created, err := secretbox.LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(again, k) {
		t.Fatalf("second LoadOrCreateKeyFile = created %v, same key %v, %v", created, bytes.Equal(again, k), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := secretbox.LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v, want a refusal", err)
	}
}

func TestDerive(t *testing.T) {
	k := secretbox.NewKey()
	a, b := k.Derive("callbacks"), k.Derive("other")
	if len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, k.Derive("callbacks")) || bytes.Equal(a, k) {
		t.Fatal("Derive is not a stable, label-separated secret")
	}
}
